"""What every command shares: global options, job options spelled once, ``--config`` files and ``run.json``.

Importing this module is cheap (no torch, pandas or matplotlib), so that building the
parser and printing help stay fast. A job option's help states the job's own default,
read from the config dataclass's source (`ConfigDefault`) when the help is shown, so it
never drifts from the Python default and never imports torch to find it.

A job option has no command-line default (``argparse.SUPPRESS``): when it is not given it
is not passed, and the job's config default applies, the same as in Python.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import functools
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lstmkit.errors import ConfigError

if TYPE_CHECKING:
    from lstmkit.tasks.base import Estimator, JobConfig

__all__ = [
    "new_run_dir",
    "run_section",
    "check_output_file",
    "Opt",
    "ConfigDefault",
    "RunClock",
    "global_options",
    "size_options",
    "training_options",
    "add_job_options",
    "job_kwargs",
    "job_constructor_kwargs",
    "fit_kwargs",
    "check_model_dir",
    "check_global",
    "apply_config_file",
    "resolved_config",
    "write_run_json",
    "DEVICE_PATTERN",
]

DEVICE_PATTERN = re.compile(r"auto|cpu|cuda(:\d+)?")
GLOBAL_DESTS = ("threads", "device", "quiet", "debug")

# the module of lstmkit/tasks/ that defines each config class (and the bases they share)
_TASK_MODULES = {
    "ForecasterConfig": "forecasting",
    "SequenceClassifierConfig": "sequence_classifier",
    "TextClassifierConfig": "text_classifier",
    "LanguageModelConfig": "language_model",
    "TranslatorConfig": "translation",
    "AnomalyDetectorConfig": "anomaly",
    "CellFields": "base",
    "JobConfig": "base",
}


@functools.cache
def _field_defaults(config_class: str) -> dict[str, str]:
    """``{field: default as written in the source}`` of a task config dataclass and its bases, without importing it."""
    import lstmkit

    path = Path(lstmkit.__file__).parent / "tasks" / f"{_TASK_MODULES[config_class]}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == config_class:
            defaults: dict[str, str] = {}
            for base in node.bases:  # a field of the class overrides its bases' (as in dataclasses)
                if isinstance(base, ast.Name) and base.id in _TASK_MODULES:
                    defaults.update(_field_defaults(base.id))
            defaults.update(
                {
                    item.target.id: ast.unparse(item.value)
                    for item in node.body
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and item.value
                }
            )
            return defaults
    return {}


class ConfigDefault:
    """A config field's default, looked up only when the help is formatted.

    Args:
        sources: ``(label, config class name)`` pairs; the label (e.g. ``"texts"``) tells
            defaults apart when a command builds one of several jobs. One source: label ``""``.
        field: the config field.

    >>> str(ConfigDefault([("", "ForecasterConfig")], "max_epochs"))
    '100'
    """

    def __init__(self, sources: Sequence[tuple[str, str]], field: str):
        self.sources, self.field = list(sources), field

    def __str__(self) -> str:
        parts = []
        for label, config_class in self.sources:
            value = _field_defaults(config_class).get(self.field)
            text = "the job's own" if value is None else value
            parts.append(f"{text} for {label}" if label else text)
        if len(parts) > 1 and len(set(p.split(" for ")[0] for p in parts)) == 1:
            return parts[0].split(" for ")[0]
        return ", ".join(parts)


@dataclass(frozen=True)
class Opt:
    """One job option: the flag, the config field(s) it sets, its type and help.

    ``fields`` is usually one field; ``--layers`` of the translator sets two
    (``encoder_layers``, ``decoder_layers``), ``--epochs`` sets ``max_epochs``.
    """

    flag: str
    fields: tuple[str, ...]
    help: str
    type: Callable | None = None
    choices: tuple | None = None
    minimum: float | None = None
    note: str = ""  # what an automatic default (None) means

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


def size_options(layers: tuple[str, ...] = ("num_layers",)) -> list[Opt]:
    """--hidden-size, --layers, --cell: the model's size, the same words in every command."""
    return [
        Opt("--hidden-size", ("hidden_size",), "LSTM units per layer (and direction)", int, minimum=1),
        Opt(
            "--layers",
            layers,
            "stacked recurrent layers" + (" of the encoder and of the decoder" if len(layers) > 1 else ""),
            int,
            minimum=1,
        ),
        Opt("--cell", ("cell",), "recurrent cell", None, ("lstm", "gru", "rnn")),
    ]


