"""Every name a package lists in ``__all__`` is there (the >>> examples run once, by --doctest-modules)."""

import importlib
import os
import subprocess
import sys

import pytest

PACKAGES = [
    "lstmkit",
    "lstmkit.nn",
    "lstmkit.data",
    "lstmkit.train",
    "lstmkit.evaluate",
    "lstmkit.models",
    "lstmkit.tasks",
    "lstmkit.onnx",
    "lstmkit.explain",
    "lstmkit.report",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_public_api_is_exported(name):
    package = importlib.import_module(name)
    missing = [n for n in package.__all__ if not hasattr(package, n)]
    assert not missing, f"{name}.__all__ lists {missing}, which it does not define"


def test_importing_every_module_changes_no_global_state():
    """No matplotlib backend switch, no environment edit: a notebook user's session stays theirs."""
    code = """
import importlib, os, pkgutil
import matplotlib
before = (matplotlib.rcParams["backend"], dict(os.environ))
import lstmkit
for module in pkgutil.walk_packages(lstmkit.__path__, "lstmkit."):
    if not module.name.endswith("__main__"):  # that one runs the CLI
        importlib.import_module(module.name)
after = (matplotlib.rcParams["backend"], dict(os.environ))
assert after == before, (before[0], after[0], set(after[1].items()) ^ set(before[1].items()))
"""
    env = {**os.environ, "MPLBACKEND": "svg"}  # a backend of the user's choosing
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
