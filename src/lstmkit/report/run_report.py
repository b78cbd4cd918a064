"""Pieces every CLI run's ``report.html`` shares: the training-curve figure and key/value tables."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
from matplotlib.figure import (
    Figure,  # no pyplot: no GUI backend, no global state changed on import
)
from matplotlib.ticker import MaxNLocator

from lstmkit.utils.figures import user_figure
from lstmkit.utils.files import atomic_path

__all__ = ["plot_training_curves", "config_table", "summary_table"]


def _members(history) -> list[list[Mapping]]:
    """One log (a list of per-epoch dicts) per ensemble member, from one log or a list of them."""
    history = list(history or [])
    if not history:
        return []
    if all(isinstance(h, Mapping) for h in history):
        return [history]
    if all(isinstance(h, Sequence) and not isinstance(h, (str, bytes)) for h in history):
        return [list(h) for h in history if len(h)]
    raise ValueError("history must be a list of per-epoch dicts, or one such list per ensemble member")


@user_figure
def plot_training_curves(
    history: Sequence[dict[str, Any]] | Sequence[Sequence[dict[str, Any]]],
    path: str | os.PathLike,
    title: str = "training",
) -> Path | None:
    """Save a PNG of the training (solid) and validation (dashed) loss per epoch, per ensemble member.

    Args:
        history: a training log, a list of dicts with ``epoch``, ``train_loss`` and
            ``val_loss`` (None when there was no validation data), as `Trainer.fit`
            returns it; or one such list per ensemble member.
        path: where to write the PNG (atomically).
        title: the figure title.

    Returns:
        The path written, or None when the history holds no epoch (nothing to draw).

    >>> import pathlib, tempfile
    >>> log = [{"epoch": 1, "train_loss": 1.0, "val_loss": 1.2}, {"epoch": 2, "train_loss": 0.5, "val_loss": 0.9}]
    >>> out = plot_training_curves([log, log], pathlib.Path(tempfile.mkdtemp()) / "training.png")
    >>> out.read_bytes()[:4] == b"\\x89PNG"
    True
    """
    members = _members(history)
    if not members:
        return None
    fig = Figure(figsize=(8, 3.6))
    ax = fig.add_subplot()
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    many = len(members) > 1
    for k, log in enumerate(members):
        color = colors[k % len(colors)]
        epochs = [row.get("epoch", i + 1) for i, row in enumerate(log)]
        name = f"member {k + 1} " if many else ""
        train = [row.get("train_loss") for row in log]
        if any(v is not None for v in train):
            ax.plot(
                epochs,
                [float("nan") if v is None else v for v in train],
                color=color,
                lw=1.5,
                marker="o" if len(log) < 3 else None,
                ms=3,
                label=f"{name}train",
            )
        val = [row.get("val_loss") for row in log]
        if any(v is not None for v in val):
            ax.plot(
                epochs,
                [float("nan") if v is None else v for v in val],
                color=color,
                lw=1.5,
                ls="--",
                marker="o" if len(log) < 3 else None,
                ms=3,
                label=f"{name}validation",
            )
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=11, loc="left")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, ncol=2 if many else 1)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path


def _cell(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) if value else "(none)"
    if value is None:
        return "-"
    return str(value)


def config_table(config: object) -> pd.DataFrame:
    """A task's configuration as a two-column table (``option``, ``value``), values as text.

    Give it the resolved configuration (``lstmkit.cli.options.resolved_config(model)``)
    after a fit, so that automatic values show what fit chose instead of a dash.

    Args:
        config: a config object with ``to_dict()`` (every task's config), a dataclass, or a mapping.

    >>> config_table({"horizon": 12, "quantiles": (0.1, 0.9), "lookback": None}).to_dict("records")[1]
    {'option': 'quantiles', 'value': '0.1, 0.9'}
    """
    if hasattr(config, "to_dict"):
        values = config.to_dict()
    elif dataclasses.is_dataclass(config) and not isinstance(config, type):
        values = dataclasses.asdict(config)
    elif isinstance(config, Mapping):
        values = dict(config)
    else:
        raise TypeError(f"config must have to_dict(), be a dataclass or a mapping, got {type(config).__name__}")
    return pd.DataFrame({"option": [str(k) for k in values], "value": [_cell(v) for v in values.values()]})


def summary_table(items: Mapping) -> pd.DataFrame:
    """Facts about a run's data (rows, series, time span...) as a two-column table, values as text.

    >>> summary_table({"rows": 144, "series": 1}).to_dict("records")[0]
    {'item': 'rows', 'value': '144'}
    """
    return pd.DataFrame({"item": [str(k) for k in items], "value": [_cell(v) for v in items.values()]})
