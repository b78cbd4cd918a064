"""A language model mixed with a Kneser-Ney n-gram: ``λ · p_LSTM + (1 - λ) · p_KN``.

Linear interpolation of a neural and a count-based model (Mikolov et al. 2011;
Jozefowicz et al. 2016) is a cheap, reliable gain: the n-gram remembers rare
exact strings of the training text that a small LSTM trained for minutes has not
learnt, the LSTM generalises where the counts run out. The weight ``λ`` is the one
that maximises the likelihood of a held-out part of the *training* text
(`interpolation_weight`, an EM fit of a two-component mixture), so the mixture is,
on that text, never worse than either model alone.

`NGramMixture` applies it to scores (`NGramMixture.log_probs`, the per-token
log-probabilities of a text) and to sampling (`NGramMixture.next_logits`: the
scores of the next token given the ids so far, which temperature, top-k and top-p
then filter like any logits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from lstmkit.evaluate.ngram import NGramLM

__all__ = ["interpolation_weight", "NGramMixture"]


def interpolation_weight(
    p_a: Sequence[float] | np.ndarray, p_b: Sequence[float] | np.ndarray, *, tol: float = 1e-7
) -> float:
    """The ``λ`` in ``[0, 1]`` that maximises ``Σ log(λ p_a + (1 - λ) p_b)``.

    The log-likelihood is concave in ``λ``; EM (``λ ← mean(λ p_a / (λ p_a + (1 - λ) p_b))``)
    climbs it monotonically from ``λ = 0.5`` to the maximum.

    Args:
        p_a, p_b: the probability each model gives each held-out token (positive).
        tol: stop when ``λ`` moves less than this.

    Shape:
        p_a, p_b: ``(N,)``, ``N >= 1``.

    Returns:
        ``λ``, the weight of ``p_a``.

    >>> round(interpolation_weight([0.5, 0.5], [0.1, 0.1]), 3)  # a dominates everywhere
    1.0
    >>> round(interpolation_weight([0.9, 0.1], [0.1, 0.9]), 3)  # each is right half the time
    0.5
    """
    a, b = np.asarray(p_a, dtype=np.float64), np.asarray(p_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(f"p_a and p_b must be two equal-length 1-d arrays, got shapes {a.shape} and {b.shape}")
    if not (np.all(a > 0) and np.all(b > 0) and np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("p_a and p_b must be finite positive probabilities")
    lam = 0.5
    for _ in range(10_000):
        new = float(np.mean(lam * a / (lam * a + (1 - lam) * b)))
        if abs(new - lam) < tol:
            return new
        lam = new
    return lam


@dataclass
class NGramMixture:
    """``p(w | h) = weight · p_LSTM(w | h) + (1 - weight) · p_KN(w | h)``.

    Args:
        weight: ``λ``, the LSTM's share, in ``[0, 1]``.
        ngram: the fitted n-gram, over the same token ids as the LSTM.
    """

    weight: float
    ngram: NGramLM

    def __post_init__(self):
        if isinstance(self.weight, bool) or not isinstance(self.weight, (int, float)) or not 0 <= self.weight <= 1:
            raise ValueError(f"the mixture weight must be in [0, 1], got {self.weight!r}")
        self.weight = float(self.weight)

    def log_probs(self, lstm_log_probs: Tensor, ids: Sequence[int], start: int = 1) -> Tensor:
        """The mixture's ``log p(ids[t] | ids[:t])`` for ``t >= start``.

        Args:
            lstm_log_probs: the LSTM's log-probabilities of the same tokens.
            ids: the whole text's ids (those before ``start`` are context only).
            start: the first position scored.

        Shape:
            lstm_log_probs: ``(len(ids) - start,)``; returns the same.
        """
        p_ngram = torch.from_numpy(self.ngram.token_probs(ids, start))
        p_lstm = lstm_log_probs.double().exp()
        if p_lstm.shape != p_ngram.shape:
            raise ValueError(f"lstm_log_probs has shape {tuple(p_lstm.shape)}, expected {tuple(p_ngram.shape)}")
        return torch.log(self.weight * p_lstm + (1 - self.weight) * p_ngram).float()

    def next_logits(self, logits: Tensor, history: Sequence[int]) -> Tensor:
        """Scores of the next token: the log of the mixed distribution.

        Args:
            logits: the LSTM's scores of the next token.
            history: the ids so far (the n-gram reads its last ``order - 1``).

        Shape:
            logits: ``(V,)``; returns ``(V,)`` float32 on the same device.
        """
        context = history[max(0, len(history) - self.ngram.order + 1) :]  # all the n-gram reads
        p_ngram = torch.from_numpy(self.ngram.distribution(context))
        p_lstm = logits.detach().double().softmax(-1).cpu()
        return torch.log(self.weight * p_lstm + (1 - self.weight) * p_ngram).float().to(logits.device)

    def to_dict(self) -> dict:
        """The JSON part (the n-gram's counts are saved as its training ids)."""
        return {"weight": self.weight, **self.ngram.to_dict()}

    def __repr__(self) -> str:
        return f"NGramMixture(weight={self.weight:.3f}, ngram={self.ngram!r})"
