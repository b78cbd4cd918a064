"""Every >>> example in the explain layer and the HTML report runs and prints what it says."""

import doctest
import importlib

import pytest

MODULES = ["lstmkit.explain.recording", "lstmkit.explain.attribution", "lstmkit.report.html"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0


def test_public_api_is_exported():
    import lstmkit.explain as explain
    import lstmkit.report as report

    for module in (explain, report):
        for name in module.__all__:
            assert hasattr(module, name), name
