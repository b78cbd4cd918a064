"""Check a time-series frame and hand back a clean, sorted copy, or say exactly what is wrong.

`validate_series` is the gate between a user's table and the rest of lstmkit: after
it, every value column is float64 and finite, every series is sorted by time with
one row per step, and the frequency is known. Its errors name the source, the
column, the series and the rows.

Row numbers in messages are **0-based data rows**: row 0 is the first row under the
header (line 2 of a CSV file), counted in the order the rows were given, before any
sorting. The same numbering is kept in `ValidatedSeries.rows`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from lstmkit.data.frequency import (
    describe_step,
    first_irregular_step,
    infer_frequency,
    infer_seasonal_period,
)
from lstmkit.errors import ConfigError, DataError

__all__ = ["ValidatedSeries", "validate_series", "check_series_length", "FILL_METHODS"]

FILL_METHODS = ("interpolate", "ffill")
_SHOW = 5  # rows listed in a message before "and N more"


@dataclass(frozen=True)
class ValidatedSeries:
    """A validated frame and what was learned about it.

    Attributes:
        frame: columns ``[id_col, time_col, *target, *past_covariates, *future_covariates]``
            (absent roles left out), sorted by series id then time, value columns
            float64 and finite, index ``0..n-1``.
        target, past_covariates, future_covariates: column names by role.
        time_col, id_col: the time and series-id columns, or ``None``.
        freq: pandas frequency alias of a datetime time column (``"MS"``, ``"h"``), else ``None``.
        step: the numeric step of a numeric time column, else ``None``.
        source: the name used in messages (a file name or ``"<frame>"``).
        rows: for each row of ``frame``, its 0-based data row in the input.
        filled: how many missing values were filled, per column (only with ``fill``).
    """

    frame: pd.DataFrame
    target: tuple[str, ...]
    time_col: str | None
    id_col: str | None
    past_covariates: tuple[str, ...]
    future_covariates: tuple[str, ...]
    freq: str | None
    step: float | None
    source: str
    rows: np.ndarray
    filled: dict[str, int] = field(default_factory=dict)

    @property
    def seasonal_period(self) -> int:
        """The usual seasonal period of ``freq`` (12 for monthly, ...); 1 when unknown."""
        return infer_seasonal_period(self.freq)

    @property
    def lengths(self) -> dict:
        """Rows per series id (key ``None`` for a single series without an id column)."""
        if self.id_col is None:
            return {None: len(self.frame)}
        return self.frame.groupby(self.id_col, sort=False, observed=True).size().to_dict()

    @property
    def roles(self) -> dict:
        """Column roles as keyword arguments for `make_windows` and friends."""
        return {
            "target": list(self.target),
            "id_col": self.id_col,
            "time_col": self.time_col,
            "past_covariates": list(self.past_covariates),
            "future_covariates": list(self.future_covariates),
        }


def validate_series(
    df: pd.DataFrame,
    target: str | Sequence[str],
    time_col: str | None = None,
    id_col: str | None = None,
    past_covariates: Sequence[str] = (),
    future_covariates: Sequence[str] = (),
    fill: str | None = None,
    source: str | None = None,
    sort: bool = False,
) -> ValidatedSeries:
    """Validate a single- or multi-series frame and return it clean and sorted.

    Checks, in order: the columns exist and each has one role; ids are present;
    timestamps parse; value columns hold numbers; no timestamp repeats within a
    series; within a series rows come in increasing time order (unless
    ``sort=True``); each series is regularly spaced and all share one step; no
    value is Inf, and no value is missing unless ``fill`` says how to fill it.

    Args:
        df: the table, one row per (series, time step).
        target: the column(s) to forecast.
        time_col: datetime (or parseable strings) or numeric time column. ``None``
            takes the rows in the order given, one step each.
        id_col: column naming the series of each row; ``None`` for one series.
        past_covariates: numeric columns known only up to the forecast origin.
        future_covariates: numeric columns known in advance (calendar, prices set ahead).
        fill: ``None`` (missing values are an error), ``"interpolate"`` (linear in
            time within each series; leading/trailing gaps take the nearest value)
            or ``"ffill"`` (carry the last value forward; a series may not start
            with a missing value). Inf is never filled: it is an error.
        source: name for messages; defaults to ``df.attrs["source"]`` (set by
            `read_table`) or ``"<frame>"``.
        sort: sort rows by time within each series instead of rejecting unsorted input.

    Shape:
        df: (rows, columns) -> frame: (rows, used columns)

    Returns:
        A `ValidatedSeries` with the clean ``frame`` and its ``freq``/``step``.

    Raises:
        DataError: naming source, column, series and 0-based data rows.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": ["2020-03", "2020-01", "2020-02"], "y": [3, 1, 2]})
    >>> vs = validate_series(df, "y", time_col="t", sort=True)
    >>> vs.frame["y"].tolist(), vs.freq, vs.seasonal_period
    ([1.0, 2.0, 3.0], 'MS', 12)
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"validate_series expects a pandas DataFrame, got {type(df).__name__}")
    source = source or df.attrs.get("source", "<frame>")
    targets = _names("target", target, allow_empty=False)
    past = _names("past_covariates", past_covariates)
    future = _names("future_covariates", future_covariates)
    if fill is not None and fill not in FILL_METHODS:
        raise ConfigError(f"fill must be None, 'interpolate' or 'ffill', got {fill!r}")
    _check_columns(df, targets, past, future, time_col, id_col, source)
    if len(df) == 0:
        raise DataError(f"{source}: the table has columns but no data rows")

    ids = _parse_ids(df[id_col], id_col, source) if id_col else None
    times = _parse_times(df[time_col], time_col, source) if time_col else None
    value_cols = [*targets, *past, *future]
    values = {c: _to_numbers(df[c], c, source) for c in value_cols}

    codes = pd.factorize(ids, sort=_sortable(ids))[0] if ids is not None else np.zeros(len(df), np.int64)
    order = _time_order(codes, times, ids, time_col, id_col, source, sort)

    out = {}
    if id_col:
        assert ids is not None  # parsed above whenever there is an id column
        out[id_col] = ids.iloc[order].reset_index(drop=True)  # .iloc keeps dtypes (str, tz-aware datetimes)
    if time_col:
        assert times is not None  # parsed above whenever there is a time column
        out[time_col] = times.iloc[order].reset_index(drop=True)
    for c in value_cols:
        out[c] = values[c][order]
    frame = pd.DataFrame(out)
    frame.attrs["source"] = source  # later steps (windows, scalers) name it too
    rows = order.astype(np.int64)
    bounds = _segments(codes[order])

    freq, step = None, None
    if time_col:
        freq, step = _check_spacing(frame, bounds, rows, time_col, id_col, source)
    filled = _check_finite(frame, bounds, rows, value_cols, id_col, fill, source)
    return ValidatedSeries(
        frame=frame,
        target=targets,
        time_col=time_col,
        id_col=id_col,
        past_covariates=past,
        future_covariates=future,
        freq=freq,
        step=step,
        source=source,
        rows=rows,
        filled=filled,
    )


