"""`Trainer`: a readable training loop on plain PyTorch.

The loop, top to bottom::

    for epoch in epochs:
        for batch in train_data:                        # this rank's share under DDP
            loss = loss_fn(model(*batch[:-1]), batch[-1])   # or compute_loss(model, batch)
            loss.backward(); check finite; clip; optimizer.step(); per-batch schedule
        val_loss = evaluate(val_data)                  # averaged over ranks
        plateau schedule; history row; callbacks (early stopping, metrics log, progress)
        checkpoint (rank 0)

With ``tbptt_steps=k`` (or ``carry_state=True``) a batch ``(x, y)`` is cut into
chunks of ``k`` time steps and the model is called ``model(x_chunk, state) ->
(pred, state)``; the state goes from chunk to chunk, detached at each boundary,
with one optimiser step per chunk. ``carry_state=True`` also carries it from batch
to batch within an epoch (a stateful stream), and resets it at each epoch start.

The Trainer knows nothing about applications: a model, a loss, batches, callbacks.
"""

from __future__ import annotations

import math
import os
import secrets
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, IterableDataset

from lstmkit.errors import CheckpointError, ConfigError, TrainingError
from lstmkit.train import checkpoint as ckpt_io
from lstmkit.train.batches import (
    batch_size,
    data_generators,
    detach_state,
    guess_fingerprint,
    set_sampler_epoch,
    split_sequence_batch,
    to_device,
)
from lstmkit.train.callbacks import (
    Callback,
    EarlyStopping,
    MetricsLogger,
    progress_callback,
)
from lstmkit.train.config import TrainerConfig
from lstmkit.train.distributed import (
    ShardedBatches,
    all_reduce_sum,
    barrier,
    broadcast_int,
    distributed_loader,
    has_distributed_sampler,
    init_distributed,
    wrap_model,
)
from lstmkit.train.optim import PER_BATCH_SCHEDULES, build_optimizer, build_scheduler
from lstmkit.train.seeding import get_rng_state, seed_everything, set_rng_state

__all__ = ["Trainer", "TrainerConfig"]

LossFn = Callable[[Any, Any], Tensor]


