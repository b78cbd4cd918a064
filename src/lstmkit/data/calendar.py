"""Calendar features from timestamps, as sin/cos pairs: future-known covariates for free.

Each feature is a position in a cycle, ``phase`` in [0, 1), encoded as
``sin(2 pi phase)`` and ``cos(2 pi phase)`` so that December sits next to January:

=================  ==========================================  ==========================
feature            phase                                       default for frequencies
=================  ==========================================  ==========================
``hour_of_day``    (hour + minute/60 + second/3600) / 24       hourly and finer
``day_of_week``    weekday / 7 (Monday 0)                      hourly and finer, daily
``day_of_month``   (day - 1) / days in the month               (on request)
``day_of_year``    (day of year - 1) / days in the year        daily, weekly
``month_of_year``  (month - 1) / 12                            monthly, quarterly
=================  ==========================================  ==========================

Yearly (and unknown) frequencies get no features by default.

>>> import pandas as pd
>>> f = calendar_features(pd.date_range("2021-01-01", periods=3, freq="MS"))
>>> list(f.columns), f["month_of_year_cos"].round(3).tolist()
(['month_of_year_sin', 'month_of_year_cos'], [1.0, 0.866, 0.5])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from lstmkit.data.frequency import first_irregular_step, infer_frequency
from lstmkit.errors import ConfigError, DataError

__all__ = ["CALENDAR_FEATURES", "default_calendar_features", "calendar_features", "add_calendar_features"]


def _hour_of_day(t: pd.DatetimeIndex) -> np.ndarray:
    return (t.hour + t.minute / 60 + t.second / 3600) / 24


def _day_of_week(t: pd.DatetimeIndex) -> np.ndarray:
    return t.day_of_week / 7


def _day_of_month(t: pd.DatetimeIndex) -> np.ndarray:
    return (t.day - 1) / t.days_in_month


def _day_of_year(t: pd.DatetimeIndex) -> np.ndarray:
    return (t.day_of_year - 1) / np.where(t.is_leap_year, 366, 365)


def _month_of_year(t: pd.DatetimeIndex) -> np.ndarray:
    return (t.month - 1) / 12


CALENDAR_FEATURES = {
    "hour_of_day": _hour_of_day,
    "day_of_week": _day_of_week,
    "day_of_month": _day_of_month,
    "day_of_year": _day_of_year,
    "month_of_year": _month_of_year,
}


def default_calendar_features(freq: str | None) -> tuple[str, ...]:
    """The calendar features that vary usefully at a frequency (see the module table).

    Args:
        freq: a pandas frequency alias (``"MS"``, ``"D"``, ``"h"``, ...) or ``None``.

    Returns:
        Feature names, possibly empty.

    >>> default_calendar_features("MS"), default_calendar_features("h"), default_calendar_features("YS")
    (('month_of_year',), ('hour_of_day', 'day_of_week'), ())
    """
    if freq is None:
        return ()
    offset = to_offset(freq)
    if isinstance(offset, (pd.offsets.YearBegin, pd.offsets.YearEnd, pd.offsets.BYearBegin, pd.offsets.BYearEnd)):
        return ()
    if isinstance(
        offset,
        (
            pd.offsets.QuarterBegin,
            pd.offsets.QuarterEnd,
            pd.offsets.MonthBegin,
            pd.offsets.MonthEnd,
            pd.offsets.BusinessMonthBegin,
            pd.offsets.BusinessMonthEnd,
            pd.offsets.BQuarterBegin,
            pd.offsets.BQuarterEnd,
        ),
    ):
        return ("month_of_year",)
    if isinstance(offset, pd.offsets.Week):
        return ("day_of_year",)
    if isinstance(offset, (pd.offsets.Day, pd.offsets.BusinessDay)) and offset.n == 1:
        return ("day_of_week", "day_of_year")
    if isinstance(offset, pd.offsets.Day):
        return ("day_of_year",)  # every n days: the weekday cycles by n, not a useful signal
    if isinstance(offset, pd.offsets.Tick):  # hours, minutes, seconds
        return ("hour_of_day", "day_of_week")
    return ()


def calendar_features(
    times: pd.Series | pd.DatetimeIndex, features: Sequence[str] | None = None, *, freq: str | None = None
) -> pd.DataFrame:
    """Sin/cos calendar features of each timestamp.

    Args:
        times: datetimes (``DatetimeIndex``, ``Series`` or array-like).
        features: names from `CALENDAR_FEATURES`; ``None`` picks
            `default_calendar_features` of ``freq``.
        freq: the frequency used to pick features; inferred from ``times`` if ``None``.

    Shape:
        times: (T,) -> Returns (T, 2 * len(features))

    Returns:
        Columns ``{feature}_sin``, ``{feature}_cos`` per feature, float64, on the
        index of ``times`` when it is a ``Series`` (else ``0..T-1``).

    >>> import pandas as pd
    >>> f = calendar_features(pd.to_datetime(["2024-01-01 06:00"]), ["hour_of_day"])
    >>> f.round(3).values.tolist()
    [[1.0, 0.0]]
    """
    index = times.index if isinstance(times, pd.Series) else pd.RangeIndex(len(times))
    try:
        t = pd.DatetimeIndex(times)
    except (TypeError, ValueError) as e:
        raise DataError(f"calendar features need datetimes, got {getattr(times, 'dtype', type(times))}: {e}") from e
    if features is None:
        features = default_calendar_features(freq if freq is not None else infer_frequency(t))
    unknown = [f for f in features if f not in CALENDAR_FEATURES]
    if unknown:
        raise ConfigError(f"unknown calendar feature(s) {unknown}; choose from {list(CALENDAR_FEATURES)}")
    columns = {}
    for name in features:
        angle = 2 * np.pi * np.asarray(CALENDAR_FEATURES[name](t), dtype=np.float64)
        columns[f"{name}_sin"] = np.sin(angle)
        columns[f"{name}_cos"] = np.cos(angle)
    return pd.DataFrame(columns, index=index, dtype=np.float64)


def add_calendar_features(
    frame: pd.DataFrame,
    time_col: str,
    features: Sequence[str] | None = None,
    *,
    freq: str | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """A copy of ``frame`` with calendar feature columns added, and their names.

    Pass the names as ``future_covariates``: they are known for any future step.

    Args:
        frame: a frame with a datetime column ``time_col`` (multi-series is fine:
            features depend on the timestamp only).
        time_col: the datetime column.
        features: as in `calendar_features`; ``None`` picks by ``freq``.
        freq: frequency alias (e.g. `ValidatedSeries.freq`); if ``None``, the step
            most of the distinct timestamps follow.

    Returns:
        ``(frame with new columns, [new column names])``.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=2, freq="D"), "y": [1.0, 2.0]})
    >>> out, names = add_calendar_features(df, "t")
    >>> names
    ['day_of_week_sin', 'day_of_week_cos', 'day_of_year_sin', 'day_of_year_cos']
    """
    if time_col not in frame.columns:
        raise DataError(f"time column {time_col!r} not found; columns found: {', '.join(map(repr, frame.columns))}")
    times = frame[time_col]
    if freq is None and features is None:
        # series may cover different spans: take the step most distinct timestamps follow
        distinct = pd.DatetimeIndex(times.drop_duplicates().sort_values())
        gap = first_irregular_step(distinct)
        if gap is not None:
            expected = gap[1]
            assert isinstance(expected, str)  # the expected step of datetimes is a frequency alias
            freq = expected
        else:
            freq = infer_frequency(distinct)
    feats = calendar_features(times, features, freq=freq)
    clash = [c for c in feats.columns if c in frame.columns]
    if clash:
        raise DataError(f"calendar feature column(s) {clash} already exist in the frame")
    return pd.concat([frame, feats], axis=1), list(feats.columns)
