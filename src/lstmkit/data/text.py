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

import abc
import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np

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

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"


# ---- vocabulary ---------------------------------------------------------------------


class Vocabulary:
    """A bijection between tokens and ids, with padding and unknown tokens.

    Ids ``0`` and ``1`` are ``<pad>`` and ``<unk>``; ``<bos>`` and ``<eos>`` follow when
    enabled; then the regular tokens in the order given. A token that is not in
    the vocabulary encodes as ``<unk>``.

    Args:
        tokens: the regular tokens, in id order (no duplicates, no special tokens).
        bos: reserve ``<bos>`` (begin of sequence), added by ``encode``.
        eos: reserve ``<eos>`` (end of sequence), added by ``encode``.

    >>> v = Vocabulary(["a", "b"], eos=True)
    >>> len(v), v.pad_id, v.unk_id, v.eos_id, v.bos_id
    (5, 0, 1, 2, None)
    >>> v.encode(["b", "z"]), v.decode([4, 1, 2, 0]), v.decode([4, 1, 2, 0], skip_special=False)
    ([4, 1, 2], ['b', '<unk>'], ['b', '<unk>', '<eos>', '<pad>'])
    """

    def __init__(self, tokens: Sequence[str] = (), *, bos: bool = False, eos: bool = False):
        self.bos, self.eos = bool(bos), bool(eos)
        self.specials: tuple[str, ...] = (PAD, UNK) + ((BOS,) if bos else ()) + ((EOS,) if eos else ())
        self._tokens: list[str] = list(self.specials)
        self._index: dict[str, int] = {t: i for i, t in enumerate(self._tokens)}
        for token in tokens:
            if not isinstance(token, str) or token == "":
                raise DataError(f"vocabulary tokens must be non-empty strings, got {token!r}")
            if token in self._index:
                where = "a special token" if token in self.specials else f"id {self._index[token]} already"
                raise DataError(f"token {token!r} is {where}; vocabulary tokens must be unique")
            self._index[token] = len(self._tokens)
            self._tokens.append(token)

    @classmethod
    def build(
        cls,
        token_lists: Iterable[Iterable[str]],
        *,
        min_freq: int = 1,
        max_size: int | None = None,
        bos: bool = False,
        eos: bool = False,
    ) -> Vocabulary:
        """Count tokens over (training) sequences and keep the frequent ones.

        Tokens are ordered by count, most frequent first, ties alphabetically, so
        the ids do not depend on the order of the texts.

        Args:
            token_lists: one list of tokens per training text.
            min_freq: keep tokens seen at least this many times.
            max_size: at most this many ids in all, special tokens included (the
                rows of an embedding table); ``None`` keeps every frequent token.
            bos, eos: reserve the begin/end-of-sequence tokens.

        Returns:
            The vocabulary.

        >>> Vocabulary.build([["b", "a", "b"], ["c", "b", "a"]], max_size=4).tokens
        ['<pad>', '<unk>', 'b', 'a']
        """
        _check_min_freq(min_freq)
        n_special = 2 + bool(bos) + bool(eos)
        if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int)
                                     or max_size <= n_special):
            raise ConfigError(
                f"max_size must be an integer above the {n_special} special tokens (or None), got {max_size!r}"
            )
        counts = Counter(token for tokens in token_lists for token in tokens)
        for special in (PAD, UNK, BOS, EOS):
            counts.pop(special, None)  # a literal "<unk>" in the text is not a second <unk>
        kept = sorted((t for t, n in counts.items() if n >= min_freq), key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[: max_size - n_special]
        return cls(kept, bos=bos, eos=eos)

    # ---- lookups --------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index

    @property
    def tokens(self) -> list[str]:
        """Every token, special ones first, in id order."""
        return list(self._tokens)

    @property
    def pad_id(self) -> int:
        return 0

    @property
    def unk_id(self) -> int:
        return 1

    @property
    def bos_id(self) -> int | None:
        return self._index[BOS] if self.bos else None

    @property
    def eos_id(self) -> int | None:
        return self._index[EOS] if self.eos else None

    def token_to_id(self, token: str) -> int:
        """The token's id, or ``unk_id`` when it is not in the vocabulary."""
        return self._index.get(token, 1)

    def id_to_token(self, index: int) -> str:
        """The token with this id; an id outside ``[0, len)`` is an error."""
        if isinstance(index, bool) or not 0 <= int(index) < len(self._tokens):
            raise DataError(f"token id {index!r} is outside the vocabulary [0, {len(self._tokens)})")
        return self._tokens[int(index)]

    def encode(self, tokens: Iterable[str], *, add_special: bool = True) -> list[int]:
        """Ids of ``tokens``; ``<bos>``/``<eos>`` around them when enabled and ``add_special``."""
        ids = [self._index.get(t, 1) for t in tokens]
        if add_special and self.bos:
            ids.insert(0, self._index[BOS])
        if add_special and self.eos:
            ids.append(self._index[EOS])
        return ids

    def decode(self, ids: Iterable[int], *, skip_special: bool = True) -> list[str]:
        """Tokens of ``ids``; ``skip_special`` drops pad, bos and eos.

        ``<unk>`` is always kept: it stands for a real piece of the text.
        """
        tokens = [self.id_to_token(i) for i in _as_int_list(ids)]
        if skip_special:
            tokens = [t for t in tokens if t not in (PAD, BOS, EOS)]
        return tokens

    # ---- saving ---------------------------------------------------------------------

    def to_dict(self) -> dict:
        """JSON-able description; `Vocabulary.from_dict` rebuilds it."""
        return {"tokens": self._tokens[len(self.specials):], "bos": self.bos, "eos": self.eos}

    @classmethod
    def from_dict(cls, state: dict) -> Vocabulary:
        """Rebuild a vocabulary saved with `to_dict`.

        >>> v = Vocabulary(["x"], bos=True)
        >>> Vocabulary.from_dict(json.loads(json.dumps(v.to_dict()))).tokens
        ['<pad>', '<unk>', '<bos>', 'x']
        """
        try:
            return cls(list(state["tokens"]), bos=bool(state["bos"]), eos=bool(state["eos"]))
        except (KeyError, TypeError) as e:
            raise DataError(f"not a saved Vocabulary (expected keys tokens, bos, eos): {type(e).__name__}: {e}") from e

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens, bos={self.bos}, eos={self.eos})"


