"""The adversarial probe of issue 22: bad inputs against the CLI, counted.

Every case runs ``lstmkit ...`` (the CLI's ``main``) in a forked child with a memory
cap and a time limit, and is classed by what came back:

- ``ok``: exit 2 and one line ``lstmkit <job>: error: ...`` (or exit 0 where the input
  is valid and the output is finite);
- ``traceback``: a Python traceback, or the CLI's "unexpected error" line (exit 1, a bug);
- ``hang``: still running after the time limit (killed);
- ``silent``: exit 0 for an input that must be refused, or an output with NaN/inf;
- ``memory``: killed by the memory cap (more than ``--memory-mb`` above the parent).

Run it from the repository root::

    PYTHONPATH=src python bench/probe.py --threads 1           # all cases
    PYTHONPATH=src python bench/probe.py --quick                # one case in four

It prints one line per case that is not ``ok`` and a summary with the peak memory of
any case above the parent's. The goal is 0 tracebacks, 0 hangs, 0 silent results.
The cases are built from the model folders in ``tests/fixtures/saved-aca45bb`` and the
bundled data sets; ``tests/fuzz`` runs a fixed subset of them in the test suite.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import json
import os
import random
import resource
import shutil
import signal
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "saved-aca45bb"
JOBS = ("forecaster", "sequence_classifier", "text_classifier", "language_model", "translator", "anomaly")

# ------------------------------------------------------------------------------ outcomes


@dataclass
class Outcome:
    """What one case did: its class (see the module docstring), exit code, peak memory and message."""

    name: str
    kind: str
    code: int | None
    extra_mb: float
    message: str


@dataclass
class Case:
    """A CLI call to try: ``setup(folder)`` writes its inputs and returns the argv.

    ``valid`` says the input is fine (exit 0 expected, with a finite output);
    otherwise it must be refused with exit 2.
    """

    name: str
    setup: Callable[[Path], list[str]]
    valid: bool = False
    check_output: Callable[[str], bool] | None = field(default=None)


def _rss_mb() -> float:
    """The resident memory of this process now (Linux), in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_case(case: Case, workdir: Path, timeout: float = 60.0, memory_mb: int = 2048) -> Outcome:
    """Run one case in a forked child; see the module docstring for the classes."""
    folder = Path(tempfile.mkdtemp(dir=workdir))
    try:
        argv = case.setup(folder)
    except Exception as e:  # the probe's own bug, not lstmkit's
        return Outcome(case.name, "setup-failed", None, 0.0, f"{type(e).__name__}: {e}")
    log = folder / "log.txt"
    base = _rss_mb()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 70
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), write_through=True)
            sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), write_through=True)
            os.chdir(folder)
            import torch

            # a process forked after its parent ran oneDNN kernels may fail to create new ones
            # ("could not create a primitive"): the children run the plain CPU kernels, one thread
            torch.backends.mkldnn.enabled = False
            torch.set_num_threads(1)
            cap = int((base + memory_mb) * 2**20)
            resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
            from lstmkit.cli.main import main

            code = main(argv)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 2
        except MemoryError:
            code = 71
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 70
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    start = time.monotonic()
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() - start > timeout:
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            return Outcome(case.name, "hang", None, usage.ru_maxrss / 1024 - base, "")
        time.sleep(0.02)
    code = os.waitstatus_to_exitcode(status)
    text = log.read_text(errors="replace")
    extra = max(0.0, usage.ru_maxrss / 1024 - base)
    outcome = Outcome(case.name, _classify(case, code, text, folder), code, extra, text.strip()[-400:])
    shutil.rmtree(folder, ignore_errors=True)
    return outcome


def _classify(case: Case, code: int, text: str, folder: Path) -> str:
    if "Traceback" in text or code in (1, 70) or "unexpected error" in text:
        return "traceback"
    if code == 71 or code < 0:
        return "memory"
    if case.valid:
        if code != 0:
            return "refused-valid"
        ok = case.check_output(text) if case.check_output else True
        return "ok" if ok else "silent"
    if code == 0:
        return "silent"
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if code == 2 and lines and ": error: " in lines[-1]:
        return "ok"
    return "traceback"


def _finite_output(text: str) -> bool:
    low = text.lower()
    return not any(word in low for word in (" nan", "\tnan", ",nan", " inf", ",inf"))


# ------------------------------------------------------------------------------ model folders


def copy_model(job: str, folder: Path) -> Path:
    """A copy of the fixture folder of ``job`` under ``folder``."""
    target = folder / job
    shutil.copytree(FIXTURES / job, target)
    return target


