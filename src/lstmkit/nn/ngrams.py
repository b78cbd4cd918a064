"""A linear model on hashed token n-grams, to sit beside a recurrent encoder (fastText-style).

For each sequence of token ids, every n-gram of ``1 .. order`` consecutive tokens,
with a boundary marker before the first token and after the last (as the ``char_wb``
analyser of scikit-learn pads each word), is hashed into one of ``buckets`` rows of a
weight table; the sequence's output is the mean of its n-grams' rows. With
``out_features = n_classes`` this is a multinomial logistic regression on hashed,
L1-normalised n-gram counts, the usual strong baseline for short texts, so a network
that adds it to its own logits can do at least what that baseline does, and is trained
with it jointly (Joulin et al. 2017, "Bag of Tricks for Efficient Text Classification",
hash n-grams the same way).

The hash is a polynomial of the token ids: it depends only on the ids (fixed by the
saved vocabulary), never on Python's per-process string hashing, so a saved model
reads the same n-grams after loading.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["HashedNGrams", "ngram_ids"]

# The table's rows are multiplied by this: Adam moves every weight by about the learning rate
# per step whatever its gradient, so the gain lets the sparse n-gram weights (each seen in a
# few examples) reach a logistic regression's size in the epochs that the LSTM needs. Chosen
# by the validation loss of the bundled words' training part (gain 1: 0.205, 10: 0.170, 30: 0.167).
GAIN = 30.0

# a multiplier near the modulus, so that even short n-grams wrap around it and spread over the buckets
_MULTIPLIER = 1_500_450_271
_MODULUS = 2_147_483_647  # the prime 2**31 - 1: products of two residues stay inside int64


def ngram_ids(x: Tensor, lengths: Tensor, order: int, buckets: int) -> Tensor:
    """The hashed n-gram ids of each sequence, 0 for the slots of n-grams that do not exist.

    Args:
        x: token ids; lengths: real lengths (steps after them are ignored).
        order: the longest n-gram (1 .. order tokens, boundaries included).
        buckets: the hash range; ids are in ``[1, buckets)`` (0 is padding).

    Shape:
        x: ``(B, T)`` int64; lengths: ``(B,)``; returns ``(B, order * (T + 2))`` int64.

    >>> ids = ngram_ids(torch.tensor([[5, 6, 0]]), torch.tensor([2]), order=2, buckets=100)
    >>> int((ids > 0).sum())  # 1-grams: <, 5, 6, >; 2-grams: <5, 56, 6>
    7
    """
    B, T = x.shape  # batch, tokens
    lengths = lengths.to(x.device, torch.int64)
    ext = torch.zeros(B, T + 2, dtype=torch.int64, device=x.device)  # [<, tokens..., >, padding]
    ext[:, 1 : T + 1] = x.to(torch.int64) + 2  # ids 0 and 1 are the boundary and padding marks
    ext[:, 0] = 0
    ext[torch.arange(B, device=x.device), lengths + 1] = 0  # the end mark right after the last token
    n_real = lengths + 2  # marks included
    parts = []
    h = torch.zeros(B, T + 2, dtype=torch.int64, device=x.device)
    for n in range(1, order + 1):
        # h[:, t] hashes ext[t .. t + n - 1]; positions past the end read padding and are dropped below
        shifted = torch.nn.functional.pad(ext[:, n - 1 :], (0, n - 1), value=1)
        h = (h * _MULTIPLIER + shifted + 1) % _MODULUS
        starts = torch.arange(T + 2, device=x.device)[None, :]
        exists = starts <= (n_real[:, None] - n)  # the n-gram ends at or before the end mark
        ids = 1 + h % (buckets - 1)
        parts.append(torch.where(exists, ids, torch.zeros_like(ids)))
    return torch.cat(parts, dim=1)


class HashedNGrams(nn.Module):
    """Mean of learned rows over a sequence's hashed n-grams (a linear model on n-gram counts).

    Args:
        order: the longest n-gram, at least 1.
        buckets: rows of the hashed table, at least 2 (row 0 is padding).
        out_features: size of each row (``n_classes`` for logits).

    Shape:
        x: ``(B, T)`` token ids; lengths: ``(B,)``; returns ``(B, out_features)``.

    >>> layer = HashedNGrams(order=3, buckets=64, out_features=2)
    >>> layer(torch.tensor([[3, 4, 5]]), torch.tensor([3])).tolist()  # starts at zero
    [[0.0, 0.0]]
    """

    def __init__(self, order: int, buckets: int, out_features: int):
        super().__init__()
        if order < 1:
            raise ValueError(f"order must be at least 1, got {order}")
        if buckets < 2:
            raise ValueError(f"buckets must be at least 2, got {buckets}")
        self.order, self.buckets = order, buckets
        # zeros: at the start the model's logits are the recurrent encoder's alone
        self.table = nn.EmbeddingBag(buckets, out_features, mode="mean", padding_idx=0)
        nn.init.zeros_(self.table.weight)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        return self.table(ngram_ids(x, lengths, self.order, self.buckets)) * GAIN