def training_options(dropout: bool = True) -> list[Opt]:
    """--epochs, --batch-size, --lr, --dropout, --seed: training, the same words in every command."""
    options = [
        Opt("--epochs", ("max_epochs",), "maximum epochs (early stopping decides)", int, minimum=1),
        Opt("--batch-size", ("batch_size",), "examples per batch", int, minimum=1),
        Opt("--lr", ("lr",), "Adam learning rate", float),
    ]
    if dropout:
        options.append(Opt("--dropout", ("dropout",), "dropout between layers", float))
    return options + [Opt("--seed", ("seed",), "random seed", int)]


def global_options(suppress: bool) -> argparse.ArgumentParser:
    """--threads, --device, --quiet and --config, as a parent parser.

    The top-level parser gets the real defaults; each subcommand gets the same options
    with ``argparse.SUPPRESS``, so they may come before or after the command and a value
    given in one place is not overwritten by the other's default.
    """

    def default(value):
        return argparse.SUPPRESS if suppress else value

    parent = argparse.ArgumentParser(add_help=False)
    g = parent.add_argument_group("global options (before or after the command)")
    g.add_argument(
        "--threads",
        type=int,
        default=default(1),
        metavar="N",
        help="CPU threads for torch (default 1: small recurrent models run fastest on one thread; "
        "raise it for large models)",
    )
    g.add_argument(
        "--device",
        default=default("auto"),
        metavar="{auto,cpu,cuda,cuda:N}",
        help="where to train and predict (default auto: the job's choice, CUDA when available)",
    )
    g.add_argument(
        "--quiet", action="store_true", default=default(False), help="no progress output while training (default: off)"
    )
    g.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="show the full traceback of an unexpected error instead of one line (default: off)",
    )
    g.add_argument(
        "--config",
        default=default(None),
        metavar="TOML",
        help="a TOML file of options (keys: the option names, e.g. hidden-size = 32); options on "
        "the command line override it (default: none)",
    )
    return parent


def add_job_options(group, options: Sequence[Opt], configs: Sequence[tuple[str, str]]) -> None:
    """Add ``options`` to ``group`` with no command-line default; the help states the config's default."""
    for opt in options:
        action = group.add_argument(
            opt.flag,
            dest=opt.dest,
            type=opt.type,
            choices=opt.choices,
            default=argparse.SUPPRESS,
            help=f"{opt.help} (default: %(config_default)s{opt.note})",
        )
        action.config_default = ConfigDefault(configs, opt.fields[0])


def job_kwargs(args: argparse.Namespace, options: Sequence[Opt]) -> dict:
    """The config fields of the options given (on the command line or in --config); the others are left out.

    Raises:
        ConfigError: a number below the option's minimum, named by its flag.
    """
    kwargs = {}
    for opt in options:
        if hasattr(args, opt.dest):
            value = getattr(args, opt.dest)
            if opt.minimum is not None and value is not None and value < opt.minimum:
                raise ConfigError(f"{opt.flag} must be >= {opt.minimum}, got {value}")
            for field in opt.fields:
                kwargs[field] = getattr(args, opt.dest)
    return kwargs


def job_constructor_kwargs(args: argparse.Namespace, config_class: type[JobConfig]) -> dict:
    """``device=`` from --device, for a job whose config has a ``device`` field."""
    import dataclasses

    if "device" in {f.name for f in dataclasses.fields(config_class)}:
        return {"device": getattr(args, "device", "auto")}
    return {}


