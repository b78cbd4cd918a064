"""Time steps of a series: infer the frequency, find where spacing breaks, step forward.

A forecasting series is *regular*: one row per step, no gaps. For datetimes the
step is a pandas frequency (``"MS"`` month start, ``"D"`` day, ``"h"`` hour, ...),
which also copes with calendar steps of varying length (months, quarters). For a
numeric time column the step is a number.

>>> import pandas as pd
>>> infer_frequency(pd.date_range("2020-01-01", periods=4, freq="MS"))
'MS'
>>> infer_seasonal_period("MS")
12
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from pandas.tseries.frequencies import to_offset

__all__ = [
    "infer_frequency",
    "first_irregular_step",
    "infer_seasonal_period",
    "future_timestamps",
    "describe_step",
]

# How many 3-point windows to probe when the whole series has no single frequency.
_PROBES = 256


def _infer_freq(times: pd.DatetimeIndex) -> str | None:
    """`pd.infer_freq` as a string, on every pandas version (3.x warns it will return an offset)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        freq = pd.infer_freq(times)
    if freq is None:
        return None
    return freq if isinstance(freq, str) else freq.freqstr


def infer_frequency(times: pd.DatetimeIndex | ArrayLike) -> str | None:
    """The pandas frequency alias of regularly spaced timestamps, or ``None``.

    Args:
        times: datetimes in increasing order (``DatetimeIndex``, ``Series`` or array).

    Shape:
        times: (T,)

    Returns:
        The alias (``"MS"``, ``"D"``, ``"h"``, ``"W-SUN"``, ...) when every step is
        the same, otherwise ``None``. Two timestamps give their difference as a fixed
        step (``"7D"``); fewer than two give ``None``.

    >>> import pandas as pd
    >>> infer_frequency(pd.to_datetime(["2021-03-01", "2021-03-02", "2021-03-03"]))
    'D'
    >>> infer_frequency(pd.to_datetime(["2021-03-01", "2021-03-02", "2021-03-05"])) is None
    True
    """
    times = pd.DatetimeIndex(times)
    if len(times) < 2:
        return None
    if len(times) == 2:
        delta = times[1] - times[0]
        return _fixed_alias(delta) if delta > pd.Timedelta(0) else None
    return _infer_freq(times)


def _majority_freq(times: pd.DatetimeIndex) -> str:
    """The frequency that explains the most steps (used once the whole series disagrees).

    Candidates: what short 3-point stretches infer, the calendar steps (months,
    quarters, years, weeks anchored on the first day) and the most common and the
    smallest fixed difference. Ties go to the earlier candidate.
    """
    starts = np.unique(np.linspace(0, len(times) - 3, num=min(_PROBES, len(times) - 2)).astype(int))
    votes = Counter(f for s in starts if (f := _infer_freq(times[s : s + 3])) is not None)
    deltas, counts = np.unique(np.diff(times.asi8), return_counts=True)
    fixed = [pd.Timedelta(int(d), unit=times.unit) for d in (deltas[np.argmax(counts)], deltas[0])]
    weekly = f"W-{times[0].day_name()[:3].upper()}"
    candidates = [f for f, _ in votes.most_common()] + ["MS", "ME", "QS", "QE", "YS", "YE", weekly]
    candidates += [_fixed_alias(d) for d in fixed if d > pd.Timedelta(0)]
    scores = [int(np.sum(times[:-1] + to_offset(f) == times[1:])) for f in candidates]
    return candidates[int(np.argmax(scores))]


def _fixed_alias(delta: pd.Timedelta) -> str:
    """A fixed step as an alias, whole days as days (pandas 3 would say ``"24h"``)."""
    if delta % pd.Timedelta(days=1) == pd.Timedelta(0):
        return to_offset(f"{delta.days}D").freqstr
    return to_offset(delta).freqstr


def first_irregular_step(times: pd.DatetimeIndex | ArrayLike) -> tuple[int, str | float] | None:
    """Where regular spacing first breaks, and the step expected there.

    The expected step is what most of the series does: for datetimes the pandas
    frequency most short stretches agree on, for numbers the most common difference.

    Args:
        times: datetimes or numbers in increasing order, no duplicates.

    Shape:
        times: (T,)

    Returns:
        ``None`` when the spacing is regular, otherwise ``(i, expected)``: the step
        from ``times[i]`` to ``times[i + 1]`` is not ``expected`` (a frequency alias
        for datetimes, a number for numeric times).

    >>> import pandas as pd
    >>> first_irregular_step(pd.to_datetime(["2020-01-01", "2020-02-01", "2020-04-01", "2020-05-01"]))
    (1, 'MS')
    >>> first_irregular_step([0.0, 0.5, 1.0, 2.0])
    (2, 0.5)
    >>> first_irregular_step([1, 2, 3]) is None
    True
    """
    if isinstance(times, pd.DatetimeIndex) or pd.api.types.is_datetime64_any_dtype(times):
        return _first_irregular_datetime(pd.DatetimeIndex(times))
    values = np.asarray(times, dtype=np.float64)
    if len(values) < 3:
        return None
    diffs = np.diff(values)
    steps, counts = np.unique(diffs, return_counts=True)
    step = float(steps[np.argmax(counts)])
    bad = np.flatnonzero(~np.isclose(diffs, step, rtol=1e-9, atol=0.0))
    return (int(bad[0]), step) if len(bad) else None