def check_series_length(
    frame: pd.DataFrame,
    lookback: int,
    horizon: int,
    *,
    id_col: str | None = None,
    source: str | None = None,
) -> None:
    """Raise unless every series has at least ``lookback + horizon`` rows (one window).

    Args:
        frame: a validated frame (see `validate_series`).
        lookback: input steps per window.
        horizon: output steps per window.
        id_col: series-id column, or ``None`` for a single series.
        source: name for messages; defaults to ``frame.attrs["source"]`` or ``"<frame>"``.

    Raises:
        DataError: naming each short series, its length and the length needed.

    >>> import pandas as pd
    >>> check_series_length(pd.DataFrame({"y": range(10)}), lookback=6, horizon=4)
    >>> check_series_length(pd.DataFrame({"y": range(9)}), lookback=6, horizon=4)
    Traceback (most recent call last):
    ...
    lstmkit.errors.DataError: <frame>: the series has 9 rows, but lookback 6 + horizon 4 needs at least 10 rows
    """
    _check_positive("lookback", lookback)
    _check_positive("horizon", horizon)
    source = source or frame.attrs.get("source", "<frame>")
    need = lookback + horizon
    if id_col is None:
        if len(frame) < need:
            raise DataError(
                f"{source}: the series has {len(frame)} rows, but lookback {lookback} + horizon "
                f"{horizon} needs at least {need} rows"
            )
        return
    sizes = frame.groupby(id_col, sort=False, dropna=False, observed=True).size()
    short = sizes[sizes < need]
    if len(short):
        listed = ", ".join(f"{_plain(k)!r} ({n} rows)" for k, n in short.iloc[:_SHOW].items())
        more = f" and {len(short) - _SHOW} more" if len(short) > _SHOW else ""
        raise DataError(
            f"{source}: {len(short)} series too short for lookback {lookback} + horizon {horizon} "
            f"= {need} rows: {id_col} {listed}{more}"
        )


