"""Rolling-origin backtests: fit on the past, forecast the next ``horizon`` steps, score, repeat.

`backtest` knows nothing about models. A *method* is any callable

    fit_predict(train, horizon) -> forecast

where ``train`` has the same form as the history given to `backtest` (a 1-D array,
or a DataFrame with every series' rows before the window's origin), and
``forecast`` is one of

* an array: (H,) for a single series, (S, H) for S series in the order of
  `BacktestResult.series` (first appearance in the history);
* a dict ``{series id: (H,) array or Forecast}``;
* a `Forecast` (point forecast + optional quantiles, shaped as above).

Windows come from `lstmkit.data.splits.backtest_windows`: ``K`` windows at the end
of each series, origins ``S`` steps apart (default ``S = H``), each window's
training part everything before its origin. Baselines (`baseline_methods`) run per
series on the target values. Every method is scored per (window, series) with
`mae`, `rmse`, `smape`, `mase` (period ``m``, scaled by that window's training part)
and, when it returns quantiles, `pinball_loss` and the coverage of each central
interval ``(q, 1 - q)``.

>>> import numpy as np
>>> from lstmkit.evaluate.baselines import naive
>>> y = np.arange(20, dtype=float)
>>> res = backtest(y, {"last+1": lambda train, h: train[-1] + np.arange(1, h + 1)}, horizon=2, n_windows=3,
...                baselines={"naive": naive})
>>> res.summary[["mae", "mase"]].to_dict("index")
{'last+1': {'mae': 0.0, 'mase': 0.0}, 'naive': {'mae': 1.5, 'mase': 1.5}}
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from lstmkit.data.splits import BacktestWindow, backtest_windows
from lstmkit.errors import ConfigError, DataError
from lstmkit.evaluate.baselines import baseline_methods
from lstmkit.evaluate.metrics import coverage, mae, mase, pinball_loss, rmse, smape

__all__ = ["Forecast", "BacktestResult", "backtest"]


@dataclass(frozen=True)
class Forecast:
    """A point forecast and, optionally, quantile forecasts of the same shape.

    Shape:
        mean: (H,) or (S, H)
        quantiles: {level in (0, 1): array shaped like ``mean``}
    """

    mean: np.ndarray
    quantiles: Mapping[float, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class BacktestResult:
    """Tables of a backtest; methods appear in order: given methods first, then baselines.

    Attributes:
        per_series: one row per (method, window, series): ``origin`` (position of the
            first test step in its series), ``origin_time`` (with a time column) and
            the metrics.
        per_window: one row per (method, window): metrics averaged over series, and
            ``seconds`` the method took for that window.
        summary: one row per method (index ``method``): ``kind`` (``"model"`` or
            ``"baseline"``), metrics averaged over windows, total ``seconds``.
        forecasts: one row per (method, window, series, step): ``actual``,
            ``forecast`` and a ``q{level}`` column per quantile.
        series: series ids in the order array forecasts are read.
    """

    per_series: pd.DataFrame
    per_window: pd.DataFrame
    summary: pd.DataFrame
    forecasts: pd.DataFrame
    series: list


def backtest(
    history: ArrayLike | pd.DataFrame,
    methods: Mapping[str, Callable],
    *,
    horizon: int,
    n_windows: int,
    m: int = 1,
    target: str | None = None,
    id_col: str | None = None,
    time_col: str | None = None,
    step: int | None = None,
    baselines: Mapping[str, Callable] | None = None,
) -> BacktestResult:
    """Run every method over ``n_windows`` rolling origins and score its forecasts.

    Args:
        history: a 1-D array (one series), or a DataFrame sorted by time within
            each series (a validated frame) holding ``target`` (and ``id_col``).
        methods: ``{name: fit_predict(train, horizon)}``, the models under test
            (see the module docstring for what they receive and may return).
        horizon: steps ``H`` forecast from each origin.
        n_windows: number of origins ``K``.
        m: seasonal period, for MASE and the seasonal baselines (12 for monthly data).
        target: the value column of a DataFrame history.
        id_col: the series-id column of a multi-series DataFrame.
        time_col: optional time column, reported as ``origin_time``.
        step: steps between origins; default ``H``.
        baselines: ``{name: f(y_train_1d, horizon)}`` run per series after the
            methods; ``None`` takes `baseline_methods(m)` (naive, seasonal naive,
            drift, and ETS/Theta when installed); ``{}`` runs none.

    Returns:
        A `BacktestResult`.

    Raises:
        DataError: a series too short for the windows, a non-finite target, or a
            forecast of the wrong shape (naming the method and window).
    """
    frame, values, keys = _prepare(history, target, id_col, time_col)
    baselines = baseline_methods(m) if baselines is None else dict(baselines)
    clash = sorted(set(methods) & set(baselines))
    if clash:
        raise ConfigError(f"method name(s) {clash} are used by both methods and baselines; rename one")
    if not methods and not baselines:
        raise ConfigError("nothing to backtest: methods and baselines are both empty")

    groups = list(pd.DataFrame({"id": keys}).groupby("id", sort=False, observed=True).indices.items())
    ids = [_plain(k) for k, _ in groups]
    windows: dict = {}
    for key, rows in groups:
        try:
            windows[_plain(key)] = backtest_windows(len(rows), horizon, n_windows, step)
        except DataError as e:
            raise DataError(f"series {_plain(key)!r}: {e}" if len(groups) > 1 else str(e)) from None
    times = frame[time_col].to_numpy() if time_col and frame is not None else None

    scores, timings, forecast_rows = [], [], []
    for k in range(n_windows):
        train_rows = {i: rows[windows[i][k].train] for i, (_, rows) in zip(ids, groups)}
        test_rows = {i: rows[windows[i][k].test] for i, (_, rows) in zip(ids, groups)}
        if frame is None:
            train = values[train_rows[ids[0]]]
        else:
            train = frame.iloc[np.sort(np.concatenate(list(train_rows.values())))].reset_index(drop=True)
        runs = [(name, "model", lambda f=f, train=train: f(train.copy(), horizon)) for name, f in methods.items()]
        runs += [
            (name, "baseline", lambda f=f, rows=train_rows: {i: f(values[rows[i]].copy(), horizon) for i in ids})
            for name, f in baselines.items()
        ]
        for name, kind, run in runs:
            start = time.perf_counter()
            try:
                result = run()
            except Exception as e:
                e.add_note(f"while running method {name!r} on backtest window {k}")
                raise
            timings.append({"method": name, "kind": kind, "window": k, "seconds": time.perf_counter() - start})
            per_series = _per_series(result, ids, horizon, name, k)
            for i in ids:
                w: BacktestWindow = windows[i][k]
                y_test, y_train = values[test_rows[i]], values[train_rows[i]]
                fc = per_series[i]
                row = {"method": name, "window": k, "series": i, "origin": w.origin}
                if times is not None:
                    row["origin_time"] = times[test_rows[i][0]]
                scores.append(row | _metrics(y_test, fc, y_train, m))
                forecast_rows.append(_forecast_table(name, k, i, y_test, fc, times, test_rows[i]))

    order = list(methods) + list(baselines)
    per_series = _ordered(pd.DataFrame(scores), order)
    metric_cols = [c for c in per_series.columns if c not in ("method", "window", "series", "origin", "origin_time")]
    timing = _ordered(pd.DataFrame(timings), order)
    per_window = (
        per_series.groupby(["method", "window"], observed=True)[metric_cols]
        .mean()
        .reset_index()
        .merge(timing[["method", "window", "seconds"]], on=["method", "window"])
    )
    summary = per_window.groupby("method", observed=True)[metric_cols].mean()
    summary.insert(0, "kind", timing.groupby("method", observed=True)["kind"].first())
    summary["seconds"] = timing.groupby("method", observed=True)["seconds"].sum()
    summary.index = summary.index.astype(str)
    return BacktestResult(
        per_series=per_series,
        per_window=per_window,
        summary=summary,
        forecasts=_ordered(pd.concat(forecast_rows, ignore_index=True), order),
        series=ids,
    )


# --- helpers --------------------------------------------------------------------------


def _prepare(history, target, id_col, time_col) -> tuple[pd.DataFrame | None, np.ndarray, np.ndarray]:
    """``(frame or None for an array, target values, series key per row)``; checks columns and values."""
    if isinstance(history, pd.DataFrame):
        if target is None:
            raise ConfigError("a DataFrame history needs target= (the column to forecast)")
        missing = [c for c in (target, id_col, time_col) if c is not None and c not in history.columns]
        if missing:
            found = ", ".join(map(repr, history.columns))
            raise DataError(f"missing column(s) {', '.join(map(repr, missing))}; columns found: {found}")
        frame = history.reset_index(drop=True)
        try:
            values = frame[target].to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise DataError(f"target {target!r} must be numeric; run validate_series first ({e})") from e
        keys = frame[id_col].to_numpy() if id_col else np.zeros(len(frame), dtype=np.int64)
    else:
        frame, values = None, np.asarray(history, dtype=np.float64)
        if values.ndim != 1:
            raise DataError(
                f"an array history must be 1-D (one series), got shape {values.shape}; "
                "pass a DataFrame with id_col for several series"
            )
        keys = np.zeros(len(values), dtype=np.int64)
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise DataError(f"target is {values[bad[0]]} at row {bad[0]} (0-based); backtests need finite values")
    return frame, values, keys


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _per_series(result, ids: list, horizon: int, name: str, k: int) -> dict:
    """A method's output as ``{series id: Forecast with (H,) arrays}``."""
    where = f"method {name!r}, window {k}"
    if isinstance(result, Mapping):
        missing = [i for i in ids if i not in result]
        if missing:
            raise DataError(f"{where}: no forecast for series {missing[:5]}")
        return {i: _one(result[i], horizon, f"{where}, series {i!r}") for i in ids}
    fc = result if isinstance(result, Forecast) else Forecast(np.asarray(result, dtype=np.float64))
    mean = np.asarray(fc.mean, dtype=np.float64)
    if mean.ndim == 1 and len(ids) == 1:
        return {ids[0]: _one(fc, horizon, where)}
    if mean.shape != (len(ids), horizon):
        raise DataError(
            f"{where}: forecast has shape {mean.shape}, expected ({len(ids)}, {horizon}): (series, horizon)"
        )
    out = {}
    for s, i in enumerate(ids):
        row = Forecast(mean[s], {q: np.asarray(a)[s] for q, a in fc.quantiles.items()})
        out[i] = _one(row, horizon, f"{where}, series {i!r}")
    return out


