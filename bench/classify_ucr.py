"""Time-series classification on the bundled UCR/UEA sets, next to published results.

For ItalyPowerDemand, ArrowHead (UCR) and BasicMotions (UEA), fit a
`lstmkit.tasks.SequenceClassifier` with its default settings on the archive's train
split, score it on the test split, and print a table beside:

* the published LSTM-FCN accuracies (Karim et al. 2017, "LSTM Fully Convolutional
  Networks for Time Series Classification", table 1): ItalyPowerDemand 0.962,
  ArrowHead 0.897; the published 1-NN DTW accuracies: 0.950 and 0.703;
* 1-NN DTW (no warping window; dependent DTW for several channels) measured here, in
  the same run, as the reference the ratio is taken against.

Usage::

    .venv/bin/python bench/classify_ucr.py                      # all three, defaults
    .venv/bin/python bench/classify_ucr.py --datasets ArrowHead --seeds 0 1 2
    .venv/bin/python bench/classify_ucr.py --set lstm_input=time schedule=plateau   # other options

Each extra seed refits the classifier with ``seed=k`` (an independent ensemble) and
the table shows the mean and spread of the test accuracy.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from lstmkit.data.datasets.classification import UCR_DATASETS, load_ucr
from lstmkit.tasks import SequenceClassifier

PUBLISHED = {  # dataset: (LSTM-FCN, 1-NN DTW), from the papers cited above
    "ItalyPowerDemand": (0.962, 0.950),
    "ArrowHead": (0.897, 0.703),
    "BasicMotions": (None, None),
}


def dtw_1nn(train_X: np.ndarray, train_y: np.ndarray, test_X: np.ndarray) -> np.ndarray:
    """1-nearest-neighbour labels under unconstrained (dependent) DTW with squared costs.

    Vectorised over every (test, train) pair: one dynamic-programming table per pair.

    Shape:
        train_X ``(N, T, F)``, test_X ``(M, T', F)`` -> ``(M,)`` labels.
    """
    M, N = len(test_X), len(train_X)
    a = np.repeat(test_X, N, axis=0)  # (M * N, T', F)
    b = np.tile(train_X, (M, 1, 1))  # (M * N, T, F)
    Ta, Tb = a.shape[1], b.shape[1]
    previous = np.full((len(a), Tb + 1), np.inf)
    previous[:, 0] = 0.0
    for i in range(Ta):
        cost = ((a[:, i : i + 1, :] - b) ** 2).sum(axis=2)  # (pairs, Tb)
        current = np.full_like(previous, np.inf)
        for j in range(Tb):
            best = np.minimum(np.minimum(previous[:, j], previous[:, j + 1]), current[:, j])
            current[:, j + 1] = cost[:, j] + best
        previous = current
    distance = previous[:, Tb].reshape(M, N)
    return train_y[distance.argmin(axis=1)]


def run(name: str, seeds: list[int], options: dict, dtw: bool = True) -> dict:
    train, test = load_ucr(name, "train"), load_ucr(name, "test")
    accuracies, fit_seconds, predict_seconds = [], [], []
    for seed in seeds:
        started = time.perf_counter()
        model = SequenceClassifier(seed=seed, **options).fit(train)
        fit_seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        accuracies.append(model.evaluate(test).accuracy)
        predict_seconds.append(time.perf_counter() - started)
        print(f"  {name} seed {seed}: accuracy {accuracies[-1]:.3f}, fit {fit_seconds[-1]:.0f} s", flush=True)
    dtw_accuracy = dtw_seconds = float("nan")
    if dtw:
        started = time.perf_counter()
        dtw_accuracy = float((dtw_1nn(train.X.astype(np.float64), train.y, test.X.astype(np.float64)) == test.y).mean())
        dtw_seconds = time.perf_counter() - started
    return {
        "name": name,
        "n_train": len(train),
        "n_test": len(test),
        "shape": train.X.shape[1:],
        "accuracy": np.array(accuracies),
        "fit_s": float(np.mean(fit_seconds)),
        "predict_s": float(np.mean(predict_seconds)),
        "dtw": dtw_accuracy,
        "dtw_s": dtw_seconds,
    }


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
    parser.add_argument("--datasets", nargs="+", default=list(UCR_DATASETS), choices=UCR_DATASETS)
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
    parser.add_argument("--no-dtw", action="store_true", help="skip the 1-NN DTW reference (quick runs)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    options = {k: v for k, v in (("max_epochs", args.max_epochs), ("ensemble", args.ensemble)) if v is not None}
    options.update(dict(args.set))
    print(
        f"SequenceClassifier defaults{' with ' + str(options) if options else ''}; seeds {args.seeds}; "
        f"{args.threads} thread(s)",
        flush=True,
    )
    rows = [run(name, args.seeds, options, dtw=not args.no_dtw) for name in args.datasets]

    print()
    print(
        "| dataset | train/test | (T, F) | lstmkit accuracy | LSTM-FCN (published) | 1-NN DTW (published) "
        "| 1-NN DTW (here) | lstmkit / DTW here | fit s | predict s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        acc = r["accuracy"]
        shown = f"{acc.mean():.3f}" + (f" ± {acc.std():.3f} (n={len(acc)})" if len(acc) > 1 else "")
        fcn, dtw_pub = PUBLISHED[r["name"]]
        print(
            f"| {r['name']} | {r['n_train']}/{r['n_test']} | {r['shape']} | {shown} | "
            f"{fcn if fcn is not None else 'n/a'} | {dtw_pub if dtw_pub is not None else 'n/a'} | {r['dtw']:.3f} | "
            f"{acc.mean() / r['dtw']:.3f} | {r['fit_s']:.0f} | {r['predict_s']:.1f} |"
        )


if __name__ == "__main__":
    main()