# --- helpers --------------------------------------------------------------------------


def _check_positive(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def _rows(rows) -> str:
    """``row 3 (0-based data row)`` or ``rows 3, 7, 9 (0-based data rows)``."""
    rows = [int(r) for r in rows]
    if len(rows) == 1:
        return f"row {rows[0]} (0-based data row)"
    shown = ", ".join(map(str, rows[:_SHOW]))
    more = f" and {len(rows) - _SHOW} more" if len(rows) > _SHOW else ""
    return f"rows {shown}{more} (0-based data rows)"


def _first_of(bad, what: str) -> str:
    """``at row 3 (0-based data row)``, plus ``; 4 such rows in all: ...`` when there are more."""
    text = f"at {_rows(bad[:1])}"
    return text + (f"; {len(bad)} {what} in all: {_rows(bad)}" if len(bad) > 1 else "")


def _in_series(id_col: str | None, key) -> str:
    return f" in series {id_col}={_plain(key)!r}" if id_col else ""


def _series_at(frame: pd.DataFrame, id_col: str | None, i: int) -> str:
    return _in_series(id_col, frame[id_col].iloc[i]) if id_col else ""


def _plain(value):
    """NumPy scalars as Python ones, so messages say 3, not np.int64(3)."""
    return value.item() if isinstance(value, np.generic) else value


def _names(role: str, value, allow_empty: bool = True) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value or ())
    if not names and not allow_empty:
        raise ConfigError(f"{role} must name at least one column, got {value!r}")
    return names


def _check_columns(df, targets, past, future, time_col, id_col, source) -> None:
    dupes = df.columns[df.columns.duplicated()].unique().tolist()
    if dupes:
        raise DataError(f"{source}: column name(s) {dupes} appear more than once")
    roles = [("target", c) for c in targets] + [("past covariate", c) for c in past]
    roles += [("future covariate", c) for c in future]
    roles += [(r, c) for r, c in (("time column", time_col), ("id column", id_col)) if c is not None]
    seen: dict[str, str] = {}
    for role, col in roles:
        if col in seen:
            raise ConfigError(f"column {col!r} is given both as {seen[col]} and as {role}; give it one role")
        seen[col] = role
    missing = [c for _, c in roles if c not in df.columns]
    if missing:
        found = ", ".join(repr(c) for c in df.columns)
        raise DataError(f"{source}: missing column(s) {', '.join(map(repr, missing))}; columns found: {found}")


def _parse_ids(col: pd.Series, name: str, source: str) -> pd.Series:
    missing = np.flatnonzero(col.isna().to_numpy())
    if len(missing):
        raise DataError(f"{source}: id column {name!r} is empty at {_rows(missing)}")
    return col.reset_index(drop=True)


def _sortable(ids: pd.Series) -> bool:
    try:
        np.sort(ids.unique())
    except TypeError:
        return False  # mixed id types: keep them in order of first appearance
    return True


def _parse_times(col: pd.Series, name: str, source: str) -> pd.Series:
    col = col.reset_index(drop=True)
    missing = np.flatnonzero(col.isna().to_numpy())
    if len(missing):
        raise DataError(f"{source}: time column {name!r} is empty at {_rows(missing)}")
    if pd.api.types.is_datetime64_any_dtype(col):
        return col
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        bad = np.flatnonzero(~np.isfinite(col.to_numpy(dtype=np.float64)))
        if len(bad):
            raise DataError(f"{source}: time column {name!r} is not finite at {_rows(bad)}")
        return col
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "could not infer format": the NaT check below reports it
            parsed = pd.to_datetime(col, errors="coerce")
    except (ValueError, TypeError, OverflowError) as e:
        raise DataError(f"{source}: time column {name!r} could not be parsed as timestamps: {e}") from e
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        raise DataError(
            f"{source}: time column {name!r} has a value that is not a timestamp: {col.iloc[bad[0]]!r} "
            f"{_first_of(bad, 'such rows')}. Timestamps must all share the format of the first one "
            f"({col.iloc[0]!r})"
        )
    return parsed


