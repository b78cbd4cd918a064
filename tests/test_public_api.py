"""Every name a package lists in ``__all__`` is there (the >>> examples run once, by --doctest-modules)."""

import importlib

import pytest

PACKAGES = ["lstmkit", "lstmkit.nn", "lstmkit.data", "lstmkit.train", "lstmkit.evaluate", "lstmkit.models",
            "lstmkit.tasks", "lstmkit.onnx", "lstmkit.explain", "lstmkit.report"]


@pytest.mark.parametrize("name", PACKAGES)
def test_public_api_is_exported(name):
    package = importlib.import_module(name)
    missing = [n for n in package.__all__ if not hasattr(package, n)]
    assert not missing, f"{name}.__all__ lists {missing}, which it does not define"
