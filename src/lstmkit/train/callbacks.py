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
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from lstmkit.errors import ConfigError
from lstmkit.utils.checks import non_negative_int
from lstmkit.utils.files import atomic_write_text

if TYPE_CHECKING:
    import torch

    from lstmkit.train.trainer import Trainer

__all__ = [
    "Callback",
    "EarlyStopping",
    "EpochLines",
    "GeneratorStates",
    "MetricsLogger",
    "ProgressBar",
    "format_epoch",
    "job_progress",
    "progress_callback",
    "stderr_is_terminal",
    "TrainingBudget",
]


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
        non_negative_int("patience", patience)
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


class GeneratorStates(Callback):
    """Keep private ``torch.Generator`` states (augmentation noise, say) in the Trainer's checkpoints.

    The Trainer saves torch's global generator and a ``DataLoader``'s own; one that a
    loss function draws from is known only to its owner, which passes it here so that a
    resumed fit draws the same numbers as one never interrupted.
    """

    def __init__(self, *generators: torch.Generator):
        self.generators = generators

    def state_dict(self) -> dict[str, Any]:
        return {"states": [g.get_state() for g in self.generators]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for generator, saved in zip(self.generators, state["states"], strict=True):
            generator.set_state(saved)


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


def stderr_is_terminal() -> bool:
    """Whether standard error is a terminal that can draw a live display (as rich decides it).

    Rich's rules apply: ``TTY_COMPATIBLE`` and ``FORCE_COLOR`` override the check,
    and Jupyter counts as no terminal.
    """
    return Console(stderr=True).is_terminal


def progress_callback(label: str | None = None) -> Callback:
    """The progress callback for where standard error goes now.

    Args:
        label: Shown before the epoch, e.g. ``"member 2/5"`` for an ensemble member.

    Returns:
        A `ProgressBar` on a terminal, otherwise `EpochLines`.
    """
    return ProgressBar(label=label) if stderr_is_terminal() else EpochLines(label=label)


def job_progress(progress: bool | None, member: int = 0, members: int = 1) -> bool | str:
    """The Trainer's ``progress`` for a job's ``fit(progress=...)``.

    Args:
        progress: The job's argument: ``None`` shows progress only when standard
            error is a terminal (scripts, doctests and tests stay quiet), ``True``
            always (a line per epoch when not on a terminal), ``False`` never.
        member: The ensemble member being trained (0-based).
        members: How many members the ensemble has; above 1 the member is named.

    Returns:
        ``False``, ``True``, or a label such as ``"member 2/5"``.

    >>> job_progress(False), job_progress(True), job_progress(True, member=1, members=5)
    (False, True, 'member 2/5')
    """
    if progress is None:
        progress = stderr_is_terminal()
    if not progress:
        return False
    return f"member {member + 1}/{members}" if members > 1 else True


class EpochLines(Callback):
    """One plain line per epoch on standard error, for logs and pipes.

    ``epoch 3/30  train_loss 0.1234  val_loss 0.2345  1.2 s``, preceded by the
    label when there is one (``member 2/5  epoch 3/30  ...``); the validation loss
    only when there is validation data.

    Args:
        label: Text before the epoch, e.g. the ensemble member.

    >>> lines = EpochLines(label="member 1/3")
    """

    def __init__(self, label: str | None = None):
        self.label = label

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        print(format_epoch(logs, trainer.config.max_epochs, self.label), file=sys.stderr, flush=True)


def format_epoch(logs: dict[str, Any], max_epochs: int, label: str | None = None) -> str:
    """The `EpochLines` line for one epoch's logs.

    >>> format_epoch({"epoch": 3, "train_loss": 0.12341, "val_loss": 0.23449, "seconds": 1.23}, 30)
    'epoch 3/30  train_loss 0.1234  val_loss 0.2345  1.2 s'
    """
    parts = [label] if label else []
    parts += [f"epoch {logs['epoch']}/{max_epochs}", f"train_loss {logs['train_loss']:.4f}"]
    if logs.get("val_loss") is not None:
        parts.append(f"val_loss {logs['val_loss']:.4f}")
    parts.append(f"{logs['seconds']:.1f} s")
    return "  ".join(parts)


class ProgressBar(Callback):
    """A rich progress display for the whole fit: epoch k/N, losses and the time left.

    The bar counts batches over all ``max_epochs`` (epochs when the number of
    batches is unknown), so its time remaining is an upper bound when early
    stopping ends the fit sooner. It stays on screen when the fit ends, one line
    per fit (per ensemble member). When the console is not a terminal nothing is
    drawn: use `EpochLines` there (`progress_callback` picks between the two).

    Args:
        console: The rich console to draw on (default: standard error).
        label: Text before the epoch, e.g. ``"member 2/5"``.
    """

    def __init__(self, console: Console | None = None, label: str | None = None):
        self.console = console or Console(stderr=True)
        self.label = label
        self._progress: Progress | None = None
        self._task: Any = None
        self._status = ""

    def on_fit_start(self, trainer: Trainer) -> None:
        if not self.console.is_terminal:
            return
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[status]}"),
            console=self.console,
        )
        # counted in batches when an epoch's length is known, else in epochs
        steps = trainer.steps_per_epoch or 1
        done = trainer.epoch * steps
        self._status = _epoch_status(trainer.history[-1]) if trainer.history else ""
        self._task = self._progress.add_task(
            self._description(trainer, trainer.epoch + 1),
            total=trainer.config.max_epochs * steps,
            completed=done,
            status=self._status,
        )
        self._progress.start()

    def on_epoch_start(self, trainer: Trainer, epoch: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=self._description(trainer, epoch))

    def on_batch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        if self._progress is not None and trainer.steps_per_epoch:
            status = f"loss {logs['loss']:.4g}" + (f"  {self._status}" if self._status else "")
            self._progress.update(self._task, advance=1, status=status)

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        if self._progress is not None:
            self._status = _epoch_status(logs)
            # an epoch cut short (or of unknown length) still moves the bar to its end
            self._progress.update(
                self._task, completed=logs["epoch"] * (trainer.steps_per_epoch or 1), status=self._status
            )

    def on_fit_end(self, trainer: Trainer, history: list[dict[str, Any]]) -> None:
        if self._progress is not None:
            # ended early (early stopping, a budget): show it finished
            self._progress.update(self._task, total=self._progress.tasks[0].completed)
        self._stop()

    def on_exception(self, trainer: Trainer, error: BaseException) -> None:
        self._stop()

    def _description(self, trainer: Trainer, epoch: int) -> str:
        text = f"epoch {min(epoch, trainer.config.max_epochs)}/{trainer.config.max_epochs}"
        return f"{self.label}  {text}" if self.label else text

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _epoch_status(logs: dict[str, Any]) -> str:
    status = f"train_loss {logs['train_loss']:.4g}"
    if logs.get("val_loss") is not None:
        status += f"  val_loss {logs['val_loss']:.4g}"
    return status


