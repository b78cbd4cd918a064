"""`RotatingBatches`: a fixed number of rows per epoch, rotating through all of them.

A long history gives more training windows than an epoch should cost. Taking one
fixed subset (every k-th window) bounds the cost but throws the rest away for good;
rotating bounds it the same way and uses everything: the rows are laid out as an
endless run of seeded permutations, and epoch ``e`` (counted from 0) takes the
``e``-th slice of ``per_epoch`` rows of that run::

    run    = perm_0(N) ++ perm_1(N) ++ perm_2(N) ++ ...   # each a permutation of 0..N-1
    epoch e = run[e * per_epoch : (e + 1) * per_epoch]

so every row is seen once per ``ceil(N / per_epoch)`` epochs, and which rows an epoch
sees depends only on the seed and the epoch number (not on any global random state):
a fit is reproducible, and a resumed one continues where it stopped.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from lstmkit.errors import ConfigError

__all__ = ["RotatingBatches"]


class RotatingBatches:
    """Batches of ``per_epoch`` rows of ``tensors`` per epoch, a different slice each epoch.

    The `Trainer` calls ``set_epoch`` before each epoch (as it does for a
    ``DistributedSampler``); iterating then yields that epoch's batches.

    Args:
        tensors: tensors with the same first dimension ``N`` (the rows: samples).
        batch_size: rows per batch (the last batch of an epoch may be smaller).
        per_epoch: rows per epoch; ``N`` or more gives a plain reshuffle of all rows each epoch.
        seed: seed of the permutations.

    Shape:
        tensors: ``(N, ...)`` each; a batch is a tuple of ``(b, ...)`` slices, ``b <= batch_size``.

    >>> x = torch.arange(10.0)
    >>> batches = RotatingBatches([x], batch_size=2, per_epoch=4, seed=0)
    >>> len(batches)
    2
    >>> seen = []
    >>> for epoch in range(5):  # 5 epochs of 4 rows: every row is seen at least once
    ...     batches.set_epoch(epoch)
    ...     seen += [int(v) for (b,) in batches for v in b]
    >>> sorted(set(seen)) == list(range(10))
    True
    """

    def __init__(self, tensors: Sequence[Tensor], batch_size: int, per_epoch: int, seed: int = 0):
        if not tensors or not all(isinstance(t, Tensor) for t in tensors):
            raise ConfigError(f"tensors must be a non-empty sequence of tensors, got {type(tensors).__name__}")
        rows = {int(t.shape[0]) for t in tensors}
        if len(rows) != 1:
            raise ConfigError(f"every tensor must have the same number of rows (first dimension), got {sorted(rows)}")
        for name, value in (("batch_size", batch_size), ("per_epoch", per_epoch)):
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        self.tensors = tuple(tensors)
        self.rows = rows.pop()
        if self.rows == 0:
            raise ConfigError("tensors have no rows to draw batches from")
        self.batch_size = batch_size
        self.per_epoch = min(per_epoch, self.rows)
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch (from 0) whose rows the next iteration yields."""
        self.epoch = epoch

    def epoch_rows(self, epoch: int) -> Tensor:
        """The row indices of epoch ``epoch``, in the order they are batched.

        Returns:
            A ``(min(per_epoch, N),)`` int64 tensor.
        """
        start = epoch * self.per_epoch
        end = start + self.per_epoch
        first, last = start // self.rows, (end - 1) // self.rows  # the permutations the slice spans
        run = torch.cat([self._permutation(p) for p in range(first, last + 1)])
        offset = first * self.rows
        return run[start - offset : end - offset]

    def _permutation(self, number: int) -> Tensor:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + number)
        return torch.randperm(self.rows, generator=generator)

    def __len__(self) -> int:
        return math.ceil(self.per_epoch / self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        rows = self.epoch_rows(self.epoch)
        for start in range(0, len(rows), self.batch_size):
            index = rows[start : start + self.batch_size]
            yield tuple(t[index] for t in self.tensors)