# ---- the common interface -----------------------------------------------------------


class Tokenizer(abc.ABC):
    """What every tokeniser offers; see the module docstring for the levels.

    Attributes:
        level: ``"char"``, ``"word"`` or ``"subword"`` (the name `make_tokenizer` takes).
    """

    level: ClassVar[str]

    @abc.abstractmethod
    def fit(self, texts: Iterable[str]) -> Tokenizer:
        """Learn the vocabulary from the training texts; returns ``self``."""

    @abc.abstractmethod
    def tokenize(self, text: str) -> list[str]:
        """The pieces of ``text`` (before mapping to ids)."""

    @abc.abstractmethod
    def encode(self, text: str, *, add_special: bool = True) -> list[int]:
        """Token ids of ``text``, with ``<bos>``/``<eos>`` when enabled and ``add_special``."""

    @abc.abstractmethod
    def decode(self, ids: Iterable[int], *, skip_special: bool = True) -> str:
        """The text of ``ids``; ``<pad>``, ``<bos>``, ``<eos>`` are dropped when ``skip_special``
        (an ``<unk>`` is kept: it stands for a real piece of the text)."""

    @abc.abstractmethod
    def to_dict(self) -> dict:
        """JSON-able description, with ``"level"``; `tokenizer_from_dict` rebuilds it."""

    @classmethod
    @abc.abstractmethod
    def from_dict(cls, state: dict) -> Tokenizer:
        """Rebuild a tokeniser of this class from `to_dict`."""

    @property
    @abc.abstractmethod
    def is_fitted(self) -> bool:
        """Whether ``fit`` (or ``from_dict``) has given it a vocabulary."""

    @property
    @abc.abstractmethod
    def vocab_size(self) -> int:
        """Number of ids, special tokens included (the rows of an embedding table)."""

    @property
    @abc.abstractmethod
    def bos_id(self) -> int | None:
        """Id of ``<bos>``, or ``None`` when not enabled."""

    @property
    @abc.abstractmethod
    def eos_id(self) -> int | None:
        """Id of ``<eos>``, or ``None`` when not enabled."""

    @abc.abstractmethod
    def id_to_token(self, index: int) -> str:
        """The piece with this id (e.g. for printing a vocabulary or attention weights)."""

    @property
    def pad_id(self) -> int:
        return 0

    @property
    def unk_id(self) -> int:
        return 1

    def encode_batch(self, texts: Iterable[str], *, add_special: bool = True) -> list[list[int]]:
        """`encode` every text.

        >>> CharTokenizer().fit(["ab"]).encode_batch(["ab", "b", ""])
        [[2, 3], [3], []]
        """
        return [self.encode(t, add_special=add_special) for t in texts]

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise ConfigError(f"{type(self).__name__} is not fitted: call fit(training_texts) first")


