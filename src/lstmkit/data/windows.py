"""Sliding windows over one or many series: ``lookback`` steps in, ``horizon`` steps out.

A window with origin ``p`` (0-based position in its series of the first forecast
step) holds

* ``past``   rows ``p-L .. p-1`` of ``[*target, *past_covariates, *future_covariates]``
  (everything known up to the origin),
* ``future`` rows ``p .. p+H-1`` of ``future_covariates`` (known ahead of time),
* ``target`` rows ``p .. p+H-1`` of ``target`` (what to predict).

Windows never cross series: with an ``id_col`` each series is windowed on its own
and the windows of all series are stacked into one global set (in order of first
appearance of each id).

>>> import pandas as pd
>>> w = make_windows(pd.DataFrame({"y": [0.0, 1, 2, 3, 4]}), "y", lookback=2, horizon=2)
>>> w.past[:, :, 0].tolist(), w.target[:, :, 0].tolist(), w.position.tolist()
([[0.0, 1.0], [1.0, 2.0]], [[2.0, 3.0], [3.0, 4.0]], [2, 3])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import DTypeLike

from lstmkit.data.validation import check_series_length
from lstmkit.errors import ConfigError, DataError

__all__ = ["Windows", "make_windows", "PredictionInputs", "make_prediction_inputs"]


@dataclass(frozen=True)
class Windows:
    """Stacked training windows (see the module docstring for what each holds).

    Shape:
        past: (N, L, F_past) with ``F_past = n_targets + n_past + n_future``,
            columns ``past_columns``
        future: (N, H, n_future), columns ``future_columns``
        target: (N, H, n_targets), columns ``target_columns``
        series: (N,) the series id of each window (0 for a frame without id column)
        position: (N,) 0-based row of the window's first forecast step within its series
        time: (N,) time stamp of that step, or ``None`` without a time column
    """

    past: np.ndarray
    future: np.ndarray
    target: np.ndarray
    series: np.ndarray
    position: np.ndarray
    time: np.ndarray | None
    past_columns: tuple[str, ...]
    future_columns: tuple[str, ...]
    target_columns: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.target)

    @property
    def index(self) -> pd.DataFrame:
        """One row per window: ``series``, ``position`` (and ``time``) of its origin."""
        cols = {"series": self.series, "position": self.position}
        if self.time is not None:
            cols["time"] = self.time
        return pd.DataFrame(cols)


def make_windows(
    frame: pd.DataFrame,
    target: str | Sequence[str],
    lookback: int,
    horizon: int,
    *,
    id_col: str | None = None,
    time_col: str | None = None,
    past_covariates: Sequence[str] = (),
    future_covariates: Sequence[str] = (),
    stride: int = 1,
    skip_short: bool = False,
    dtype: DTypeLike = np.float32,
) -> Windows:
    """Cut every series of a validated frame into overlapping (lookback, horizon) windows.

    Args:
        frame: rows sorted by time within each series, numeric and finite (the
            ``frame`` of `validate_series`; ``**validated.roles`` fills the column args).
        target: column(s) to predict.
        lookback: input steps ``L`` per window.
        horizon: output steps ``H`` per window.
        id_col: series-id column; ``None`` for a single series.
        time_col: time column; only used to report each window's origin time.
        past_covariates: columns observed up to the origin: in ``past`` only.
        future_covariates: columns known ahead: in ``past`` and in ``future``.
        stride: steps between consecutive origins of a series.
        skip_short: leave out series shorter than ``L + H`` instead of raising.
        dtype: dtype of the value arrays.

    Shape:
        See `Windows`: past (N, L, n_targets + n_past + n_future), future (N, H, n_future),
        target (N, H, n_targets); a series of length T gives ``(T - L - H) // stride + 1``
        windows.

    Returns:
        A `Windows`.

    Raises:
        DataError: a missing column, a non-finite value, or a series too short
            (unless ``skip_short``).

    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": ["a"] * 4 + ["b"] * 4, "y": [0.0, 1, 2, 3, 10, 11, 12, 13]})
    >>> w = make_windows(df, "y", lookback=2, horizon=1, id_col="id")
    >>> w.series.tolist(), w.target[:, 0, 0].tolist()
    (['a', 'a', 'b', 'b'], [2.0, 3.0, 12.0, 13.0])
    """
    targets, past, future = _columns(target), _columns(past_covariates), _columns(future_covariates)
    _check_sizes(lookback=lookback, horizon=horizon, stride=stride)
    past_cols = [*targets, *past, *future]
    source = frame.attrs.get("source", "<frame>")
    _require(frame, [*past_cols, *(c for c in (id_col, time_col) if c)], source)
    if not skip_short:
        check_series_length(frame, lookback, horizon, id_col=id_col, source=source)

    X = _finite(frame, past_cols, source).astype(dtype)  # (rows, F_past): targets first, then covariates
    n_t, n_f = len(targets), len(future)
    times = frame[time_col].to_numpy() if time_col else None
    pasts, futures, ys, series, positions, origin_times = [], [], [], [], [], []
    for key, rows in _series_rows(frame, id_col):
        T = len(rows)
        if T < lookback + horizon:
            continue  # only reached with skip_short
        x = X[rows]
        p = np.arange(lookback, T - horizon + 1, stride)  # origins: first forecast step
        win_in = sliding_window_view(x, lookback, axis=0)  # (T-L+1, F, L): row s holds x[s:s+L]
        win_out = sliding_window_view(x, horizon, axis=0)  # (T-H+1, F, H)
        ahead = win_out[p].transpose(0, 2, 1)  # (n, H, F_past)
        pasts.append(win_in[p - lookback].transpose(0, 2, 1))  # (n, L, F_past)
        ys.append(ahead[:, :, :n_t])
        futures.append(ahead[:, :, len(past_cols) - n_f :])
        series.append((key, len(p)))
        positions.append(p)
        if times is not None:
            origin_times.append(times[rows][p])
    if not pasts:
        raise DataError(
            f"{source}: no series has the {lookback + horizon} rows one window of lookback {lookback} + "
            f"horizon {horizon} needs"
        )
    return Windows(
        past=np.concatenate(pasts),
        future=np.concatenate(futures),
        target=np.concatenate(ys),
        series=np.repeat(_tidy_ids([key for key, _ in series]), [n for _, n in series]),
        position=np.concatenate(positions).astype(np.int64),
        time=np.concatenate(origin_times) if times is not None else None,
        past_columns=tuple(past_cols),
        future_columns=tuple(future),
        target_columns=tuple(targets),
    )


@dataclass(frozen=True)
class PredictionInputs:
    """Model inputs to forecast past the end of each series.

    Shape:
        past: (S, L, n_targets + n_past + n_future), the last L rows of each series
        future: (S, H, n_future), the future covariates of the H steps after it
        series: (S,) series ids (0 for a frame without id column)
    """

    past: np.ndarray
    future: np.ndarray
    series: np.ndarray


def make_prediction_inputs(
    history: pd.DataFrame,
    target: str | Sequence[str],
    lookback: int,
    horizon: int,
    *,
    future: pd.DataFrame | None = None,
    id_col: str | None = None,
    past_covariates: Sequence[str] = (),
    future_covariates: Sequence[str] = (),
    dtype: DTypeLike = np.float32,
) -> PredictionInputs:
    """The last ``lookback`` rows of each series and the future covariates after them.

    Args:
        history: validated frame (sorted by time within each series).
        target: target column(s), as in `make_windows`.
        lookback: input steps ``L``; every series needs at least ``L`` rows.
        horizon: steps ``H`` to forecast.
        future: with ``future_covariates``: exactly ``H`` rows per series, in time
            order, holding the future covariates of the steps after ``history``
            (calendar features from `future_timestamps` + `calendar_features`).
        id_col: series-id column; ``future`` must use the same ids.
        past_covariates: as in `make_windows`.
        future_covariates: as in `make_windows`.
        dtype: dtype of the arrays.

    Shape:
        See `PredictionInputs`.

    Returns:
        A `PredictionInputs`, series in order of first appearance in ``history``.

    >>> import pandas as pd
    >>> p = make_prediction_inputs(pd.DataFrame({"y": [1.0, 2, 3]}), "y", lookback=2, horizon=4)
    >>> p.past[:, :, 0].tolist(), p.future.shape
    ([[2.0, 3.0]], (1, 4, 0))
    """
    targets, past, fut = _columns(target), _columns(past_covariates), _columns(future_covariates)
    _check_sizes(lookback=lookback, horizon=horizon)
    source = history.attrs.get("source", "<frame>")
    past_cols = [*targets, *past, *fut]
    _require(history, past_cols + ([id_col] if id_col else []), source)
    X = _finite(history, past_cols, source)
    if fut and future is None:
        raise DataError(f"future covariates {list(fut)} need a `future` frame with {horizon} rows per series")
    if fut:
        _require(future, fut + ([id_col] if id_col else []), "<future>")
    future_rows = dict(_series_rows(future, id_col)) if fut else {}
    F = _finite(future, fut, "<future>") if future_rows else None
    pasts, futures, series = [], [], []
    for key, rows in _series_rows(history, id_col):
        if len(rows) < lookback:
            raise DataError(f"{source}: series {_plain(key)!r} has {len(rows)} rows, fewer than lookback {lookback}")
        pasts.append(X[rows[-lookback:]])
        if fut:
            if key not in future_rows or len(future_rows[key]) != horizon:
                n = len(future_rows.get(key, []))
                raise DataError(
                    f"<future>: series {_plain(key)!r} has {n} rows of future covariates, expected horizon {horizon}"
                )
            assert F is not None  # built whenever future_rows has rows
            futures.append(F[future_rows[key]])
        else:
            futures.append(np.zeros((horizon, 0)))
        series.append(key)
    return PredictionInputs(
        past=np.stack(pasts).astype(dtype),
        future=np.stack(futures).astype(dtype),
        series=_tidy_ids(series),
    )


# --- helpers --------------------------------------------------------------------------


def _columns(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value or ())


def _check_sizes(**sizes) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def _plain(value):
    """NumPy scalars as Python ones, so messages say 3, not np.int64(3)."""
    return value.item() if isinstance(value, np.generic) else value


def _require(frame: pd.DataFrame, columns: list[str], source: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = ", ".join(map(repr, frame.columns))
        raise DataError(f"{source}: missing column(s) {', '.join(map(repr, missing))}; columns found: {found}")


def _finite(frame: pd.DataFrame, columns: list[str], source: str) -> np.ndarray:
    try:
        X = frame[columns].to_numpy(dtype=np.float64)  # (rows, F)
    except (TypeError, ValueError) as e:
        raise DataError(f"{source}: columns {columns} must be numeric; run validate_series first ({e})") from e
    bad = np.argwhere(~np.isfinite(X))
    if len(bad):
        row, col = bad[0]
        raise DataError(
            f"{source}: column {columns[col]!r} is {X[row, col]} at row {row} (0-based row of the frame); "
            "windows need finite values: run validate_series (with fill=) first"
        )
    return X


def _series_rows(frame: pd.DataFrame, id_col: str | None):
    """(id, row positions) per series, in order of first appearance; id 0 without an id column."""
    if id_col is None:
        return [(0, np.arange(len(frame)))]
    return list(frame.groupby(id_col, sort=False, dropna=False, observed=True).indices.items())


def _tidy_ids(ids: list) -> np.ndarray:
    """Series ids as a typed array when they are all integers or all strings, else objects."""
    values = [_plain(v) for v in ids]
    if values and all(isinstance(v, str) for v in values):
        return np.array(values, dtype=str)
    if values and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int64)
    out = np.empty(len(values), dtype=object)  # element-wise: tuple ids must not become a 2-D array
    out[:] = values
    return out
