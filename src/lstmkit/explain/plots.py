"""Heatmaps of what an LSTM does inside (from a `Recording`) and of attributions."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import (
    Figure,  # no pyplot: no GUI backend, no global state changed on import
)
from torch import Tensor

from lstmkit.explain.recording import GATES, Recording
from lstmkit.utils.figures import user_figure
from lstmkit.utils.files import atomic_path

__all__ = ["plot_gates", "plot_attributions"]

_TITLES = {
    "input_gate": "input gate i",
    "forget_gate": "forget gate f",
    "candidate": "candidate g",
    "output_gate": "output gate o",
    "cell": "cell state c",
    "hidden": "hidden state h",
}
MAX_UNITS = 64  # more rows than this are unreadable on a page: the first ones are shown


@user_figure
def plot_gates(
    recording: Recording,
    path: str | os.PathLike,
    *,
    layer: int = 0,
    direction: int = 0,
    sample: int = 0,
    names: Sequence[str] = GATES,
) -> Path:
    """Save a PNG of heatmaps, one per quantity: units (rows) over time steps (columns).

    Gates are drawn on a fixed ``[0, 1]`` scale; the candidate, cell and hidden state
    on a scale symmetric around zero.

    Args:
        recording: from `record_lstm`.
        path: where to write the PNG (atomically).
        layer, direction, sample: which sequence of which layer and direction.
        names: the quantities to draw, any of `GATES`.

    Returns:
        The path written.
    """
    names = list(names)
    if not names or any(n not in GATES for n in names):
        raise ValueError(f"names must be a non-empty selection of {GATES}, got {names!r}")
    fig = Figure(figsize=(10, 1.9 * len(names) + 0.6))
    axes = fig.subplots(len(names), 1, squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        values = recording.get(name, layer=layer, direction=direction, sample=sample).cpu().numpy().T  # (H, T)
        values = values[:MAX_UNITS]
        if name.endswith("_gate"):
            image = ax.imshow(values, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest")
        else:
            bound = max(float(np.abs(values).max()), 1e-8)
            image = ax.imshow(values, aspect="auto", cmap="RdBu_r", vmin=-bound, vmax=bound, interpolation="nearest")
        ax.set_title(_TITLES[name], fontsize=10, loc="left")
        ax.set_ylabel("unit")
        fig.colorbar(image, ax=ax, pad=0.01)
    axes[-1, 0].set_xlabel("time step")
    side = " (reverse direction)" if direction else ""
    fig.suptitle(f"LSTM layer {layer}{side}, sequence {sample}", fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


@user_figure
def plot_attributions(
    attributions: Tensor,
    path: str | os.PathLike,
    *,
    feature_names: Sequence[str] | None = None,
    title: str = "attributions",
) -> Path:
    """Save a PNG heatmap of one sequence's attributions: features (rows) over time (columns).

    Red pushes the explained output up, blue pushes it down; the scale is symmetric.

    Args:
        attributions: from `integrated_gradients`, for one sequence.
        path: where to write the PNG (atomically).
        feature_names: one label per feature, or None for ``0, 1, ...``.
        title: the figure title.

    Shape:
        attributions: ``(T, F)``.

    Returns:
        The path written.
    """
    if attributions.dim() != 2:
        raise ValueError(
            f"attributions must be (time, features) for one sequence, got shape {tuple(attributions.shape)}"
        )
    T, F = attributions.shape  # time, features
    if feature_names is not None and len(feature_names) != F:
        raise ValueError(f"feature_names must name all {F} features, got {len(feature_names)}")
    values = attributions.detach().cpu().double().numpy().T  # (F, T)
    bound = max(float(np.abs(values).max()), 1e-12)
    fig = Figure(figsize=(10, 0.45 * F + 1.6))
    ax = fig.add_subplot()
    image = ax.imshow(values, aspect="auto", cmap="RdBu_r", vmin=-bound, vmax=bound, interpolation="nearest")
    ax.set_yticks(range(F), list(feature_names) if feature_names is not None else [str(j) for j in range(F)])
    ax.set_xlabel("time step")
    ax.set_title(title, fontsize=11, loc="left")
    fig.colorbar(image, ax=ax, pad=0.01)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return path
