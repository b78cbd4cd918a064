"""Where a long forecasting fit spends its time, and what the compiled LSTM loops save.

The case of issue 23: a 4,000-point half-hourly-like series forecast 48 steps ahead,
with default settings. The series is synthetic, with a daily cycle of ``--period``
steps (48: half-hourly), a weekly one of seven times that, and AR(1) noise::

    y[t] = 20 + 5 sin(2 pi t / period) + 2 sin(2 pi t / (7 period)) + e[t],  e[t] = 0.7 e[t-1] + N(0, 1)

Profiling such a fit (cProfile, ``/usr/bin/time -v``) shows nearly all of it inside the
LSTM's forward and backward kernels, and a quarter of the process's CPU time in the
kernel (sys): torch's fused CPU LSTM (oneDNN) takes fresh workspace memory on every call
(about 5,000 page faults for a batch of 48 windows of 192 steps), so the fault handler
runs beside every step. The Forecaster trains on lstmkit's compiled sequence loops
instead when they are built (``make native``); this script fits the same series the
same way on both, alternately, in one process, and prints the ratio of CPU seconds
(user + sys of this process, which a busy machine does not inflate as it does wall
seconds) with the wall seconds, the epochs, and the MAE of the forecast of the last
``--horizon`` points next to seasonal naive.

Usage::

    python bench/forecast_speed.py [--points 4000] [--horizon 48] [--period 48] [--repeats 1]
                                   [--options '{"ensemble": 1}'] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import pandas as pd
import torch

from lstmkit.nn.fused import native
from lstmkit.tasks import Forecaster

PATHS = {"torch fused kernel": "0", "compiled sequence loops": "1"}  # LSTMKIT_NATIVE for each


def series(points: int, period: int, seed: int = 0) -> pd.DataFrame:
    """The synthetic series: ``points`` half-hourly rows with columns ``time`` and ``value``."""
    rng = np.random.default_rng(seed)
    noise = np.zeros(points)
    shocks = rng.normal(0, 1, points)
    for t in range(1, points):
        noise[t] = 0.7 * noise[t - 1] + shocks[t]
    t = np.arange(points)
    value = 20 + 5 * np.sin(2 * np.pi * t / period) + 2 * np.sin(2 * np.pi * t / (7 * period)) + noise
    return pd.DataFrame({"time": pd.date_range("2020-01-01", periods=points, freq="30min"), "value": value})


def cpu_seconds() -> tuple[float, float]:
    """``(user + sys, sys)`` CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, usage.ru_stime


def timed_fit(frame: pd.DataFrame, horizon: int, period: int, options: dict) -> dict:
    """Fit on all but the last ``horizon`` rows and forecast them: seconds, epochs and MAE."""
    train, test = frame.iloc[:-horizon], frame["value"].to_numpy()[-horizon:]
    cpu0, sys0 = cpu_seconds()
    wall0 = time.perf_counter()
    model = Forecaster(horizon=horizon, target="value", time_col="time", **options).fit(train)
    forecast = model.predict()["forecast"].to_numpy()
    cpu1, sys1 = cpu_seconds()
    naive = train["value"].to_numpy()[-period:][np.arange(horizon) % period]
    return {
        "cpu": cpu1 - cpu0,
        "sys": sys1 - sys0,
        "wall": time.perf_counter() - wall0,
        "epochs": sum(len(h) for h in model._fitted.history),
        "members": model._fitted.members,
        "lookback": model.lookback,
        "mae": float(np.abs(forecast - test).mean()),
        "seasonal_naive": float(np.abs(naive - test).mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=4000)
    parser.add_argument("--horizon", type=int, default=48)
    parser.add_argument("--period", type=int, default=48, help="steps in the daily cycle (default 48)")
    parser.add_argument("--repeats", type=int, default=1, help="fits per path, alternating (default 1)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument("--options", type=json.loads, default={}, help="Forecaster options as JSON (default none)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not native.available():  # builds them if needed, before anything is timed
        sys.exit("the compiled LSTM loops are not available here (a C++ compiler and ninja are needed)")
    frame = series(args.points, args.period)
    runs: dict[str, list[dict]] = {path: [] for path in PATHS}
    for _ in range(args.repeats):
        for path, flag in PATHS.items():
            os.environ["LSTMKIT_NATIVE"] = flag  # read at every fit: "0" keeps torch's kernel
            runs[path].append(timed_fit(frame, args.horizon, args.period, {"seed": 0, **args.options}))
    os.environ.pop("LSTMKIT_NATIVE")

    print(
        "| training path | CPU s per fit | of which sys | wall s per fit | epochs (all members) | MAE "
        "| MAE seasonal naive |"
    )
    print("|---|---|---|---|---|---|---|")
    means = {}
    for path, rows in runs.items():
        means[path] = {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}
        m = means[path]
        print(
            f"| {path} | {m['cpu']:.1f} | {m['sys']:.1f} | {m['wall']:.1f} | {m['epochs']:.0f} "
            f"| {m['mae']:.3f} | {m['seasonal_naive']:.3f} |"
        )
    fused, loops = means["torch fused kernel"], means["compiled sequence loops"]
    first = runs["torch fused kernel"][0]
    print(
        f"\nCPU seconds, compiled loops / fused kernel: {loops['cpu'] / fused['cpu']:.2f} "
        f"(wall {loops['wall'] / fused['wall']:.2f}). {args.points} points, horizon {args.horizon}, "
        f"lookback {first['lookback']}, {first['members']} member(s), options {args.options or 'none'}, "
        f"{args.repeats} fit(s) per path, torch {torch.__version__}, {torch.get_num_threads()} thread(s)."
    )


if __name__ == "__main__":
    sys.exit(main())
