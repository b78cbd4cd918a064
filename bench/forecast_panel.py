"""Backtest lstmkit's Forecaster on real series it was not tuned on, next to the baselines.

The Forecaster's defaults were chosen watching the two bundled series (monthly sunspots
and air passengers). This panel checks that they carry over: eight real series that
ship with statsmodels, each backtested with default settings on rolling origins at its
end, scored with MASE next to naive, seasonal naive, drift, ETS and Theta on the same
windows (`Forecaster.backtest`).

=====================  =========  ======  ==  ==  =================================================
series                 frequency  length  H   K   source (``statsmodels.datasets``)
=====================  =========  ======  ==  ==  =================================================
co2                    monthly    526     12  4   ``co2``: Mauna Loa CO2, weekly 1958-2001, monthly means
elnino                 monthly    732     12  4   ``elnino``: Pacific sea surface temperature 1950-2010
realgdp                quarterly  203     8   3   ``macrodata``: US real GDP 1959-2009
unemp                  quarterly  203     8   3   ``macrodata``: US unemployment rate
cpi                    quarterly  203     8   3   ``macrodata``: US consumer price index
realinv                quarterly  203     8   3   ``macrodata``: US real private investment
nile                   yearly     100     10  3   ``nile``: Nile river flow at Aswan 1871-1970
sunspots_yearly        yearly     309     10  3   ``sunspots``: yearly sunspot numbers 1700-2008
=====================  =========  ======  ==  ==  =================================================

When ``neuralforecast`` imports, its LSTM is backtested beside lstmkit on the same
windows (`lstmkit.evaluate.backtest` with the same ``H``, ``K`` and seasonal period,
so MASE is scaled alike): ``LSTM(h=H, random_seed=seed)`` in ``NeuralForecast(freq=...)``
with every other option at its documented default in NeuralForecast 3.x:
``input_size=-1`` (``3 * h``), ``max_steps=1000``, ``scaler_type="robust"``, a 2-layer
encoder of 128 units, a 2-layer MLP decoder of 128, MAE loss, Adam at 1e-3, no early
stopping (Lightning's progress bars, loggers and checkpoints off, on the CPU). Install
it beside lstmkit in its own environment (``pip install neuralforecast``); without it
the column says so.

Usage::

    python bench/forecast_panel.py [--seeds 0 1] [--series co2 nile ...] [--threads 1] [--no-neuralforecast]

Prints one row per series (lstmkit's and NeuralForecast's MASE are means over the
seeds; the seconds are wall seconds of everything, of lstmkit's fits + forecasts, and of
NeuralForecast's)
and, at the end, the geometric mean over the series of lstmkit's MASE divided by the
better of ETS and Theta, with the number of series where lstmkit is the more accurate,
and the same for lstmkit against NeuralForecast with the ratio of their seconds. K
windows of H steps are few test points: treat a difference of a few percent on one
series as noise.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd
import torch

from lstmkit.data.frequency import infer_seasonal_period
from lstmkit.evaluate import backtest
from lstmkit.tasks import Forecaster

FREQUENCIES = {"monthly": "MS", "quarterly": "QS", "yearly": "YS"}
TRAINER_QUIET = dict(enable_progress_bar=False, logger=False, enable_checkpointing=False, enable_model_summary=False)

STATISTICAL = ("ETS (statsmodels)", "Theta (statsmodels)", "AutoETS", "AutoTheta")
COLUMNS = ("naive", "seasonal_naive", "drift", *STATISTICAL)


def _statsmodels(name: str) -> pd.DataFrame:
    return importlib.import_module(f"statsmodels.datasets.{name}").load_pandas().data


def _frame(times: pd.DatetimeIndex, values) -> pd.DataFrame:
    return pd.DataFrame({"time": times, "value": np.asarray(values, dtype=np.float64)})


def panel() -> Iterator[tuple[str, str, pd.DataFrame, int, int]]:
    """``(name, frequency, frame with columns time and value, horizon, windows)`` per series."""
    co2 = _statsmodels("co2")["co2"]
    co2.index = pd.to_datetime(co2.index)
    co2 = co2.resample("MS").mean().interpolate()  # weekly with gaps -> monthly means
    yield "co2", "monthly", _frame(co2.index, co2), 12, 4
    elnino = _statsmodels("elnino").drop(columns="YEAR").to_numpy().reshape(-1)  # a row per year
    yield "elnino", "monthly", _frame(pd.date_range("1950-01-01", periods=len(elnino), freq="MS"), elnino), 12, 4
    macro = _statsmodels("macrodata")
    quarters = pd.date_range("1959-01-01", periods=len(macro), freq="QS")
    for column in ("realgdp", "unemp", "cpi", "realinv"):
        yield column, "quarterly", _frame(quarters, macro[column]), 8, 3
    nile = _statsmodels("nile")["volume"]
    yield "nile", "yearly", _frame(pd.date_range("1871-01-01", periods=len(nile), freq="YS"), nile), 10, 3
    spots = _statsmodels("sunspots")["SUNACTIVITY"]
    yield "sunspots_yearly", "yearly", _frame(pd.date_range("1700-01-01", periods=len(spots), freq="YS"), spots), 10, 3


def run_series(frame: pd.DataFrame, horizon: int, windows: int, seeds: list[int]) -> tuple[dict, float, float]:
    """Every method's MASE on the series (lstmkit's averaged over ``seeds``), the seconds
    spent on everything and lstmkit's own seconds (fit + forecast of every window and seed)."""
    start = time.perf_counter()
    scores: dict[str, list[float]] = {}
    lstmkit_seconds = 0.0
    for seed in seeds:
        model = Forecaster(horizon=horizon, target="value", time_col="time", seed=seed)
        summary = model.backtest(frame, windows=windows, statistical=seed == seeds[0]).summary
        lstmkit_seconds += float(summary.loc["lstmkit", "seconds"])
        for method in summary.index:
            scores.setdefault(method, []).append(float(summary.loc[method, "mase"]))
    means = {method: float(np.mean(v)) for method, v in scores.items()}
    return means, time.perf_counter() - start, lstmkit_seconds