def reseal(model: Path) -> None:
    """Rewrite manifest.json so that sizes and sha256 match the files as they are now.

    A user who edits config.json by hand and fixes the manifest gets past the checksum;
    what comes after it (the schema) must still hold.
    """
    manifest = json.loads((model / "manifest.json").read_text())
    for name in manifest["files"]:
        data = (model / name).read_bytes()
        manifest["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (model / "manifest.json").write_text(json.dumps(manifest, indent=2))


def _leaves(obj, path=()) -> Iterator[tuple]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(obj, list) and obj and not all(isinstance(v, (int, float)) for v in obj):
        for i, v in enumerate(obj[:2]):
            yield from _leaves(v, (*path, i))
    else:
        yield path


def _set(obj, path, value):
    for key in path[:-1]:
        obj = obj[key]
    if value is _DELETE:
        if isinstance(obj, dict):
            del obj[path[-1]]
        else:
            obj.pop(path[-1])
    else:
        obj[path[-1]] = value


_DELETE = object()
# what a hand-edited field becomes: wrong types, huge and negative numbers, nothing
JSON_MUTATIONS = {
    "string": "x",
    "list": [],
    "object": {},
    "null": None,
    "negative": -7,
    "zero": 0,
    "huge-int": 10**9,
    "huge-float": 1e308,
    "path": "../../../../etc/passwd",
    "deleted": _DELETE,
}
# fields a user may change freely: the model still runs and its output is finite
HARMLESS = {"created", "lstmkit_version", "torch_version", "data_fingerprint", "fingerprint", "metrics", "history"}


def _predict_argv(job: str, model: Path, folder: Path) -> list[str]:
    if job == "forecaster":
        return ["predict", "--model-dir", str(model)]
    if job == "sequence_classifier":
        rows = [{"id": s, "t": t, "value": round(float(((s + 1) * t) % 7) / 7, 3)} for s in range(2) for t in range(12)]
        _write_csv(folder / "x.csv", rows)
        return ["predict", "--model-dir", str(model), "--data", str(folder / "x.csv")]
    if job == "text_classifier":
        _write_csv(folder / "x.csv", [{"text": "great film"}, {"text": "bad film"}])
        return ["predict", "--model-dir", str(model), "--data", str(folder / "x.csv")]
    if job == "language_model":
        return ["predict", "--model-dir", str(model), "--prompt", "the cat", "--length", "20"]
    if job == "translator":
        return ["predict", "--model-dir", str(model), "--input", "1 jan"]
    rows = [{"value": round(float(__import__("math").sin(i / 6.0)), 5)} for i in range(60)]
    _write_csv(folder / "x.csv", rows)
    return ["predict", "--model-dir", str(model), "--data", str(folder / "x.csv")]


def _write_csv(path: Path, rows: list[dict]) -> None:
    cols = list(rows[0])
    path.write_text("\n".join([",".join(cols)] + [",".join(str(r[c]) for c in cols) for r in rows]) + "\n")


def json_field_cases(rng: random.Random, per_job: int) -> list[Case]:
    """Hand-edited config.json/metadata.json fields (manifest resealed), ``per_job`` per job."""
    cases = []
    for job in JOBS:
        leaves = []
        for file in ("config.json", "metadata.json"):
            doc = json.loads((FIXTURES / job / file).read_text())
            leaves += [(file, p) for p in _leaves(doc) if p and not set(map(str, p)) & HARMLESS]
        picks = [(f, p, m) for f, p in leaves for m in JSON_MUTATIONS]
        rng.shuffle(picks)
        for file, path, mutation in picks[:per_job]:
            cases.append(
                Case(f"{job}:{file}:{'.'.join(map(str, path))}={mutation}", _json_setup(job, file, path, mutation))
            )
            # a mutation that leaves a valid model (a default null, a count the model allows) is
            # fine when the output is finite; only a crash, a hang or a NaN output is a failure
            cases[-1].valid = None  # type: ignore[assignment]
            cases[-1].check_output = _finite_output
    return cases


def _json_setup(job: str, file: str, path: tuple, mutation: str) -> Callable[[Path], list[str]]:
    def setup(folder: Path) -> list[str]:
        model = copy_model(job, folder)
        doc = json.loads((model / file).read_text())
        value = JSON_MUTATIONS[mutation]
        _set(doc, path, value if value is _DELETE else copy.deepcopy(value))
        (model / file).write_text(json.dumps(doc))
        reseal(model)
        return _predict_argv(job, model, folder)

    return setup


def _header(data: bytes) -> tuple[dict, bytes]:
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _pack(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + body


def weights_cases(rng: random.Random) -> list[Case]:
    """Damaged weights: truncated, bit flips, a shape or dtype changed in the header, a symlink."""
    cases = []

    def edit(job: str, change: Callable[[bytes], bytes], seal: bool = True):
        def setup(folder: Path) -> list[str]:
            model = copy_model(job, folder)
            file = model / "weights.safetensors"
            file.write_bytes(change(file.read_bytes()))
            if seal:
                reseal(model)
            return _predict_argv(job, model, folder)

        return setup

    def truncate(data: bytes) -> bytes:
        return data[: len(data) // 2]

    def flip_header(data: bytes) -> bytes:
        b = bytearray(data)
        b[8 + 5] ^= 0x5A
        return bytes(b)

    def nan_body(data: bytes) -> bytes:
        header, body = _header(data)
        return data[: len(data) - len(body)] + b"\xff\xff\xc0\x7f" * (len(body) // 4)

    def bigger_shape(data: bytes) -> bytes:
        header, body = _header(data)
        name = next(k for k in header if k != "__metadata__")
        header[name]["shape"] = [5000, 5000]
        return _pack(header, body)

    def int_dtype(data: bytes) -> bytes:
        header, body = _header(data)
        for k in header:
            if k != "__metadata__":
                header[k]["dtype"] = "I32"
        return _pack(header, body)

    def huge_header_len(data: bytes) -> bytes:
        return struct.pack("<Q", 2**62) + data[8:]

    for job in JOBS:
        cases += [
            Case(f"{job}:weights:truncated", edit(job, truncate, seal=False)),
            Case(f"{job}:weights:truncated-resealed", edit(job, truncate)),
            Case(f"{job}:weights:header-bitflip", edit(job, flip_header)),
            Case(f"{job}:weights:nan", edit(job, nan_body)),
            Case(f"{job}:weights:shape-5000x5000", edit(job, bigger_shape)),
            Case(f"{job}:weights:int32", edit(job, int_dtype)),
            Case(f"{job}:weights:header-length-2^62", edit(job, huge_header_len)),
        ]
    return cases


def named_cases() -> list[Case]:
    """The hand-edited folders issue 22 lists, each by name."""

    def edited(job: str, file: str, change: Callable[[dict], None], seal: bool = True):
        def setup(folder: Path) -> list[str]:
            model = copy_model(job, folder)
            doc = json.loads((model / file).read_text())
            change(doc)
            (model / file).write_text(json.dumps(doc))
            if seal:
                reseal(model)
            return _predict_argv(job, model, folder)

        return setup

    def put(*path_and_value):
        *path, value = path_and_value
        return lambda doc: _set(doc, tuple(path), value)

    tail = ("fitted", "tail", "passengers", "values")
    cases = [
        ("hidden-size-5000", "metadata.json", put("fitted", "net", "hidden_size", 5000)),
        ("hidden-size-20000", "metadata.json", put("fitted", "net", "hidden_size", 20000)),
        ("horizon-5-trained-3", "config.json", put("forecaster", "horizon", 5)),
        ("horizon-1e9", "config.json", put("forecaster", "horizon", 10**9)),
        ("members-0", "metadata.json", put("fitted", "members", 0)),
        ("members-1e9", "metadata.json", put("fitted", "members", 10**9)),
        ("short-tail", "metadata.json", lambda d: _set(d, tail, d["fitted"]["tail"]["passengers"]["values"][:3])),
        ("text-in-tail", "metadata.json", put(*tail, ["x"] * 36)),
        ("garbage-freq", "metadata.json", put("fitted", "freq", "every other blue moon")),
        ("season-99", "metadata.json", put("fitted", "m", 99)),
        ("season-negative", "metadata.json", put("fitted", "m", -3)),
        ("target-path", "config.json", put("forecaster", "target", "../../../../etc/passwd")),
        ("scale-zero", "metadata.json", put("fitted", "scaler", "scale", [[0.0]])),
        ("metadata-emptied", "metadata.json", lambda d: d.clear()),
    ]
    out = [Case(f"forecaster:named:{name}", edited("forecaster", file, change)) for name, file, change in cases]
    out.append(
        Case(
            "forecaster:named:format-version-string",
            edited("forecaster", "manifest.json", put("format_version", "1"), False),
        )
    )
    out.append(
        Case(
            "forecaster:named:format-version-99",
            edited("forecaster", "manifest.json", put("format_version", 99), False),
        )
    )
    out.append(Case("forecaster:named:unedited", edited("forecaster", "config.json", lambda d: None), valid=True))
    out[-1].check_output = _finite_output
    return out


# ------------------------------------------------------------------------------ data files

DATASETS = ROOT / "src" / "lstmkit" / "data" / "datasets"
# each training command on a small valid file, with the smallest settings
TRAINING = {
    "forecast": (
        "air.csv",
        ["forecast", "--target", "passengers", "--time-col", "month", "--horizon", "3", "--epochs", "1"]
        + ["--hidden-size", "4", "--ensemble", "1", "--no-statistical", "--windows", "1"],
    ),
    "detect": (
        "air.csv",
        ["detect", "--target", "passengers", "--time-col", "month", "--epochs", "1", "--hidden-size", "4"]
        + ["--window-length", "8"],
    ),
    "classify": (
        "words.csv",
        ["classify", "--text-col", "word", "--label-col", "language", "--epochs", "1", "--hidden-size", "4"]
        + ["--ensemble", "1"],
    ),
    "classify-ts": ("train.ts", ["classify", "--epochs", "1", "--hidden-size", "4", "--ensemble", "1"]),
}


def _valid_file(name: str) -> bytes:
    if name == "air.csv":
        return (DATASETS / "air_passengers.csv").read_bytes()
    if name == "words.csv":
        lines = (DATASETS / "language_words.csv").read_text().splitlines()
        return ("\n".join(lines[:1] + lines[1:121]) + "\n").encode()
    return (DATASETS / "ItalyPowerDemand_TRAIN.ts").read_bytes()


def _file_mutations(data: bytes, rng: random.Random) -> dict[str, bytes]:
    """Damaged copies of a valid data file: truncation, bit flips, swapped types, huge numbers, ..."""
    text = data.decode()
    lines = text.splitlines()
    cut = rng.randrange(1, len(data))
    flipped = bytearray(data)
    for _ in range(8):
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
    # the digit in the middle of the file (in air_passengers.csv that falls in a date)
    numbers = [i for i, ch in enumerate(text) if ch.isdigit()]
    where = numbers[len(numbers) // 2] if numbers else len(text) // 2
    return {
        "empty": b"",
        "header-only": (lines[0] + "\n").encode(),
        "truncated": data[:cut],
        "truncated-10-bytes": data[:10],
        "bit-flips": bytes(flipped),
        "binary": bytes(rng.randrange(256) for _ in range(2000)),
        "utf16": text.encode("utf-16"),
        "huge-number": (text[:where] + "1e308" + text[where + 1 :]).encode(),
        "minus-huge": (text[:where] + "-1.7e308" + text[where + 1 :]).encode(),
        "overflow": (text[:where] + "1e999" + text[where + 1 :]).encode(),
        "nan": (text[:where] + "nan" + text[where + 1 :]).encode(),
        "text-in-numbers": (text[:where] + "abc" + text[where + 1 :]).encode(),
        "dollar-names": text.replace(lines[0].split(",")[0], "$x^{$", 1).encode(),
        "year-1": text.replace("1949-01", "0001-01", 1).encode(),
        "long-field": (text[:where] + "9" * 200_000 + text[where + 1 :]).encode(),
        "extra-field": (lines[0] + "\n" + lines[1] + ",1,2\n" + "\n".join(lines[2:]) + "\n").encode(),
        "crlf": text.replace("\n", "\r\n").encode(),
        "duplicated-rows": (text + "\n".join(lines[1:]) + "\n").encode(),
        "nul-bytes": data.replace(b",", b"\x00,", 3),
        "one-row": ("\n".join(lines[:2]) + "\n").encode(),
    }


def data_file_cases(rng: random.Random) -> list[Case]:
    """Every damaged data file against each training command; the valid file must train."""
    cases = []
    for command, (name, argv) in TRAINING.items():
        valid = _valid_file(name)

        def setup(folder: Path, data=valid, name=name, argv=argv) -> list[str]:
            (folder / name).write_bytes(data)
            return [*argv, "--data", str(folder / name), "--run-dir", str(folder / "run")]

        cases.append(Case(f"{command}:valid", setup, valid=True))
        for mutation, data in _file_mutations(valid, rng).items():
            case = Case(f"{command}:{mutation}", lambda folder, data=data, s=setup: s(folder, data))
            case.valid = None  # type: ignore[assignment]  # some damage leaves a file that is still valid
            case.check_output = _finite_output
            cases.append(case)
    return cases


# ------------------------------------------------------------------------------ resumed runs


def resume_cases() -> list[Case]:
    """``lstmkit forecast --resume`` on run folders that are missing, damaged or hand-edited."""
    name, argv = TRAINING["forecast"]

    def run_folder(folder: Path, record=None, edit_state=None) -> list[str]:
        run = folder / "run"
        run.mkdir()
        (folder / name).write_bytes(_valid_file(name))
        saved = [*argv, "--data", str(folder / name), "--run-dir", str(run)]
        if record is not None:
            (run / "resume.json").write_text(record if isinstance(record, str) else json.dumps(record(saved)))
        if edit_state is not None:  # a checkpoint of the backtest's first fit, then edited by hand and resealed
            import pandas as pd

            from lstmkit.tasks import Forecaster

            options = dict(horizon=3, max_epochs=1, hidden_size=4, ensemble=1, device="cpu")
            frame = pd.read_csv(folder / name)
            Forecaster(target="passengers", time_col="month", **options).fit(
                frame.iloc[:-3], checkpoints=run / "checkpoints" / "window-1"
            )
            checkpoint = run / "checkpoints" / "window-1" / "member-0"
            state = json.loads((checkpoint / "training_state.json").read_text())
            edit_state(state)
            (checkpoint / "training_state.json").write_text(json.dumps(state))
            reseal(checkpoint)
        return ["forecast", "--resume", str(run)]

    def good(saved):
        return {"command": "forecast", "argv": saved}

    cases = {
        "no-resume-json": lambda f: run_folder(f),
        "resume-json-garbage": lambda f: run_folder(f, "{oops"),
        "resume-json-other-command": lambda f: run_folder(f, lambda saved: {"command": "detect", "argv": saved}),
        "resume-json-argv-not-list": lambda f: run_folder(f, lambda saved: {"command": "forecast", "argv": 3}),
        "state-epoch-negative": lambda f: run_folder(f, good, lambda s: s.update(epoch=-100)),
        "state-epoch-text": lambda f: run_folder(f, good, lambda s: s.update(epoch="1")),
        "state-optimizer-list": lambda f: run_folder(f, good, lambda s: s.update(optimizer=[])),
        "state-history-short": lambda f: run_folder(f, good, lambda s: s.update(history=[])),
    }
    return [Case(f"forecast:resume:{case}", setup) for case, setup in cases.items()]


# ------------------------------------------------------------------------------ main


def all_cases(seed: int = 0, per_job: int = 30) -> list[Case]:
    rng = random.Random(seed)
    return named_cases() + json_field_cases(rng, per_job) + weights_cases(rng) + data_file_cases(rng) + resume_cases()


def warm_up() -> None:
    """Import what the CLI's commands use, once, so that each forked case starts at once."""
    import importlib

    import lstmkit.cli.main as cli
    import lstmkit.tasks  # noqa: F401

    for name in [*cli.COMMANDS, "lstmkit.report", "lstmkit.data", "matplotlib.pyplot"]:
        importlib.import_module(name)


def _classify_loose(outcome: Outcome, case: Case) -> Outcome:
    # a JSON mutation may leave a valid model: exit 0 with a finite output is fine then
    if case.valid is None and outcome.kind == "silent" and outcome.code == 0:
        finite = case.check_output(outcome.message) if case.check_output else True
        outcome.kind = "ok" if finite else "silent"
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="one case in four")
    parser.add_argument("--only", help="cases whose name contains this")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--memory-mb", type=int, default=2048)
    parser.add_argument("--verbose", action="store_true", help="print every case, with its message")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    warm_up()

    cases = all_cases()
    if args.only:
        cases = [c for c in cases if args.only in c.name]
    if args.quick:
        cases = cases[::4]
    counts: dict[str, int] = {}
    peak = 0.0
    with tempfile.TemporaryDirectory() as work:
        for case in cases:
            outcome = _classify_loose(run_case(case, Path(work), args.timeout, args.memory_mb), case)
            counts[outcome.kind] = counts.get(outcome.kind, 0) + 1
            peak = max(peak, outcome.extra_mb)
            if outcome.kind != "ok" or args.verbose:
                last = outcome.message.splitlines()[-1] if outcome.message else ""
                print(f"{outcome.kind:10s} {case.name} (exit {outcome.code}): {last}", flush=True)
    print(f"{len(cases)} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"peak memory of a case above the parent: {peak:.0f} MB")
    return 0 if set(counts) <= {"ok"} else 1


if __name__ == "__main__":
    sys.exit(main())
