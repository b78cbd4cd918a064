"""`lstmkit detect`'s detector against the rolling z-score it reports beside itself, on labelled series.

Each series is split in time: the detector (and the z-score's threshold) see the
first part only; the metrics are on the rest, as ``lstmkit detect`` prints them.
Two settings of the detector are compared with the same data and seed:

* ``before``: ``scoring="raw"``, ``quantile=0.99``, the defaults until this script
  existed (the raw squared one-step error against a training quantile);
* ``after``: today's defaults (``scoring="robust"``, ``scale_window=128``,
  ``quantile=0.995``).

The z-score uses the detector's window (32) and the same quantile as the detector it
stands beside, so it appears twice (at 0.99 and at 0.995).

Two panels. The defaults were chosen on ``select`` and are reported on ``report``:

=========  ===========  ======  =====  ======  ==============================================
panel      series       length  train  events  source
=========  ===========  ======  =====  ======  ==============================================
select     co2          2,284   1,142  10      statsmodels ``co2`` (weekly, gaps interpolated),
                                               anomalies injected after the half (seed 1)
select     elnino       732     366    10      statsmodels ``elnino`` (monthly), injected (seed 2)
select     ecg-a        10,000  5,000  1       aeon ``ecg-diff-count-3_TRAIN_A`` (GutenTAG ECG)
report     demo         2,820   1,410  10      ``lstmkit detect``'s bundled demo (sunspots,
                                               injected)
report     kdd135       7,501   1,200  1       aeon ``KDD-TSAD_135`` (UCR anomaly archive,
                                               InternalBleeding16, real; trains on the archive's
                                               own 1,200-row training part)
report     ecg          10,000  5,000  2       aeon ``ecg-diff-count-3_TEST`` (another draw of
                                               the ECG generator; 1 more event in training)
=========  ===========  ======  =====  ======  ==============================================

The aeon series are CSV files inside the aeon wheel (BSD-3-Clause), read here by path
without importing aeon, so ``pip install --no-deps aeon==1.6.0`` is all this needs
(aeon's own dependencies would downgrade numpy). Injected anomalies are those of the
demo (`lstmkit.data.synthetic.inject_anomalies`: eight spikes of 6 and two 12-step
shifts of 4 step-to-step standard deviations).

Usage::

    python bench/detect_panel.py [--panel report|select|both] [--series demo ecg ...] [--threads 1]

Prints, per series, event-wise F1 (precision, recall), point-wise F1 (precision, recall),
the number of alarms (runs of flagged steps) and the seconds (fit and predict) for each
setting and for the z-score.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from lstmkit.data.synthetic import anomaly_demo, inject_anomalies
from lstmkit.evaluate.anomaly import anomaly_metrics, runs, zscore_flags
from lstmkit.tasks import AnomalyDetector

SETTINGS = {"before": dict(scoring="raw", quantile=0.99), "after": {}}
PANELS = {"select": ("co2", "elnino", "ecg-a"), "report": ("demo", "kdd135", "ecg")}


def _aeon_csv(relative: str) -> pd.DataFrame:
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("this series ships with aeon: pip install --no-deps aeon==1.6.0")
    return pd.read_csv(Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / relative)


def _injected(values: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    half = len(values) // 2
    y, labels = inject_anomalies(
        values, start=half, n_spikes=8, n_shifts=2, shift_length=12, spike_size=6.0, shift_size=4.0, seed=seed
    )
    return y, labels, half


def load(name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """``(values (T,), labels (T,), training rows)`` of one series of the panels."""
    if name == "demo":
        d = anomaly_demo()
        return d["sunspots"].to_numpy(float), d["is_anomaly"].to_numpy(), len(d) // 2
    if name == "co2":
        import statsmodels.api as sm

        co2 = sm.datasets.co2.load_pandas().data["co2"].interpolate().bfill()
        return _injected(co2.to_numpy(float), seed=1)
    if name == "elnino":
        import statsmodels.api as sm

        months = sm.datasets.elnino.load_pandas().data.iloc[:, 1:]  # one row per year, a column per month
        return _injected(months.to_numpy(float).ravel(), seed=2)
    if name == "kdd135":
        k = _aeon_csv("KDD-TSAD_135/135_UCR_Anomaly_InternalBleeding16_TEST.csv")
        return k["value"].to_numpy(float), k["is_anomaly"].to_numpy().astype(int), 1200
    if name in ("ecg", "ecg-a"):
        e = _aeon_csv(f"UnitTest/ecg-diff-count-3_{'TEST' if name == 'ecg' else 'TRAIN_A'}.csv")
        return e["value-0"].to_numpy(float), e["is_anomaly"].to_numpy().astype(int), len(e) // 2
    raise SystemExit(f"unknown series {name!r}; choose from {sorted(PANELS['select'] + PANELS['report'])}")


def compare(name: str) -> Iterator[dict]:
    """One row per method: the detector before and after, and the z-score at each of their levels."""
    y, labels, n = load(name)
    test = slice(n, None)
    for setting, options in SETTINGS.items():
        start = time.perf_counter()
        det = AnomalyDetector(device="cpu", **options).fit(y[:n])
        flags = det.predict(y)["is_anomaly"].to_numpy()
        seconds = time.perf_counter() - start
        yield {
            "series": name,
            "method": f"lstmkit {setting}",
            "seconds": seconds,
            "alarms": len(runs(flags[test])),
            **anomaly_metrics(labels[test], flags[test]),
        }
        start = time.perf_counter()
        z = zscore_flags(y, n, window=det.config.window, level=det.config.quantile)
        yield {
            "series": name,
            "method": f"z-score q={det.config.quantile}",
            "seconds": time.perf_counter() - start,
            "alarms": len(runs(z[test])),
            **anomaly_metrics(labels[test], z[test]),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--panel", choices=["report", "select", "both"], default="report")
    parser.add_argument("--series", nargs="+", help="these series instead of a panel")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = args.series or (PANELS["select"] + PANELS["report"] if args.panel == "both" else PANELS[args.panel])
    rows = []
    for name in names:
        y, labels, n = load(name)
        print(f"{name}: {len(y)} steps, training on {n}, {len(runs(labels[n:]))} labelled events after", flush=True)
        for row in compare(name):
            rows.append(row)
            print(
                f"  {row['method']:<20} event F1 {row['event_f1']:.3f} (P {row['event_precision']:.3f} "
                f"R {row['event_recall']:.3f})  point F1 {row['point_f1']:.3f} (P {row['point_precision']:.3f} "
                f"R {row['point_recall']:.3f})  {row['alarms']} alarms  {row['seconds']:.1f} s",
                flush=True,
            )
    table = pd.DataFrame(rows).pivot(index="series", columns="method", values="event_f1").loc[list(names)]
    print("\nevent F1 on the rows after training\n" + table.round(3).to_string())


if __name__ == "__main__":
    main()
