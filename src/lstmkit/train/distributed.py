"""Data-parallel training across processes (``torchrun``), with the same Trainer loop.

Launch a script that builds a `Trainer` with ``torchrun --nproc_per_node N
script.py``: the Trainer reads ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``, joins the
process group (gloo on CPU, nccl on GPU), wraps the model in
``DistributedDataParallel``, gives each rank its share of the batches, averages
the losses it reports across ranks, and lets only rank 0 write logs and
checkpoints and show progress.

How batches are shared:

* a ``Dataset``: the Trainer makes a ``DataLoader`` with a ``DistributedSampler``
  (``batch_size`` per process); the sampler is told the epoch so shuffles differ;
* a ``DataLoader`` that already has a ``DistributedSampler``: used as it is;
* any other re-iterable of batches: rank ``r`` takes batches ``r, r + N, r + 2N...``
  (`ShardedBatches`). For training, a last group of fewer than ``N`` batches is
  dropped, so that every rank takes the same number of optimiser steps. Every rank
  must see the same sequence of batches: the Trainer seeds all ranks alike.

With a mean-reduced loss and equal per-rank batch sizes, one DDP step on N shards
equals one single-process step on their union (DDP averages the gradients).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sized
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    DistributedSampler,
    RandomSampler,
    SequentialSampler,
    TensorDataset,
)

from lstmkit.errors import ConfigError

__all__ = [
    "DistContext",
    "env_ranks",
    "init_distributed",
    "shutdown_distributed",
    "ShardedBatches",
    "distributed_loader",
    "has_distributed_sampler",
    "all_reduce_sum",
    "broadcast_int",
    "barrier",
    "wrap_model",
]


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in a data-parallel run.

    Attributes:
        rank: This process's rank, ``0 <= rank < world_size``.
        world_size: Number of processes.
        local_rank: Rank on this machine (picks the GPU).
        backend: ``"gloo"`` or ``"nccl"``.
        device: The device this rank trains on.
    """

    rank: int
    world_size: int
    local_rank: int
    backend: str
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0, the one that writes files and shows progress."""
        return self.rank == 0


def env_ranks(environ: Mapping[str, str] | None = None) -> tuple[int, int, int] | None:
    """Read ``(rank, world_size, local_rank)`` from the environment ``torchrun`` sets.

    Args:
        environ: The environment to read (default ``os.environ``).

    Returns:
        The three ranks, or ``None`` when ``WORLD_SIZE`` is unset.

    Raises:
        ConfigError: The variables are not integers or are inconsistent.

    >>> env_ranks({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1"})
    (1, 2, 1)
    >>> env_ranks({}) is None
    True
    """
    environ = os.environ if environ is None else environ
    if "WORLD_SIZE" not in environ:
        return None
    values = {}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        raw = environ.get(name, "0")
        try:
            values[name] = int(raw)
        except ValueError:
            raise ConfigError(f"environment variable {name} must be an integer, got {raw!r}") from None
    rank, world, local = values["RANK"], values["WORLD_SIZE"], values["LOCAL_RANK"]
    if world < 1 or not 0 <= rank < world or local < 0:
        raise ConfigError(f"inconsistent distributed environment: RANK={rank}, WORLD_SIZE={world}, LOCAL_RANK={local}")
    return rank, world, local


def init_distributed(backend: str | None = None) -> DistContext | None:
    """Join the process group described by the environment, if there is one.

    Uses an already initialised process group as it is. Otherwise, when
    ``WORLD_SIZE`` is greater than 1, initialises one from ``MASTER_ADDR``/
    ``MASTER_PORT`` (set by ``torchrun``) with ``backend``: default nccl when CUDA
    is available, gloo otherwise.

    Args:
        backend: ``"gloo"``, ``"nccl"`` or ``None`` for the default.

    Returns:
        The `DistContext`, or ``None`` for a single-process run.
    """
    if dist.is_available() and dist.is_initialized():
        backend = dist.get_backend()
        rank, world = dist.get_rank(), dist.get_world_size()
        local = (env_ranks() or (rank, world, rank))[2]
    else:
        ranks = env_ranks()
        if ranks is None or ranks[1] == 1:
            return None
        rank, world, local = ranks
        backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
        if backend == "nccl":
            torch.cuda.set_device(local)  # before init, so nccl binds this rank's GPU
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
    if backend == "nccl":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    return DistContext(rank=rank, world_size=world, local_rank=local, backend=backend, device=device)


def shutdown_distributed() -> None:
    """Leave the process group, if one is initialised (call once at the end of a script)."""
    if dist.is_available() and dist.is_initialized():
        # every rank arrives first: a rank that tears its gloo connections down while
        # another is still finishing (saving, logging) can abort the other at exit
        dist.barrier()
        dist.destroy_process_group()


class ShardedBatches:
    """This rank's share of a re-iterable of batches: batches ``rank, rank + N, ...``.

    Args:
        batches: Any re-iterable of batches (a list, a ``DataLoader``).
        rank: This process's rank.
        world_size: Number of processes ``N``.
        drop_tail: Drop a last group of fewer than ``N`` batches, so every rank gets
            the same number (needed for training, where each step synchronises).

    >>> list(ShardedBatches(range(7), rank=1, world_size=3))
    [1, 4]
    >>> list(ShardedBatches(range(7), rank=0, world_size=3, drop_tail=False))
    [0, 3, 6]
    """

    def __init__(self, batches: Iterable[Any], rank: int, world_size: int, drop_tail: bool = True):
        if not 0 <= rank < world_size:
            raise ConfigError(f"rank must be in [0, {world_size}), got {rank}")
        self.batches = batches
        self.rank = rank
        self.world_size = world_size
        self.drop_tail = drop_tail

    def __iter__(self) -> Iterator[Any]:
        group: list[Any] = []
        for batch in self.batches:
            group.append(batch)
            if len(group) == self.world_size:
                yield group[self.rank]
                group = []
        if group and not self.drop_tail and self.rank < len(group):
            yield group[self.rank]

    def __len__(self) -> int:
        if not isinstance(self.batches, Sized):  # the TypeError len() raises for unsized iterables
            raise TypeError(f"object of type {type(self.batches).__name__!r} has no len()")
        n = len(self.batches)
        full, rest = divmod(n, self.world_size)
        return full + (0 if self.drop_tail else int(self.rank < rest))


def distributed_loader(
    dataset: Dataset,
    batch_size: int,
    ctx: DistContext | None,
    *,
    shuffle: bool,
    seed: int = 0,
    **loader_options: Any,
) -> DataLoader:
    """A ``DataLoader`` over ``dataset``: with a ``DistributedSampler`` when distributed.

    Args:
        dataset: A map-style dataset.
        batch_size: Samples per batch, per process.
        ctx: The distributed context, or ``None`` for a plain shuffling loader.
        shuffle: Shuffle each epoch (the sampler mixes ``seed`` and the epoch).
        seed: Shuffle seed shared by all ranks.
        **loader_options: Passed to ``DataLoader`` (``collate_fn``, ``num_workers``...).

    Returns:
        The loader; call ``loader.sampler.set_epoch(epoch)`` each epoch when
        distributed (the Trainer does).

    >>> from torch.utils.data import TensorDataset
    >>> loader = distributed_loader(TensorDataset(torch.arange(6.0)), 4, None, shuffle=False)
    >>> [len(b[0]) for b in loader]
    [4, 2]
    """
    if ctx is None:
        if isinstance(dataset, TensorDataset) and not loader_options:
            # the same batches as DataLoader(dataset, batch_size, shuffle) draws (same
            # sampler, same random numbers), gathered with one index per tensor instead
            # of one row at a time and a collate
            order = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
            return DataLoader(dataset, batch_size=None, sampler=BatchSampler(order, batch_size, drop_last=False))
        return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, **loader_options)
    sampler: DistributedSampler[Any] = DistributedSampler(
        dataset, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=shuffle, seed=seed
    )
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler, **loader_options)


def has_distributed_sampler(loader: Any) -> bool:
    """Whether ``loader`` is a ``DataLoader`` whose sampler already splits data across ranks."""
    if not isinstance(loader, DataLoader):
        return False
    batch_sampler_sampler = getattr(loader.batch_sampler, "sampler", None)
    return isinstance(loader.sampler, DistributedSampler) or isinstance(batch_sampler_sampler, DistributedSampler)


def all_reduce_sum(values: list[float], ctx: DistContext | None) -> list[float]:
    """Sum a few numbers over all ranks in one collective (identity without ``ctx``).

    Args:
        values: This rank's numbers.
        ctx: The distributed context, or ``None``.

    Returns:
        The sums, the same on every rank.

    >>> all_reduce_sum([1.5, 2.0], None)
    [1.5, 2.0]
    """
    if ctx is None:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def broadcast_int(value: int, ctx: DistContext | None) -> int:
    """Rank 0's ``value``, on every rank (identity without ``ctx``)."""
    if ctx is None:
        return value
    t = torch.tensor([value], dtype=torch.int64, device=ctx.device)
    dist.broadcast(t, src=0)
    return int(t.item())


def barrier(ctx: DistContext | None) -> None:
    """Wait for every rank (nothing to wait for without ``ctx``)."""
    if ctx is not None:
        dist.barrier()


def wrap_model(model: nn.Module, ctx: DistContext | None) -> nn.Module:
    """Wrap ``model`` (already on ``ctx.device``) in ``DistributedDataParallel``.

    DDP broadcasts rank 0's parameters and buffers at construction, so every rank
    starts from the same weights. Without ``ctx`` the model is returned unchanged.
    """
    if ctx is None:
        return model
    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=device_ids)
