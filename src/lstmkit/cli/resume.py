"""Interrupted runs continue: checkpoints in the run folder and ``--resume RUN_DIR``.

Every training command keeps, in its run folder:

* ``resume.json``: the command and its arguments, written when the run starts;
* ``checkpoints/``: one training checkpoint per fit (``member-<k>/`` for the final
  fit's ensemble members, ``window-<k>/member-<j>/`` for a backtest's fits), saved
  after every epoch (`lstmkit.tasks.base.trainer_checkpoints`).

``lstmkit <command> --resume RUN_DIR`` runs the command again with the arguments in
``resume.json``, in the same folder: the fits that finished load from their last
checkpoint without training, the one that was interrupted continues from its last
finished epoch, and the rest train as before, so the model is the one an
uninterrupted run makes, bit for bit. (The epoch in progress when the run stopped is
trained again; a checkpoint is the state at the end of an epoch.) When the run
finishes, ``run.json`` is written and ``checkpoints/`` is removed.

A run folder belongs to one process at a time: a second run or resume of the same
folder fails at once with a message, instead of both writing into it.

>>> parser = argparse.ArgumentParser()
>>> add_run_options(parser, "forecast")
>>> parser.parse_args(["--resume", "runs/forecast-1"]).resume
'runs/forecast-1'
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

from lstmkit.errors import ConfigError

__all__ = [
    "RESUME_FILE",
    "CHECKPOINTS_DIR",
    "add_run_options",
    "resumed_argv",
    "start_checkpoints",
    "finish_checkpoints",
    "interrupted_hint",
]

RESUME_FILE = "resume.json"
CHECKPOINTS_DIR = "checkpoints"
LOCK_NAME = ".run.lock"

# argparse destinations that --resume may come with: where and how to run, not what
_FREE = {"resume", "run", "command", "threads", "device", "quiet", "debug"}


def add_run_options(group, command: str, what: str = "everything the run writes") -> None:
    """``--run-dir`` and ``--resume`` of a training command."""
    group.add_argument("--run-dir", help=f"folder for {what} (default: runs/{command}-<time>)")
    group.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help=f"continue an interrupted `lstmkit {command}` run from the checkpoints in its folder, with the "
        "options it was started with (give no other job options; --threads, --device and --quiet may change; "
        "default: a new run)",
    )


def resumed_argv(parser: argparse.ArgumentParser, args: argparse.Namespace, argv: list[str]) -> list[str]:
    """The command line that continues ``args.resume``: its saved arguments, then --threads/--device/--quiet.

    Raises:
        ConfigError: the folder holds no run of this command that can be continued, or
            other job options were given beside --resume.
    """
    run_dir = Path(args.resume)
    record_file = run_dir / RESUME_FILE
    if not run_dir.is_dir():
        raise ConfigError(f"--resume {run_dir}: no such run folder")
    if (run_dir / "run.json").is_file():
        raise ConfigError(f"--resume {run_dir}: that run finished (it wrote run.json); there is nothing to continue")
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"--resume {run_dir}: {RESUME_FILE} is missing, so this is not the folder of an interrupted run "
            "(a run writes it when it starts)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"--resume {record_file}: not readable as JSON ({e})") from None
    saved = record.get("argv") if isinstance(record, dict) else None
    if not isinstance(saved, list) or not all(isinstance(a, str) for a in saved):
        raise ConfigError(f"--resume {record_file}: 'argv' must be a list of strings, found {saved!r:.80}")
    if record.get("command") != args.command:
        raise ConfigError(
            f"--resume {run_dir}: that folder holds a `lstmkit {record.get('command')}` run, "
            f"not `lstmkit {args.command}`"
        )
    plain = vars(parser.parse_args([args.command]))
    extra = sorted(k for k, v in vars(args).items() if k not in _FREE and (k not in plain or plain[k] != v))
    if extra:
        given = ", ".join(_option_names(parser, args.command).get(k, k) for k in extra)
        raise ConfigError(
            f"--resume {run_dir} continues the run with the options it was started with; also given: {given}. "
            "Start a new run to change them"
        )
    overrides: list[str] = []
    for name in ("threads", "device"):
        if getattr(args, name) != plain.get(name):
            overrides += [f"--{name}", str(getattr(args, name))]
    if args.quiet:
        overrides.append("--quiet")
    return [*saved, *overrides, "--run-dir", str(run_dir), "--resume", str(run_dir)]


def _option_names(parser: argparse.ArgumentParser, command: str) -> dict[str, str]:
    """The command's options by destination: ``{"num_layers": "--layers", ...}``."""
    names: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            for option in action.choices[command]._actions:
                if option.option_strings:
                    names[option.dest] = option.option_strings[-1]
    return names


def start_checkpoints(run_dir: Path, args: argparse.Namespace, command: str) -> Path:
    """Claim ``run_dir`` for this process and return its checkpoint folder (set as ``args.checkpoints``).

    A new run records its arguments in ``resume.json`` and clears checkpoints left by an
    earlier run of the folder; a resumed one keeps both.

    Raises:
        ConfigError: another lstmkit process is running in ``run_dir``.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    _lock(run_dir, args)
    checkpoints = run_dir / CHECKPOINTS_DIR
    if not getattr(args, "resume", None):
        if checkpoints.exists():
            shutil.rmtree(checkpoints)
        from lstmkit.utils.files import atomic_write_text

        record = {"command": command, "argv": list(getattr(args, "argv", []))}
        atomic_write_text(run_dir / RESUME_FILE, json.dumps(record, indent=2) + "\n")
    args.checkpoints = checkpoints
    args.checkpoint_run = run_dir
    return checkpoints


def finish_checkpoints(run_dir: Path) -> None:
    """The run is complete: its checkpoints are no longer needed."""
    shutil.rmtree(Path(run_dir) / CHECKPOINTS_DIR, ignore_errors=True)


def interrupted_hint(args: argparse.Namespace) -> str:
    """What to run to continue an interrupted run ("" when it kept no checkpoints)."""
    run_dir = getattr(args, "checkpoint_run", None)
    if run_dir is None or not (Path(run_dir) / CHECKPOINTS_DIR).is_dir():
        return ""
    return (
        f"; every finished epoch is checkpointed in {run_dir / CHECKPOINTS_DIR}: "
        f"continue with `lstmkit {args.command} --resume {run_dir}`"
    )


def _lock(run_dir: Path, args: argparse.Namespace) -> None:
    """Hold an exclusive lock on ``run_dir`` until the command ends (closed by `lstmkit.cli.main.main`)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks
        return
    fd = os.open(run_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ConfigError(
            f"{run_dir} is in use by another lstmkit run; give another --run-dir, or wait for it to finish"
        ) from None
    cleanup = getattr(args, "cleanup", None)
    if cleanup is not None:
        cleanup.callback(os.close, fd)
