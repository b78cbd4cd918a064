"""The `lstmkit` command: parses arguments and calls tasks; no modelling here.

Each subcommand lives in its own module with two functions, ``register(subparsers)``
to declare its arguments and ``run(args) -> int`` to do the work; the list below
names them explicitly. A user's mistake (a `LstmkitError`: bad file, bad argument,
corrupt model) prints one clear message and exits with status 2, no traceback.

Building the parser imports neither torch nor pandas nor matplotlib: the command
modules import them inside their run functions, so ``lstmkit --help`` is instant.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import traceback
from pathlib import Path

from lstmkit import __version__
from lstmkit.cli.options import apply_config_file, check_global, global_options
from lstmkit.cli.resume import interrupted_hint, resumed_argv
from lstmkit.errors import LstmkitError

__all__ = ["main", "build_parser"]

# subcommand modules, in the order `lstmkit --help` lists them
COMMANDS = [
    "lstmkit.cli.forecast",
    "lstmkit.cli.classify",
    "lstmkit.cli.generate",
    "lstmkit.cli.translate",
    "lstmkit.cli.detect",
    "lstmkit.cli.predict",
]


class _Parser(argparse.ArgumentParser):
    """No abbreviated options: ``--window`` must not quietly mean ``--window-length``."""

    def __init__(self, **kwargs):
        super().__init__(allow_abbrev=False, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lstmkit",
        parents=[global_options(suppress=False)],
        description="LSTM sequence modelling end to end: forecast, classify, generate, translate, detect; "
        "predict with any saved model.",
    )
    parser.add_argument("--version", action="version", version=f"lstmkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    common = global_options(suppress=True)
    for name in COMMANDS:
        importlib.import_module(name).register(subparsers, [common])
    return parser


def _command_parser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    """The sub-parser of ``command``, which argparse keeps in its subparsers action."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[command]
    raise AssertionError("build_parser always adds the commands")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    previous = _stop_on_sigterm()
    cleanup = contextlib.ExitStack()  # what the command holds until it ends (the run folder's lock)
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if getattr(args, "resume", None):
            argv = resumed_argv(parser, args, argv)
            args = parser.parse_args(argv)
        if args.config:
            apply_config_file(args.config, parser, _command_parser(parser, args.command))
            args = parser.parse_args(argv)
        args.argv, args.cleanup = argv, cleanup
        check_global(args)
        import torch

        torch.set_num_threads(args.threads)
        return int(args.run(args) or 0)
    except LstmkitError as e:
        print(f"lstmkit {args.command}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # a path that is missing, a folder where a file belongs, no permission, a full disk
        print(f"lstmkit {args.command}: error: {e}", file=sys.stderr)
        return 2
    except Terminated:
        print(
            f"lstmkit {args.command}: terminated (SIGTERM); files written so far are complete{interrupted_hint(args)}",
            file=sys.stderr,
        )
        return 143
    except KeyboardInterrupt:
        print(f"lstmkit {args.command}: interrupted{interrupted_hint(args)}", file=sys.stderr)
        return 130
    except Exception as e:  # a bug: still one line, unless --debug asks for the traceback
        if getattr(args, "debug", False):
            raise
        where = traceback.extract_tb(e.__traceback__)[-1]
        print(
            f"lstmkit {args.command}: unexpected error: {type(e).__name__}: {e} "
            f"(in {Path(where.filename).name}:{where.lineno}). This is a bug in lstmkit, not in your input; "
            "run again with --debug for the traceback and report it.",
            file=sys.stderr,
        )
        return 1
    finally:
        cleanup.close()
        if previous is not None:  # the caller's handler again (main may run inside a longer program)
            import signal

            signal.signal(signal.SIGTERM, previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it unwinds like Ctrl-C (temporary files removed)."""


def _stop_on_sigterm():
    """Turn SIGTERM into `Terminated` for this run (main thread only); returns the previous handler."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame):
        raise Terminated()

    return signal.signal(signal.SIGTERM, stop)


if __name__ == "__main__":
    sys.exit(main())