def _texts(texts: Iterable[str], where: str) -> list[str]:
    """The texts as a list, checking each is a string (a NaN from a CSV is not)."""
    if isinstance(texts, str):
        raise DataError(f"{where}: expected an iterable of texts, got a single string; wrap it in a list")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise DataError(f"{where}: text {i} (0-based) is {t!r} of type {type(t).__name__}, expected a string")
    return out


def _normalize(text: str, lowercase: bool) -> str:
    if not isinstance(text, str):
        raise DataError(f"expected a text (str), got {text!r} of type {type(text).__name__}")
    text = unicodedata.normalize("NFC", text)
    return text.lower() if lowercase else text


def _check_min_freq(min_freq: int) -> None:
    if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
        raise ConfigError(f"min_freq must be a positive integer, got {min_freq!r}")


def _as_int_list(ids: Iterable[int]) -> list[int]:
    if hasattr(ids, "tolist"):  # a tensor or an array
        ids = ids.tolist()
    return [int(i) for i in ids]


class _VocabularyTokenizer(Tokenizer):
    """Char and word tokenisers: split text into pieces, map pieces with a `Vocabulary`."""

    def __init__(self, *, lowercase: bool, min_freq: int = 1, max_size: int | None = None,
                 bos: bool = False, eos: bool = False):
        _check_min_freq(min_freq)
        self.lowercase, self.min_freq, self.max_size = bool(lowercase), min_freq, max_size
        self.bos, self.eos = bool(bos), bool(eos)
        self.vocab: Vocabulary | None = None

    @abc.abstractmethod
    def _split(self, text: str) -> list[str]:
        """Pieces of normalised text."""

    @abc.abstractmethod
    def _join(self, pieces: list[str]) -> str:
        """Text from pieces."""

    def fit(self, texts: Iterable[str]) -> _VocabularyTokenizer:
        texts = _texts(texts, f"{type(self).__name__}.fit")
        self.vocab = Vocabulary.build((self.tokenize(t) for t in texts), min_freq=self.min_freq,
                                      max_size=self.max_size, bos=self.bos, eos=self.eos)
        return self

    def tokenize(self, text: str) -> list[str]:
        return self._split(_normalize(text, self.lowercase))

    def encode(self, text: str, *, add_special: bool = True) -> list[int]:
        self._check_fitted()
        return self.vocab.encode(self.tokenize(text), add_special=add_special)

    def decode(self, ids: Iterable[int], *, skip_special: bool = True) -> str:
        self._check_fitted()
        return self._join(self.vocab.decode(ids, skip_special=skip_special))

    @property
    def is_fitted(self) -> bool:
        return self.vocab is not None

    @property
    def vocab_size(self) -> int:
        self._check_fitted()
        return len(self.vocab)

    @property
    def bos_id(self) -> int | None:
        return 2 if self.bos else None

    @property
    def eos_id(self) -> int | None:
        return (3 if self.bos else 2) if self.eos else None

    def id_to_token(self, index: int) -> str:
        self._check_fitted()
        return self.vocab.id_to_token(index)

    def to_dict(self) -> dict:
        self._check_fitted()
        return {"level": self.level, "lowercase": self.lowercase, "min_freq": self.min_freq,
                "max_size": self.max_size, "vocab": self.vocab.to_dict()}

    @classmethod
    def from_dict(cls, state: dict) -> _VocabularyTokenizer:
        if state.get("level") != cls.level:
            raise DataError(f"not a saved {cls.__name__}: level {state.get('level')!r}, expected {cls.level!r}")
        try:
            vocab = Vocabulary.from_dict(state["vocab"])
            tok = cls(lowercase=state["lowercase"], min_freq=state["min_freq"], max_size=state["max_size"],
                      bos=vocab.bos, eos=vocab.eos)
        except KeyError as e:
            raise DataError(f"saved {cls.__name__} lacks the key {e}") from e
        tok.vocab = vocab
        return tok

    def __repr__(self) -> str:
        size = len(self.vocab) if self.vocab is not None else "unfitted"
        return f"{type(self).__name__}(vocab={size}, lowercase={self.lowercase})"


