"""Pretrained word vectors (word2vec or GloVe text files) for a vocabulary."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from lstmkit.errors import DataError

__all__ = ["load_word_vectors"]


def load_word_vectors(
    path: str | os.PathLike, tokens: Sequence[str], *, lowercase: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Read pretrained vectors (word2vec or GloVe text format) for the given tokens.

    One vector per line: the word, then its ``d`` numbers, separated by spaces. A
    word2vec file starts with a ``count d`` header line; a GloVe file does not. Only
    the vectors of ``tokens`` are kept, so a large file costs time, not memory.

    Args:
        path: the ``.txt``/``.vec`` file (UTF-8).
        tokens: the vocabulary, in id order (e.g. ``tokenizer.vocab.tokens``).
        lowercase: match lowercased file words (when the tokeniser lowercases but
            the vectors are cased; the first vector of a lowercased word wins).

    Shape:
        Returns vectors ``(len(tokens), d)`` float32 (zeros where not found) and
        found ``(len(tokens),)`` bool.

    Raises:
        DataError: a missing or empty file, a line with the wrong number of values
            or a non-number (naming the line).

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "glove.txt"
    >>> _ = path.write_text("the 0.1 0.2\\ncat 1.0 -1.0\\n", encoding="utf-8")
    >>> vectors, found = load_word_vectors(path, ["<pad>", "<unk>", "cat", "dog"])
    >>> vectors.tolist(), found.tolist()
    ([[0.0, 0.0], [0.0, 0.0], [1.0, -1.0], [0.0, 0.0]], [False, False, True, False])
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file (expected word vectors in word2vec/GloVe text format)")
    index = {t: i for i, t in enumerate(tokens)}
    vectors: np.ndarray | None = None
    found = np.zeros(len(tokens), dtype=bool)
    dim = None
    with open(path, encoding="utf-8", errors="strict") as f:
        try:
            for number, line in enumerate(f, start=1):
                parts = line.rstrip("\r\n ").split(" ")
                if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    dim = int(parts[1])  # word2vec header: count, dimension
                    continue
                if len(parts) < 2:
                    continue  # a blank line
                if dim is None:
                    dim = len(parts) - 1
                if len(parts) - 1 != dim:
                    raise DataError(f"{path}: line {number} has {len(parts) - 1} values after the word, expected {dim}")
                word = parts[0].lower() if lowercase else parts[0]
                row = index.get(word)
                if row is None or found[row]:
                    continue
                try:
                    values = np.array(parts[1:], dtype=np.float32)
                except ValueError:
                    raise DataError(
                        f"{path}: line {number}: the values after {parts[0]!r} are not all numbers"
                    ) from None
                if vectors is None:
                    vectors = np.zeros((len(tokens), dim), dtype=np.float32)
                vectors[row], found[row] = values, True
        except UnicodeDecodeError as e:
            raise DataError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start}); save the vectors as UTF-8") from e
    if dim is None:
        raise DataError(f"{path}: the file holds no vectors")
    if vectors is None:
        vectors = np.zeros((len(tokens), dim), dtype=np.float32)
    return vectors, found
