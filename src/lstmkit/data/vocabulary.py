"""A `Vocabulary`: tokens to ids and back, with the special tokens every tokeniser shares."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from lstmkit.errors import ConfigError, DataError

__all__ = ["PAD", "UNK", "BOS", "EOS", "Vocabulary"]


PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"


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
        if max_size is not None and (
            isinstance(max_size, bool) or not isinstance(max_size, int) or max_size <= n_special
        ):
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
        return {"tokens": self._tokens[len(self.specials) :], "bos": self.bos, "eos": self.eos}

    @classmethod
    def from_dict(cls, state: dict) -> Vocabulary:
        """Rebuild a vocabulary saved with `to_dict`.

        >>> import json
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


def _check_min_freq(min_freq: int) -> None:
    if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
        raise ConfigError(f"min_freq must be a positive integer, got {min_freq!r}")


def _as_int_list(ids: Iterable[int]) -> list[int]:
    if hasattr(ids, "tolist"):  # a tensor or an array
        ids = ids.tolist()
    return [int(i) for i in ids]