class CharTokenizer(_VocabularyTokenizer):
    """One token per character (after NFC normalisation), whitespace included.

    Args:
        lowercase: lowercase the text first.
        min_freq: characters seen fewer times in fit become ``<unk>``.
        max_size: at most this many ids, special tokens included.
        bos, eos: add ``<bos>``/``<eos>`` around every encoded text.

    >>> tok = CharTokenizer(eos=True).fit(["abba"])
    >>> tok.vocab.tokens, tok.encode("ab")
    (['<pad>', '<unk>', '<eos>', 'a', 'b'], [3, 4, 2])
    """

    level = "char"

    def __init__(self, *, lowercase: bool = False, min_freq: int = 1, max_size: int | None = None,
                 bos: bool = False, eos: bool = False):
        super().__init__(lowercase=lowercase, min_freq=min_freq, max_size=max_size, bos=bos, eos=eos)

    def _split(self, text: str) -> list[str]:
        return list(text)

    def _join(self, pieces: list[str]) -> str:
        return "".join(pieces)


# words with inner apostrophes ("don't", "l'eau") stay whole; any other non-space symbol stands alone
_WORD = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
_NO_SPACE_BEFORE = re.compile(r" ([.,;:!?%)\]}])")
_NO_SPACE_AFTER = re.compile(r"([(\[{]) ")


class WordTokenizer(_VocabularyTokenizer):
    """Words and punctuation marks, lowercased by default.

    A word is a run of letters/digits/underscores, possibly with inner apostrophes;
    every other non-space character is a token of its own. ``decode`` rejoins with
    single spaces, without a space before ``. , ; : ! ? % ) ] }`` or after ``( [ {``,
    and shows unknown words as ``<unk>``.

    Args:
        lowercase: lowercase the text first (default ``True``).
        min_freq: words seen fewer times in fit become ``<unk>``.
        max_size: at most this many ids, special tokens included.
        bos, eos: add ``<bos>``/``<eos>`` around every encoded text.

    >>> WordTokenizer().tokenize("Don't panic (yet)!")
    ["don't", 'panic', '(', 'yet', ')', '!']
    >>> tok = WordTokenizer().fit(["Don't panic (yet)!"])
    >>> tok.decode(tok.encode("Don't panic (yet)!"))
    "don't panic (yet)!"
    """

    level = "word"

    def __init__(self, *, lowercase: bool = True, min_freq: int = 1, max_size: int | None = None,
                 bos: bool = False, eos: bool = False):
        super().__init__(lowercase=lowercase, min_freq=min_freq, max_size=max_size, bos=bos, eos=eos)

    def _split(self, text: str) -> list[str]:
        return _WORD.findall(text)

    def _join(self, pieces: list[str]) -> str:
        text = " ".join(pieces)
        return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", text))


