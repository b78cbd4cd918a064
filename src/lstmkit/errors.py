"""Errors a user can act on.

Anything raised as a `LstmkitError` is the user's to fix (a bad file, a wrong
argument, a corrupt checkpoint): the CLI prints its message, without a traceback,
and exits with status 2. The subclasses also derive from the builtin a Python
caller would expect (`ValueError`), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = ["LstmkitError", "DataError", "CheckpointError", "ConfigError", "TrainingError"]


class LstmkitError(Exception):
    """Base class of every error caused by the user's input, not by a bug."""


class DataError(LstmkitError, ValueError):
    """A data file or array is not what was expected; the message says where."""


class CheckpointError(LstmkitError, ValueError):
    """A saved model or checkpoint is missing, corrupt or from an incompatible version."""


class ConfigError(LstmkitError, ValueError):
    """An argument or configuration value is out of range or inconsistent."""


class TrainingError(LstmkitError, RuntimeError):
    """Training cannot go on (a NaN or Inf loss or gradient); the message names epoch and step."""
