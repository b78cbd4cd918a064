"""Attention over encoder outputs, and attention pooling over time.

* `AdditiveAttention` (Bahdanau et al. 2015): ``score(q, k) = vᵀ tanh(W_q q + W_k k + b)``.
* `MultiplicativeAttention` (Luong et al. 2015): ``"dot"`` ``qᵀk``, ``"general"``
  ``qᵀ W k``, ``"scaled_dot"`` ``qᵀk / sqrt(d)``.
* `AttentionPooling` (Raffel & Ellis 2015; Yang et al. 2016): one learned query that
  summarises a sequence: ``α_t = softmax_t(vᵀ tanh(W h_t + b))``, ``Σ_t α_t h_t``.

Every module takes the padding as ``mask`` (``(B, T)``, True at real steps) or
``lengths`` (``(B,)``), gives padded steps exactly zero weight, and returns the
attention weights with the result so they can be inspected or plotted.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ["AdditiveAttention", "MultiplicativeAttention", "AttentionPooling", "padding_mask", "masked_softmax"]

SCORES = ("dot", "general", "scaled_dot")


def padding_mask(
    mask: Tensor | None, lengths: Tensor | Sequence[int] | None, B: int, T: int, device: torch.device
) -> Tensor | None:
    """A ``(B, T)`` boolean mask, True at real steps, from either ``mask`` or ``lengths``.

    >>> padding_mask(None, [3, 1], 2, 3, torch.device("cpu")).tolist()
    [[True, True, True], [True, False, False]]
    """
    if mask is not None and lengths is not None:
        raise ValueError("give either mask or lengths, not both")
    if lengths is not None:
        lengths = torch.as_tensor(lengths)
        if lengths.dtype.is_floating_point or lengths.dtype == torch.bool:
            raise TypeError(f"lengths must hold integers, got dtype {lengths.dtype}")
        if tuple(lengths.shape) != (B,):
            raise ValueError(f"lengths must have shape ({B},) (one per sequence), got {tuple(lengths.shape)}")
        if B and (lengths.min() < 1 or lengths.max() > T):
            bad = lengths[(lengths < 1) | (lengths > T)]
            raise ValueError(f"lengths must be in [1, {T}] (the number of keys), got {bad.tolist()}")
        return torch.arange(T, device=device)[None, :] < lengths.to(device)[:, None]
    if mask is None:
        return None
    if mask.dtype != torch.bool or tuple(mask.shape) != (B, T):
        raise ValueError(
            f"mask must be a boolean tensor of shape ({B}, {T}), got {mask.dtype} of shape {tuple(mask.shape)}"
        )
    if B and not bool(mask.any(dim=1).all()):
        rows = (~mask.any(dim=1)).nonzero().flatten().tolist()
        raise ValueError(f"every sequence needs at least one unmasked step; rows {rows} are fully masked")
    return mask.to(device)


def masked_softmax(scores: Tensor, mask: Tensor | None) -> Tensor:
    """Softmax over the last axis, with exactly zero weight where ``mask`` is False.

    Shape:
        scores: ``(B, ..., T)``; mask: ``(B, T)`` or None.
    """
    if mask is None:
        return scores.softmax(dim=-1)
    mask = mask.view(mask.shape[0], *([1] * (scores.dim() - 2)), mask.shape[-1])
    # padded steps get no weight at all: -inf before the softmax, then exact zeros
    return scores.masked_fill(~mask, float("-inf")).softmax(dim=-1).masked_fill(~mask, 0.0)


class _Attention(nn.Module, metaclass=abc.ABCMeta):
    """Shared forward: scores -> masked softmax -> weighted sum of the values.

    A subclass defines ``_scores(query (B, Tq, Q), keys (B, Tk, K)) -> (B, Tq, Tk)``.
    """

    @abc.abstractmethod
    def _scores(self, query: Tensor, keys: Tensor) -> Tensor:
        """``(B, Tq, Tk)`` attention scores of each query against each key."""

    def forward(
        self,
        query: Tensor,
        keys: Tensor,
        values: Tensor | None = None,
        *,
        mask: Tensor | None = None,
        lengths: Tensor | Sequence[int] | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Attend from ``query`` over ``keys`` and average ``values`` (the keys if None).

        Args:
            query: the decoder state(s).
            keys: the encoder outputs.
            values: what to average; the keys by default.
            mask: ``(B, Tk)`` boolean, True at real (not padded) encoder steps.
            lengths: ``(B,)`` number of real encoder steps, instead of ``mask``.

        Shape:
            query: ``(B, Q)`` or ``(B, Tq, Q)``; keys: ``(B, Tk, K)``; values: ``(B, Tk, V)``.

        Returns:
            ``(context, weights)``: context ``(B, V)`` or ``(B, Tq, V)``; weights
            ``(B, Tk)`` or ``(B, Tq, Tk)``, summing to 1 over real steps, 0 at padding.
        """
        values = keys if values is None else values
        if keys.dim() != 3 or keys.shape[-1] != self.key_size:
            raise ValueError(f"keys must be (batch, time, {self.key_size}), got shape {tuple(keys.shape)}")
        B, Tk, _ = keys.shape  # batch, encoder time, key features
        if values.dim() != 3 or values.shape[:2] != keys.shape[:2]:
            raise ValueError(
                f"values must be (batch, time, features) with batch and time of keys {tuple(keys.shape[:2])}, "
                f"got {tuple(values.shape)}"
            )
        single = query.dim() == 2
        if query.dim() not in (2, 3) or query.shape[0] != B or query.shape[-1] != self.query_size:
            raise ValueError(
                f"query must be ({B}, {self.query_size}) or ({B}, steps, {self.query_size}), "
                f"got shape {tuple(query.shape)}"
            )
        q = query.unsqueeze(1) if single else query
        mask = padding_mask(mask, lengths, B, Tk, keys.device)
        weights = masked_softmax(self._scores(q, keys), mask)  # (B, Tq, Tk)
        context = weights @ values  # (B, Tq, V)
        if single:
            return context.squeeze(1), weights.squeeze(1)
        return context, weights