def _to_numbers(col: pd.Series, name: str, source: str) -> np.ndarray:
    col = col.reset_index(drop=True)
    if pd.api.types.is_bool_dtype(col) or (
        pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_complex_dtype(col)
    ):
        return col.to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col):
        raise DataError(f"{source}: column {name!r} holds {col.dtype} values; expected numbers")
    obj = col.astype(object)
    blank = obj.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool)
    obj[blank] = None  # a blank cell is a missing value, not a bad one
    numbers = pd.to_numeric(obj, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(np.isnan(numbers) & obj.notna().to_numpy())
    if len(bad):
        raise DataError(
            f"{source}: column {name!r} has a non-numeric value {obj.iloc[bad[0]]!r} "
            f"{_first_of(bad, 'non-numeric values')}"
        )
    return numbers


def _time_key(times: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(times):
        return pd.DatetimeIndex(times).asi8  # integer ticks, time zones included
    return times.to_numpy(dtype=np.float64)


def _show_time(value) -> str:
    if isinstance(value, (np.datetime64, pd.Timestamp)):
        return str(pd.Timestamp(value))
    return f"{_plain(value)!r}"


def _time_order(codes, times, ids, time_col, id_col, source, sort) -> np.ndarray:
    """Row order (by id, then time); rejects repeated and, unless ``sort``, unsorted timestamps."""
    if times is None:
        return np.argsort(codes, kind="stable")
    key = _time_key(times)
    raw = times.to_numpy()
    order = np.lexsort((key, codes))
    same = (codes[order][1:] == codes[order][:-1]) & (key[order][1:] == key[order][:-1])
    if same.any():
        i = int(np.flatnonzero(same)[0])
        dup = order[(key[order] == key[order][i]) & (codes[order] == codes[order][i])]
        series = _in_series(id_col, ids.iloc[dup[0]]) if ids is not None else ""
        raise DataError(
            f"{source}: timestamp {_show_time(raw[dup[0]])} appears more than once{series}: "
            f"{_rows(np.sort(dup))} of time column {time_col!r}"
        )
    if not sort:
        given = np.argsort(codes, kind="stable")  # each series' rows in the order given
        back = (codes[given][1:] == codes[given][:-1]) & (key[given][1:] < key[given][:-1])
        if back.any():
            i = int(np.flatnonzero(back)[0])
            prev, row = given[i], given[i + 1]
            series = _in_series(id_col, ids.iloc[row]) if ids is not None else ""
            raise DataError(
                f"{source}: time column {time_col!r} is not in increasing order{series}: row {row} "
                f"({_show_time(raw[row])}) comes after row {prev} ({_show_time(raw[prev])}), "
                "0-based data rows; sort the table by time or pass sort=True"
            )
    return order


def _segments(sorted_codes: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each series in the sorted frame."""
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    stops = np.r_[starts[1:], len(sorted_codes)]
    return list(zip(starts.tolist(), stops.tolist()))


def _check_spacing(frame, bounds, rows, time_col, id_col, source) -> tuple[str | None, float | None]:
    """Every series regularly spaced, all with the same step; returns (freq, numeric step)."""
    times = frame[time_col]
    is_datetime = pd.api.types.is_datetime64_any_dtype(times)
    found = []  # (series id, rows, step) of each series with at least two rows
    for start, stop in bounds:
        seg = pd.DatetimeIndex(times.iloc[start:stop]) if is_datetime else times.iloc[start:stop].to_numpy()
        key = frame[id_col].iloc[start] if id_col else None
        gap = first_irregular_step(seg)
        if gap is not None:
            i, expected = gap
            raise DataError(
                f"{source}: time column {time_col!r} is not regularly spaced{_in_series(id_col, key)}: "
                f"between row {rows[start + i]} ({_show_time(seg[i])}) and row {rows[start + i + 1]} "
                f"({_show_time(seg[i + 1])}), 0-based data rows, the step is not the series' usual step of "
                f"{describe_step(expected)}; add the missing steps (fill= fills their values) or resample"
            )
        if len(seg) >= 2:
            step = infer_frequency(seg) if is_datetime else float(seg[1] - seg[0])
            found.append((key, len(seg), step))
    # two rows cannot show a calendar frequency ('31D' is not 'MS'): longer series decide
    deciding = [f for f in found if f[1] >= 3] or found
    for key, _, step in deciding[1:]:
        key0, step0 = deciding[0][0], deciding[0][2]
        if not _same_step(step, step0):
            raise DataError(
                f"{source}: series do not share one time step: {id_col}={_plain(key0)!r} has "
                f"{describe_step(step0)}, {id_col}={_plain(key)!r} has {describe_step(step)}"
            )
    common = deciding[0][2] if deciding else None
    if common is not None:
        _check_short_series(frame, bounds, rows, time_col, id_col, source, common, is_datetime)
    if is_datetime:
        assert common is None or isinstance(common, str)  # datetime steps are frequency aliases
        return common, None
    assert common is None or isinstance(common, float)  # numeric steps are differences
    return None, common


def _same_step(a, b) -> bool:
    return a == b if isinstance(a, str) or isinstance(b, str) else bool(np.isclose(a, b, rtol=1e-9, atol=0.0))


def _check_short_series(frame, bounds, rows, time_col, id_col, source, common, is_datetime) -> None:
    """Two-row series cannot show a frequency of their own: they must follow the common one."""
    times = frame[time_col]
    for start, stop in bounds:
        if stop - start != 2:
            continue
        t0, t1 = times.iloc[start], times.iloc[start + 1]
        ok = (t0 + to_offset(common) == t1) if is_datetime else np.isclose(t1 - t0, common)
        if not ok:
            key = frame[id_col].iloc[start] if id_col else None
            raise DataError(
                f"{source}: time column {time_col!r}{_in_series(id_col, key)}: rows {rows[start]} and "
                f"{rows[start + 1]} (0-based data rows) are not {describe_step(common)} apart like the "
                "other series"
            )


def _check_finite(frame, bounds, rows, value_cols, id_col, fill, source) -> dict[str, int]:
    """Inf is an error; NaN too unless ``fill`` names a method. Fills in place."""
    filled: dict[str, int] = {}
    for c in value_cols:
        v = frame[c].to_numpy(copy=True)  # copy-on-write: to_numpy() views are read-only
        inf = np.flatnonzero(np.isinf(v))
        if len(inf):
            raise DataError(
                f"{source}: column {c!r} is infinite{_series_at(frame, id_col, inf[0])} "
                f"{_first_of(rows[inf], 'infinite values')}; Inf is never filled, fix the values upstream"
            )
        nan = np.flatnonzero(np.isnan(v))
        if not len(nan):
            continue
        if fill is None:
            raise DataError(
                f"{source}: column {c!r} has a missing value (NaN){_series_at(frame, id_col, nan[0])} "
                f"{_first_of(rows[nan], 'missing values')}. Pass fill='interpolate' or fill='ffill' to fill them"
            )
        for start, stop in bounds:
            seg = pd.Series(v[start:stop])
            if not seg.isna().any():
                continue
            where = _in_series(id_col, frame[id_col].iloc[start]) if id_col else ""
            if seg.isna().all():
                raise DataError(
                    f"{source}: column {c!r}{where} has no values at all ({_rows(rows[start:stop])}); "
                    "there is nothing to fill from"
                )
            if fill == "ffill" and np.isnan(v[start]):
                raise DataError(
                    f"{source}: column {c!r}{where} starts with a missing value at {_rows(rows[start : start + 1])}"
                    "; ffill has nothing to carry forward. Use fill='interpolate' or drop the row"
                )
            v[start:stop] = (
                seg.interpolate(limit_direction="both") if fill == "interpolate" else seg.ffill()
            ).to_numpy()
        frame[c] = v
        filled[c] = len(nan)
    return filled
