"""Time lstmkit's Forecaster against NeuralForecast's LSTM and Darts' BlockRNNModel on the same windows.

On the two bundled monthly series (``sunspots``, ``air_passengers``), every library
is fitted and asked for a 12-step forecast on the same ``K`` rolling origins by one
call to `lstmkit.evaluate.backtest` (``horizon=12``, ``m=12``, no baselines), so the
windows, the training parts and MASE (scaled by each window's training part, seasonal
period 12) are computed identically for all. Each method refits from scratch on every
window; its seconds are fit + forecast.

Settings (defaults of each library unless stated; all CPU):

* **lstmkit** — ``Forecaster(horizon=12, target=..., time_col="month", seed=0)``, every
  other option at its default (lookback ``max(2H, 3m)`` = 36 on the air passengers and
  twice that, 72, on the sunspots, which give over 1,000 windows; ensemble of 10 below
  1,000 training windows and 3 above; up to 100 epochs with early stopping; point
  forecast = the median quantile).
* **NeuralForecast 3.x** — ``LSTM(h=12, input_size=36, max_steps=1000, scaler_type="robust",
  random_seed=0)`` in ``NeuralForecast(freq="MS")``. ``input_size=36`` is its own default
  (``-1`` means ``3 * h``); ``scaler_type="robust"`` and ``max_steps=1000`` are its defaults
  (``--nf-max-steps 500`` halves its training for a shorter run). The rest is its
  default: 2-layer encoder of 128 units, 2-layer MLP decoder of 128, direct (not
  recurrent) output, MAE loss, Adam lr 1e-3, 128 windows per batch, no early stopping.
* **Darts** — ``BlockRNNModel(model="LSTM", input_chunk_length=36, output_chunk_length=12,
  n_epochs=100, random_state=0)`` on the target as float32 (as Darts' docs advise)
  scaled by ``darts.dataprocessing.transformers.Scaler()`` (min-max) fitted on each
  window's training part. The rest is its default: one LSTM layer of 25 units, batch
  32, MSE loss, Adam lr 1e-3, ``n_epochs=100`` (``--darts-epochs``), no early stopping.

Lightning's progress bars, loggers, checkpoints and model summaries are off for both
peers. The peers are optional: when one does not import, its row says so.

Usage::

    python bench/forecast.py [--windows 3] [--threads N] [--datasets sunspots air_passengers]
                             [--nf-max-steps 1000] [--darts-epochs 100] [--seeds 0 1 2]
                             [--libraries lstmkit neuralforecast darts]

With several seeds every library runs once per seed (the same seed for all) and the
table shows each seed's MASE and their mean; total times are means over the seeds, and
the median seconds per window is over every window of every seed. Every
library's MASE moves with the seed (on the sunspots by 0.1-0.2 at 3 windows), so
compare means over seeds, and over more windows (``--windows 8``) where time allows.

The ratios are peer / lstmkit, of the means: a time ratio of 3.0 means the peer took
three times as long; a MASE ratio above 1 means the peer's forecasts were worse. Each
library runs once per window in one process, so timings carry the noise of whatever
else the machine runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from lstmkit.data import datasets
from lstmkit.evaluate import backtest
from lstmkit.tasks import Forecaster

DATASETS = {"sunspots": "sunspots", "air_passengers": "passengers"}  # name: target column
TIME_COL, FREQ = "month", "MS"
HORIZON, M = 12, 12
INPUT_SIZE = 3 * M  # the peers' input window: 36 months
NOT_INSTALLED = "not installed (pip install neuralforecast darts)"
TRAINER_QUIET = dict(enable_progress_bar=False, logger=False, enable_checkpointing=False, enable_model_summary=False)


def quiet_peers() -> None:
    """Lightning and the peers log device banners, seeds and deprecations on every fit.

    Call it after the peers are imported: Lightning sets its loggers' levels on import.
    """
    for name in ("lightning", "lightning.pytorch", "lightning_fabric", "pytorch_lightning", "neuralforecast", "darts"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for module in ("lightning", "lightning_fabric", "pytorch_lightning", "neuralforecast", "darts", "torch.utils.data"):
        warnings.filterwarnings("ignore", module=module)


def lstmkit_method(target: str, seed: int) -> Callable:
    def fit_predict(train: pd.DataFrame, horizon: int) -> np.ndarray:
        model = Forecaster(horizon=horizon, target=target, time_col=TIME_COL, seed=seed).fit(train)
        return model.predict()["forecast"].to_numpy()

    return fit_predict


def neuralforecast_method(target: str, seed: int, max_steps: int) -> Callable:
    from neuralforecast import NeuralForecast
    from neuralforecast.models import LSTM

    def fit_predict(train: pd.DataFrame, horizon: int) -> np.ndarray:
        model = LSTM(
            h=horizon,
            input_size=INPUT_SIZE,
            max_steps=max_steps,
            scaler_type="robust",
            random_seed=seed,
            accelerator="cpu",
            **TRAINER_QUIET,
        )
        nf = NeuralForecast(models=[model], freq=FREQ)
        nf.fit(pd.DataFrame({"unique_id": target, "ds": train[TIME_COL], "y": train[target]}))
        return nf.predict()["LSTM"].to_numpy()

    return fit_predict


def darts_method(target: str, seed: int, n_epochs: int) -> Callable:
    from darts import TimeSeries
    from darts.dataprocessing.transformers import Scaler
    from darts.models import BlockRNNModel

    def fit_predict(train: pd.DataFrame, horizon: int) -> np.ndarray:
        series = TimeSeries.from_dataframe(train, time_col=TIME_COL, value_cols=target, freq=FREQ).astype(np.float32)
        scaler = Scaler()  # fitted on this window's training part only
        model = BlockRNNModel(
            model="LSTM",
            input_chunk_length=INPUT_SIZE,
            output_chunk_length=horizon,
            n_epochs=n_epochs,
            random_state=seed,
            pl_trainer_kwargs=dict(accelerator="cpu", **TRAINER_QUIET),
        )
        model.fit(scaler.fit_transform(series), verbose=False)
        forecast = scaler.inverse_transform(model.predict(n=horizon, verbose=False))
        return forecast.values().reshape(-1)

    return fit_predict


def with_progress(name: str, library: str, n_windows: int, fit_predict: Callable) -> Callable:
    """Report each window on stderr as it finishes: a full run takes a while."""
    window = iter(range(1, n_windows + 1))

    def run(train: pd.DataFrame, horizon: int) -> np.ndarray:
        start = time.perf_counter()
        forecast = fit_predict(train, horizon)
        print(
            f"  {name} window {next(window)}/{n_windows} ({len(train)} rows) {library}: "
            f"{time.perf_counter() - start:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        return forecast

    return run


LIBRARIES = ("lstmkit", "neuralforecast", "darts")


def library_methods(target: str, seed: int, args) -> tuple[dict[str, Callable], dict[str, str]]:
    """``({library: fit_predict}, {library: why it is missing})`` for the chosen libraries."""
    makers = {
        "lstmkit": lambda: lstmkit_method(target, seed),
        "neuralforecast": lambda: neuralforecast_method(target, seed, args.nf_max_steps),
        "darts": lambda: darts_method(target, seed, args.darts_epochs),
    }
    methods, missing = {}, {}
    for library in args.libraries:
        try:
            methods[library] = makers[library]()
        except ImportError as e:
            missing[library] = f"{NOT_INSTALLED}: {e}"
    return methods, missing


def seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def run_dataset(name: str, seed: int, args) -> tuple[pd.DataFrame, dict[str, str]]:
    """Backtest every chosen library on one series with one seed: ``(per_window, missing)``."""
    target = DATASETS[name]
    history = datasets.load(name)
    methods, missing = library_methods(target, seed, args)
    quiet_peers()
    methods = {lib: with_progress(name, lib, args.windows, f) for lib, f in methods.items()}
    seed_all(seed)
    print(f"{name}, seed {seed}: {len(history)} months, backtesting {', '.join(methods)}", file=sys.stderr, flush=True)
    result = backtest(
        history, methods, horizon=HORIZON, n_windows=args.windows, m=M, target=target, time_col=TIME_COL, baselines={}
    )
    return result.per_window.assign(seed=seed), missing


def print_table(name: str, per_window: pd.DataFrame, missing: dict[str, str]) -> None:
    """One row per library: MASE per seed, mean MASE, mean total and median per-window seconds, ratios."""
    per_seed = per_window.groupby(["method", "seed"], observed=True).agg(
        mase=("mase", "mean"), seconds=("seconds", "sum")
    )
    means = per_seed.groupby("method", observed=True).mean()
    medians = per_window.groupby("method", observed=True)["seconds"].median()  # over windows and seeds
    for library in LIBRARIES:
        if library in missing:
            print(f"| {name} | {library} | {missing[library]} | | | | | |")
            continue
        if library not in means.index:
            continue
        seeds = " / ".join(f"{v:.3f}" for v in per_seed.loc[library, "mase"])
        mase, seconds = means.loc[library, "mase"], means.loc[library, "seconds"]
        ratios = ("", "")
        if "lstmkit" in means.index:
            ref = means.loc["lstmkit"]
            ratios = (f"{seconds / ref['seconds']:.2f}", f"{mase / ref['mase']:.2f}")
        print(
            f"| {name} | {library} | {seeds} | {mase:.3f} | {seconds:.1f} | {medians[library]:.1f} "
            f"| {ratios[0]} | {ratios[1]} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, default=3, help="rolling origins K (default 3)")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=LIBRARIES)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument(
        "--nf-max-steps", type=int, default=1000, help="NeuralForecast LSTM max_steps (default 1000, its own default)"
    )
    parser.add_argument("--darts-epochs", type=int, default=100, help="Darts BlockRNNModel n_epochs (default 100)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds, each a full run (default 0)")
    args = parser.parse_args()
    if args.windows < 1:
        parser.error(f"--windows must be at least 1, got {args.windows}")
    if args.threads:
        torch.set_num_threads(args.threads)

    results = []
    for name in args.datasets:
        runs = [run_dataset(name, seed, args) for seed in args.seeds]
        results.append((name, pd.concat([r[0] for r in runs], ignore_index=True), runs[0][1]))
    print(
        f"\ntorch {torch.__version__}, {torch.get_num_threads()} thread(s), {os.cpu_count()} CPU core(s); "
        f"horizon {HORIZON}, {args.windows} window(s), m={M}, seeds {args.seeds}"
    )
    print(
        "Timings are wall seconds of fit + forecast on this machine's CPU, one run per window; "
        "a machine shared with other jobs makes them noisy.\n"
    )
    print(
        "| dataset | library | MASE per seed | mean MASE | mean total s | median s/window "
        "| time ratio (peer / lstmkit) | MASE ratio (peer / lstmkit) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for result in results:
        print_table(*result)


if __name__ == "__main__":
    main()
