"""Every >>> example in the evaluate layer runs and prints what it says."""

import doctest
import importlib

import pytest

MODULES = ["lstmkit.evaluate", "lstmkit.evaluate.metrics", "lstmkit.evaluate.baselines", "lstmkit.evaluate.backtest"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0


def test_public_api_is_exported():
    import lstmkit.evaluate as evaluate

    for name in evaluate.__all__:
        assert hasattr(evaluate, name), name