class Trainer:
    """Fit a model with a loss on batches: the loop, with the options people expect.

    Args:
        model: The ``nn.Module`` to train (moved to ``device``).
        loss_fn: ``loss_fn(pred, target) -> scalar tensor``, mean-reduced over the batch.
        optimizer: ``"adam"``, ``"adamw"``, ``"rmsprop"`` or ``"sgd"``.
        lr: Learning rate (the peak rate for the ``"onecycle"`` schedule).
        weight_decay: L2 penalty (decoupled for ``"adamw"``).
        momentum: Momentum for ``"sgd"`` and ``"rmsprop"``.
        schedule: ``"plateau"`` (per epoch, on the validation loss), ``"cosine"`` or
            ``"onecycle"`` (per batch, over ``max_epochs``), or ``None``.
        schedule_options: Extra arguments for the torch scheduler
            (e.g. ``{"factor": 0.5, "patience": 2}`` for ``"plateau"``).
        clip_grad_norm: Clip the global gradient norm to this value before each
            step; ``None`` disables clipping.
        max_epochs: Epochs to train (counting epochs done before a resume).
        patience: Early stopping on the validation loss after this many epochs
            without improvement; ``None`` disables it. Needs ``val_data``.
        min_delta: Smallest decrease of the validation loss that counts.
        restore_best: With early stopping, end with the best epoch's weights.
        seed: Seed Python, NumPy and torch when a fresh fit starts (shuffling,
            dropout). Seed model initialisation yourself with `seed_everything`.
        tbptt_steps: Truncated BPTT chunk length ``k`` (see the module docstring).
        carry_state: Carry the detached recurrent state across the batches of an
            epoch (stateful streams); every batch must then have the same size.
        batch_size: Per-process batch size, used only when ``fit`` is given a
            ``Dataset`` rather than batches.
        steps_per_epoch: Batches per epoch, for the per-batch schedules when the
            training data has no ``len()``.
        compute_loss: ``compute_loss(model, batch) -> loss`` for batches that are not
            ``(inputs..., target)``; replaces the default call.
        callbacks: `Callback` objects, called in order after the built-in early stopping.
        progress: Show progress on standard error (rank 0 only): ``True`` draws a rich
            `ProgressBar` on a terminal and prints one `EpochLines` line per epoch
            otherwise; a string does the same with it as a label before the epoch
            (``"member 2/5"``); ``False`` is silent.
        log_dir: Write ``metrics.csv`` and ``metrics.json`` here after every epoch.
        checkpoint_dir: Save a checkpoint here at the end of every epoch.
        device: Where to train; default CUDA when available. Under DDP each rank
            uses the device its backend needs.
        distributed: Join a ``torchrun`` process group when the environment describes
            one (``WORLD_SIZE`` > 1); ``False`` never does.

    Attributes:
        model: The model being trained (never the DDP wrapper).
        optimizer: The torch optimiser.
        scheduler: The torch scheduler (built when ``fit`` starts), or ``None``.
        history: One dict per epoch: ``epoch``, ``train_loss``, ``val_loss``,
            ``lr`` (at the epoch's start), ``seconds``.
        epoch: Epochs completed.
        global_step: Optimiser steps taken (one per batch, or per chunk with TBPTT).
        stop_training: Set by a callback to end the fit after the current epoch
            (under DDP, a stop on any rank stops every rank).

    >>> model = nn.Linear(1, 1)
    >>> x = torch.linspace(-1, 1, 32).unsqueeze(1)
    >>> batches = [(x[i:i + 8], 3 * x[i:i + 8]) for i in range(0, 32, 8)]
    >>> trainer = Trainer(model, nn.MSELoss(), lr=0.1, max_epochs=30, seed=0)
    >>> history = trainer.fit(batches)  # doctest: +SKIP
    >>> history[-1]["train_loss"] < 0.01 * history[0]["train_loss"]  # doctest: +SKIP
    True
    """

    def __init__(
        self,
        model: nn.Module,
        loss_fn: LossFn | None = None,
        *,
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        schedule: str | None = None,
        schedule_options: dict[str, Any] | None = None,
        clip_grad_norm: float | None = 1.0,
        max_epochs: int = 10,
        patience: int | None = None,
        min_delta: float = 0.0,
        restore_best: bool = True,
        seed: int | None = None,
        tbptt_steps: int | None = None,
        carry_state: bool = False,
        batch_size: int = 32,
        steps_per_epoch: int | None = None,
        compute_loss: Callable[[nn.Module, Any], Tensor] | None = None,
        callbacks: Sequence[Callback] = (),
        progress: bool | str = True,
        log_dir: str | os.PathLike | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        device: str | torch.device | None = None,
        distributed: bool = True,
    ):
        self.config = TrainerConfig(
            optimizer=optimizer,
            lr=lr,
            weight_decay=weight_decay,
            momentum=momentum,
            schedule=schedule,
            schedule_options=dict(schedule_options or {}),
            clip_grad_norm=clip_grad_norm,
            max_epochs=max_epochs,
            patience=patience,
            min_delta=min_delta,
            restore_best=restore_best,
            seed=seed,
            tbptt_steps=tbptt_steps,
            carry_state=carry_state,
            batch_size=batch_size,
            steps_per_epoch=steps_per_epoch,
        )
        if not isinstance(model, nn.Module):
            raise ConfigError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if compute_loss is None and not callable(loss_fn):
            raise ConfigError("give a loss_fn(pred, target) or a compute_loss(model, batch); got neither")
        if compute_loss is not None and self._stateful:
            raise ConfigError(
                "compute_loss cannot be combined with tbptt_steps/carry_state: the chunked loop calls "
                "model(x_chunk, state) -> (pred, state) and loss_fn(pred, y_chunk) itself"
            )
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise ConfigError(f"callbacks must be Callback instances, got {type(cb).__name__}")
        self.loss_fn = loss_fn
        self.compute_loss = compute_loss
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None

        self.dist = init_distributed() if distributed else None
        if self.dist is not None:
            self.device = self.dist.device
        else:
            default = "cuda" if torch.cuda.is_available() else "cpu"
            self.device = torch.device(device if device is not None else default)
        self.model = model.to(self.device)
        self._net = wrap_model(self.model, self.dist)  # forward passes in training go through DDP
        self.optimizer = build_optimizer(
            optimizer, self.model.parameters(), lr=lr, weight_decay=weight_decay, momentum=momentum
        )
        self.scheduler: Any = None
        # every rank must shuffle alike: without a seed, rank 0 draws one for all
        self._seed = seed
        if seed is None and self.dist is not None:
            self._seed = broadcast_int(secrets.randbelow(2**31), self.dist)

        self.callbacks: list[Callback] = []
        if patience is not None:
            self.callbacks.append(EarlyStopping(patience, min_delta, monitor="val_loss", restore_best=restore_best))
        self.callbacks += list(callbacks)
        if log_dir is not None and self.is_main:
            self.callbacks.append(MetricsLogger(log_dir))
        if not isinstance(progress, (bool, str)):
            raise ConfigError(f"progress must be True, False or a label (str), got {progress!r}")
        if progress is not False and self.is_main:
            self.callbacks.append(progress_callback(progress if isinstance(progress, str) else None))

        self.epoch = 0
        self.global_step = 0
        self.history: list[dict[str, Any]] = []
        self.stop_training = False
        self.steps_per_epoch: int | None = None
        self.data_fingerprint: str | None = None
        self._train_data: Any = None
        self._pending: ckpt_io.Checkpoint | None = None  # restored when fit starts

    # ------------------------------------------------------------------ public API

    @property
    def is_main(self) -> bool:
        """Whether this process writes files and shows progress (rank 0, or no DDP)."""
        return self.dist is None or self.dist.is_main

    @property
    def lr(self) -> float:
        """The current learning rate of the first parameter group."""
        return float(self.optimizer.param_groups[0]["lr"])

    def fit(
        self,
        train_data: Iterable[Any] | Dataset,
        val_data: Iterable[Any] | Dataset | None = None,
        *,
        resume_from: str | os.PathLike | None = None,
        data_fingerprint: str | None = None,
    ) -> list[dict[str, Any]]:
        """Train until ``max_epochs`` or early stopping.

        Args:
            train_data: Re-iterable batches (a list, a ``DataLoader``) or a
                ``Dataset`` (batched with ``batch_size``). A batch is a tuple whose
                last element is the target.
            val_data: The same, for validation (needed by ``patience`` and used by
                ``"plateau"``).
            resume_from: A checkpoint directory to continue from exactly.
            data_fingerprint: Stored in checkpoints; by default computed with
                `fingerprint` when the data are tensors in memory.

        Returns:
            The history: one dict per epoch (including epochs before a resume).

        Raises:
            TrainingError: A loss or gradient became NaN or Inf.
            ConfigError: The data or options do not fit together.
            CheckpointError: ``resume_from`` is missing, corrupt or does not fit.
        """
        if resume_from is not None:
            self.load_checkpoint(resume_from)
        train = self._prepare(train_data, "train_data", train=True)
        val = self._prepare(val_data, "val_data", train=False)
        if self.config.patience is not None and val is None:
            raise ConfigError(f"patience={self.config.patience} (early stopping) needs val_data; none was given")
        self._train_data = train
        self.steps_per_epoch = self._count_batches(train)
        self._note_fingerprint(train_data, data_fingerprint)
        if self.scheduler is None and self.config.schedule is not None:
            self.scheduler = self._build_scheduler()
        if self._pending is not None:
            self._restore_at_fit_start(self._pending)
            self._pending = None
        elif self.epoch == 0 and self._seed is not None:
            seed_everything(self._seed)

        self.stop_training = False
        try:
            self._call("on_fit_start")
            while self.epoch < self.config.max_epochs and not self.stop_training:
                self._run_epoch(train, val)
            self._call("on_fit_end", self.history)
        except BaseException as error:
            for cb in self.callbacks:
                cb.on_exception(self, error)
            raise
        return [dict(row) for row in self.history]

    @torch.no_grad()
    def evaluate(self, data: Iterable[Any] | Dataset) -> float:
        """Mean loss over ``data`` in eval mode, weighted by batch size (averaged over ranks).

        Args:
            data: Batches or a ``Dataset``, as for ``fit``.

        Returns:
            The mean loss.
        """
        batches = self._prepare(data, "data", train=False)
        was_training = self.model.training
        self.model.eval()
        total, weight = 0.0, 0.0
        state, rows = None, None
        try:
            for index, batch in enumerate(batches, start=1):
                batch = to_device(batch, self.device)
                if not self._stateful:
                    n = batch_size(batch)
                    total += float(self._batch_loss(self.model, batch, f"data batch {index}")) * n
                    weight += n
                    continue
                x, y = split_sequence_batch(batch, f"data batch {index}")
                state, rows = self._check_carry(state, rows, x, f"data batch {index}")
                for x_chunk, y_chunk in self._chunks(x, y):
                    pred, state = self.model(x_chunk, state)
                    total += float(self._pred_loss(pred, y_chunk)) * y_chunk.shape[0] * y_chunk.shape[1]
                weight += y.shape[0] * y.shape[1]
        finally:
            self.model.train(was_training)
        total, weight = all_reduce_sum([total, weight], self.dist)
        if weight == 0:
            raise ConfigError("the evaluation data yielded no batches")
        return total / weight

    def save_checkpoint(self, path: str | os.PathLike, metadata: dict[str, Any] | None = None) -> Path:
        """Save everything needed to resume exactly, atomically (any rank that calls it writes).

        Args:
            path: The checkpoint directory (replaced if it is one already).
            metadata: Extra JSON-serialisable facts to store.

        Returns:
            The directory written.
        """
        training_state = {
            "epoch": self.epoch,
            "global_step": self.global_step,
            "history": self.history,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "rng": get_rng_state(),
            "data_generators": [g.get_state() for g in data_generators(self._train_data)],
            "callbacks": self._callback_states(),
        }
        meta = {
            "epoch": self.epoch,
            "global_step": self.global_step,
            "data_fingerprint": self.data_fingerprint,
            "metrics": self.history[-1] if self.history else {},
            **(metadata or {}),
        }
        return ckpt_io.save_checkpoint(path, self.model, training_state, {"trainer": self.config.to_dict()}, meta)

    def load_checkpoint(self, path: str | os.PathLike) -> None:
        """Load a checkpoint into this trainer; the next ``fit`` continues from it exactly.

        Model weights, optimiser state, callbacks, epoch, step and history are
        restored now; the scheduler, RNG states and data-loader generators when
        ``fit`` starts (the scheduler is built there, and nothing in between should
        draw random numbers).

        Raises:
            CheckpointError: Missing or corrupt files, or a checkpoint that does not
                fit this model or these options.
        """
        self._load(ckpt_io.load_checkpoint(path))

    def _load(self, ckpt: ckpt_io.Checkpoint) -> None:
        saved = ckpt.config.get("trainer", {})
        for name in ("optimizer", "schedule"):
            if saved.get(name) != getattr(self.config, name):
                raise CheckpointError(
                    f"{ckpt.path / ckpt_io.CONFIG_FILE}: the checkpoint was trained with {name}={saved.get(name)!r}, "
                    f"this trainer has {name}={getattr(self.config, name)!r}"
                )
        if self.config.schedule in PER_BATCH_SCHEDULES and saved.get("max_epochs") != self.config.max_epochs:
            raise CheckpointError(
                f"{ckpt.path}: the {self.config.schedule!r} schedule was built for "
                f"max_epochs={saved.get('max_epochs')}; "
                f"resuming with max_epochs={self.config.max_epochs} would not continue it"
            )
        state = ckpt.training_state
        assert state is not None  # load_checkpoint refuses a directory without training state
        ckpt_io.check_trainer_state(ckpt.path / ckpt_io.STATE_JSON_FILE, state)
        try:
            self.model.load_state_dict(ckpt.state_dict)
            self.optimizer.load_state_dict(state["optimizer"])
            self._load_callback_states(state["callbacks"])
        except (RuntimeError, ValueError, KeyError, TypeError) as e:
            raise CheckpointError(f"{ckpt.path} does not fit this model/trainer: {e}") from None
        self.epoch, self.global_step = state["epoch"], state["global_step"]
        self.history = [dict(row) for row in state["history"]]
        self._pending = ckpt

    @classmethod
    def resume(
        cls, path: str | os.PathLike, model: nn.Module, loss_fn: LossFn | None = None, **options: Any
    ) -> Trainer:
        """A Trainer built with a checkpoint's saved options, loaded from it.

        Args:
            path: The checkpoint directory.
            model: A fresh model of the same architecture (its weights are replaced).
            loss_fn: The loss (functions are not saved).
            **options: Trainer arguments to add or override (``callbacks``,
                ``log_dir``, ``checkpoint_dir``, ``compute_loss``, ...).

        Returns:
            The Trainer; call ``fit(train_data, val_data)`` to continue.

        >>> # trainer = Trainer.resume("runs/ckpt", MyModel(), nn.MSELoss()); trainer.fit(train, val)
        """
        ckpt = ckpt_io.load_checkpoint(path)
        try:
            saved = TrainerConfig.from_dict(ckpt.config.get("trainer", {}))
        except ConfigError as e:
            raise CheckpointError(f"{ckpt.path / ckpt_io.CONFIG_FILE}: {e}") from None
        trainer = cls(model, loss_fn, **{**saved.to_dict(), **options})
        trainer._load(ckpt)
        return trainer

    # ------------------------------------------------------------------ the loop

    @property
    def _stateful(self) -> bool:
        return self.config.tbptt_steps is not None or self.config.carry_state

    def _run_epoch(self, train: Iterable[Any], val: Iterable[Any] | None) -> None:
        epoch = self.epoch + 1
        started = time.perf_counter()
        lr = self.lr
        set_sampler_epoch(train, self.epoch)
        self._call("on_epoch_start", epoch)
        train_loss = self._train_epoch(train, epoch)
        val_loss = self.evaluate(val) if val is not None else None
        if self.config.schedule == "plateau":
            self.scheduler.step(val_loss if val_loss is not None else train_loss)
        self.epoch = epoch
        logs = {
            "epoch": epoch,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "lr": lr,
            "seconds": time.perf_counter() - started,
        }
        self.history.append(logs)
        self._call("on_epoch_end", logs)
        if self.dist is not None:  # a callback on any rank may stop: every rank must stop together
            self.stop_training = all_reduce_sum([float(self.stop_training)], self.dist)[0] > 0
        if self.checkpoint_dir is not None:
            if self.is_main:
                self.save_checkpoint(self.checkpoint_dir)
            barrier(self.dist)

    def _train_epoch(self, train: Iterable[Any], epoch: int) -> float:
        self._net.train()
        total, weight = 0.0, 0.0
        state, rows = None, None  # the carried recurrent state and its batch size
        for index, batch in enumerate(train, start=1):
            batch = to_device(batch, self.device)
            if self._stateful:
                x, y = split_sequence_batch(batch, f"train_data batch {index}")
                state, rows = self._check_carry(state, rows, x, f"train_data batch {index}")
                loss_sum, n, state = self._train_sequence_batch(x, y, state, epoch, index)
            else:
                loss = self._batch_loss(self._net, batch, f"train_data batch {index}")
                n = batch_size(batch)
                loss_sum = self._optimizer_step(loss, epoch, index) * n
            total += loss_sum
            weight += n
            self._call("on_batch_end", {"epoch": epoch, "batch": index, "step": self.global_step, "loss": loss_sum / n})
            if self.config.schedule in PER_BATCH_SCHEDULES:
                self.scheduler.step()
        total, weight = all_reduce_sum([total, weight], self.dist)
        if weight == 0:
            raise ConfigError(f"train_data yielded no batches in epoch {epoch} (on every rank, under DDP)")
        return total / weight

    def _train_sequence_batch(self, x: Tensor, y: Tensor, state: Any, epoch: int, index: int) -> tuple[float, int, Any]:
        B, T = y.shape[:2]  # batch, time
        total = 0.0
        for chunk, (x_chunk, y_chunk) in enumerate(self._chunks(x, y), start=1):
            # the state enters each chunk detached: gradients stop at the chunk boundary
            pred, state = self._net(x_chunk, detach_state(state))
            loss = self._pred_loss(pred, y_chunk)
            total += self._optimizer_step(loss, epoch, index, chunk) * B * y_chunk.shape[1]
        return total, B * T, detach_state(state)

    def _chunks(self, x: Tensor, y: Tensor) -> Iterator[tuple[Tensor, Tensor]]:
        T = x.shape[1]
        k = self.config.tbptt_steps or T
        for start in range(0, T, k):
            yield x[:, start : start + k], y[:, start : start + k]

    def _check_carry(self, state: Any, rows: int | None, x: Tensor, where: str) -> tuple[Any, int | None]:
        """The state to start a batch with: the carried one, or ``None`` when not carrying."""
        if not self.config.carry_state:
            return None, None
        if rows is not None and x.shape[0] != rows:
            raise ConfigError(
                f"{where}: carry_state=True needs every batch to have the same batch size; got {x.shape[0]} "
                f"after {rows} (drop the last, smaller batch: DataLoader(..., drop_last=True))"
            )
        return state, x.shape[0]

    def _batch_loss(self, model: nn.Module, batch: Any, where: str) -> Tensor:
        if self.compute_loss is not None:
            return self.compute_loss(model, batch)
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            raise ConfigError(
                f"{where}: expected a tuple (inputs..., target), got a {type(batch).__name__}; "
                "pass compute_loss=fn(model, batch) for batches of other shapes"
            )
        return self._pred_loss(model(*batch[:-1]), batch[-1])

    def _pred_loss(self, pred: Any, target: Any) -> Tensor:
        assert self.loss_fn is not None  # __init__ requires a loss_fn whenever compute_loss is None
        return self.loss_fn(pred, target)

    def _optimizer_step(self, loss: Tensor, epoch: int, batch: int, chunk: int = 1) -> float:
        """Backward, check, clip, step; returns the loss as a float."""
        if not isinstance(loss, Tensor) or loss.dim() != 0:
            found = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
            raise ConfigError(f"the loss must be a scalar tensor, got {found} at epoch {epoch}, batch {batch}")
        self.optimizer.zero_grad(set_to_none=True)
        # backward before the checks: under DDP every rank must join the gradient all-reduce
        loss.backward()
        self.global_step += 1
        where = f"epoch {epoch}, step {self.global_step} (batch {batch}"
        where += f", chunk {chunk})" if self._stateful else ")"
        loss_value = float(loss.detach())
        if not math.isfinite(loss_value):
            raise TrainingError(
                f"the loss is {loss_value} at {where}; check the data for NaN/Inf values, "
                "lower the learning rate, or keep gradient clipping on"
            )
        params = [p for p in self.model.parameters() if p.grad is not None]
        if self.config.clip_grad_norm is not None:
            norm = nn.utils.clip_grad_norm_(params, self.config.clip_grad_norm)
        else:
            norm = _total_norm([p.grad for p in params if p.grad is not None])
        grad_norm = float(norm)
        if not math.isfinite(grad_norm):
            raise TrainingError(
                f"the gradient norm is {grad_norm} at {where} while the loss was finite ({loss_value:.6g}); "
                "look for operations with unbounded derivatives (sqrt, log, division near 0) or lower the learning rate"
            )
        logs = {
            "epoch": epoch,
            "batch": batch,
            "chunk": chunk,
            "step": self.global_step,
            "loss": loss_value,
            "grad_norm": grad_norm,
        }
        self._call("on_before_optimizer_step", logs)
        self.optimizer.step()
        return loss_value

    def _call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(self, *args)

    # ------------------------------------------------------------------ data and state

    def _prepare(self, data: Any, name: str, train: bool) -> Any:
        """Turn what the user gave into re-iterable batches: this rank's share under DDP."""
        if data is None or isinstance(data, ShardedBatches):
            return data
        if isinstance(data, Dataset) and not isinstance(data, IterableDataset):
            return distributed_loader(data, self.config.batch_size, self.dist, shuffle=train, seed=self._seed or 0)
        if isinstance(data, IterableDataset):
            data = DataLoader(data, batch_size=self.config.batch_size)
        if isinstance(data, Iterator) or not isinstance(data, Iterable):
            raise ConfigError(
                f"{name} must be re-iterable each epoch (a list of batches, a DataLoader or a Dataset), "
                f"got {'a one-shot iterator' if isinstance(data, Iterator) else 'a'} {type(data).__name__}"
            )
        if self.dist is not None and not has_distributed_sampler(data):
            # a validation tail is kept: evaluation has no per-batch collectives
            data = ShardedBatches(data, self.dist.rank, self.dist.world_size, drop_tail=train)
        return data

    def _count_batches(self, train: Any) -> int | None:
        try:
            return len(train)
        except TypeError:
            if self.config.steps_per_epoch is None and self.config.schedule in PER_BATCH_SCHEDULES:
                raise ConfigError(
                    f"schedule {self.config.schedule!r} needs the number of batches per epoch, but train_data "
                    f"({type(train).__name__}) has no len(); pass steps_per_epoch="
                ) from None
            return self.config.steps_per_epoch

    def _build_scheduler(self) -> Any:
        steps = self.steps_per_epoch
        total = steps * self.config.max_epochs if steps is not None else None
        options = self.config.schedule_options
        return build_scheduler(self.config.schedule, self.optimizer, total_steps=total, options=options)

    def _note_fingerprint(self, train_data: Any, given: str | None) -> None:
        found = given if given is not None else guess_fingerprint(train_data)
        pending = self._pending
        saved = pending.metadata.get("data_fingerprint") if pending is not None else None
        if found is not None and pending is not None and saved is not None and found != saved:
            warnings.warn(
                f"resuming from {pending.path} on different training data (fingerprint {found[:12]}..., "
                f"the checkpoint's is {saved[:12]}...): the run will not match an uninterrupted one",
                stacklevel=3,
            )
        self.data_fingerprint = found if found is not None else saved

    def _restore_at_fit_start(self, ckpt: ckpt_io.Checkpoint) -> None:
        state = ckpt.training_state
        assert state is not None  # load_checkpoint refuses a directory without training state
        # again, after the scheduler's constructor has written its first lr into the groups
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None:
            if state["scheduler"] is None:
                raise CheckpointError(f"{ckpt.path} holds no scheduler state for schedule {self.config.schedule!r}")
            self.scheduler.load_state_dict(state["scheduler"])
        generators = data_generators(self._train_data)
        if len(generators) == len(state["data_generators"]):
            for gen, gen_state in zip(generators, state["data_generators"]):
                gen.set_state(gen_state)
        else:
            warnings.warn(
                f"{ckpt.path} saved {len(state['data_generators'])} data-loader generator(s), train_data has "
                f"{len(generators)}: shuffling will not continue exactly",
                stacklevel=3,
            )
        try:
            set_rng_state(state["rng"])
        except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as e:
            where = ckpt.path / ckpt_io.STATE_JSON_FILE
            raise CheckpointError(f"{where}: the saved random generator states: {e}") from None

    def _callback_states(self) -> dict[str, Any]:
        states = {}
        for key, cb in self._keyed_callbacks():
            state = cb.state_dict()
            if state:
                states[key] = state
        return states

    def _load_callback_states(self, states: dict[str, Any]) -> None:
        for key, cb in self._keyed_callbacks():
            if key in states:
                cb.load_state_dict(states[key])

    def _keyed_callbacks(self) -> list[tuple[str, Callback]]:
        """Callbacks keyed ``"ClassName#n"`` (n-th of its class), stable across runs."""
        counts: dict[str, int] = {}
        keyed = []
        for cb in self.callbacks:
            name = type(cb).__name__
            keyed.append((f"{name}#{counts.get(name, 0)}", cb))
            counts[name] = counts.get(name, 0) + 1
        return keyed


def _total_norm(grads: list[Tensor]) -> Tensor:
    """The global 2-norm of all gradients, as ``clip_grad_norm_`` measures it."""
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach()) for g in grads]))
