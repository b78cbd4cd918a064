"""Batches of padded sequences: similar lengths together, so little time goes to padding."""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike

from lstmkit.errors import ConfigError, DataError

__all__ = ["length_buckets", "PaddedBatches"]


def length_buckets(lengths: ArrayLike, batch_size: int, *, shuffle: bool = True, seed: int = 0) -> list[np.ndarray]:
    """Batches of sequences of similar length: little padding, little wasted compute.

    Sequences are sorted by length (ties broken at random when shuffling), cut into
    batches of ``batch_size``, and the batches are shuffled, so every epoch mixes
    short and long batches while each batch stays homogeneous.

    Args:
        lengths: ``(N,)`` sequence lengths.
        batch_size: sequences per batch (the last may be smaller).
        shuffle: randomise ties and the batch order.
        seed: the random seed (pass the epoch in, for a new order per epoch).

    Returns:
        A list of index arrays that together cover ``0..N-1`` once.

    >>> [b.tolist() for b in length_buckets([5, 1, 4, 2], 2, shuffle=False)]
    [[1, 3], [2, 0]]
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
    lengths = np.asarray(lengths)
    rng = np.random.default_rng(seed)
    tie_break = rng.random(len(lengths)) if shuffle else np.arange(len(lengths))
    order = np.lexsort((tie_break, lengths))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


class PaddedBatches:
    """Re-iterable batches ``(x, lengths[, y])`` of similar-length sequences, as tensors.

    Each pass draws a new `length_buckets` order (seeded by ``seed`` and the pass
    number, so runs repeat) and trims each batch to its longest sequence. Give it to
    `lstmkit.train.Trainer.fit` as training or validation data.

    Args:
        X: padded inputs: ``(N, T, F)`` float values or ``(N, T)`` int64 token ids.
        lengths: ``(N,)`` real lengths.
        y: ``(N,)`` integer class codes, or ``None`` for prediction.
        batch_size: sequences per batch.
        shuffle: a new random order each pass (training); ``False`` keeps a fixed
            length-sorted order (validation, prediction).
        seed: the random seed of the first pass.

    Shape:
        Yields x ``(B, T_b, ...)``, lengths ``(B,)`` int64 and y ``(B,)`` int64, with
        ``T_b`` the longest length in the batch.

    >>> batches = PaddedBatches(np.arange(8).reshape(4, 2), np.array([2, 1, 2, 1]), batch_size=2, shuffle=False)
    >>> [(x.tolist(), n.tolist()) for x, n in batches]
    [([[2], [6]], [1, 1]), ([[0, 1], [4, 5]], [2, 2])]
    >>> batches.order()[:2].tolist()  # the rows behind the batches, in the order yielded
    [1, 3]
    """

    def __init__(
        self,
        X: np.ndarray,
        lengths: np.ndarray,
        y: np.ndarray | None = None,
        *,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int = 0,
    ):
        self.X, self.lengths = X, np.asarray(lengths, dtype=np.int64)
        self.y = None if y is None else np.asarray(y, dtype=np.int64)
        if len(self.lengths) != len(X) or (self.y is not None and len(self.y) != len(X)):
            raise DataError(
                f"X, lengths and y must have one row per sequence; got {len(X)}, {len(self.lengths)}, "
                f"{None if self.y is None else len(self.y)}"
            )
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self._passes = 0
        length_buckets(self.lengths, batch_size, shuffle=False)  # checks batch_size early

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Make the next pass the one of epoch ``epoch`` (0-based): the Trainer calls it, so that a
        fit resumed from a checkpoint draws the same orders as one never interrupted."""
        self._passes = epoch

    def _batches(self, seed: int) -> list[np.ndarray]:
        return length_buckets(self.lengths, self.batch_size, shuffle=self.shuffle, seed=seed)

    def order(self) -> np.ndarray:
        """Row numbers in the order the next pass yields them (only stable without shuffle)."""
        return np.concatenate(self._batches(self.seed + self._passes))

    def __iter__(self):
        batches = self._batches(self.seed + self._passes)
        self._passes += 1
        for rows in batches:
            T = int(self.lengths[rows].max())
            x = torch.from_numpy(np.ascontiguousarray(self.X[rows, :T]))
            n = torch.from_numpy(self.lengths[rows])
            yield (x, n) if self.y is None else (x, n, torch.from_numpy(self.y[rows]))
