"""Series too short for the lookback: left out of a panel with a warning that names them.

A panel's lookback is chosen from its typical (median) series length, so that one
4-row series among 60-row ones does not cut every series' memory to a single step.
A series shorter than ``lookback + horizon`` rows cannot give one training window;
it is dropped from the fit (and so from the default forecast) with a
`ShortSeriesDropped` warning naming it. A single series that short is still an error.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np

from lstmkit.errors import DataError

__all__ = ["ShortSeriesDropped", "typical_length", "drop_short_series"]


class ShortSeriesDropped(UserWarning):
    """Series of a panel were left out of the fit: too short for the lookback and horizon."""


def typical_length(lengths: dict[Any, int]) -> int:
    """The median number of rows per series (the length the lookback is chosen for).

    >>> typical_length({"a": 60, "b": 60, "c": 4})
    60
    """
    return int(np.median(list(lengths.values())))


def drop_short_series(series: Any, needed: int, lookback: int) -> Any:
    """``series`` without the series that have fewer than ``needed`` rows, with a warning.

    Args:
        series: a `lstmkit.data.ValidatedSeries` (its ``frame``, ``rows`` and ``lengths``).
        needed: rows one training window takes (``lookback + horizon``).
        lookback: the lookback, for the message.

    Returns:
        The same kind of object, its frame and rows filtered; ``series`` itself when
        nothing is dropped.

    Raises:
        DataError: every series is that short (or the only one is).
    """
    lengths = series.lengths
    short = {k: n for k, n in lengths.items() if n < needed}
    if not short:
        return series
    if len(short) == len(lengths):
        raise DataError(
            f"{series.source}: every series is shorter than lookback + horizon = {needed} rows "
            f"({_names(short)}); give longer series or a shorter lookback/horizon"
        )
    warnings.warn(
        f"{series.source}: left out {len(short)} of {len(lengths)} series shorter than lookback + horizon = "
        f"{needed} rows: {_names(short)}; the other series keep lookback {lookback}",
        ShortSeriesDropped,
        stacklevel=3,
    )
    keep = ~series.frame[series.id_col].isin(list(short)).to_numpy()
    frame = series.frame[keep].reset_index(drop=True)
    return dataclasses.replace(series, frame=frame, rows=np.asarray(series.rows)[keep])


def _names(short: dict[Any, int]) -> str:
    shown = ", ".join(f"{k!r} ({n} rows)" for k, n in list(short.items())[:5])
    return shown + (f" and {len(short) - 5} more" if len(short) > 5 else "")
