"""The forecast figure: history, forecast with its interval, backtest forecasts and errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.figure import (
    Figure,  # no pyplot: no GUI backend, no global state changed on import
)

from lstmkit.utils.figures import user_figure
from lstmkit.utils.files import atomic_path

if TYPE_CHECKING:
    from lstmkit.evaluate.backtest import BacktestResult
    from lstmkit.tasks.forecasting import ForecasterConfig

__all__ = ["plot_forecast"]

MAX_SERIES = 4


@user_figure
def plot_forecast(
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    config: ForecasterConfig,
    path: str | os.PathLike,
    backtest: BacktestResult | None = None,
) -> Path:
    """Save a PNG: per series (up to 4), the recent history, the backtest forecasts, the
    forecast and its widest interval; below, the backtest MASE of every method.

    Args:
        history: the data the forecast starts after (with the configured columns).
        forecast: `Forecaster.predict` output.
        config: the `ForecasterConfig` (column names, quantiles).
        path: where to write the PNG (atomically).
        backtest: a `BacktestResult` to draw, or None.

    Returns:
        The path written.
    """
    target = config.targets[0]
    time_col, id_col = config.time_col, config.id_col
    if "target" in forecast.columns:
        forecast = forecast[forecast["target"] == target]
    keys = list(pd.unique(history[id_col]))[:MAX_SERIES] if id_col else [None]
    rows = len(keys) + (1 if backtest is not None else 0)
    fig = Figure(figsize=(10, 3.2 * rows))
    axes = fig.subplots(rows, 1, squeeze=False)
    lo_col, hi_col = f"q{min(config.quantiles):g}", f"q{max(config.quantiles):g}"
    for ax, key in zip(axes[:, 0], keys):
        past = history if key is None else history[history[id_col] == key]
        fut = forecast if key is None else forecast[forecast[id_col] == key]
        shown = past.iloc[-max(10 * config.horizon, 120) :]
        x_past = shown[time_col] if time_col else shown.index
        x_fut = fut[time_col] if time_col else len(past) - 1 + fut["step"]
        ax.plot(x_past, shown[target], color="0.3", lw=1, label="history")
        if lo_col != hi_col:
            level = round(100 * (max(config.quantiles) - min(config.quantiles)))
            ax.fill_between(x_fut, fut[lo_col], fut[hi_col], color="tab:blue", alpha=0.25, label=f"{level}% interval")
        ax.plot(x_fut, fut["forecast"], color="tab:blue", lw=2, label="forecast")
        if backtest is not None:
            _draw_backtest(ax, backtest, past, key, id_col, time_col)
        ax.set_title(f"{target}" + (f" — {id_col} {key}" if key is not None else ""))
        ax.legend(loc="upper left", fontsize=8)
    if backtest is not None:
        ax = axes[-1, 0]
        summary = backtest.summary
        colors = ["tab:blue" if kind == "model" else "0.6" for kind in summary["kind"]]
        ax.bar(summary.index.astype(str), summary["mase"], color=colors)
        ax.axhline(1.0, color="0.2", lw=0.8, ls=":")
        ax.set_ylabel("MASE (lower is better)")
        ax.set_title("Backtest error by method")
        ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path


def _draw_backtest(ax, backtest, past, key, id_col, time_col) -> None:
    model = backtest.summary.index[0]  # the model under test comes first
    rows = backtest.forecasts[backtest.forecasts["method"] == model]
    origins = backtest.per_series[backtest.per_series["method"] == model]
    if id_col is not None:
        rows, origins = rows[rows["series"] == key], origins[origins["series"] == key]
    origin_of = dict(zip(origins["window"], origins["origin"]))
    for i, (window, part) in enumerate(rows.groupby("window")):
        if "time" in part.columns:
            x = part["time"]
        else:  # no time column: positions in the series
            x = origin_of[window] + part["step"].to_numpy() - 1
        ax.plot(
            x, part["forecast"], color="tab:orange", lw=1.2, ls="--", label="backtest forecasts" if i == 0 else None
        )