def fit_kwargs(args: argparse.Namespace, fit: Callable) -> dict:
    """What ``fit`` (or ``backtest``) takes from the run: ``verbose=`` and ``progress=`` from --quiet,
    and ``checkpoints=`` (the run folder's, see `lstmkit.cli.resume`), where it has them.

    >>> def fit(data, *, verbose=False, progress=None): ...
    >>> fit_kwargs(argparse.Namespace(quiet=True), fit)
    {'verbose': False, 'progress': False}
    """
    import inspect

    loud = not getattr(args, "quiet", False)
    parameters = inspect.signature(fit).parameters
    kwargs: dict[str, Any] = {name: loud for name in ("verbose", "progress") if name in parameters}
    if getattr(args, "checkpoints", None) is not None and "checkpoints" in parameters:
        kwargs["checkpoints"] = args.checkpoints
    return kwargs


def new_run_dir(command: str, given: str | None) -> Path:
    """The run folder: ``given``, or a new ``runs/<command>-<time>`` that no other run shares.

    Two runs started in the same second would share the time-stamped name; the folder is
    claimed by creating it, and a run that finds it taken adds ``-2``, ``-3``, ...
    """
    if given:
        return Path(given)
    stem = Path("runs") / time.strftime(f"{command}-%Y%m%d-%H%M%S")
    stem.parent.mkdir(parents=True, exist_ok=True)
    for k in range(1, 1000):
        path = stem if k == 1 else stem.with_name(f"{stem.name}-{k}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise ConfigError(f"{stem}: a thousand runs started in the same second; give --run-dir")


def check_output_file(output: str | os.PathLike | None, option: str = "--output") -> None:
    """Before any training: ``output`` can be written as a file (not a folder, in a writable place)."""
    if output is None:
        return
    path = Path(output)
    if path.is_dir():
        raise ConfigError(f"{option} {path} is a folder; give the path of a file to write")
    existing = next((p for p in (path.parent, *path.parent.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise ConfigError(f"{option} {path}: {existing} is a file, so no folder can be made there")
    if not os.access(existing, os.W_OK):
        raise ConfigError(f"{option} {path}: {existing} is not writable")


def check_model_dir(model_dir: Path) -> None:
    """Refuse to save a model into a folder that holds something else (an old model is replaced)."""
    if (
        model_dir.exists()
        and not (model_dir / "manifest.json").is_file()
        and (not model_dir.is_dir() or any(model_dir.iterdir()))
    ):
        raise ConfigError(
            f"--model-dir {model_dir} exists and is not an lstmkit model directory; "
            "give a new path or an old model's folder to replace"
        )


def check_global(args: argparse.Namespace) -> None:
    if args.threads < 1:
        raise ConfigError(f"--threads must be >= 1, got {args.threads}")
    if not DEVICE_PATTERN.fullmatch(args.device):
        raise ConfigError(f"--device must be auto, cpu, cuda or cuda:N, got {args.device!r}")


# ---- --config run.toml -----------------------------------------------------------------------------------------


def _config_value(action: argparse.Action, key: str, value, path: str):
    """``value`` from the TOML file checked (and converted) as the command line would."""

    def wrong(expected: str):
        return ConfigError(f"{path}: {key} must be {expected}, got {value!r}")

    if action.nargs == 0:  # a flag
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if isinstance(value, list) and action.type not in (int, float):
        value = ",".join(str(v) for v in value)
    if action.type is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("an integer")
    elif action.type is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong("a number")
        value = float(value)
    elif not isinstance(value, str):
        raise wrong("a string")
    elif callable(action.type):  # argparse also allows a registered type name; no option here uses one
        try:
            value = action.type(value)
        except (ValueError, TypeError, argparse.ArgumentTypeError) as e:
            raise ConfigError(f"{path}: {key}: {e}") from None
    if action.choices is not None and value not in action.choices:
        raise wrong(f"one of {list(action.choices)}")
    return value


def apply_config_file(path: str, top: argparse.ArgumentParser, command: argparse.ArgumentParser) -> None:
    """Make the options in the TOML file at ``path`` the defaults of ``command`` (global ones: of ``top``).

    Raises:
        ConfigError: the file is missing or not TOML, a key is not an option of the
            command, or a value has the wrong type; the message names the file and the key.
    """
    import tomllib

    try:
        with open(path, "rb") as f:
            values = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"--config {path}: no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"--config {path}: not valid TOML: {e}") from None
    actions = {a.dest: a for a in command._actions if a.option_strings and a.dest not in ("help", "config")}
    for a in command._actions:  # the aliases too: --train, --corpus, --pairs
        for option in a.option_strings:
            actions.setdefault(option.lstrip("-").replace("-", "_"), a)
    top_defaults: dict[str, Any] = {}
    command_defaults: dict[str, Any] = {}
    for key, value in values.items():
        action = actions.get(key.replace("-", "_"))
        if action is None:
            known = sorted(k.replace("_", "-") for k in actions)
            raise ConfigError(
                f"{path}: unknown key {key!r} for lstmkit {command.prog.split()[-1]}; known keys: {', '.join(known)}"
            )
        value = _config_value(action, key, value, path)
        (top_defaults if action.dest in GLOBAL_DESTS else command_defaults)[action.dest] = value
    top.set_defaults(**top_defaults)
    command.set_defaults(**command_defaults)


# ---- run.json ---------------------------------------------------------------------------------------------------


def resolved_config(model: Estimator) -> dict:
    """The job's parameters with every automatic value replaced by what fit chose.

    ``model.get_params()`` merged with ``model.resolved_config()`` where the job has
    them; otherwise its config's ``to_dict()``.
    """
    if hasattr(model, "get_params"):
        params = dict(model.get_params())
    else:
        config = model.config
        params = dict(config.to_dict()) if hasattr(config, "to_dict") else dict(vars(config))
    if hasattr(model, "resolved_config"):
        resolved = model.resolved_config()
        params.update(resolved.to_dict() if hasattr(resolved, "to_dict") else dict(resolved))
    return params


class RunClock:
    """The start of a run (wall clock for run.json, monotonic for the duration)."""

    def __init__(self):
        self.started_at = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        self.started = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.started


def run_section(clock: RunClock):
    """The report's "Run" section: the command line, versions, start time and duration so far."""
    import shlex

    import torch

    from lstmkit import __version__
    from lstmkit.report.html import Section
    from lstmkit.report.run_report import summary_table

    facts = {
        "command line": shlex.join(["lstmkit", *sys.argv[1:]]),
        "lstmkit": __version__,
        "torch": torch.__version__,
        "started at": clock.started_at,
        "duration": f"{clock.seconds():.1f} s",
    }
    return Section(
        "Run",
        text="run.json in this folder holds the same, with the resolved configuration",
        tables=[summary_table(facts)],
    )


def write_run_json(run_dir: Path, command: str, config: dict, clock: RunClock) -> Path:
    """``run.json``: the resolved configuration, the command line, versions, start time and duration.

    Written last: it marks the run complete, so the run's checkpoints are removed.
    """
    import torch

    from lstmkit import __version__
    from lstmkit.cli.resume import finish_checkpoints
    from lstmkit.utils.files import atomic_write_text

    record = {
        "command": command,
        "argv": list(sys.argv),
        "config": config,
        "lstmkit_version": __version__,
        "torch_version": torch.__version__,
        "started_at": clock.started_at,
        "duration_s": round(clock.seconds(), 3),
    }
    path = Path(run_dir) / "run.json"
    atomic_write_text(path, json.dumps(record, indent=2, default=_jsonable) + "\n")
    finish_checkpoints(run_dir)  # the run is complete: nothing is left to resume
    return path


def _jsonable(value):
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)
