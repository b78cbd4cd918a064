"""Argument checks shared by every layer, with messages that echo the bad value.

Each returns the value when it is good and raises `lstmkit.errors.ConfigError` (a
`ValueError`) naming the argument when it is not:

>>> positive_int("hidden_size", 64)
64
>>> positive_int("lookback", None, none_ok=True) is None
True
>>> rate("dropout", 1.5)
Traceback (most recent call last):
...
lstmkit.errors.ConfigError: dropout must be a number in [0, 1), got 1.5
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeVar

from lstmkit.errors import ConfigError

__all__ = ["positive_int", "non_negative_int", "rate", "open_unit", "one_of", "ensemble_size", "MAX_ENSEMBLE"]

MAX_ENSEMBLE = 100  # networks: more is only slower (the median or mean of 100 has long converged)

T = TypeVar("T")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def positive_int(name: str, value: Any, *, none_ok: bool = False) -> Any:
    """``value`` if it is an integer >= 1 (or None, with ``none_ok``)."""
    if value is None and none_ok:
        return None
    if not _is_int(value) or value < 1:
        raise ConfigError(f"{name} must be a positive integer{' or None' if none_ok else ''}, got {value!r}")
    return value


def non_negative_int(name: str, value: Any, *, none_ok: bool = False) -> Any:
    """``value`` if it is an integer >= 0 (or None, with ``none_ok``)."""
    if value is None and none_ok:
        return None
    if not _is_int(value) or value < 0:
        raise ConfigError(f"{name} must be a non-negative integer{' or None' if none_ok else ''}, got {value!r}")
    return value


def rate(name: str, value: Any) -> float:
    """``value`` as a float if it is a number in [0, 1) (a dropout or zoneout rate, say)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ConfigError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


def open_unit(name: str, value: Any) -> float:
    """``value`` as a float if it is a number in (0, 1) (a learning rate or a quantile, say)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
        raise ConfigError(f"{name} must be in (0, 1), got {value!r}")
    return float(value)


def one_of(name: str, value: T, choices: Collection[Any]) -> T:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ConfigError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def ensemble_size(value: Any, *, none_ok: bool = False) -> Any:
    """``value`` if it is a whole number of networks from 1 to `MAX_ENSEMBLE` (or None, with ``none_ok``)."""
    positive_int("ensemble", value, none_ok=none_ok)
    if value is not None and value > MAX_ENSEMBLE:
        raise ConfigError(f"ensemble must be at most {MAX_ENSEMBLE} networks, got {value!r}")
    return value
