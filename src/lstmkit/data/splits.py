"""Chronological splits: train/validation, and rolling-origin backtest windows.

Nothing here shuffles. Each series is split by time, so everything a model or a
scaler is fitted on comes before everything it is judged on.

Rolling origin (forward chaining) with ``K`` windows of horizon ``H`` and step ``S``
(default ``S = H``) on a series of length ``T``: window ``k`` (0 .. K-1) has origin

    origin_k = T - H - (K - 1 - k) * S

its training part is rows ``0 .. origin_k - 1`` and its test part rows
``origin_k .. origin_k + H - 1``; the last window ends at the last row. With several
series, origins are counted from each series' own end.

>>> [(w.origin, w.stop) for w in backtest_windows(10, horizon=2, n_windows=3)]
[(4, 6), (6, 8), (8, 10)]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmkit.errors import ConfigError, DataError

__all__ = [
    "stratified_split",
    "train_val_split",
    "split_by_time",
    "BacktestWindow",
    "backtest_windows",
    "rolling_origin_splits",
]


def _positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _groups(frame: pd.DataFrame, id_col: str | None):
    """(id, row positions) per series in order of first appearance; one group without an id column."""
    if id_col is None:
        return [(None, np.arange(len(frame)))]
    if id_col not in frame.columns:
        raise DataError(f"id column {id_col!r} not found; columns found: {', '.join(map(repr, frame.columns))}")
    return list(frame.groupby(id_col, sort=False, dropna=False, observed=True).indices.items())


def train_val_split(
    frame: pd.DataFrame,
    val_size: int | float,
    *,
    id_col: str | None = None,
    context: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split each series by time: its last ``val_size`` rows are validation.

    Args:
        frame: rows sorted by time within each series (a validated frame).
        val_size: rows per series (int >= 1), or a fraction in (0, 1) of each
            series' length (rounded, at least 1).
        id_col: series-id column; ``None`` for a single series.
        context: also put the ``context`` rows before each split point at the start
            of that series' validation part, so windows with ``lookback = context``
            can forecast from the first validation step. Those rows are inputs only
            and are also in the training part (no future value leaks backwards).

    Shape:
        frame: (rows, columns) -> (train rows, columns), (val rows + context rows, columns)

    Returns:
        ``(train, val)``, each with a fresh ``0..n-1`` index.

    Raises:
        DataError: a series with too few rows to keep at least one training row.

    >>> import pandas as pd
    >>> train, val = train_val_split(pd.DataFrame({"y": range(10)}), 3, context=2)
    >>> train["y"].tolist(), val["y"].tolist()
    ([0, 1, 2, 3, 4, 5, 6], [5, 6, 7, 8, 9])
    """
    if isinstance(val_size, float):
        if not 0.0 < val_size < 1.0:
            raise ConfigError(f"a fractional val_size must be in (0, 1), got {val_size!r}")
    else:
        _positive("val_size", val_size)
    if isinstance(context, bool) or not isinstance(context, (int, np.integer)) or context < 0:
        raise ConfigError(f"context must be a non-negative integer, got {context!r}")
    train_rows, val_rows = [], []
    for key, rows in _groups(frame, id_col):
        n = len(rows)
        n_val = max(1, round(val_size * n)) if isinstance(val_size, float) else val_size
        if n_val >= n:
            where = f"series {key!r}" if id_col else "the series"
            raise DataError(f"{where} has {n} rows; val_size {val_size!r} leaves no training rows")
        cut = n - n_val
        train_rows.append(rows[:cut])
        val_rows.append(rows[max(0, cut - context) :])
    take = lambda parts: frame.iloc[np.concatenate(parts)].reset_index(drop=True)
    return take(train_rows), take(val_rows)


