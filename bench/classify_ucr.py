"""Time-series classification on UCR/UEA sets: lstmkit next to 1-NN DTW and ROCKET.

For the bundled ItalyPowerDemand, ArrowHead (UCR) and BasicMotions (UEA), and for
GunPoint (UCR) and JapaneseVowels (UEA, unequal lengths) as shipped in the sktime
wheel (``pip install sktime``; read from its package data, sktime is not imported),
fit a `lstmkit.tasks.SequenceClassifier` with its default settings on the archive's
train split, score it on the test split, and print a table beside, in the same run:

* 1-NN DTW (`lstmkit.evaluate.dtw_1nn`): dependent DTW on z-normalised series, the
  Sakoe-Chiba window chosen by leave-one-out on the training set (the UCR archive's
  "DTW learned window"), and unconstrained ("full window");
* ROCKET + ridge (`lstmkit.evaluate.rocket_baseline`, 2,000 kernels), the baseline the
  classify report shows;
* the published 1-NN DTW accuracies (UCR archive 2018; UEA archive, Bagnall et al.
  2018, DTW_D), which the DTW here reproduces.

Usage::

    .venv/bin/python bench/classify_ucr.py                      # all five, defaults
    .venv/bin/python bench/classify_ucr.py --datasets ArrowHead --seeds 0 1 2
    .venv/bin/python bench/classify_ucr.py --set lstm_input=time schedule=plateau   # other options

Each extra seed refits the classifier with ``seed=k`` (an independent ensemble) and
the table shows the mean and spread of the test accuracy.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path

import numpy as np
import torch

from lstmkit.data.datasets.classification import UCR_DATASETS, load_ucr
from lstmkit.data.sequences import SequenceSet, read_sequences
from lstmkit.evaluate import dtw_1nn, rocket_baseline
from lstmkit.tasks import SequenceClassifier

SKTIME_DATASETS = ("GunPoint", "JapaneseVowels")
# dataset: (DTW learned window, DTW full window) published; None where the archive gives none
PUBLISHED_DTW = {
    "ItalyPowerDemand": (0.955, 0.950),
    "ArrowHead": (0.800, 0.703),
    "BasicMotions": (None, 0.975),
    "GunPoint": (0.913, 0.907),
    "JapaneseVowels": (None, 0.949),
}


def load(name: str, split: str) -> SequenceSet:
    """A bundled set, or one of `SKTIME_DATASETS` from the installed sktime wheel's data folder."""
    if name in UCR_DATASETS:
        return load_ucr(name, split)
    spec = importlib.util.find_spec("sktime")
    if spec is None or spec.origin is None:
        raise SystemExit(f"{name} is read from the sktime wheel's data: pip install sktime")
    return read_sequences(Path(spec.origin).parent / "datasets" / "data" / name / f"{name}_{split.upper()}.ts")


def run(name: str, seeds: list[int], options: dict, baselines: bool = True) -> dict:
    train, test = load(name, "train"), load(name, "test")
    accuracies, fit_seconds, predict_seconds = [], [], []
    for seed in seeds:
        started = time.perf_counter()
        model = SequenceClassifier(seed=seed, **options).fit(train)
        fit_seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        accuracies.append(model.evaluate(test).accuracy)
        predict_seconds.append(time.perf_counter() - started)
        print(f"  {name} seed {seed}: accuracy {accuracies[-1]:.3f}, fit {fit_seconds[-1]:.0f} s", flush=True)
    row = {
        "name": name,
        "n_train": len(train),
        "n_test": len(test),
        "shape": (int(train.lengths.max()), train.X.shape[2]),
        "accuracy": np.array(accuracies),
        "fit_s": float(np.mean(fit_seconds)),
        "predict_s": float(np.mean(predict_seconds)),
    }
    if baselines:
        for key, window in (("dtw", "loo"), ("dtw_full", None)):
            started = time.perf_counter()
            fit = dtw_1nn(train.X, train.lengths, train.y, test.X, test.lengths, window=window)
            row[key] = float((fit.predicted == test.y).mean())
            row[key + "_s"] = time.perf_counter() - started
            if window == "loo":
                row["window"] = fit.window_percent
        started = time.perf_counter()
        predicted = rocket_baseline(train.X, train.lengths, train.y, test.X, test.lengths)
        row["rocket"] = float((predicted == test.y).mean())
        row["rocket_s"] = time.perf_counter() - started
        print(f"  {name}: 1-NN DTW {row['dtw']:.3f} (window {row['window']}%), ROCKET {row['rocket']:.3f}", flush=True)
    return row


def option(text: str) -> tuple[str, object]:
    """``name=value`` -> ``(name, value)``, the value read as JSON when it parses (numbers, lists, null)."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected name=value, got {text!r}")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value  # a bare string: lstm_input=shuffle
    return name, tuple(parsed) if isinstance(parsed, list) else parsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=[*UCR_DATASETS, *SKTIME_DATASETS])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--max-epochs", type=int, help="override the default (for quick runs only)")
    parser.add_argument("--ensemble", type=int, help="override the default (for quick runs only)")
    parser.add_argument(
        "--set",
        nargs="+",
        type=option,
        default=[],
        metavar="NAME=VALUE",
        help="other SequenceClassifier options, e.g. lstm_input=time conv_channels=[64,64]",
    )
    parser.add_argument("--no-baselines", action="store_true", help="skip 1-NN DTW and ROCKET (quick runs)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    options = {k: v for k, v in (("max_epochs", args.max_epochs), ("ensemble", args.ensemble)) if v is not None}
    options.update(dict(args.set))
    print(
        f"SequenceClassifier defaults{' with ' + str(options) if options else ''}; seeds {args.seeds}; "
        f"{args.threads} thread(s)",
        flush=True,
    )
    rows = [run(name, args.seeds, options, baselines=not args.no_baselines) for name in args.datasets]

    print()
    print(
        "| dataset | train/test | (T, F) | lstmkit | 1-NN DTW, learned window (published) | 1-NN DTW, full "
        "(published) | ROCKET | lstmkit / DTW | fit s | DTW s | ROCKET s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        acc = r["accuracy"]
        shown = f"{acc.mean():.3f}" + (f" ± {acc.std():.3f} (n={len(acc)})" if len(acc) > 1 else "")
        learned, full = PUBLISHED_DTW.get(r["name"], (None, None))
        if "dtw" in r:
            print(
                f"| {r['name']} | {r['n_train']}/{r['n_test']} | {r['shape']} | {shown} | "
                f"{r['dtw']:.3f} at {r['window']}% ({learned or 'n/a'}) | {r['dtw_full']:.3f} ({full or 'n/a'}) | "
                f"{r['rocket']:.3f} | {acc.mean() / r['dtw']:.3f} | {r['fit_s']:.0f} | "
                f"{r['dtw_s'] + r['dtw_full_s']:.0f} | {r['rocket_s']:.0f} |"
            )
        else:
            cells = f"| {r['name']} | {r['n_train']}/{r['n_test']} | {r['shape']} | {shown} |"
            print(f"{cells} | | | | {r['fit_s']:.0f} | | |")


if __name__ == "__main__":
    main()
