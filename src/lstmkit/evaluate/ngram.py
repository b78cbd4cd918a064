"""A smoothed n-gram language model: the baseline an LSTM language model must beat.

`NGramLM` is an interpolated, modified Kneser-Ney model (Chen & Goodman 1998) over
token ids, so it reads exactly the ids an LSTM language model reads (same
tokeniser, same unknown-token handling) and the two perplexities compare like for
like. For the highest order ``n`` and a context ``h`` of ``n - 1`` ids::

    p(w | h) = max(c(h w) - D(c(h w)), 0) / c(h •)  +  γ(h) · p(w | h')
    γ(h)     = (D₁ N₁(h •) + D₂ N₂(h •) + D₃ N₃₊(h •)) / c(h •)

where ``h'`` drops the oldest id of ``h``, ``c(h •)`` sums the counts after ``h``
and ``N_j(h •)`` counts the distinct ``w`` seen ``j`` times (3 or more for ``N₃₊``)
after it. Lower orders use the same formula on *continuation counts* (how many
distinct ids precede ``h w``) instead of raw counts; the lowest order interpolates
with the uniform distribution over the vocabulary, so an id never seen in fit
still gets a small probability. A context never seen backs off entirely to the
shorter one. The discounts of each order come from its counts of counts ``n_j``
(``Y = n₁ / (n₁ + 2 n₂)``, ``D_j = j - (j + 1) Y n_{j+1} / n_j``), so nothing is
tuned on held-out data. Every distribution sums to one over the vocabulary.

The corpus is one stream (no sentence markers): the first ids of a held-out text
are scored with the shorter contexts available, as a stateful LSTM starting from a
zero state would.

>>> ids = [2, 3, 4, 2, 3, 4, 2, 3, 5]
>>> lm = NGramLM(order=2, vocab_size=6).fit(ids)
>>> round(lm.prob(3, context=[2]), 4), round(lm.prob(5, context=[2]), 4)
(0.5867, 0.0867)
>>> round(float(lm.distribution([2]).sum()), 10)
1.0
>>> round(lm.evaluate([2, 3, 4, 2])["perplexity"], 3)
2.886
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from lstmkit.errors import ConfigError, DataError
from lstmkit.utils.checks import positive_int

__all__ = ["NGramLM", "fit_ngram", "kneser_ney_discounts"]

# used when the counts of counts are too few to estimate a discount
_FALLBACK = (0.5, 1.0, 1.5)


def kneser_ney_discounts(counts_of_counts: Sequence[int]) -> tuple[float, float, float]:
    """The modified Kneser-Ney discounts ``(D₁, D₂, D₃₊)`` from counts of counts.

    Args:
        counts_of_counts: ``(n₁, n₂, n₃, n₄)``: how many n-grams were seen exactly
            once, twice, three and four times.

    Returns:
        ``D_j = j - (j + 1) Y n_{j+1} / n_j`` with ``Y = n₁ / (n₁ + 2 n₂)``; a discount
        that cannot be estimated (a zero count of counts) or falls outside ``(0, j)``
        takes the fallback ``0.5 j``.

    >>> kneser_ney_discounts([100, 40, 20, 10])
    (0.5555555555555556, 1.1666666666666665, 1.8888888888888888)
    """
    n = [int(c) for c in counts_of_counts]
    if len(n) != 4 or min(n) < 0:
        raise ConfigError(f"counts_of_counts must be four counts (n1, n2, n3, n4) >= 0, got {counts_of_counts!r}")
    discounts: list[float] = []
    y = n[0] / (n[0] + 2 * n[1]) if n[0] + n[1] > 0 else math.nan
    for j in (1, 2, 3):
        d = j - (j + 1) * y * n[j] / n[j - 1] if n[j - 1] > 0 and math.isfinite(y) else math.nan
        discounts.append(d if 0 < d < j else _FALLBACK[j - 1])
    return discounts[0], discounts[1], discounts[2]


class NGramLM:
    """Interpolated modified Kneser-Ney n-gram model over token ids.

    Args:
        order: ``n``, the longest n-gram (1 is a smoothed unigram model).
        vocab_size: number of possible ids ``V`` (the uniform floor spreads over
            them); default one more than the largest id seen in ``fit``.

    Attributes:
        discounts: per order ``1..n``, the discounts ``(D₁, D₂, D₃₊)``.
    """

    def __init__(self, order: int = 3, vocab_size: int | None = None):
        positive_int("order", order)
        positive_int("vocab_size", vocab_size, none_ok=True)
        self.order = order
        self.vocab_size = vocab_size
        self.discounts: list[tuple[float, float, float]] = []
        # per order k (index k - 1): k-gram -> count (raw for k = n, continuation below)
        self._counts: list[dict[tuple[int, ...], int]] = []
        # per order: context -> (total count after it, N1, N2, N3+)
        self._contexts: list[dict[tuple[int, ...], tuple[int, int, int, int]]] = []
        self._followers: list[dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]]] | None = None
        self._ids = np.zeros(0, dtype=np.int64)  # what fit counted: the model is saved as these

    def fit(self, ids: Sequence[int]) -> NGramLM:
        """Count the n-grams of one stream of ids (the training part of a corpus).

        Args:
            ids: the token ids, in order.

        Returns:
            ``self``.

        Raises:
            DataError: no ids, or an id outside ``[0, vocab_size)``.
        """
        ids = self._check_ids(ids, "fit", fitting=True)
        if self.vocab_size is None:
            self.vocab_size = int(max(ids)) + 1
        self._ids = np.asarray(ids, dtype=np.int64)
        return self._build(_raw_counts(ids, self.order), ids)

    @property
    def training_ids(self) -> np.ndarray:
        """The ids `fit` counted. The counts are a function of them, so a model is saved
        as these ids and `to_dict` and rebuilt with ``NGramLM(**d).fit(ids)``: no pickle,
        and a file the size of the training text rather than of its n-gram tables."""
        self._check_fitted()
        return self._ids

    def to_dict(self) -> dict[str, int]:
        """``{"order", "vocab_size"}``: with `training_ids`, all it takes to rebuild the model."""
        return {"order": self.order, "vocab_size": self._fitted_vocab_size()}

    def _build(self, raw: list[Counter], ids: list[int]) -> NGramLM:
        """The model's tables from raw counts of every order ``1..n`` (``raw[k - 1]``: k-grams)."""
        n = self.order
        counts: list[dict[tuple[int, ...], int]] = []
        for k in range(1, n):
            # continuation count of a k-gram: the distinct ids seen before it, i.e. the distinct
            # (k+1)-grams it ends; the start of the stream counts as one more id before the first k-gram
            cont = Counter(gram[1:] for gram in raw[k])
            cont[tuple(ids[:k])] += 1
            counts.append(dict(cont))
        counts.append(dict(raw[n - 1]))
        self._counts = counts
        self._followers = None
        self.discounts = []
        self._contexts = []
        for table in counts:
            of = Counter(min(c, 5) for c in table.values())
            self.discounts.append(kneser_ney_discounts([of[1], of[2], of[3], of[4]]))
            contexts: defaultdict[tuple[int, ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
            for gram, c in table.items():
                row = contexts[gram[:-1]]
                row[0] += c
                row[min(c, 3)] += 1
            self._contexts.append({h: (r[0], r[1], r[2], r[3]) for h, r in contexts.items()})
        return self

    # ---- probabilities -------------------------------------------------------------

    def prob(self, token: int, context: Sequence[int] = ()) -> float:
        """``p(token | context)``; only the last ``order - 1`` ids of the context matter.

        Args:
            token: the id to score.
            context: the ids before it, oldest first.

        Returns:
            The probability, in ``(0, 1]``.
        """
        self._check_fitted()
        context = tuple(int(i) for i in context)[-(self.order - 1) :] if self.order > 1 else ()
        return self._prob(int(token), context)

    def _prob(self, w: int, h: tuple[int, ...]) -> float:
        k = len(h) + 1
        lower = self._prob(w, h[1:]) if h else 1.0 / self._fitted_vocab_size()
        row = self._contexts[k - 1].get(h)
        if row is None:  # a context never seen: all the mass goes to the shorter one
            return lower
        total, n1, n2, n3 = row
        d1, d2, d3 = self.discounts[k - 1]
        c = self._counts[k - 1].get(h + (w,), 0)
        discount = d1 if c == 1 else d2 if c == 2 else d3
        gamma = (d1 * n1 + d2 * n2 + d3 * n3) / total
        return max(c - discount, 0.0) / total + gamma * lower

    def distribution(self, context: Sequence[int] = ()) -> np.ndarray:
        """``p(· | context)`` over every id ``0 .. V-1``; it sums to one.

        The same numbers as `prob` for each id, computed for all ids at once: from
        the uniform floor up, each order whose context was seen scales the lower
        order's distribution by ``γ(h)`` and adds its discounted counts.

        Shape:
            Returns ``(V,)`` float64.
        """
        self._check_fitted()
        h = tuple(int(i) for i in context)[-(self.order - 1) :] if self.order > 1 else ()
        V = self._fitted_vocab_size()
        p = np.full(V, 1.0 / V)
        followers = self._follower_index()
        for k in range(1, len(h) + 2):
            hk = h[len(h) - (k - 1) :]
            row = self._contexts[k - 1].get(hk)
            if row is None:  # a context never seen: the shorter one keeps all the mass
                continue
            total, n1, n2, n3 = row
            d1, d2, d3 = self.discounts[k - 1]
            ws, cs = followers[k - 1][hk]
            discount = np.where(cs == 1, d1, np.where(cs == 2, d2, d3))
            p *= (d1 * n1 + d2 * n2 + d3 * n3) / total
            p[ws] += np.maximum(cs - discount, 0.0) / total
        return p

    def _follower_index(self) -> list[dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]]]:
        """Per order: context -> (the ids seen after it, their counts); built once, on first use."""
        if self._followers is None:
            index: list[dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]]] = []
            for table in self._counts:
                grouped: defaultdict[tuple[int, ...], tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
                for gram, c in table.items():
                    ws, cs = grouped[gram[:-1]]
                    ws.append(gram[-1])
                    cs.append(c)
                index.append({h: (np.array(ws), np.array(cs, dtype=np.float64)) for h, (ws, cs) in grouped.items()})
            self._followers = index
        return self._followers

    def token_probs(self, ids: Sequence[int], start: int = 0) -> np.ndarray:
        """``p(ids[i] | the ids before it)`` for every ``i >= start`` (see `evaluate`).

        Shape:
            Returns ``(len(ids) - start,)`` float64.
        """
        self._check_fitted()
        ids = self._check_ids(ids, "token_probs", fitting=False)
        if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start < len(ids):
            raise DataError(f"NGramLM: start must be a position in [0, {len(ids)}), got {start!r}")
        return np.array(
            [self._prob(ids[i], tuple(ids[max(0, i - self.order + 1) : i])) for i in range(start, len(ids))]
        )

    def evaluate(self, ids: Sequence[int], start: int = 0) -> dict[str, float]:
        """Cross-entropy and perplexity of a held-out stream of ids.

        The first ids are scored with the shorter contexts the stream offers.

        Args:
            ids: the held-out token ids, in order.
            start: score the ids from this position on; those before it are context
                only (``start=1`` scores what a recurrent model, which needs one id
                to start from, scores).

        Returns:
            ``{"cross_entropy": nats per token, "perplexity": exp(cross_entropy),
            "tokens": number scored}``.
        """
        self._check_fitted()
        ids = self._check_ids(ids, "evaluate", fitting=False)
        if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start < len(ids):
            raise DataError(f"NGramLM.evaluate: start must be a position in [0, {len(ids)}), got {start!r}")
        total = -float(np.log(self.token_probs(ids, start)).sum())
        n = len(ids) - start
        return {"cross_entropy": total / n, "perplexity": math.exp(total / n), "tokens": n}

    # ---- checks --------------------------------------------------------------------

    def _check_ids(self, ids: Sequence[int], where: str, fitting: bool) -> list[int]:
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        ids = [int(i) for i in ids]
        if not ids:
            raise DataError(f"NGramLM.{where}: no token ids were given (an empty text?)")
        low, high = min(ids), max(ids)
        limit = self.vocab_size
        if low < 0 or (limit is not None and high >= limit):
            bad = next(i for i in ids if i < 0 or (limit is not None and i >= limit))
            raise DataError(
                f"NGramLM.{where}: token id {bad} is outside the vocabulary [0, {limit if limit else '...'})"
                + ("" if fitting else "; score ids made by the tokeniser the model was fitted with")
            )
        return ids

    def _check_fitted(self) -> None:
        if not self._counts:
            raise ConfigError("this NGramLM is not fitted: call fit(training_ids) first")

    def _fitted_vocab_size(self) -> int:
        assert self.vocab_size is not None  # given, or set by fit from the ids
        return self.vocab_size

    def __repr__(self) -> str:
        return f"NGramLM(order={self.order}, vocab_size={self.vocab_size})"


def fit_ngram(
    ids: Sequence[int],
    vocab_size: int | None = None,
    orders: Sequence[int] = (1, 2, 3, 4, 5, 6),
    val_fraction: float = 0.1,
) -> NGramLM:
    """Fit an `NGramLM` whose order is chosen on the training ids alone.

    The last ``val_fraction`` of ``ids`` scores each order fitted on the rest (in
    increasing order, stopping at the first that does worse than the one before);
    the best order is then refitted on all of ``ids``. No held-out test data is seen.

    Args:
        ids: the training token ids, in order.
        vocab_size: number of possible ids (default: from the ids).
        orders: the orders to try.
        val_fraction: share of ``ids`` (at their end) used to choose.

    Returns:
        The fitted model; ``.order`` is the order chosen.

    >>> ids = [2, 3, 4, 5] * 50
    >>> fit_ngram(ids, orders=(1, 2, 3)).order
    2
    """
    ids = list(ids.tolist() if hasattr(ids, "tolist") else ids)
    orders = sorted(set(orders))
    if not orders or orders[0] < 1:
        raise ConfigError(f"orders must be positive integers, got {orders!r}")
    if not 0 < val_fraction < 1:
        raise ConfigError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    if not ids:
        raise DataError("fit_ngram: no token ids were given (an empty text?)")
    vocab_size = vocab_size or max(ids) + 1  # the choosing models must know ids seen only at the end
    n_val = int(len(ids) * val_fraction)
    best_order = orders[0]
    if n_val >= 2 and len(ids) - n_val >= 2:
        head, tail = ids[:-n_val], ids[-n_val:]
        raw = _raw_counts(head, orders[-1])  # counted once, shared by every order tried
        best = math.inf
        for order in orders:
            score = NGramLM(order, vocab_size)._build(raw[:order], head).evaluate(tail)["cross_entropy"]
            if score >= best:
                break
            best, best_order = score, order
    return NGramLM(best_order, vocab_size).fit(ids)


def _raw_counts(ids: list[int], n: int) -> list[Counter]:
    """Counts of every k-gram of the stream, for ``k = 1 .. n``."""
    return [Counter(zip(*(ids[i:] for i in range(k)))) for k in range(1, n + 1)]
