"""The `lstmkit` command: parses arguments and calls tasks; no modelling here.

Each subcommand lives in its own module with two functions, ``register(subparsers)``
to declare its arguments and ``run(args) -> int`` to do the work; the list below
names them explicitly. A user's mistake (a `LstmkitError`: bad file, bad argument,
corrupt model) prints one clear message and exits with status 2, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

import torch

from lstmkit import __version__
from lstmkit.errors import LstmkitError

__all__ = ["main", "build_parser"]

# subcommand modules, in the order `lstmkit --help` lists them
COMMANDS = ["lstmkit.cli.forecast", "lstmkit.cli.classify", "lstmkit.cli.generate", "lstmkit.cli.translate",
            "lstmkit.cli.detect"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lstmkit", description="LSTM sequence modelling end to end: forecast, classify, generate, detect."
    )
    parser.add_argument("--version", action="version", version=f"lstmkit {__version__}")
    parser.add_argument(
        "--threads", type=int, default=1,
        help="CPU threads for torch (default 1: small recurrent models run fastest on one thread, "
             "and extra threads spin against other work on a busy machine; raise it for large models)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    try:
        return int(args.run(args) or 0)
    except LstmkitError as e:
        print(f"lstmkit {args.command}: error: {e}", file=sys.stderr)
        return 2
    except FileNotFoundError as e:
        print(f"lstmkit {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"lstmkit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