def split_by_time(
    frame: pd.DataFrame, time_col: str, cutoff: pd.Timestamp | str | float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split all series at one point in time: ``time < cutoff`` is training, the rest validation.

    Args:
        frame: a frame with a time column.
        time_col: datetime or numeric time column.
        cutoff: the first validation time (a timestamp/string for datetimes, a number otherwise).

    Returns:
        ``(train, val)``, each with a fresh ``0..n-1`` index.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": pd.date_range("2020-01-01", periods=4, freq="D"), "y": [1, 2, 3, 4]})
    >>> [part["y"].tolist() for part in split_by_time(df, "t", "2020-01-03")]
    [[1, 2], [3, 4]]
    """
    if time_col not in frame.columns:
        raise DataError(f"time column {time_col!r} not found; columns found: {', '.join(map(repr, frame.columns))}")
    times = frame[time_col]
    try:
        cut = pd.Timestamp(cutoff) if pd.api.types.is_datetime64_any_dtype(times) else cutoff
        before = (times < cut).to_numpy()
    except (TypeError, ValueError) as e:
        raise ConfigError(f"cutoff {cutoff!r} cannot be compared with time column {time_col!r} ({times.dtype})") from e
    if before.all() or not before.any():
        side = "after" if before.all() else "before"
        raise DataError(f"cutoff {cutoff!r} leaves one part empty: no {time_col!r} value is at or {side} it")
    return frame[before].reset_index(drop=True), frame[~before].reset_index(drop=True)


@dataclass(frozen=True)
class BacktestWindow:
    """One rolling-origin window of one series: train ``[0, origin)``, test ``[origin, stop)``."""

    window: int  # 0 .. K-1, oldest first
    origin: int  # position of the first test step
    stop: int  # one past the last test step

    @property
    def train(self) -> slice:
        return slice(0, self.origin)

    @property
    def test(self) -> slice:
        return slice(self.origin, self.stop)


def backtest_windows(
    length: int, horizon: int, n_windows: int, step: int | None = None, min_train: int = 1
) -> list[BacktestWindow]:
    """The ``n_windows`` rolling-origin windows at the end of a series of ``length`` rows.

    Args:
        length: rows in the series ``T``.
        horizon: test steps per window ``H``.
        n_windows: number of windows ``K``.
        step: rows between consecutive origins ``S``; default ``H`` (test parts tile the end).
        min_train: rows the first window's training part needs at least.

    Returns:
        Windows, oldest first; window ``k`` has origin ``T - H - (K-1-k) * S``.

    Raises:
        DataError: the series is too short, naming the length needed.

    >>> [(w.origin, w.stop) for w in backtest_windows(10, horizon=3, n_windows=2, step=1)]
    [(6, 9), (7, 10)]
    """
    horizon, n_windows = _positive("horizon", horizon), _positive("n_windows", n_windows)
    step = horizon if step is None else _positive("step", step)
    min_train = _positive("min_train", min_train)
    first = length - horizon - (n_windows - 1) * step
    if first < min_train:
        need = min_train + horizon + (n_windows - 1) * step
        raise DataError(
            f"a series of {length} rows is too short for {n_windows} backtest windows of horizon {horizon} "
            f"(step {step}) with at least {min_train} training rows: it needs {need} rows"
        )
    return [BacktestWindow(k, first + k * step, first + k * step + horizon) for k in range(n_windows)]


def rolling_origin_splits(
    frame: pd.DataFrame,
    horizon: int,
    n_windows: int,
    *,
    id_col: str | None = None,
    step: int | None = None,
    min_train: int = 1,
) -> Iterator[tuple[int, pd.DataFrame, pd.DataFrame]]:
    """Yield ``(window, train, test)`` frames for each rolling origin, oldest first.

    For every series, ``train`` holds its rows before the window's origin and ``test``
    its next ``horizon`` rows (see `backtest_windows`). Fit scalers and models on
    ``train`` only.

    Args:
        frame: rows sorted by time within each series.
        horizon: test steps ``H`` per window.
        n_windows: windows ``K``.
        id_col: series-id column; ``None`` for a single series.
        step: rows between origins (default ``H``).
        min_train: training rows each series needs in the first window.

    Returns:
        An iterator of ``(k, train, test)``; frames keep the input columns and get a
        fresh ``0..n-1`` index.

    >>> import pandas as pd
    >>> [(k, len(tr), te["y"].tolist()) for k, tr, te in rolling_origin_splits(pd.DataFrame({"y": range(6)}), 2, 2)]
    [(0, 2, [2, 3]), (1, 4, [4, 5])]
    """
    groups = _groups(frame, id_col)
    plans = []
    for key, rows in groups:
        try:
            plans.append((rows, backtest_windows(len(rows), horizon, n_windows, step, min_train)))
        except DataError as e:
            raise DataError(f"series {key!r}: {e}" if id_col else str(e)) from None

    def frames():  # checked above, cut lazily: one window's frames in memory at a time
        for k in range(n_windows):
            train = np.concatenate([rows[w[k].train] for rows, w in plans])
            test = np.concatenate([rows[w[k].test] for rows, w in plans])
            yield k, frame.iloc[train].reset_index(drop=True), frame.iloc[test].reset_index(drop=True)

    return frames()


def stratified_split(codes: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Validation rows: ``fraction`` of each class (rounded), never a class's last training example."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(codes):
        rows = rng.permutation(np.flatnonzero(codes == c))
        n_val = min(int(round(fraction * len(rows))), len(rows) - 1)
        val.append(rows[:n_val])
        train.append(rows[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))
