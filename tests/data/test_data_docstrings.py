"""Every >>> example in the data layer runs and prints what it says."""

import doctest
import importlib

import pytest

MODULES = [
    "lstmkit.data",
    "lstmkit.data.io",
    "lstmkit.data.validation",
    "lstmkit.data.frequency",
    "lstmkit.data.calendar",
    "lstmkit.data.windows",
    "lstmkit.data.scaling",
    "lstmkit.data.splits",
    "lstmkit.data.datasets",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0


def test_public_api_is_exported():
    import lstmkit.data as data

    for name in data.__all__:
        assert hasattr(data, name), name