class SymbolTokenizer(_VocabularyTokenizer):
    """Whitespace-separated symbols, kept exactly as written (no lowercasing, no splitting).

    For music (``C4 E4 G4 C#5/8``), chord progressions or any symbolic sequence in a
    text file. Decoding joins with single spaces.

    Args:
        min_freq: symbols seen fewer times in fit become ``<unk>``.
        max_size: at most this many ids, special tokens included.
        bos, eos: add ``<bos>``/``<eos>`` around every encoded text.

    >>> tok = SymbolTokenizer().fit(["C4 E4 G4", "C4 G4"])
    >>> tok.tokenize("C4 c4"), tok.decode(tok.encode("G4 C4"))
    (['C4', 'c4'], 'G4 C4')
    """

    level = "symbol"

    def __init__(self, *, lowercase: bool = False, min_freq: int = 1, max_size: int | None = None,
                 bos: bool = False, eos: bool = False):
        if lowercase:  # the argument exists so saved vocabulary tokenisers share one layout
            raise ConfigError("SymbolTokenizer: lowercase=True is not an option: symbols are kept exactly as written")
        super().__init__(lowercase=False, min_freq=min_freq, max_size=max_size, bos=bos, eos=eos)

    def _split(self, text: str) -> list[str]:
        return text.split()

    def _join(self, pieces: list[str]) -> str:
        return " ".join(pieces)


class BPETokenizer(Tokenizer):
    """Byte-level byte-pair encoding, trained with Hugging Face ``tokenizers``.

    Training starts from the 256 byte symbols and merges the most frequent adjacent
    pair until ``vocab_size`` ids exist (or no pair occurs ``min_freq`` times). As in
    GPT-2, a space is part of the word after it (shown as ``"Ġ"`` by `tokenize`).

    Args:
        vocab_size: the largest number of ids, special tokens and the 256 bytes
            included; must be above ``256 + specials``.
        min_freq: merge only pairs seen at least this many times in the training texts.
        lowercase: lowercase the text first.
        bos, eos: add ``<bos>``/``<eos>`` around every encoded text.

    Raises:
        ConfigError: the ``tokenizers`` package is not installed (``pip install tokenizers``).

    >>> tok = BPETokenizer(vocab_size=270).fit(["lower lowest low"] * 5)
    >>> tok.tokenize("lower lowest")
    ['lower', 'Ġlowest']
    >>> tok.decode(tok.encode("slower, not lowest")) == "slower, not lowest"
    True
    """

    level = "subword"
    N_BYTES = 256

    def __init__(self, *, vocab_size: int = 2000, min_freq: int = 2, lowercase: bool = False,
                 bos: bool = False, eos: bool = False):
        _check_min_freq(min_freq)
        n_special = 2 + bool(bos) + bool(eos)
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size <= self.N_BYTES + n_special:
            raise ConfigError(
                f"vocab_size must be an integer above {self.N_BYTES + n_special} (256 bytes + {n_special} special "
                f"tokens) for byte-level BPE, got {vocab_size!r}"
            )
        self.vocab_size_limit, self.min_freq, self.lowercase = vocab_size, min_freq, bool(lowercase)
        self.bos, self.eos = bool(bos), bool(eos)
        self.specials = (PAD, UNK) + ((BOS,) if bos else ()) + ((EOS,) if eos else ())
        self._hf = None  # a tokenizers.Tokenizer once fitted

    def fit(self, texts: Iterable[str]) -> BPETokenizer:
        hf = _require_tokenizers()
        texts = _texts(texts, "BPETokenizer.fit")
        tok = hf.Tokenizer(hf.models.BPE(unk_token=UNK))
        normal = [hf.normalizers.NFC()] + ([hf.normalizers.Lowercase()] if self.lowercase else [])
        tok.normalizer = hf.normalizers.Sequence(normal)
        tok.pre_tokenizer = hf.pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = hf.decoders.ByteLevel()
        trainer = hf.trainers.BpeTrainer(
            vocab_size=self.vocab_size_limit, min_frequency=self.min_freq, special_tokens=list(self.specials),
            initial_alphabet=hf.pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
        )
        tok.train_from_iterator(texts, trainer)
        self._hf = tok
        return self

    def tokenize(self, text: str) -> list[str]:
        self._check_fitted()
        return self._hf.encode(_normalize(text, False), add_special_tokens=False).tokens

    def encode(self, text: str, *, add_special: bool = True) -> list[int]:
        self._check_fitted()
        ids = self._hf.encode(_normalize(text, False), add_special_tokens=False).ids
        if add_special and self.bos:
            ids.insert(0, self.bos_id)
        if add_special and self.eos:
            ids.append(self.eos_id)
        return ids

    def decode(self, ids: Iterable[int], *, skip_special: bool = True) -> str:
        self._check_fitted()
        ids = _as_int_list(ids)
        bad = [i for i in ids if not 0 <= i < self.vocab_size]
        if bad:
            raise DataError(f"token id(s) {bad[:5]} are outside the vocabulary [0, {self.vocab_size})")
        if skip_special:
            dropped = {0, self.bos_id, self.eos_id}
            ids = [i for i in ids if i not in dropped]
        return self._hf.decode(ids, skip_special_tokens=False)

    @property
    def is_fitted(self) -> bool:
        return self._hf is not None

    @property
    def vocab_size(self) -> int:
        self._check_fitted()
        return self._hf.get_vocab_size()

    @property
    def bos_id(self) -> int | None:
        return 2 if self.bos else None

    @property
    def eos_id(self) -> int | None:
        return (3 if self.bos else 2) if self.eos else None

    def id_to_token(self, index: int) -> str:
        self._check_fitted()
        token = self._hf.id_to_token(int(index))
        if token is None:
            raise DataError(f"token id {index!r} is outside the vocabulary [0, {self.vocab_size})")
        return token

    def to_dict(self) -> dict:
        self._check_fitted()
        return {"level": self.level, "vocab_size": self.vocab_size_limit, "min_freq": self.min_freq,
                "lowercase": self.lowercase, "bos": self.bos, "eos": self.eos,
                "tokenizer": json.loads(self._hf.to_str())}

    @classmethod
    def from_dict(cls, state: dict) -> BPETokenizer:
        if state.get("level") != cls.level:
            raise DataError(f"not a saved BPETokenizer: level {state.get('level')!r}, expected {cls.level!r}")
        hf = _require_tokenizers()
        try:
            tok = cls(vocab_size=state["vocab_size"], min_freq=state["min_freq"], lowercase=state["lowercase"],
                      bos=state["bos"], eos=state["eos"])
            tok._hf = hf.Tokenizer.from_str(json.dumps(state["tokenizer"]))
        except KeyError as e:
            raise DataError(f"saved BPETokenizer lacks the key {e}") from e
        except Exception as e:  # tokenizers raises its own Exception type for a bad JSON model
            raise DataError(f"saved BPETokenizer could not be rebuilt: {type(e).__name__}: {e}") from e
        return tok

    def __repr__(self) -> str:
        size = self._hf.get_vocab_size() if self._hf is not None else "unfitted"
        return f"BPETokenizer(vocab={size}, lowercase={self.lowercase})"


