"""Synthetic data: labelled anomalies injected into a real series, and the demo built that way."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from lstmkit.data import datasets

__all__ = ["inject_anomalies", "anomaly_demo"]

DEMO_SEED = 0


def inject_anomalies(
    values: ArrayLike,
    *,
    start: int = 0,
    n_spikes: int = 8,
    n_shifts: int = 2,
    shift_length: int = 12,
    spike_size: float = 4.0,
    shift_size: float = 2.5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Add labelled spikes and level shifts to a copy of a 1-D series, reproducibly.

    Sizes are in units of the standard deviation of the first differences of
    ``values`` (the series' step-to-step noise), so they stand out from the noise
    but not necessarily from the series' range. Spikes are single steps of
    ``±spike_size``; level shifts add ``±shift_size`` over ``shift_length`` steps.
    Positions are drawn after ``start`` without overlaps (and a gap of 3 steps).

    Returns:
        ``(values, labels)``: the altered series and 0/1 labels of the altered steps.

    >>> y, labels = inject_anomalies(np.sin(np.arange(200) / 5), start=100, n_spikes=2, n_shifts=1, shift_length=5)
    >>> int(labels[:100].sum()), int(labels.sum())
    (0, 7)
    """
    x = np.asarray(values, dtype=float).copy()
    if x.ndim != 1:
        raise ValueError(f"values must be 1-D, got shape {x.shape}")
    rng = np.random.default_rng(seed)
    scale = float(np.std(np.diff(x))) or 1.0
    labels = np.zeros(len(x), dtype=np.int64)
    taken = np.zeros(len(x), dtype=bool)
    for length, size, count in ((shift_length, shift_size, n_shifts), (1, spike_size, n_spikes)):
        for _ in range(count):
            for _attempt in range(1000):
                a = int(rng.integers(start, len(x) - length))
                if not taken[max(a - 3, 0) : a + length + 3].any():
                    break
            else:
                raise ValueError(f"no room after step {start} for {count} anomalies of {length} steps")
            x[a : a + length] += rng.choice([-1.0, 1.0]) * size * scale
            labels[a : a + length] = 1
            taken[a : a + length] = True
    return x, labels


def anomaly_demo(seed: int = DEMO_SEED) -> pd.DataFrame:
    """The bundled sunspots (2,820 months) with labelled anomalies injected after row 1,410.

    Eight one-month spikes of ±6 and two 12-month level shifts of ±4 standard
    deviations of the month-to-month changes (`inject_anomalies`), drawn with ``seed``.
    The first half is left untouched: it is the training part. ``lstmkit detect``
    with no data runs on it.

    Returns:
        A DataFrame with columns ``month``, ``sunspots``, ``is_anomaly`` (0/1).
    """
    frame = datasets.load("sunspots")
    values, labels = inject_anomalies(
        frame["sunspots"].to_numpy(),
        start=len(frame) // 2,
        n_spikes=8,
        n_shifts=2,
        shift_length=12,
        spike_size=6.0,
        shift_size=4.0,
        seed=seed,
    )
    return frame.assign(sunspots=values, is_anomaly=labels)
