"""Callbacks: small objects the Trainer calls at fixed points of its loop.

Subclass `Callback` and override the hooks you need; the Trainer calls them in
the order the callbacks were given. A callback that must survive a resume
(`EarlyStopping`) returns its state from ``state_dict`` and takes it back in
``load_state_dict``; the Trainer stores it in the checkpoint.

Hooks, in the order they run::

    on_fit_start(trainer)
      on_epoch_start(trainer, epoch)
        on_before_optimizer_step(trainer, logs)   # per optimiser step, after clipping
        on_batch_end(trainer, logs)               # per batch
      on_epoch_end(trainer, logs)                 # logs = the epoch's history row
    on_fit_end(trainer, history)                  # only when fit finishes normally
    on_exception(trainer, error)                  # instead, when fit raises
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lstmkit.errors import ConfigError
from lstmkit.utils.files import atomic_write_text

if TYPE_CHECKING:
    from lstmkit.train.trainer import Trainer

__all__ = ["Callback", "EarlyStopping", "MetricsLogger", "ProgressBar"]


class Callback:
    """Base class: every hook does nothing until overridden.

    >>> class PrintLoss(Callback):
    ...     def on_epoch_end(self, trainer, logs):
    ...         print(f"epoch {logs['epoch']}: {logs['train_loss']:.3f}")
    """

    def on_fit_start(self, trainer: Trainer) -> None:
        """Called once when ``fit`` starts (after a resume's state is restored)."""

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        """Called before the first batch of ``epoch`` (1-based)."""

    def on_before_optimizer_step(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        """Called after backward and clipping, before ``optimizer.step()``.

        ``logs`` has ``epoch``, ``batch``, ``chunk`` (1 without truncated BPTT),
        ``step`` (global, 1-based), ``loss`` and ``grad_norm`` (before clipping).
        The gradients are in the model's ``.grad`` attributes.
        """

    def on_batch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        """Called after each batch; ``logs`` has ``epoch``, ``batch``, ``step``, ``loss``."""

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        """Called after validation; ``logs`` is the epoch's row of the history.

        Set ``trainer.stop_training = True`` to end the fit after this epoch.
        """

    def on_fit_end(self, trainer: Trainer, history: list[dict[str, Any]]) -> None:
        """Called once when ``fit`` finishes without an error."""

    def on_exception(self, trainer: Trainer, error: BaseException) -> None:
        """Called when ``fit`` is leaving with ``error``; release what you hold."""

    def state_dict(self) -> dict[str, Any]:
        """State to save in a checkpoint (tensors allowed); empty for stateless callbacks."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned; stateless callbacks ignore it."""


class EarlyStopping(Callback):
    """Stop when a monitored loss has not improved for ``patience`` epochs; keep the best weights.

    An epoch improves when its value is below ``best - min_delta``. At the end of
    the fit the weights of the best epoch are put back into the model (when
    ``restore_best``), whether the fit stopped early or ran out of epochs.

    Args:
        patience: Epochs without improvement before stopping (0 stops at the first).
        min_delta: Smallest decrease that counts as an improvement.
        monitor: Key of the epoch logs to watch.
        restore_best: Load the best epoch's weights into the model at the end.

    Attributes:
        best: Best value seen (``None`` before the first epoch).
        best_epoch: Epoch of ``best``.
        wait: Epochs since the last improvement.

    >>> stopper = EarlyStopping(patience=2, min_delta=0.01)
    """

    def __init__(self, patience: int, min_delta: float = 0.0, monitor: str = "val_loss", restore_best: bool = True):
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ConfigError(f"patience must be a non-negative integer, got {patience!r}")
        if not isinstance(min_delta, (int, float)) or not min_delta >= 0:
            raise ConfigError(f"min_delta must be a number >= 0, got {min_delta!r}")
        self.patience = patience
        self.min_delta = float(min_delta)
        self.monitor = monitor
        self.restore_best = restore_best
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self.best_weights: dict[str, Any] | None = None

    @property
    def exhausted(self) -> bool:
        """Whether patience has run out (a resumed fit then stops at once)."""
        return self.wait > 0 and self.wait >= self.patience

    def on_fit_start(self, trainer: Trainer) -> None:
        if self.exhausted:
            trainer.stop_training = True

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        value = logs.get(self.monitor)
        if value is None:
            raise ConfigError(
                f"EarlyStopping monitors {self.monitor!r}, which the epoch logs do not have: {sorted(logs)}"
            )
        # a NaN never improves (and compares False with everything)
        if not math.isnan(value) and (self.best is None or value < self.best - self.min_delta):
            self.best, self.best_epoch, self.wait = float(value), int(logs["epoch"]), 0
            self.best_weights = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
        else:
            self.wait += 1
        if self.exhausted:
            trainer.stop_training = True

    def on_fit_end(self, trainer: Trainer, history: list[dict[str, Any]]) -> None:
        if self.restore_best and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        self.best_weights = state["best_weights"]


class MetricsLogger(Callback):
    """Write the history to ``metrics.csv`` and ``metrics.json`` after every epoch (atomically).

    The whole history is rewritten each time, so after a resume the files hold
    every epoch, including those before the checkpoint. ``None`` and non-finite
    values are written as empty CSV cells and JSON ``null``.

    Args:
        log_dir: Directory for the two files (created if needed).

    >>> import tempfile
    >>> logger = MetricsLogger(tempfile.mkdtemp())
    """

    def __init__(self, log_dir: str | os.PathLike):
        self.log_dir = Path(log_dir)
        self.csv_path = self.log_dir / "metrics.csv"
        self.json_path = self.log_dir / "metrics.json"

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        rows = [{k: _finite_or_none(v) for k, v in row.items()} for row in trainer.history]
        columns = list(dict.fromkeys(k for row in rows for k in row))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.csv_path, buffer.getvalue())
        atomic_write_text(self.json_path, json.dumps(rows, indent=2, allow_nan=False) + "\n")


def _finite_or_none(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


class ProgressBar(Callback):
    """A rich progress bar per epoch, with the running loss; silent when not on a terminal.

    Each finished epoch leaves one line with its losses. When stdout is not a
    terminal (a pipe, a log file, a test run) nothing is shown.

    Args:
        console: The rich console to draw on (default: stdout).
    """

    def __init__(self, console: Console | None = None):
        self.console = console or Console()
        self._progress: Progress | None = None
        self._task: Any = None

    def on_fit_start(self, trainer: Trainer) -> None:
        if not self.console.is_terminal:
            return
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
            console=self.console,
        )
        self._progress.start()

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        if self._progress is not None:
            description = f"epoch {epoch}/{trainer.config.max_epochs}"
            self._task = self._progress.add_task(description, total=trainer.steps_per_epoch, status="")

    def on_batch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, status=f"loss {logs['loss']:.4g}")

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        if self._progress is not None:
            status = f"train {logs['train_loss']:.4g}"
            if logs.get("val_loss") is not None:
                status += f"  val {logs['val_loss']:.4g}"
            self._progress.update(self._task, status=status)

    def on_fit_end(self, trainer: Trainer, history: list[dict[str, Any]]) -> None:
        self._stop()

    def on_exception(self, trainer: Trainer, error: BaseException) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
