"""The >>> examples in lstmkit.train's docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["batches", "callbacks", "checkpoint", "config", "distributed", "optim", "seeding", "state", "trainer"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"lstmkit.train.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {module.__name__}"
