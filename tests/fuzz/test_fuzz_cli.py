"""A fixed subset of bench/probe.py in the test suite: damaged model folders and data files
against the CLI; each must end with exit 2 and one `error:` line, within bounded time and memory."""

import importlib.util
import random
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
_spec = importlib.util.spec_from_file_location("lstmkit_probe", ROOT / "bench" / "probe.py")
probe = importlib.util.module_from_spec(_spec)
sys.modules["lstmkit_probe"] = probe  # its dataclasses look their module up there
_spec.loader.exec_module(probe)

# damage that a reader refuses before any training starts (the rest of bench/probe.py trains: too slow here)
REFUSED_EARLY = {
    "empty",
    "header-only",
    "binary",
    "utf16",
    "long-field",
    "truncated-10-bytes",
    "one-row",
}


def _cases():
    rng = random.Random(0)
    folders = probe.named_cases() + probe.json_field_cases(rng, per_job=3) + probe.weights_cases(rng)
    files = [
        c
        for c in probe.data_file_cases(random.Random(0))
        if c.name.split(":")[1] in REFUSED_EARLY and c.valid is not True
    ]
    return folders + files


CASES = _cases()


@pytest.fixture(scope="module")
def workdir():
    probe.warm_up()  # the forked cases then start without importing anything
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def test_the_subset_is_large_and_fixed():
    assert len(CASES) >= 80
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_damaged_input_ends_with_a_message_not_a_traceback(case, workdir):
    outcome = probe._classify_loose(probe.run_case(case, workdir, timeout=60, memory_mb=1024), case)
    assert outcome.kind == "ok", f"{outcome.kind} (exit {outcome.code}): {outcome.message}"
    assert outcome.extra_mb < 1024
