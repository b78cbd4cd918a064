"""Small helpers the Trainer applies to batches, recurrent states and data sources."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader, TensorDataset

from lstmkit.errors import ConfigError
from lstmkit.train.checkpoint import fingerprint

__all__ = [
    "to_device",
    "batch_size",
    "detach_state",
    "split_sequence_batch",
    "set_sampler_epoch",
    "data_generators",
    "guess_fingerprint",
]


def to_device(batch: Any, device: torch.device) -> Any:
    """Move every tensor of a (nested tuple/list/dict) batch to ``device``.

    >>> to_device((torch.ones(1), [torch.zeros(1)], "id"), torch.device("cpu"))[2]
    'id'
    """
    if isinstance(batch, Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch


def batch_size(batch: Any) -> int:
    """Number of samples in a batch: the first dimension of its target (last element).

    Falls back to the first tensor found, then to 1; used to weight batch losses
    into an epoch mean, so a smaller last batch counts for less.

    >>> batch_size((torch.zeros(5, 3), torch.zeros(5)))
    5
    """
    if isinstance(batch, (tuple, list)) and batch:
        candidates = [batch[-1], *batch[:-1]]
    elif isinstance(batch, dict):
        candidates = list(batch.values())
    else:
        candidates = [batch]
    for item in candidates:
        if isinstance(item, Tensor) and item.dim() > 0:
            return int(item.shape[0])
    return 1


def detach_state(state: Any) -> Any:
    """Cut a recurrent state from the graph that made it: a tensor, a tuple of tensors, or ``None``.

    Raises:
        ConfigError: The state is of another type.

    >>> h = torch.ones(1, requires_grad=True) * 2
    >>> detach_state((h, h))[0].requires_grad
    False
    """
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise ConfigError(
        f"the model returned a state of type {type(state).__name__}; expected a tensor or a tuple of tensors "
        "(model(x_chunk, state) must return (pred, state))"
    )


def split_sequence_batch(batch: Any, where: str) -> tuple[Tensor, Tensor]:
    """Check that a batch is ``(x, y)`` with ``y`` aligned with ``x`` in time.

    Args:
        batch: The batch.
        where: Where it came from, for the error (``"train_data batch 3"``).

    Shape:
        - x: ``(B, T, ...)``, batch first, time second.
        - y: ``(B, T, ...)``, the target at every step.

    Returns:
        ``(x, y)``.

    Raises:
        ConfigError: The batch has another structure or the shapes disagree.
    """
    if not isinstance(batch, (tuple, list)) or len(batch) != 2 or not all(isinstance(b, Tensor) for b in batch):
        raise ConfigError(
            f"{where}: truncated BPTT and carry_state need batches (x, y) of two tensors, got {_describe(batch)}"
        )
    x, y = batch
    if x.dim() < 2 or y.dim() < 2 or x.shape[:2] != y.shape[:2]:
        raise ConfigError(
            f"{where}: x of shape (B, T, ...) and y aligned in time (B, T, ...) expected, "
            f"got x {tuple(x.shape)} and y {tuple(y.shape)}"
        )
    return x, y


def _describe(batch: Any) -> str:
    if isinstance(batch, Tensor):
        return f"a tensor of shape {tuple(batch.shape)}"
    if isinstance(batch, (tuple, list)):
        return f"a {type(batch).__name__} of {len(batch)} ({', '.join(type(b).__name__ for b in batch)})"
    return f"a {type(batch).__name__}"


def _samplers(data: Any) -> list[Any]:
    if not isinstance(data, DataLoader):
        return []
    return [data.sampler, getattr(data.batch_sampler, "sampler", None)]


def set_sampler_epoch(data: Any, epoch: int) -> None:
    """Tell the training data the epoch: a ``DataLoader``'s sampler (``DistributedSampler``
    shuffles with it) or a batch source with its own ``set_epoch`` (`RotatingBatches`)."""
    samplers = [s for s in _samplers(data) if s is not None]
    for sampler in [*dict.fromkeys(samplers), *([] if isinstance(data, DataLoader) else [data])]:
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)


def data_generators(data: Any) -> list[torch.Generator]:
    """The private ``torch.Generator`` objects a ``DataLoader`` shuffles with, if it has any.

    A loader without one draws from torch's global generator, which the
    checkpoint saves anyway; these are the others, so that a resume is exact.
    """
    found = [getattr(data, "generator", None)] + [getattr(s, "generator", None) for s in _samplers(data)]
    unique: dict[int, torch.Generator] = {}
    for gen in found:
        if isinstance(gen, torch.Generator):
            unique.setdefault(id(gen), gen)
    return list(unique.values())


def guess_fingerprint(data: Iterable[Any]) -> str | None:
    """Fingerprint training data when it is cheap and well defined, else ``None``.

    Handles a ``TensorDataset``, a ``DataLoader`` over one, and a list/tuple of
    batches of tensors; anything else (streams, custom datasets) gives ``None``.
    """
    dataset = data.dataset if isinstance(data, DataLoader) else data
    if isinstance(dataset, TensorDataset):
        return fingerprint(list(dataset.tensors))
    if isinstance(dataset, (list, tuple)):
        try:
            return fingerprint(dataset)
        except TypeError:
            return None
    return None
