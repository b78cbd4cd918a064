"""Byte-level byte-pair encoding (`BPETokenizer`), trained with Hugging Face ``tokenizers``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from lstmkit.data.tokenizers import Tokenizer, _normalize, _texts
from lstmkit.data.vocabulary import BOS, EOS, PAD, UNK, _as_int_list, _check_min_freq
from lstmkit.errors import ConfigError, DataError

if TYPE_CHECKING:
    import tokenizers

__all__ = ["BPETokenizer"]


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

    def __init__(
        self,
        *,
        vocab_size: int = 2000,
        min_freq: int = 2,
        lowercase: bool = False,
        bos: bool = False,
        eos: bool = False,
    ):
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
        self._hf: tokenizers.Tokenizer | None = None  # once fitted

    def fit(self, texts: Iterable[str]) -> BPETokenizer:
        hf = _require_tokenizers()
        texts = _texts(texts, "BPETokenizer.fit")
        tok = hf.Tokenizer(hf.models.BPE(unk_token=UNK))
        normal = [hf.normalizers.NFC()] + ([hf.normalizers.Lowercase()] if self.lowercase else [])
        tok.normalizer = hf.normalizers.Sequence(normal)
        tok.pre_tokenizer = hf.pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = hf.decoders.ByteLevel()
        trainer = hf.trainers.BpeTrainer(
            vocab_size=self.vocab_size_limit,
            min_frequency=self.min_freq,
            special_tokens=list(self.specials),
            initial_alphabet=hf.pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tok.train_from_iterator(texts, trainer)
        self._hf = tok
        return self

    def tokenize(self, text: str) -> list[str]:
        return self._fitted_hf().encode(_normalize(text, False), add_special_tokens=False).tokens

    def encode(self, text: str, *, add_special: bool = True) -> list[int]:
        ids = self._fitted_hf().encode(_normalize(text, False), add_special_tokens=False).ids
        bos_id, eos_id = self.bos_id, self.eos_id  # None when the option is off
        if add_special and bos_id is not None:
            ids.insert(0, bos_id)
        if add_special and eos_id is not None:
            ids.append(eos_id)
        return ids

    def decode(self, ids: Iterable[int], *, skip_special: bool = True) -> str:
        hf = self._fitted_hf()
        ids = _as_int_list(ids)
        bad = [i for i in ids if not 0 <= i < self.vocab_size]
        if bad:
            raise DataError(f"token id(s) {bad[:5]} are outside the vocabulary [0, {self.vocab_size})")
        if skip_special:
            dropped = {0, self.bos_id, self.eos_id}
            ids = [i for i in ids if i not in dropped]
        return hf.decode(ids, skip_special_tokens=False)

    @property
    def is_fitted(self) -> bool:
        return self._hf is not None

    def _fitted_hf(self) -> tokenizers.Tokenizer:
        self._check_fitted()
        assert self._hf is not None  # _check_fitted raised otherwise
        return self._hf

    @property
    def vocab_size(self) -> int:
        return self._fitted_hf().get_vocab_size()

    @property
    def bos_id(self) -> int | None:
        return 2 if self.bos else None

    @property
    def eos_id(self) -> int | None:
        return (3 if self.bos else 2) if self.eos else None

    def id_to_token(self, index: int) -> str:
        token = self._fitted_hf().id_to_token(int(index))
        if token is None:
            raise DataError(f"token id {index!r} is outside the vocabulary [0, {self.vocab_size})")
        return token

    def to_dict(self) -> dict:
        hf = self._fitted_hf()
        return {
            "level": self.level,
            "vocab_size": self.vocab_size_limit,
            "min_freq": self.min_freq,
            "lowercase": self.lowercase,
            "bos": self.bos,
            "eos": self.eos,
            "tokenizer": json.loads(hf.to_str()),
        }

    @classmethod
    def from_dict(cls, state: dict) -> BPETokenizer:
        if state.get("level") != cls.level:
            raise DataError(f"not a saved BPETokenizer: level {state.get('level')!r}, expected {cls.level!r}")
        hf = _require_tokenizers()
        try:
            tok = cls(
                vocab_size=state["vocab_size"],
                min_freq=state["min_freq"],
                lowercase=state["lowercase"],
                bos=state["bos"],
                eos=state["eos"],
            )
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