def _first_irregular_datetime(times: pd.DatetimeIndex) -> tuple[int, str] | None:
    if len(times) < 3 or _infer_freq(times) is not None:
        return None
    freq = _majority_freq(times)
    expected = times[:-1] + to_offset(freq)
    bad = np.flatnonzero(expected != times[1:])
    return (int(bad[0]), freq) if len(bad) else None


def describe_step(freq: str | float | None) -> str:
    """A frequency alias or a numeric step in words, for messages.

    >>> describe_step("MS"), describe_step("2h"), describe_step(0.5)
    ("1 month (freq 'MS')", "2 hours (freq '2h')", '0.5')
    """
    if freq is None:
        return "an unknown step"
    if not isinstance(freq, str):
        return f"{freq:g}"
    offset = to_offset(freq)
    unit = _UNIT_WORDS.get(offset.rule_code.split("-")[0], offset.rule_code)
    plural = "" if offset.n == 1 else "s"
    return f"{offset.n} {unit}{plural} (freq '{freq}')"


_UNIT_WORDS = {
    "YS": "year",
    "YE": "year",
    "QS": "quarter",
    "QE": "quarter",
    "MS": "month",
    "ME": "month",
    "BMS": "business month",
    "BME": "business month",
    "SMS": "half month",
    "SME": "half month",
    "W": "week",
    "D": "day",
    "B": "business day",
    "h": "hour",
    "min": "minute",
    "s": "second",
    "ms": "millisecond",
    "us": "microsecond",
    "ns": "nanosecond",
}


def infer_seasonal_period(freq: str | pd.DateOffset | float | None) -> int:
    """The usual seasonal period ``m`` of a frequency: steps in one natural cycle.

    Monthly 12, quarterly 4, weekly 52, daily 7 (a week), business-daily 5, hourly 24
    (a day); multiples divide the cycle when they can (``"2h"`` -> 12, ``"6h"`` -> 4).
    Anything else (yearly, minutes, seconds, a numeric step, ``None``) is 1: no season.

    Args:
        freq: a pandas frequency alias or offset (``"MS"``, ``"D"``, ``"h"``), or ``None``.

    Returns:
        The seasonal period, at least 1.

    >>> [infer_seasonal_period(f) for f in ["MS", "QE", "D", "h", "W-SUN", "YS", None]]
    [12, 4, 7, 24, 52, 1, 1]
    """
    if freq is None or isinstance(freq, (int, float)):
        return 1
    offset = to_offset(freq)
    n = offset.n
    if isinstance(
        offset, (pd.offsets.MonthBegin, pd.offsets.MonthEnd, pd.offsets.BusinessMonthBegin, pd.offsets.BusinessMonthEnd)
    ):
        cycle = 12
    elif isinstance(
        offset, (pd.offsets.QuarterBegin, pd.offsets.QuarterEnd, pd.offsets.BQuarterBegin, pd.offsets.BQuarterEnd)
    ):
        cycle = 4
    elif isinstance(offset, pd.offsets.Week):
        cycle = 52
    elif isinstance(offset, pd.offsets.BusinessDay):
        cycle = 5
    elif isinstance(offset, pd.offsets.Day):
        cycle = 7
    elif isinstance(offset, pd.offsets.Hour):
        cycle = 24
    else:
        return 1
    return cycle // n if n >= 1 and cycle % n == 0 and cycle // n > 1 else 1


def future_timestamps(last: pd.Timestamp | float, freq: str | float, horizon: int) -> pd.DatetimeIndex | np.ndarray:
    """The ``horizon`` time stamps that follow ``last`` at step ``freq``.

    Args:
        last: the last observed time (a timestamp, or a number for numeric time).
        freq: the series' frequency alias (datetimes) or numeric step.
        horizon: how many steps ahead.

    Shape:
        Returns (horizon,)

    Returns:
        A ``DatetimeIndex`` for datetime ``last``, else a float array ``last + step * k``.

    >>> list(future_timestamps(pd.Timestamp("2020-11-01"), "MS", 3).strftime("%Y-%m"))
    ['2020-12', '2021-01', '2021-02']
    >>> future_timestamps(10, 2.0, 3)
    array([12., 14., 16.])
    """
    if isinstance(last, (int, float, np.integer, np.floating)) and not isinstance(last, bool):
        return float(last) + float(freq) * np.arange(1, horizon + 1, dtype=np.float64)
    return pd.date_range(start=pd.Timestamp(last), periods=horizon + 1, freq=freq)[1:]
