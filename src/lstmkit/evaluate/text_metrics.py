"""Metrics for generated text: exact match, token accuracy and corpus BLEU.

* ``exact_match``: the share of outputs equal to their reference (after stripping
  surrounding whitespace), in [0, 1].
* ``token_accuracy``: position by position, the share of reference tokens that the
  output has at the same position; a missing or extra output token counts as
  wrong (extra tokens are counted against the larger of the two lengths), in [0, 1].
* ``corpus_bleu``: BLEU-4 (Papineni et al. 2002) over the whole corpus: clipped
  n-gram precisions ``p_1..p_4`` summed over all sentences, their geometric mean,
  times the brevity penalty ``BP = exp(1 - r / c)`` when the total output length
  ``c`` is below the total reference length ``r`` (for several references, each
  sentence uses the reference length closest to its output, the shorter on a tie).
  Scores are on the 0-100 scale and, with the default ``"13a"`` tokenisation,
  match sacreBLEU's defaults (``tok:13a|smooth:exp``) without depending on it.

>>> exact_match(["1998-03-03", "2001-01-02"], ["1998-03-03", "2001-01-20"])
0.5
>>> round(token_accuracy(["a b c"], ["a x c d"]), 4)
0.5
>>> round(corpus_bleu(["the cat sat on the mat"], ["the cat sat on the mat"]).score, 2)
100.0
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lstmkit.errors import ConfigError, DataError
from lstmkit.utils.checks import positive_int

__all__ = ["exact_match", "token_accuracy", "corpus_bleu", "BLEUScore", "tokenize_13a", "TOKENIZERS"]

# mteval-v13a.pl's tokenisation, as sacreBLEU's default tokeniser applies it
_13A_RULES = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),  # most punctuation and symbols stand alone
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),  # a period or comma, unless after a digit ...
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),  # ... or before one (1,000 and 3.14 stay whole)
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),  # a dash after a digit
]


def tokenize_13a(text: str) -> list[str]:
    """Split text into tokens as ``mteval-v13a.pl`` (and sacreBLEU's default) does.

    >>> tokenize_13a("It wasn't surprising, was it? 3.14, 1998-03-03.")
    ['It', "wasn't", 'surprising', ',', 'was', 'it', '?', '3.14', ',', '1998', '-', '03', '-', '03', '.']
    """
    text = text.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in text:
        text = html.unescape(text)
    text = f" {text} "
    for pattern, replacement in _13A_RULES:
        text = pattern.sub(replacement, text)
    return text.split()


TOKENIZERS: dict[str, Callable[[str], list[str]]] = {
    "13a": tokenize_13a,
    "none": str.split,  # text already tokenised: split on whitespace
    "char": lambda text: [ch for ch in text if not ch.isspace()],
}


def _tokenizer(tokenize: str) -> Callable[[str], list[str]]:
    if tokenize not in TOKENIZERS:
        raise ConfigError(f"tokenize must be one of {list(TOKENIZERS)}, got {tokenize!r}")
    return TOKENIZERS[tokenize]


def _check_pairs(predictions: Sequence[str], references: Sequence, where: str) -> None:
    if isinstance(predictions, str) or isinstance(references, str):
        raise DataError(f"{where}: expected lists of texts, got a single string; wrap it in a list")
    if len(predictions) != len(references):
        raise DataError(
            f"{where}: {len(predictions)} predictions but {len(references)} references; "
            "give one reference (or list of references) per prediction"
        )
    if len(predictions) == 0:
        raise DataError(f"{where}: no predictions to score")


def exact_match(predictions: Sequence[str], references: Sequence[str]) -> float:
    """Share of predictions equal to their reference, ignoring surrounding whitespace.

    Args:
        predictions: the outputs.
        references: one reference per output.

    Returns:
        A number in [0, 1].
    """
    _check_pairs(predictions, references, "exact_match")
    return sum(p.strip() == r.strip() for p, r in zip(predictions, references)) / len(predictions)


def token_accuracy(predictions: Sequence[str], references: Sequence[str], *, tokenize: str = "none") -> float:
    """Position-wise token accuracy: matches at the same position over the longer length.

    For each pair, the tokens at positions ``0..max(len(p), len(r)) - 1`` are
    compared; positions where one side has no token count as wrong. The total of
    matches is divided by the total of those lengths.

    Args:
        predictions: the outputs.
        references: one reference per output.
        tokenize: ``"none"`` (split on whitespace), ``"char"`` (characters, no
            whitespace) or ``"13a"``.

    Returns:
        A number in [0, 1].

    >>> token_accuracy(["1998-03-03"], ["1998-03-04"], tokenize="char")
    0.9
    """
    _check_pairs(predictions, references, "token_accuracy")
    split = _tokenizer(tokenize)
    correct = total = 0
    for p, r in zip(predictions, references):
        pt, rt = split(p), split(r)
        correct += sum(a == b for a, b in zip(pt, rt))
        total += max(len(pt), len(rt))
    return correct / total if total else 1.0


@dataclass(frozen=True)
class BLEUScore:
    """A corpus BLEU score and its parts.

    Attributes:
        score: BLEU on the 0-100 scale.
        precisions: the (smoothed) n-gram precisions ``p_1..p_N`` in percent.
        brevity_penalty: ``BP`` in (0, 1].
        hyp_len: total output tokens ``c``.
        ref_len: total effective reference tokens ``r``.
    """

    score: float
    precisions: tuple[float, ...]
    brevity_penalty: float
    hyp_len: int
    ref_len: int

    @property
    def ratio(self) -> float:
        return self.hyp_len / self.ref_len if self.ref_len else 0.0

    def __str__(self) -> str:
        precisions = "/".join(f"{p:.1f}" for p in self.precisions)
        return (
            f"BLEU = {self.score:.2f} {precisions} (BP = {self.brevity_penalty:.3f} ratio = {self.ratio:.3f} "
            f"hyp_len = {self.hyp_len} ref_len = {self.ref_len})"
        )


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(
    predictions: Sequence[str],
    references: Sequence[str] | Sequence[Sequence[str]],
    *,
    max_order: int = 4,
    tokenize: str = "13a",
    lowercase: bool = False,
    smooth: str = "exp",
) -> BLEUScore:
    """Corpus-level BLEU of outputs against one or more references each.

    Args:
        predictions: the outputs, one text each.
        references: per output, a reference text or a list of reference texts.
        max_order: the longest n-gram (4 for BLEU-4).
        tokenize: ``"13a"`` (sacreBLEU's default), ``"none"`` (split on whitespace:
            for pre-tokenised text) or ``"char"``.
        lowercase: compare lowercased text.
        smooth: ``"exp"`` (sacreBLEU's default: an order with no match gets
            precision ``1 / (2^k · total)`` for its ``k``-th such order) or ``"none"``
            (a zero precision makes BLEU 0).

    Returns:
        A `BLEUScore`.

    >>> round(corpus_bleu(["the the the the"], ["the cat"], tokenize="none", smooth="none").score, 2)
    0.0
    """
    _check_pairs(predictions, references, "corpus_bleu")
    positive_int("max_order", max_order)
    if smooth not in ("exp", "none"):
        raise ConfigError(f"smooth must be 'exp' or 'none', got {smooth!r}")
    split = _tokenizer(tokenize)

    def tokens(text: str) -> list[str]:
        if not isinstance(text, str):
            raise DataError(f"corpus_bleu: expected texts, got {text!r} of type {type(text).__name__}")
        return split(text.lower() if lowercase else text)

    matches, totals = [0] * max_order, [0] * max_order
    hyp_len = ref_len = 0
    for i, (prediction, refs) in enumerate(zip(predictions, references)):
        refs = [refs] if isinstance(refs, str) else list(refs)
        if not refs:
            raise DataError(f"corpus_bleu: prediction {i} (0-based) has no reference")
        hyp = tokens(prediction)
        ref_tokens = [tokens(r) for r in refs]
        hyp_len += len(hyp)
        # the reference length closest to the output's, the shorter on a tie
        ref_len += min((abs(len(r) - len(hyp)), len(r)) for r in ref_tokens)[1]
        for n in range(1, max_order + 1):
            counts = _ngrams(hyp, n)
            most: Counter[tuple[str, ...]] = Counter()
            for r in ref_tokens:
                most |= _ngrams(r, n)  # the most times each n-gram appears in one reference
            matches[n - 1] += sum(min(c, most[g]) for g, c in counts.items())
            totals[n - 1] += max(len(hyp) - n + 1, 0)

    precisions = []
    smoothing = 1.0
    for m, t in zip(matches, totals):
        if t == 0:
            precisions.append(0.0)
        elif m == 0 and smooth == "exp":
            smoothing *= 2
            precisions.append(100.0 / (smoothing * t))
        else:
            precisions.append(100.0 * m / t)
    if hyp_len == 0 or min(precisions) == 0.0:
        bp = 0.0 if hyp_len == 0 else _brevity_penalty(hyp_len, ref_len)
        return BLEUScore(0.0, tuple(precisions), bp, hyp_len, ref_len)
    log_mean = sum(math.log(p / 100.0) for p in precisions) / max_order
    bp = _brevity_penalty(hyp_len, ref_len)
    return BLEUScore(100.0 * bp * math.exp(log_mean), tuple(precisions), bp, hyp_len, ref_len)


def _brevity_penalty(hyp_len: int, ref_len: int) -> float:
    if hyp_len >= ref_len:
        return 1.0
    return math.exp(1.0 - ref_len / hyp_len) if hyp_len else 0.0