def _one(fc, horizon: int, where: str) -> Forecast:
    fc = fc if isinstance(fc, Forecast) else Forecast(fc)
    mean = np.asarray(fc.mean, dtype=np.float64).reshape(-1)
    quantiles = {float(q): np.asarray(a, dtype=np.float64).reshape(-1) for q, a in fc.quantiles.items()}
    for label, a in [("forecast", mean), *((f"quantile {q}", a) for q, a in quantiles.items())]:
        if a.shape != (horizon,):
            raise DataError(f"{where}: {label} has {a.size} values, expected horizon {horizon}")
        if not np.all(np.isfinite(a)):
            raise DataError(f"{where}: {label} has non-finite values: {a.tolist()}")
    return Forecast(mean, dict(sorted(quantiles.items())))


def _metrics(y: np.ndarray, fc: Forecast, y_train: np.ndarray, m: int) -> dict:
    out = {
        "mae": mae(y, fc.mean),
        "rmse": rmse(y, fc.mean),
        "smape": smape(y, fc.mean),
        "mase": mase(y, fc.mean, y_train, m) if len(y_train) >= 2 else float("nan"),
    }
    if fc.quantiles:
        qs = list(fc.quantiles)
        out["pinball"] = pinball_loss(y, np.stack([fc.quantiles[q] for q in qs], axis=-1), qs)
        for q in qs:
            upper = round(1 - q, 10)
            if q < 0.5 and upper in fc.quantiles:
                out[f"coverage_{round(100 * (upper - q)):g}"] = coverage(y, fc.quantiles[q], fc.quantiles[upper])
    return out


def _forecast_table(name, k, series, y, fc: Forecast, times, rows) -> pd.DataFrame:
    cols = {"method": name, "window": k, "series": [series] * len(y), "step": np.arange(1, len(y) + 1)}
    if times is not None:
        cols["time"] = times[rows]
    cols |= {"actual": y, "forecast": fc.mean} | {f"q{q:g}": a for q, a in fc.quantiles.items()}
    return pd.DataFrame(cols)


def _ordered(df: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Methods as an ordered categorical: given methods first, then baselines, in every table."""
    df["method"] = pd.Categorical(df["method"], categories=order, ordered=True)
    return df.sort_values(["method", "window"], kind="stable").reset_index(drop=True)
