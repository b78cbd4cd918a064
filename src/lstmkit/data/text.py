"""Text to token ids and back: a `Vocabulary` and tokenisers at three levels.

Every tokeniser has the same small interface, so a task switches level with a string
(`make_tokenizer`):

* ``fit(texts)`` learns the vocabulary (or the subword merges) from the **training
  texts only**, and returns the tokeniser;
* ``tokenize(text) -> list[str]`` the pieces, ``encode(text) -> list[int]`` their ids,
  ``decode(ids) -> str`` the text back;
* ``to_dict()`` / `tokenizer_from_dict` save and rebuild it as plain JSON, so it is
  stored next to a model's weights (nothing is pickled).

The levels:

* ``"char"`` (`CharTokenizer`): one token per Unicode character (whitespace
  included); ``decode(encode(s)) == s`` for text whose characters were all seen in fit.
* ``"word"`` (`WordTokenizer`): words (letters, digits and inner apostrophes) and
  single punctuation marks; lowercased by default. Decoding rejoins with single
  spaces and no space before closing punctuation: whitespace is not kept.
* ``"subword"`` (`BPETokenizer`): byte-level byte-pair encoding trained with Hugging
  Face ``tokenizers`` (GPT-2 style). Every byte is in its alphabet, so no text is ever
  unknown and ``decode(encode(s)) == s`` always holds (after NFC normalisation).

Ids are laid out the same way at every level: ``<pad>`` is 0 and ``<unk>`` is 1,
then ``<bos>`` and ``<eos>`` when asked for, then the learned tokens. Padding with 0
and masking by length (`pad_ids`) is therefore the same for every tokeniser. Text is
NFC-normalised first, so a precomposed "é" and "e" + combining accent are one token.

>>> tok = make_tokenizer("char").fit(["hello", "help"])
>>> tok.encode("hello"), tok.decode(tok.encode("hello"))
([4, 3, 2, 2, 5], 'hello')
>>> tok.encode("hex")  # "x" was not in the training texts
[4, 3, 1]
>>> words = make_tokenizer("word", min_freq=2).fit(["The cat sat.", "the dog sat."])
>>> words.tokenize("The cat sat."), words.encode("The cat sat.")
(['the', 'cat', 'sat', '.'], [4, 1, 3, 2])
>>> words.decode(words.encode("The cat sat."))
'the <unk> sat.'
>>> tokenizer_from_dict(words.to_dict()).encode("the dog sat.")
[4, 1, 3, 2]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lstmkit.data.bpe import BPETokenizer
from lstmkit.data.tokenizers import (
    CharTokenizer,
    SymbolTokenizer,
    Tokenizer,
    WordTokenizer,
)
from lstmkit.data.vocabulary import BOS, EOS, PAD, UNK, Vocabulary
from lstmkit.data.word_vectors import load_word_vectors
from lstmkit.errors import ConfigError, DataError

__all__ = [
    "PAD",
    "UNK",
    "BOS",
    "EOS",
    "TOKENIZERS",
    "Vocabulary",
    "Tokenizer",
    "CharTokenizer",
    "SymbolTokenizer",
    "WordTokenizer",
    "BPETokenizer",
    "make_tokenizer",
    "tokenizer_from_dict",
    "pad_ids",
    "load_word_vectors",
]


TOKENIZERS: dict[str, type[Tokenizer]] = {
    "char": CharTokenizer,
    "word": WordTokenizer,
    "subword": BPETokenizer,
    "symbol": SymbolTokenizer,
}


def make_tokenizer(level: str, **options: Any) -> Tokenizer:
    """A fresh tokeniser for ``level`` (``"char"``, ``"word"`` or ``"subword"``).

    Args:
        level: the name in `TOKENIZERS`; ``"bpe"`` is accepted for ``"subword"``.
        **options: the tokeniser's own arguments (``min_freq``, ``max_size``,
            ``vocab_size`` for subwords, ``lowercase``, ``bos``, ``eos``).

    Returns:
        An unfitted tokeniser; call ``fit(training_texts)``.

    >>> make_tokenizer("word", min_freq=3)
    WordTokenizer(vocab=unfitted, lowercase=True)
    """
    name = "subword" if level == "bpe" else level
    if name not in TOKENIZERS:
        raise ConfigError(f"tokeniser level must be one of {list(TOKENIZERS)}, got {level!r}")
    try:
        return TOKENIZERS[name](**options)
    except TypeError as e:  # an option this level does not have
        raise ConfigError(f"{TOKENIZERS[name].__name__}: {e}") from None


def tokenizer_from_dict(state: dict) -> Tokenizer:
    """Rebuild any tokeniser from its ``to_dict()`` (the ``"level"`` key picks the class).

    >>> import json
    >>> tok = make_tokenizer("char").fit(["ab"])
    >>> tokenizer_from_dict(json.loads(json.dumps(tok.to_dict()))).encode("ba")
    [3, 2]
    """
    level = state.get("level") if isinstance(state, dict) else None
    if level not in TOKENIZERS:
        raise DataError(f"not a saved tokeniser: level {level!r}, expected one of {list(TOKENIZERS)}")
    return TOKENIZERS[level].from_dict(state)


def pad_ids(
    sequences: Sequence[Sequence[int]], pad_id: int = 0, *, length: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pad token-id lists into one matrix, keeping each real length.

    Args:
        sequences: ``N`` lists of ids, each at least one id long.
        pad_id: the value put after each sequence's end.
        length: the padded length ``T``; default the longest sequence. A sequence
            longer than ``length`` is an error, never cut silently.

    Shape:
        Returns ids ``(N, T)`` int64 and lengths ``(N,)`` int64.

    Returns:
        ``(ids, lengths)``.

    >>> ids, lengths = pad_ids([[5, 6, 7], [8]])
    >>> ids.tolist(), lengths.tolist()
    ([[5, 6, 7], [8, 0, 0]], [3, 1])
    """
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    if len(lengths) and lengths.min() == 0:
        raise DataError(f"sequence {int(np.argmin(lengths))} (0-based) has no tokens; an empty sequence cannot be read")
    T = int(lengths.max()) if len(lengths) else 0
    if length is not None:
        if len(lengths) and T > length:
            raise DataError(f"sequence {int(np.argmax(lengths))} (0-based) has {T} tokens, more than length={length}")
        T = length
    ids = np.full((len(lengths), T), pad_id, dtype=np.int64)
    for i, s in enumerate(sequences):
        ids[i, : len(s)] = s
    return ids, lengths