class AdditiveAttention(_Attention):
    """Bahdanau (additive, "concat") attention: ``score(q, k) = vᵀ tanh(W_q q + W_k k + b)``.

    Args:
        query_size: features of the query (the decoder state).
        key_size: features of the keys (the encoder outputs).
        attention_size: size of the hidden layer inside the score (default ``key_size``).

    Shape: see `forward`.

    >>> attention = AdditiveAttention(query_size=8, key_size=6)
    >>> context, weights = attention(torch.randn(2, 8), torch.randn(2, 5, 6), lengths=[5, 3])
    >>> tuple(context.shape), weights[1, 3:].tolist(), round(weights[1].sum().item(), 5)
    ((2, 6), [0.0, 0.0], 1.0)
    """

    def __init__(self, query_size: int, key_size: int, attention_size: int | None = None):
        super().__init__()
        self.query_size, self.key_size = query_size, key_size
        self.attention_size = attention_size or key_size
        self.query_proj = nn.Linear(query_size, self.attention_size, bias=False)  # W_q
        self.key_proj = nn.Linear(key_size, self.attention_size)  # W_k and b
        self.score_proj = nn.Linear(self.attention_size, 1, bias=False)  # v

    def _scores(self, query: Tensor, keys: Tensor) -> Tensor:
        hidden = torch.tanh(self.query_proj(query).unsqueeze(2) + self.key_proj(keys).unsqueeze(1))  # (B, Tq, Tk, A)
        return self.score_proj(hidden).squeeze(-1)


class MultiplicativeAttention(_Attention):
    """Luong (multiplicative) attention.

    Args:
        query_size: features of the query.
        key_size: features of the keys (default ``query_size``).
        score: ``"general"`` (default) ``qᵀ W k``; ``"dot"`` ``qᵀ k`` (needs equal
            sizes); ``"scaled_dot"`` ``qᵀ k / sqrt(key_size)``.

    Shape: see `forward`.

    >>> attention = MultiplicativeAttention(4, score="dot")
    >>> keys = torch.eye(4).unsqueeze(0)  # four one-hot keys
    >>> _, weights = attention(torch.tensor([[10.0, 0, 0, 0]]), keys)
    >>> round(weights[0, 0].item(), 4)  # the key that matches the query takes the weight
    0.9999
    """

    def __init__(self, query_size: int, key_size: int | None = None, score: str = "general"):
        super().__init__()
        if score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}, got {score!r}")
        key_size = key_size or query_size
        if score != "general" and key_size != query_size:
            raise ValueError(
                f"score={score!r} needs query_size == key_size, got {query_size} and {key_size}; use 'general'"
            )
        self.query_size, self.key_size, self.score = query_size, key_size, score
        if score == "general":
            self.weight = nn.Parameter(torch.empty(query_size, key_size))  # W
            nn.init.xavier_uniform_(self.weight)
        else:
            self.register_parameter("weight", None)

    def _scores(self, query: Tensor, keys: Tensor) -> Tensor:
        if self.score == "general":
            query = query @ self.weight
        scores = query @ keys.transpose(1, 2)
        return scores / math.sqrt(self.key_size) if self.score == "scaled_dot" else scores

    def extra_repr(self) -> str:
        return f"{self.query_size}, {self.key_size}, score={self.score!r}"


class AttentionPooling(nn.Module):
    """Summarise a sequence with learned attention: ``Σ_t softmax_t(vᵀ tanh(W h_t + b)) h_t``.

    Args:
        input_size: features per step.
        attention_size: size of the hidden layer inside the score (default ``input_size``).

    Shape:
        x: ``(B, T, input_size)``; mask ``(B, T)`` or lengths ``(B,)``.

    Returns:
        ``(pooled (B, input_size), weights (B, T))``.

    >>> pool = AttentionPooling(6)
    >>> pooled, weights = pool(torch.randn(2, 4, 6), lengths=[4, 2])
    >>> tuple(pooled.shape), weights[1, 2:].tolist()
    ((2, 6), [0.0, 0.0])
    """

    def __init__(self, input_size: int, attention_size: int | None = None):
        super().__init__()
        self.input_size = input_size
        self.attention_size = attention_size or input_size
        self.proj = nn.Linear(input_size, self.attention_size)  # W and b
        self.score_proj = nn.Linear(self.attention_size, 1, bias=False)  # v: the learned query

    def forward(
        self, x: Tensor, *, mask: Tensor | None = None, lengths: Tensor | Sequence[int] | None = None
    ) -> tuple[Tensor, Tensor]:
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"AttentionPooling expects (batch, time, {self.input_size}), got shape {tuple(x.shape)}")
        B, T, _ = x.shape  # batch, time, features
        mask = padding_mask(mask, lengths, B, T, x.device)
        scores = self.score_proj(torch.tanh(self.proj(x))).squeeze(-1)  # (B, T)
        weights = masked_softmax(scores, mask)
        return (weights.unsqueeze(1) @ x).squeeze(1), weights