class TrainingBudget(Callback):
    """Ends training after ``steps`` optimiser steps or ``seconds``, annealing the learning rate to that end.

    The language model and the translator train with it; their batch iterators read
    ``budget.spent`` to end an epoch early.

    The planned steps are ``steps`` or, when fewer, ``max_epochs`` times the
    batches per epoch. The epoch in progress stops once the budget is spent (its
    batches run out), then the fit stops. Meanwhile the rate follows a cosine from
    its start value down to 5% of it, by the share of the budget used (steps or
    time, whichever is further along): a run that must end at a fixed point gains
    most from finishing with small steps.
    """

    def __init__(self, batches: Any, steps: int | None = None, seconds: float | None = None):
        # ``batches``: re-iterable batches whose ``budget`` attribute ends an epoch early
        self.batches, self.max_steps, self.seconds = batches, steps, seconds
        self.steps: int | None = None  # the planned steps, known when the fit starts
        self.start = 0.0
        self.elapsed = 0.0  # seconds spent before a resume
        self.base_lr: list[float] = []
        self.trainer: Any = None

    # trainer left untyped: its steps_per_epoch is None for unsized data, which max_steps does not handle yet
    def on_fit_start(self, trainer) -> None:
        self.trainer = trainer
        self.start = _clock() - self.elapsed
        if self.max_steps is not None:
            self.steps = min(self.max_steps, trainer.config.max_epochs * trainer.steps_per_epoch)
        if not self.base_lr:  # after a resume the optimiser holds the annealed rate, not the starting one
            self.base_lr = [group["lr"] for group in trainer.optimizer.param_groups]
        self.batches.budget = self

    def state_dict(self) -> dict[str, Any]:
        return {"base_lr": list(self.base_lr), "elapsed": _clock() - self.start if self.trainer else self.elapsed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.base_lr = [float(lr) for lr in state["base_lr"]]
        self.elapsed = float(state["elapsed"])

    @property
    def progress(self) -> float:
        """Share of the budget used, in [0, 1]: of the steps or of the time, whichever is larger."""
        done = 0.0
        if self.steps is not None:
            done = self.trainer.global_step / self.steps
        if self.seconds is not None:
            done = max(done, (_clock() - self.start) / self.seconds)
        return min(done, 1.0)

    @property
    def spent(self) -> bool:
        """Whether training should end: all planned steps taken, or the time is up."""
        return self.progress >= 1.0

    def on_batch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        factor = 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * self.progress))
        for group, lr in zip(trainer.optimizer.param_groups, self.base_lr):
            group["lr"] = lr * factor

    def on_epoch_end(self, trainer: Trainer, logs: dict[str, Any]) -> None:
        if self.spent:
            trainer.stop_training = True

    def on_fit_end(self, trainer: Trainer, history: list[dict[str, Any]]) -> None:
        self._release()

    def on_exception(self, trainer: Trainer, error: BaseException) -> None:
        self._release()

    def _release(self) -> None:
        self.batches.budget = None
        self.trainer = None


def _clock() -> float:
    """Seconds, for the time budget (a function the tests can replace with a fake clock)."""
    return time.perf_counter()
