"""`TextClassifier`: (bi)LSTM text classification at char, word or subword level.

The story of fit and predict is in `lstmkit.tasks.classifier_base`.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from lstmkit.data.io import SUPPORTED_EXTENSIONS, read_table
from lstmkit.data.labels import (
    as_objects,
    check_labels,
)
from lstmkit.data.text import (
    load_word_vectors,
    make_tokenizer,
    pad_ids,
    tokenizer_from_dict,
)
from lstmkit.data.text_io import TextSet, read_texts, texts_from_frame
from lstmkit.errors import ConfigError, DataError
from lstmkit.models import ClassifierNet, ClassifierNetConfig
from lstmkit.tasks.base import CellFields, JobConfig
from lstmkit.tasks.classifier_base import (
    BaseClassifier,
    check_classifier_config,
)
from lstmkit.utils.checks import positive_int

__all__ = ["TextClassifierConfig", "TextClassifier", "TEXT_LEVELS"]

TEXT_LEVELS = ("char", "word", "subword")


@dataclass(frozen=True)
class TextClassifierConfig(CellFields, JobConfig):
    """Everything that defines a text classifier; saved as JSON with the model.

    Args:
        text_col, label_col: for tables, the text and class columns.
        id_col: for tables, an id column for the predictions (default: row numbers).
        level: tokens: ``"char"``, ``"word"`` (default) or ``"subword"`` (byte-pair
            encoding trained on the training texts).
        lowercase: lowercase the texts; ``None`` is the level's default (words yes,
            characters and subwords no).
        min_freq: tokens seen fewer times in the training texts become ``<unk>``
            (for subwords: pairs merged at least this often).
        max_vocab: at most this many token ids (subwords: the BPE vocabulary size);
            ``None`` is 20,000 words, every character seen, or 4,000 subwords.
        max_length: keep the first ``max_length`` tokens of longer texts, with a warning
            (default 2,000: a book-length line would otherwise stall training); ``None``: all.
        embeddings: a word2vec/GloVe text file of pretrained vectors to start the
            embedding table from (its dimension replaces ``embedding_dim``).
        freeze_embeddings: keep the embedding table fixed during training.
        embedding_dim: size of the token embeddings learned from scratch.
        hidden_size, num_layers, bidirectional, pooling, dropout: the network.
        conv_channels, conv_kernels: an optional convolutional branch (off by default).
        ngrams: the longest token n-gram of a hashed bag of n-grams whose per-class
            weights are learned jointly with the LSTM and added to its logits (a
            fastText-style linear model inside the network, `lstmkit.nn.HashedNGrams`);
            ``None`` is the level's default: 5 for characters (the n-gram baseline's
            1-5-grams), off for words and subwords (not measured there yet); ``0`` turns it off.
        ngram_buckets: rows of the hashed n-gram table (default 2**18).
        ensemble, max_epochs, patience, lr, schedule, lr_patience, weight_decay, batch_size,
            val_fraction, device, seed: as in `SequenceClassifierConfig`.
        cell, peephole, layer_norm, coupled_gates, proj_size, zoneout, recurrent_dropout:
            the recurrent cell of the network (`lstmkit.tasks.base.CellFields`): ``cell``
            ``"lstm"`` (default), ``"gru"`` or ``"rnn"``, and the LSTM variants.
    """

    text_col: str = "text"
    label_col: str | None = "label"
    id_col: str | None = None
    level: str = "word"
    lowercase: bool | None = None
    min_freq: int = 1
    max_vocab: int | None = None
    max_length: int | None = 2000
    embeddings: str | None = None
    freeze_embeddings: bool = False
    embedding_dim: int = 64
    hidden_size: int = 64
    num_layers: int = 1
    bidirectional: bool = True
    pooling: str = "attention"
    dropout: float = 0.2
    conv_channels: tuple[int, ...] = ()
    conv_kernels: tuple[int, ...] = (8, 5, 3)
    ngrams: int | None = None
    ngram_buckets: int = 2**18
    ensemble: int = 1
    max_epochs: int = 30
    patience: int | None = 3
    lr: float = 3e-3
    schedule: str = "plateau"
    lr_patience: int = 1
    weight_decay: float = 0.0
    batch_size: int | None = None
    val_fraction: float | None = None
    device: str = "auto"
    seed: int = 0

    def __post_init__(self):
        self.cell_options()  # checks cell and its variants
        check_classifier_config(self)
        if self.level not in TEXT_LEVELS:
            raise ConfigError(f"level must be one of {TEXT_LEVELS}, got {self.level!r}")
        positive_int("max_length", self.max_length, none_ok=True)
        if self.ngrams is not None and (
            isinstance(self.ngrams, bool) or not isinstance(self.ngrams, int) or self.ngrams < 0
        ):
            raise ConfigError(
                f"ngrams must be None (the level's default), 0 (off) or a positive integer, got {self.ngrams!r}"
            )
        positive_int("ngram_buckets", self.ngram_buckets)
        if self.ngram_buckets < 2:
            raise ConfigError(f"ngram_buckets must be at least 2, got {self.ngram_buckets}")
        if self.embeddings is not None and self.level == "char":
            raise ConfigError("pretrained embeddings are word vectors; they need level='word' (or 'subword')")
        make_tokenizer(self.level, **self.tokenizer_options())  # checks min_freq / max_vocab for the level

    @property
    def ngram_order(self) -> int:
        """``ngrams``, with ``None`` resolved for ``level``."""
        return (5 if self.level == "char" else 0) if self.ngrams is None else self.ngrams

    def tokenizer_options(self) -> dict:
        """The arguments of `lstmkit.data.text.make_tokenizer` for ``level``."""
        options: dict[str, Any] = {"min_freq": self.min_freq}
        if self.lowercase is not None:
            options["lowercase"] = self.lowercase
        if self.level == "subword":
            options["vocab_size"] = self.max_vocab or 4000
        else:
            options["max_size"] = self.max_vocab or (20000 if self.level == "word" else None)
        return options


class TextClassifier(BaseClassifier):
    """Bidirectional LSTM text classifier with attention pooling, at char, word or subword level.

    Takes the fields of `TextClassifierConfig` as keyword arguments. ``fit``,
    ``predict``, ``predict_proba``, ``predict_frame`` and ``evaluate`` accept a list of
    texts (with ``y=``), a DataFrame with ``text_col`` (and ``label_col``), a
    `lstmkit.data.text_io.TextSet`, or a path (table, folder per class, ``.txt``).

    Empty texts are skipped in ``fit`` and predicted from no content (a warning
    says how many) elsewhere.

    >>> texts = ["good film", "great film", "bad film", "awful film"] * 5
    >>> labels = ["pos", "pos", "neg", "neg"] * 5
    >>> clf = TextClassifier(hidden_size=8, embedding_dim=8, max_epochs=10, lr=0.02)
    >>> clf = clf.fit(texts, labels)  # doctest: +SKIP
    >>> clf.predict(["great film", "awful film"]).tolist()  # doctest: +SKIP
    ['pos', 'neg']
    """

    task = "text_classifier"
    config_class = TextClassifierConfig
    # models saved before the n-gram bag existed had none
    _saved_before = {"schedule": "plateau", "ngrams": 0}

    def read(self, data: object, y: Iterable[Any] | None = None) -> TextSet:
        """Read any accepted input into a `lstmkit.data.text_io.TextSet`, with labels when it has them.

        Args:
            data: see the class docstring.
            y: labels, replacing any the data carry.
        """
        c = self.config
        if isinstance(data, (str, os.PathLike)) and Path(data).suffix.lower() in SUPPORTED_EXTENSIONS:
            data = read_table(data)
        if isinstance(data, TextSet):
            inputs = data
        elif isinstance(data, pd.DataFrame):
            label_col = c.label_col if (y is None and c.label_col in data.columns) else None
            inputs = texts_from_frame(data, c.text_col, label_col, c.id_col)
        elif isinstance(data, (str, os.PathLike)):
            if not (Path(data).is_dir() or Path(data).suffix):
                raise DataError(
                    f"{str(data)!r} is neither a folder nor a file name; to classify a single text, pass a list: [text]"
                )
            inputs = read_texts(data)
        elif isinstance(data, (list, tuple, np.ndarray, pd.Series)):
            texts = list(data)
            bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
            if bad:
                raise DataError(f"text {bad[0]} (0-based) is {texts[bad[0]]!r}, expected a string")
            inputs = TextSet(texts, None, as_objects(range(len(texts))), "<texts>")
        else:
            raise DataError(f"expected a list of texts, a DataFrame, a TextSet or a path, got {type(data).__name__}")
        if y is not None:
            inputs = dataclasses.replace(inputs, y=check_labels(y, len(inputs), inputs.source))
        return inputs

    def _for_training(self, inputs: TextSet) -> TextSet:
        """Empty texts teach nothing: skip them, with a warning."""
        empty = [i for i, t in enumerate(inputs.texts) if not t.strip()]
        if not empty:
            return inputs
        if len(empty) == len(inputs):
            raise DataError(f"{inputs.source}: every text is empty; nothing to learn from")
        warnings.warn(
            f"{inputs.source}: skipped {len(empty)} empty text(s) in training (ids "
            f"{inputs.ids[empty[:5]].tolist()}{' ...' if len(empty) > 5 else ''})",
            stacklevel=4,
        )
        keep = np.setdiff1d(np.arange(len(inputs)), empty)
        return TextSet(
            [inputs.texts[i] for i in keep],
            None if inputs.y is None else inputs.y[keep],
            inputs.ids[keep],
            inputs.source,
        )

    def _fit_prepare(self, inputs: TextSet, rows: np.ndarray):
        c = self.config
        self._coverage = None
        return make_tokenizer(c.level, **c.tokenizer_options()).fit([inputs.texts[i] for i in rows])

    def _prepare_dict(self) -> dict:
        return {"tokenizer": self._prepared.to_dict(), "embedding_coverage": self._coverage}

    def _load_prepare(self, state: dict):
        self._coverage = state["embedding_coverage"]
        return tokenizer_from_dict(state["tokenizer"])

    def _encode(self, inputs: TextSet) -> tuple[np.ndarray, np.ndarray]:
        c, tok = self.config, self._prepared
        ids = tok.encode_batch(inputs.texts)
        if c.max_length is not None:
            longer = sum(len(s) > c.max_length for s in ids)
            if longer:
                warnings.warn(
                    f"{inputs.source}: {longer} text(s) longer than max_length={c.max_length} tokens are "
                    "read up to that length",
                    stacklevel=4,
                )
            ids = [s[: c.max_length] for s in ids]
        empty = [i for i, s in enumerate(ids) if not s]
        if empty:
            warnings.warn(
                f"{inputs.source}: {len(empty)} empty text(s) (ids {inputs.ids[empty[:5]].tolist()}) are "
                "predicted from no content",
                stacklevel=4,
            )
            for i in empty:
                ids[i] = [tok.unk_id]
        return pad_ids(ids, tok.pad_id)

    def _net_config(self, n_classes: int) -> ClassifierNetConfig:
        c = self.config
        dim = c.embedding_dim
        if c.embeddings is not None:
            tokens = [self._prepared.id_to_token(i) for i in range(self._prepared.vocab_size)]
            self._vectors, self._found = load_word_vectors(c.embeddings, tokens)
            self._coverage = float(self._found[2:].mean()) if len(tokens) > 2 else 0.0  # specials have no vectors
            dim = self._vectors.shape[1]
        return ClassifierNetConfig(
            n_classes=n_classes,
            vocab_size=self._prepared.vocab_size,
            embedding_dim=dim,
            pad_id=self._prepared.pad_id,
            freeze_embedding=c.freeze_embeddings,
            hidden_size=c.hidden_size,
            num_layers=c.num_layers,
            bidirectional=c.bidirectional,
            pooling=c.pooling,
            dropout=c.dropout,
            conv_channels=tuple(c.conv_channels),
            conv_kernels=tuple(c.conv_kernels),
            ngram_order=c.ngram_order,
            ngram_buckets=c.ngram_buckets if c.ngram_order else 0,
            cell=c.cell_options(),
        )

    def _init_net(self, net: ClassifierNet) -> None:
        if self.config.embeddings is None:
            return
        found = torch.from_numpy(self._found)
        if not bool(found.any()):
            raise DataError(
                f"{self.config.embeddings}: none of the {len(found)} vocabulary tokens has a vector "
                "in the file; check the tokeniser level and lowercasing"
            )
        with torch.no_grad():
            assert net.embedding is not None  # a text network embeds tokens
            weight = net.embedding.weight
            vectors = torch.from_numpy(self._vectors)
            # tokens without a vector keep their random start, scaled like the pretrained ones
            scale = float(vectors[found].std())
            weight.mul_(scale / max(float(weight.std()), 1e-8))
            weight[found] = vectors[found]
            weight[net.config.pad_id] = 0.0

    @property
    def embedding_coverage(self) -> float | None:
        """Share of the (non-special) vocabulary found in the pretrained vectors; ``None`` without ``embeddings``."""
        self._require_fitted()
        return self._coverage
