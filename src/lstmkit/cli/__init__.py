"""The command-line interface: `lstmkit forecast`, `backtest`, `predict`, ..."""

from lstmkit.cli.main import build_parser, main

__all__ = ["main", "build_parser"]
