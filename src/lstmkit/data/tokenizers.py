"""Tokenisers that map text to pieces through a `Vocabulary`: characters, words and symbols.

Also their common interface, `Tokenizer`.
"""

from __future__ import annotations

import abc
import re
import unicodedata
from collections.abc import Iterable
from typing import ClassVar

from lstmkit.data.vocabulary import Vocabulary, _check_min_freq
from lstmkit.errors import ConfigError, DataError

__all__ = ["Tokenizer", "CharTokenizer", "WordTokenizer", "SymbolTokenizer"]


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


class _VocabularyTokenizer(Tokenizer):
    """Char and word tokenisers: split text into pieces, map pieces with a `Vocabulary`."""

    def __init__(
        self, *, lowercase: bool, min_freq: int = 1, max_size: int | None = None, bos: bool = False, eos: bool = False
    ):
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
        self.vocab = Vocabulary.build(
            (self.tokenize(t) for t in texts),
            min_freq=self.min_freq,
            max_size=self.max_size,
            bos=self.bos,
            eos=self.eos,
        )
        return self

    def tokenize(self, text: str) -> list[str]:
        return self._split(_normalize(text, self.lowercase))

    def encode(self, text: str, *, add_special: bool = True) -> list[int]:
        return self._fitted_vocab().encode(self.tokenize(text), add_special=add_special)

    def decode(self, ids: Iterable[int], *, skip_special: bool = True) -> str:
        return self._join(self._fitted_vocab().decode(ids, skip_special=skip_special))

    @property
    def is_fitted(self) -> bool:
        return self.vocab is not None

    def _fitted_vocab(self) -> Vocabulary:
        self._check_fitted()
        assert self.vocab is not None  # _check_fitted raised otherwise
        return self.vocab

    @property
    def vocab_size(self) -> int:
        return len(self._fitted_vocab())

    @property
    def bos_id(self) -> int | None:
        return 2 if self.bos else None

    @property
    def eos_id(self) -> int | None:
        return (3 if self.bos else 2) if self.eos else None

    def id_to_token(self, index: int) -> str:
        return self._fitted_vocab().id_to_token(index)

    def to_dict(self) -> dict:
        vocab = self._fitted_vocab()
        return {
            "level": self.level,
            "lowercase": self.lowercase,
            "min_freq": self.min_freq,
            "max_size": self.max_size,
            "vocab": vocab.to_dict(),
        }

    @classmethod
    def from_dict(cls, state: dict) -> _VocabularyTokenizer:
        if state.get("level") != cls.level:
            raise DataError(f"not a saved {cls.__name__}: level {state.get('level')!r}, expected {cls.level!r}")
        try:
            vocab = Vocabulary.from_dict(state["vocab"])
            tok = cls(
                lowercase=state["lowercase"],
                min_freq=state["min_freq"],
                max_size=state["max_size"],
                bos=vocab.bos,
                eos=vocab.eos,
            )
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

    def __init__(
        self,
        *,
        lowercase: bool = False,
        min_freq: int = 1,
        max_size: int | None = None,
        bos: bool = False,
        eos: bool = False,
    ):
        super().__init__(lowercase=lowercase, min_freq=min_freq, max_size=max_size, bos=bos, eos=eos)

    def _split(self, text: str) -> list[str]:
        return list(text)

    def _join(self, pieces: list[str]) -> str:
        return "".join(pieces)


# words with inner apostrophes ("don't", "l'eau") stay whole; any other non-space symbol stands alone
_WORD = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")


_WORD = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
_NO_SPACE_BEFORE = re.compile(r" ([.,;:!?%)\]}])")


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

    def __init__(
        self,
        *,
        lowercase: bool = True,
        min_freq: int = 1,
        max_size: int | None = None,
        bos: bool = False,
        eos: bool = False,
    ):
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

    def __init__(
        self,
        *,
        lowercase: bool = False,
        min_freq: int = 1,
        max_size: int | None = None,
        bos: bool = False,
        eos: bool = False,
    ):
        if lowercase:  # the argument exists so saved vocabulary tokenisers share one layout
            raise ConfigError("SymbolTokenizer: lowercase=True is not an option: symbols are kept exactly as written")
        super().__init__(lowercase=False, min_freq=min_freq, max_size=max_size, bos=bos, eos=eos)

    def _split(self, text: str) -> list[str]:
        return text.split()

    def _join(self, pieces: list[str]) -> str:
        return " ".join(pieces)