def neuralforecast_series(
    frame: pd.DataFrame, freq: str, horizon: int, windows: int, seeds: list[int]
) -> tuple[float, float]:
    """NeuralForecast's LSTM on the windows `run_series` uses: ``(MASE averaged over seeds, seconds)``."""
    from neuralforecast import NeuralForecast
    from neuralforecast.models import LSTM

    for name in ("lightning", "lightning.pytorch", "lightning_fabric", "pytorch_lightning", "neuralforecast"):
        logging.getLogger(name).setLevel(logging.ERROR)  # set after the import: Lightning sets them on import
    alias = FREQUENCIES[freq]
    start = time.perf_counter()
    scores = []
    for seed in seeds:

        def fit_predict(train: pd.DataFrame, h: int, seed: int = seed) -> np.ndarray:
            model = LSTM(h=h, random_seed=seed, accelerator="cpu", **TRAINER_QUIET)
            nf = NeuralForecast(models=[model], freq=alias)
            nf.fit(pd.DataFrame({"unique_id": "series", "ds": train["time"], "y": train["value"]}))
            return nf.predict()["LSTM"].to_numpy()

        result = backtest(
            frame,
            {"neuralforecast": fit_predict},
            horizon=horizon,
            n_windows=windows,
            m=infer_seasonal_period(alias),  # the period Forecaster.backtest scales MASE by
            target="value",
            time_col="time",
            baselines={},
        )
        scores.append(float(result.summary.loc["neuralforecast", "mase"]))
    return float(np.mean(scores)), time.perf_counter() - start


def neuralforecast_missing() -> str | None:
    """Why NeuralForecast cannot run here, or ``None`` when it imports."""
    try:
        importlib.import_module("neuralforecast")
    except ImportError as e:
        return f"NeuralForecast column skipped: it does not import ({e}); pip install neuralforecast"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    names = [name for name, *_ in panel()]
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="lstmkit seeds (default 0)")
    parser.add_argument("--series", nargs="+", default=names, choices=names)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument(
        "--no-neuralforecast", action="store_true", help="leave out NeuralForecast's LSTM even when installed"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")  # statsmodels' convergence chatter, Lightning's advice on short series
    missing = "NeuralForecast column left out (--no-neuralforecast)" if args.no_neuralforecast else None
    missing = missing or neuralforecast_missing()
    if missing:
        print(missing)

    print(
        "| series | frequency | length | H x K | lstmkit | naive | seasonal naive | drift | ETS | Theta "
        "| NF LSTM | lstmkit / best of ETS, Theta | s (all) | s lstmkit | s NF |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    ratios, peer = [], []
    for name, freq, frame, horizon, windows in panel():
        if name not in args.series:
            continue
        mase, seconds, lstmkit_seconds = run_series(frame, horizon, windows, args.seeds)
        nf_mase, nf_seconds = np.nan, np.nan
        if not missing:
            nf_mase, nf_seconds = neuralforecast_series(frame, freq, horizon, windows, args.seeds)
            peer.append((mase["lstmkit"] / nf_mase, lstmkit_seconds, nf_seconds))
        statistical = [mase[m] for m in STATISTICAL if m in mase]
        ets = next((mase[m] for m in ("AutoETS", "ETS (statsmodels)") if m in mase), np.nan)
        theta = next((mase[m] for m in ("AutoTheta", "Theta (statsmodels)") if m in mase), np.nan)
        ratio = mase["lstmkit"] / min(statistical) if statistical else np.nan
        ratios.append(ratio)
        cells = [mase.get(m, np.nan) for m in ("lstmkit", "naive", "seasonal_naive", "drift")] + [ets, theta, nf_mase]
        shown = " | ".join("-" if np.isnan(v) else f"{v:.3f}" for v in cells)
        nf_shown = "-" if np.isnan(nf_seconds) else f"{nf_seconds:.0f}"
        print(
            f"| {name} | {freq} | {len(frame)} | {horizon} x {windows} | {shown} | {ratio:.2f} | {seconds:.0f} "
            f"| {lstmkit_seconds:.0f} | {nf_shown} |",
            flush=True,
        )
    ratios = np.asarray([r for r in ratios if np.isfinite(r)])
    if len(ratios):
        print(
            f"\nGeometric mean of lstmkit / best statistical over {len(ratios)} series: "
            f"{np.exp(np.log(ratios).mean()):.3f}; lstmkit more accurate on {int((ratios < 1).sum())}. "
            f"Seeds {args.seeds}, torch {torch.__version__}, {torch.get_num_threads()} thread(s)."
        )
    if peer:
        versus = np.asarray([p[0] for p in peer])
        print(
            f"lstmkit / NeuralForecast LSTM MASE, geometric mean over {len(versus)} series: "
            f"{np.exp(np.log(versus).mean()):.3f} (lstmkit more accurate on {int((versus < 1).sum())}); "
            f"seconds NeuralForecast / lstmkit (fit + forecast, every window and seed): "
            f"{sum(p[2] for p in peer) / sum(p[1] for p in peer):.2f}."
        )


if __name__ == "__main__":
    sys.exit(main())