class _HF:
    """The pieces of Hugging Face ``tokenizers`` this module uses, imported on first use."""

    def __init__(self):
        import tokenizers

        self.Tokenizer = tokenizers.Tokenizer
        self.models, self.trainers = tokenizers.models, tokenizers.trainers
        self.pre_tokenizers, self.decoders = tokenizers.pre_tokenizers, tokenizers.decoders
        self.normalizers = tokenizers.normalizers


def _require_tokenizers() -> _HF:
    try:
        return _HF()
    except ImportError as e:
        raise ConfigError(
            "subword (BPE) tokenisation needs the Hugging Face 'tokenizers' package: pip install tokenizers"
        ) from e


# ---- choosing by name, saving, padding ------------------------------------------------

TOKENIZERS: dict[str, type[Tokenizer]] = {
    "char": CharTokenizer, "word": WordTokenizer, "subword": BPETokenizer, "symbol": SymbolTokenizer,
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

    >>> tok = make_tokenizer("char").fit(["ab"])
    >>> tokenizer_from_dict(json.loads(json.dumps(tok.to_dict()))).encode("ba")
    [3, 2]
    """
    level = state.get("level") if isinstance(state, dict) else None
    if level not in TOKENIZERS:
        raise DataError(f"not a saved tokeniser: level {level!r}, expected one of {list(TOKENIZERS)}")
    return TOKENIZERS[level].from_dict(state)


def pad_ids(sequences: Sequence[Sequence[int]], pad_id: int = 0, *,
            length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
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


def load_word_vectors(path: str | os.PathLike, tokens: Sequence[str], *,
                      lowercase: bool = False) -> tuple[np.ndarray, np.ndarray]:
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
                    raise DataError(f"{path}: line {number}: the values after {parts[0]!r} are not all numbers") from None
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
