"""The attention heatmap: which source pieces each output piece looked at."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import (
    Figure,  # no pyplot: no GUI backend, no global state changed on import
)

from lstmkit.errors import DataError
from lstmkit.utils.figures import user_figure
from lstmkit.utils.files import atomic_path

__all__ = ["plot_attention"]


def _label(piece: str) -> str:
    # whitespace would be invisible on an axis
    return {" ": "␣", "\n": "⏎", "\t": "⇥"}.get(piece, piece)


@user_figure
def plot_attention(
    source: Sequence[str], target: Sequence[str], weights: np.ndarray, path: str | os.PathLike, title: str | None = None
) -> Path:
    """Save a PNG heatmap of attention weights: output pieces down, source pieces across.

    Args:
        source: the source pieces (columns).
        target: the output pieces (rows), e.g. ``Translator.attention(text).target``.
        weights: ``(len(target), len(source))`` weights in [0, 1].
        path: where to write the PNG (atomically).
        title: a title (default none).

    Returns:
        The path written.

    >>> import pathlib, tempfile
    >>> out = plot_attention(["a", "b"], ["x", "<eos>"], [[0.9, 0.1], [0.2, 0.8]],
    ...                      pathlib.Path(tempfile.mkdtemp()) / "att.png")
    >>> out.stat().st_size > 1000
    True
    """
    w = np.asarray(weights, dtype=float)
    if w.shape != (len(target), len(source)):
        raise DataError(
            f"attention weights have shape {w.shape}; expected ({len(target)}, {len(source)}): "
            "one row per output piece, one column per source piece"
        )
    width = min(2 + 0.35 * len(source), 30)
    height = min(1.5 + 0.35 * len(target), 30)
    fig = Figure(figsize=(width, height))
    ax = fig.add_subplot()
    image = ax.imshow(w, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(source)), [_label(p) for p in source], rotation=90 if len(source) > 20 else 0)
    ax.set_yticks(range(len(target)), [_label(p) for p in target])
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    if title:
        ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path
