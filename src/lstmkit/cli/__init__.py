"""The command-line interface: `lstmkit forecast`, `backtest`, `predict`, ...

The entry point is `lstmkit.cli.main.main` (the ``lstmkit`` console script and
``python -m lstmkit``). Nothing is re-exported here, so that ``lstmkit.cli.main``
is the module, not the function.
"""

__all__: list[str] = []
