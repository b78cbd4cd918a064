"""How the Forecaster's defaults scale: fit time and accuracy from a thousand to 100,000 points.

The issue's promise is "defaults that work without tuning from a few hundred to a
hundred thousand points". Real series that long with a known best forecast are hard to
ship, so this benchmark generates hourly data whose best forecast *is* known: a level
per series, a daily and a weekly season, and AR(1) noise (coefficient 0.8, innovations
of standard deviation 1)::

    y[t] = level + a sin(2 pi (t + p) / 24) + b sin(2 pi (t + q) / 168) + e[t],
    e[t] = 0.8 e[t-1] + N(0, 1)

The *oracle* knows all of that and forecasts ``season[t+h] + 0.8**h * e[T]``: no method
can beat it on average, so its error is the floor. Each case is backtested on the last
K windows of H = 24 steps (one day) with default settings, next to seasonal naive
(m = 24) and the oracle; several series (``--series``) split the same number of points
into series of different levels and phases, trained as one global model.

Usage::

    python bench/forecast_scale.py [--points 1000 10000 100000] [--series 1 50] [--windows 2] [--threads 1]

Prints one row per case: training windows, the lookback and ensemble the defaults
chose, mean fit + forecast seconds per window, MAE of lstmkit, seasonal naive and the
oracle, and lstmkit's share of the gap between seasonal naive and the oracle that it
closes (1 = as good as the oracle, 0 = no better than seasonal naive).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import pandas as pd
import torch

from lstmkit.evaluate import backtest
from lstmkit.evaluate.baselines import seasonal_naive
from lstmkit.tasks import Forecaster

HORIZON = 24
PHI = 0.8


def generate(points: int, series: int, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """``points`` hourly values split into ``series`` series, and each series' true season.

    Returns:
        A frame with columns ``id``, ``time`` and ``value``, and ``{id: season}`` where
        ``season`` is a function of the hour index ``t`` giving level + both seasons.
    """
    rng = np.random.default_rng(seed)
    n = points // series
    frames, seasons = [], {}
    for s in range(series):
        level, a, b = rng.uniform(5, 50), rng.uniform(1, 4), rng.uniform(0.5, 3)
        p, q = rng.uniform(0, 24), rng.uniform(0, 168)

        def season(t, level=level, a=a, b=b, p=p, q=q):
            return level + a * np.sin(2 * np.pi * (t + p) / 24) + b * np.sin(2 * np.pi * (t + q) / 168)

        e = np.empty(n)
        e[0] = rng.normal(0, 1 / np.sqrt(1 - PHI**2))
        shocks = rng.normal(0, 1, n)
        for t in range(1, n):
            e[t] = PHI * e[t - 1] + shocks[t]
        t = np.arange(n)
        key = f"s{s:03d}"
        seasons[key] = season
        frames.append(
            pd.DataFrame(
                {
                    "id": key,
                    "time": pd.date_range("2020-01-01", periods=n, freq="h"),
                    "value": season(t) + e,
                }
            )
        )
    return pd.concat(frames, ignore_index=True), seasons


def oracle(seasons: dict):
    """The best forecast in expectation: the true season plus the decaying AR(1) noise."""

    def fit_predict(train: pd.DataFrame, horizon: int) -> dict:
        out = {}
        for key, part in train.groupby("id", sort=False):
            T = len(part) - 1
            noise = part["value"].iloc[-1] - seasons[key](T)
            h = np.arange(1, horizon + 1)
            out[key] = seasons[key](T + h) + PHI**h * noise
        return out

    return fit_predict


def run_case(points: int, series: int, windows: int, seed: int, options: dict | None = None) -> dict:
    frame, seasons = generate(points, series, seed)
    fitted: list[Forecaster] = []

    def lstmkit(train: pd.DataFrame, horizon: int) -> dict:
        model = Forecaster(
            horizon=horizon, target="value", time_col="time", id_col="id", seed=seed, **(options or {})
        ).fit(train)
        pred = model.predict()
        fitted.append(model)
        return {key: part["forecast"].to_numpy() for key, part in pred.groupby("id", sort=False)}

    result = backtest(
        frame,
        {"lstmkit": lstmkit, "oracle": oracle(seasons)},
        horizon=HORIZON,
        n_windows=windows,
        m=24,
        target="value",
        id_col="id",
        time_col="time",
        baselines={"seasonal_naive": lambda y, h: seasonal_naive(y, h, 24)},
    )
    mae = result.summary["mae"]  # summary["seconds"]: each method's total over the windows
    model = fitted[-1]
    train_windows = sum(len(part) - model.lookback - HORIZON + 1 for _, part in frame.groupby("id"))
    return {
        "points": points,
        "series": series,
        "windows": train_windows,
        "lookback": model.lookback,
        "members": model._fitted.members,
        "seconds": result.summary.loc["lstmkit", "seconds"] / windows,
        "lstmkit": mae["lstmkit"],
        "seasonal_naive": mae["seasonal_naive"],
        "oracle": mae["oracle"],
        "closed": (mae["seasonal_naive"] - mae["lstmkit"]) / (mae["seasonal_naive"] - mae["oracle"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--series", type=int, nargs="+", default=[1, 50], help="series the points are split into")
    parser.add_argument("--windows", type=int, default=2, help="backtest windows K (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument(
        "--options",
        type=json.loads,
        default={},
        help="Forecaster options as JSON, e.g. '{\"calendar\": true}' (default: none)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print(
        "| points | series | windows (all series) | lookback | members | s per fit | MAE lstmkit "
        "| MAE seasonal naive | MAE oracle | gap closed |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for points in args.points:
        for series in args.series:
            if points // series < 24 * 14:
                continue  # under two weeks per series: the weekly season cannot be seen
            r = run_case(points, series, args.windows, args.seed, args.options)
            print(
                f"| {r['points']:,} | {r['series']} | {r['windows']:,} | {r['lookback']} | {r['members']} "
                f"| {r['seconds']:.1f} | {r['lstmkit']:.3f} | {r['seasonal_naive']:.3f} | {r['oracle']:.3f} "
                f"| {r['closed']:.2f} |",
                flush=True,
            )
    print(
        f"\nH = {HORIZON}, K = {args.windows} windows, seed {args.seed}, options {args.options or 'none'}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)."
    )


if __name__ == "__main__":
    sys.exit(main())
