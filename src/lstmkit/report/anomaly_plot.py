"""The anomaly-detection figure: the series with its flagged and labelled steps, and the scores."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import (
    Figure,  # no pyplot: no GUI backend, no global state changed on import
)

from lstmkit.utils.figures import user_figure
from lstmkit.utils.files import atomic_path

__all__ = ["plot_detections"]


@user_figure
def plot_detections(
    frame: pd.DataFrame,
    targets: list[str],
    time_col: str | None,
    detections: pd.DataFrame,
    threshold: float,
    n_train: int,
    path: str | os.PathLike,
    labels: np.ndarray | None = None,
) -> Path:
    """The series with flagged (and labelled) points above, the scores and the threshold below, as a PNG.

    Args:
        frame: the validated data; ``targets`` its value columns, ``time_col`` its time column (or None).
        detections: `lstmkit.tasks.AnomalyDetector.predict`'s table (``score``, ``is_anomaly``).
        threshold: the detector's threshold.
        n_train: rows used for training (a dashed line marks their end).
        path: the PNG to write (atomically).
        labels: known 0/1 anomalies, drawn as crosses.
    """
    x = pd.to_datetime(frame[time_col]) if time_col else pd.RangeIndex(len(frame))
    fig = Figure(figsize=(11, 6))
    top, bottom = fig.subplots(2, 1, sharex=True)
    flags = detections["is_anomaly"].to_numpy()
    for col in targets:
        top.plot(x, frame[col], lw=0.8, label=col)
        top.scatter(np.asarray(x)[flags], frame[col].to_numpy()[flags], color="tab:red", s=14, zorder=3)
    if labels is not None:
        marked = labels.astype(bool)
        for col in targets:
            top.scatter(
                np.asarray(x)[marked],
                frame[col].to_numpy()[marked],
                marker="x",
                color="black",
                s=22,
                zorder=4,
                label="labelled" if col == targets[0] else None,
            )
    top.axvline(np.asarray(x)[n_train], color="0.5", ls="--", lw=1, label="end of training")
    top.set_title("series (red dots: flagged)")
    top.legend(loc="upper left", fontsize=8)
    bottom.plot(x, detections["score"], lw=0.8, color="0.3", label="score")
    bottom.axhline(threshold, color="tab:red", lw=1, label="threshold")
    bottom.set_yscale("log")
    bottom.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return Path(path)
