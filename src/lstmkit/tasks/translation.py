"""Sequence to sequence: learn to rewrite one kind of text into another from example pairs.

The story of `Translator.fit`:

1. **validate** the pairs: texts on both sides, none empty;
2. **split** a shuffled ``val_fraction`` off for early stopping; the source and
   target tokenisers are fitted on the rest only (the target side gets ``<bos>``
   and ``<eos>``);
3. **batch** by padding both sides (the encoder reads real lengths, attention masks
   the source padding, the loss ignores the target padding);
4. **train** `lstmkit.models.Seq2Seq` with cross-entropy on the next target token,
   teacher forcing going linearly from ``teacher_forcing`` at the first epoch to
   ``teacher_forcing_final`` at the last (scheduled sampling), keeping the weights
   of the best validation epoch.

`Translator.translate` decodes greedily or with beam search (``beam > 1``) and can
return the attention weights; `Translator.evaluate` scores exact match, token
accuracy and corpus BLEU on held-out pairs.

>>> from lstmkit.data.dates import date_pairs
>>> pairs = date_pairs(60, seed=0)
>>> t = Translator(hidden_size=16, embedding_dim=8, max_epochs=1, batch_size=16).fit(pairs)  # doctest: +SKIP
>>> len(t.translate(["3rd of March 1998", "03/03/98"]))  # doctest: +SKIP
2
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, overload

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.data.text import (
    TOKENIZERS,
    Tokenizer,
    make_tokenizer,
    pad_ids,
)
from lstmkit.errors import CheckpointError, ConfigError, DataError
from lstmkit.evaluate.text_metrics import corpus_bleu, exact_match, token_accuracy
from lstmkit.models.seq2seq import ATTENTIONS, Decoded, Seq2Seq, Seq2SeqConfig
from lstmkit.tasks.base import CellFields, Estimator, JobConfig, placed, trainer_checkpoints
from lstmkit.tasks.saved_checks import MAX_SEQUENCE_LENGTH, check_tokenizer, check_vocab, count_in
from lstmkit.train import (
    Callback,
    Trainer,
    fingerprint,
    load_model_dir,
    save_model_dir,
    seed_everything,
)
from lstmkit.train.callbacks import TrainingBudget, job_progress
from lstmkit.train.devices import check_device
from lstmkit.utils.checks import open_unit, positive_int
from lstmkit.utils.schema import check_shapes, first_line, from_saved

__all__ = ["TranslatorConfig", "Translator", "Attention"]

Pairs: TypeAlias = Sequence[tuple[str, str]] | pd.DataFrame


@dataclass(frozen=True)
class TranslatorConfig(CellFields, JobConfig):
    """Everything that defines a translator; saved as JSON with it.

    Args:
        source_level, target_level: tokeniser levels, ``"char"`` (default),
            ``"word"``, ``"subword"`` (``"bpe"``) or ``"symbol"``.
        lowercase: lowercase both sides first (default: each tokeniser's own).
        min_freq, max_vocab: vocabulary limits (char, word, symbol).
        bpe_vocab_size: subword vocabulary size.
        embedding_dim, hidden_size, encoder_layers, decoder_layers, bidirectional,
            attention, dropout: the network (`lstmkit.models.Seq2SeqConfig`).
        teacher_forcing: probability of feeding the gold previous token in the
            first epoch; ``teacher_forcing_final`` in the last, linear in between
            (over the steps, with ``max_steps`` or ``time_budget``).
        max_epochs, patience, lr, batch_size, clip_grad_norm: training (Adam).
        max_steps: stop after this many optimiser steps (one per batch), or after
            ``max_epochs`` when that comes first; the learning rate follows a cosine
            from ``lr`` down to 5% of it, and teacher forcing goes linearly to
            ``teacher_forcing_final``, over those steps. The default, 250, is about
            45 s of the ``lstmkit translate`` date demo on one CPU thread. ``None``:
            epochs only, at a constant rate.
        val_fraction: share of the pairs (shuffled) that steers early stopping.
        max_length: most target tokens produced; ``None``: twice the longest
            training target, plus 10.
        beam: default beam width of `Translator.translate` (1: greedy).
        length_penalty: ``α`` in the beam's ``log p / length^α``.
        time_budget: also stop after this many seconds (best weights kept); the
            learning rate is annealed and teacher forcing scheduled over the time (or
            the steps, whichever runs out first). It makes the result depend on the
            machine's speed and load: the same call trains a different model on a
            slower or busier machine. ``None`` (default): no limit.
        device: where to train and predict: ``"auto"`` (a GPU when torch sees one), ``"cpu"``,
            ``"cuda"`` or ``"cuda:N"``.
        seed: seeds the split, initialisation, shuffling and dropout.
        cell, peephole, layer_norm, coupled_gates, proj_size, zoneout, recurrent_dropout:
            the recurrent cell of the network (`lstmkit.tasks.base.CellFields`): ``cell``
            ``"lstm"`` (default), ``"gru"`` or ``"rnn"``, and the LSTM variants.
    """

    source_level: str = "char"
    target_level: str = "char"
    lowercase: bool | None = None
    min_freq: int = 1
    max_vocab: int | None = None
    bpe_vocab_size: int = 2000
    embedding_dim: int = 64
    hidden_size: int = 128
    encoder_layers: int = 1
    decoder_layers: int = 1
    bidirectional: bool = True
    attention: str = "additive"
    dropout: float = 0.1
    teacher_forcing: float = 1.0
    teacher_forcing_final: float = 0.8
    max_epochs: int = 30
    max_steps: int | None = 250
    patience: int | None = 3
    lr: float = 3e-3
    batch_size: int = 64
    clip_grad_norm: float | None = 1.0
    val_fraction: float = 0.1
    max_length: int | None = None
    beam: int = 1
    length_penalty: float = 1.0
    time_budget: float | None = None
    device: str = "auto"
    seed: int = 0

    def __post_init__(self):
        self.cell_options()  # checks cell and its variants
        object.__setattr__(self, "device", check_device(self.device))  # None, the old default, is "auto"
        for name in ("source_level", "target_level"):
            if getattr(self, name) == "bpe":
                object.__setattr__(self, name, "subword")
            if getattr(self, name) not in TOKENIZERS:
                raise ConfigError(f"{name} must be one of {list(TOKENIZERS)} (or 'bpe'), got {getattr(self, name)!r}")
        for name in ("max_epochs", "batch_size", "beam", "min_freq"):
            positive_int(name, getattr(self, name))
        positive_int("max_steps", self.max_steps, none_ok=True)
        for name in ("teacher_forcing", "teacher_forcing_final"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")
        if self.attention not in ATTENTIONS:
            raise ConfigError(f"attention must be one of {ATTENTIONS}, got {self.attention!r}")
        open_unit("lr", self.lr)
        if not 0 <= self.val_fraction < 0.5:
            raise ConfigError(f"val_fraction must be in [0, 0.5), got {self.val_fraction!r}")
        positive_int("max_length", self.max_length, none_ok=True)
        if self.length_penalty < 0:
            raise ConfigError(f"length_penalty must be >= 0, got {self.length_penalty!r}")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ConfigError(f"time_budget must be a positive number of seconds or None, got {self.time_budget!r}")
        try:
            self.net_config(4, 4, 2, 3)
        except ValueError as e:
            raise ConfigError(str(e)) from None

    def net_config(self, source_vocab: int, target_vocab: int, bos_id: int, eos_id: int) -> Seq2SeqConfig:
        return Seq2SeqConfig(
            source_vocab_size=source_vocab,
            target_vocab_size=target_vocab,
            bos_id=bos_id,
            eos_id=eos_id,
            embedding_dim=self.embedding_dim,
            hidden_size=self.hidden_size,
            encoder_layers=self.encoder_layers,
            decoder_layers=self.decoder_layers,
            bidirectional=self.bidirectional,
            attention=self.attention,
            dropout=self.dropout,
            cell=self.cell_options(),
        )

    def tokenizer(self, level: str, target: bool) -> Tokenizer:
        options: dict[str, Any] = {"bos": target, "eos": target}
        if level == "subword":
            options["vocab_size"] = self.bpe_vocab_size
        else:
            options.update(min_freq=self.min_freq, max_size=self.max_vocab)
        if self.lowercase is not None and level != "symbol":
            options["lowercase"] = self.lowercase
        return make_tokenizer(level, **options)


@dataclass(frozen=True)
class Attention:
    """Where the decoder looked while writing one output.

    Attributes:
        source: the source pieces (columns).
        target: the output pieces, then ``<eos>`` (rows).
        weights: ``(len(target), len(source))``; each row sums to 1.
    """

    source: list[str]
    target: list[str]
    weights: np.ndarray


class _Batches:
    """Re-iterable padded batches ``(src, src_lengths, tgt_in, tgt_out)``, reshuffled every epoch."""

    def __init__(self, sources: list[list[int]], targets: list[list[int]], batch_size: int, shuffle: bool, seed: int):
        self.sources, self.targets = sources, targets
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.rng = random.Random(seed)
        self.passes = 0  # shuffles drawn so far
        self.budget: TrainingBudget | None = None

    def __len__(self) -> int:
        return -(-len(self.sources) // self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Shuffle as in epoch ``epoch`` of an uninterrupted fit (the Trainer calls it; a resume needs it)."""
        if epoch != self.passes:
            self.rng, self.passes = random.Random(self.seed), 0
            for _ in range(epoch):
                self._order()

    def _order(self) -> list[int]:
        order = list(range(len(self.sources)))
        if self.shuffle:
            self.rng.shuffle(order)
            self.passes += 1
        return order

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        order = self._order()
        for start in range(0, len(order), self.batch_size):
            # a spent budget ends the epoch, but never before its first batch (an empty epoch is an error)
            if start and self.budget is not None and self.budget.spent:
                return
            rows = order[start : start + self.batch_size]
            src, src_lengths = pad_ids([self.sources[i] for i in rows])
            tgt_ids, _ = pad_ids([self.targets[i] for i in rows])
            tgt = torch.from_numpy(tgt_ids)
            yield torch.from_numpy(src), torch.from_numpy(src_lengths), tgt[:, :-1], tgt[:, 1:]


class _Schedule(Callback):
    """Teacher forcing from ``start`` (first epoch) to ``end`` (last epoch), linear in between.

    With a step or time budget (``budget``), the progress is the share of the budget
    used instead of the share of the epochs, updated after every batch.
    """

    def __init__(self, start: float, end: float, epochs: int, budget: TrainingBudget | None = None):
        self.start, self.end, self.epochs, self.budget = start, end, epochs, budget
        self.ratio = start

    def _set(self, progress: float) -> None:
        self.ratio = self.start + (self.end - self.start) * progress

    def on_epoch_start(self, trainer, epoch: int) -> None:
        # with a budget: where the last batch left it (a resumed fit has had no batch yet)
        self._set(self.budget.progress if self.budget is not None else (epoch - 1) / max(self.epochs - 1, 1))

    def on_batch_end(self, trainer, logs) -> None:
        if self.budget is not None:
            self._set(self.budget.progress)


class Translator(Estimator):
    """Encoder-decoder LSTM with attention trained on (source, target) text pairs.

    Takes the fields of `TranslatorConfig` as keyword arguments (or a config).

    Attributes:
        source_tokenizer, target_tokenizer: the fitted tokenisers.
        net: the fitted `lstmkit.models.Seq2Seq`.
        history: the per-epoch training log of the last fit.
    """

    task = "translator"
    config_class = TranslatorConfig

    def __init__(self, config: TranslatorConfig | None = None, **options: Any):
        super().__init__(config, **options)
        self.source_tokenizer: Tokenizer | None = None
        self.target_tokenizer: Tokenizer | None = None
        self.net: Seq2Seq | None = None
        self.history: list[dict] = []
        self.max_length: int | None = None
        self._fingerprint: str | None = None

    # ---- fit ---------------------------------------------------------------------

    def fit(
        self,
        pairs: Pairs,
        *,
        verbose: bool = False,
        progress: bool | None = None,
        init_from: str | os.PathLike | Translator | None = None,
        checkpoints: str | os.PathLike | None = None,
    ) -> Translator:
        """Train on (source, target) pairs; a shuffled ``val_fraction`` steers early stopping.

        Args:
            pairs: a list of ``(source, target)`` texts, or a DataFrame with
                ``source`` and ``target`` columns.
            verbose: print one line per epoch.
            progress: show training progress on standard error: ``None`` only when it
                is a terminal, ``True`` always (a line per epoch when not a terminal),
                ``False`` never.
            init_from: fine-tune a saved translator (its folder, or the fitted object):
                training starts from its weights and keeps its two tokenisers and its
                longest output.

            checkpoints: a folder for training checkpoints, written after every
                epoch; a fit run again with the same data, configuration and folder
                continues from them and ends with the same model as an uninterrupted
                one (`lstmkit.tasks.base.trainer_checkpoints`).
        Returns:
            ``self``.
        """
        c = self.config
        source = self._warm_start(init_from)
        pairs = _check_pairs(pairs)
        order = list(range(len(pairs)))
        random.Random(c.seed).shuffle(order)
        n_val = int(len(pairs) * c.val_fraction) if len(pairs) >= 10 else 0
        train = [pairs[i] for i in order[n_val:]]
        val = [pairs[i] for i in order[:n_val]]
        if source is not None:
            src_tok, tgt_tok = source._tokenizers()
        else:
            src_tok = c.tokenizer(c.source_level, target=False).fit([s for s, _ in train])
            tgt_tok = c.tokenizer(c.target_level, target=True).fit([t for _, t in train])
        train_src, train_tgt = _encode_pairs(src_tok, tgt_tok, train)
        self.max_length = (
            source.max_length if source is not None else (c.max_length or 2 * max(len(t) for t in train_tgt) + 10)
        )

        seed_everything(c.seed)
        net = Seq2Seq(
            source.net.config
            if source is not None
            else c.net_config(src_tok.vocab_size, tgt_tok.vocab_size, tgt_tok.bos_id, tgt_tok.eos_id)
        )
        if source is not None:
            self._copy_weights(net, source.net)
        batches = _Batches(train_src, train_tgt, c.batch_size, shuffle=True, seed=c.seed)
        val_batches = None
        if val:
            val_src, val_tgt = _encode_pairs(src_tok, tgt_tok, val)
            val_batches = _Batches(val_src, val_tgt, max(c.batch_size, 256), shuffle=False, seed=c.seed)
        budgeted = c.max_steps is not None or c.time_budget is not None
        budget = TrainingBudget(batches, c.max_steps, c.time_budget) if budgeted else None
        schedule = _Schedule(c.teacher_forcing, c.teacher_forcing_final, c.max_epochs, budget)
        pad = tgt_tok.pad_id

        def compute_loss(model: nn.Module, batch: Any) -> Tensor:  # model: the Seq2Seq net
            src, src_lengths, tgt_in, tgt_out = batch
            logits = model(src, src_lengths, tgt_in, teacher_forcing=schedule.ratio if model.training else 1.0)
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1), ignore_index=pad)

        callbacks: list[Callback] = ([budget] if budget else []) + [schedule]
        callbacks += [_PrintEpochs(schedule)] if verbose else []
        saving, resuming = trainer_checkpoints(checkpoints)
        trainer = Trainer(
            net,
            compute_loss=compute_loss,
            optimizer="adam",
            lr=c.lr,
            max_epochs=c.max_epochs,
            patience=c.patience if val_batches is not None else None,
            clip_grad_norm=c.clip_grad_norm,
            seed=c.seed,
            callbacks=callbacks,
            progress=job_progress(progress),
            distributed=False,
            device=self.device_,
            **saving,
        )
        self.history = trainer.fit(batches, val_batches, **resuming)
        self.net = net.eval()
        self.source_tokenizer, self.target_tokenizer = src_tok, tgt_tok
        self._fingerprint = fingerprint([list(p) for p in pairs])
        return self

    # ---- translate ---------------------------------------------------------------

    def translate(
        self,
        texts: Sequence[str] | str,
        *,
        beam: int | None = None,
        length_penalty: float | None = None,
        batch_size: int = 256,
    ) -> list[str]:
        """Rewrite each source text.

        Args:
            texts: the sources (a single string is one source).
            beam: beam width; 1 is greedy; default the configured ``beam``.
            length_penalty: ``α`` of the beam's length normalisation (default configured).
            batch_size: sources decoded together.

        Returns:
            One output text per source.
        """
        return [self._detokenize(d) for d in self._decode(texts, beam, length_penalty, batch_size)]

    def attention(self, text: str, *, beam: int | None = None) -> Attention:
        """Translate one text and return where each output piece attended in the source.

        Args:
            text: the source.
            beam: beam width (default the configured one).

        Returns:
            An `Attention` (plot it with `lstmkit.report.plot_attention`).
        """
        src_tok, tgt_tok = self._tokenizers()
        decoded = self._decode([text], beam, None, 1)[0]
        ids = src_tok.encode(text, add_special=False)
        source = [src_tok.id_to_token(i) for i in ids]
        target = [tgt_tok.id_to_token(i) for i in decoded[0]]
        weights = decoded[1].numpy()
        if len(target) < weights.shape[0]:
            target.append("<eos>")
        return Attention(source, target, weights)

    def _decode(self, texts, beam, length_penalty, batch_size) -> list[tuple[list[int], Tensor]]:
        net = self._require_fitted()
        src_tok, _ = self._tokenizers()
        max_length = self.max_length
        assert max_length is not None  # fit and load set it with the network
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        beam = self.config.beam if beam is None else beam
        alpha = self.config.length_penalty if length_penalty is None else length_penalty
        positive_int("beam", beam)
        encoded = []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise DataError(f"source {i} (0-based) is {text!r} of type {type(text).__name__}, expected a text")
            ids = src_tok.encode(text, add_special=False)
            if not ids:
                raise DataError(f"source {i} (0-based) is empty: there is nothing to translate")
            encoded.append(ids)
        device = next(net.parameters()).device
        out: list[tuple[list[int], Tensor]] = []
        for start in range(0, len(encoded), batch_size):
            src_ids, src_lengths = pad_ids(encoded[start : start + batch_size])
            src, lengths = torch.from_numpy(src_ids).to(device), torch.from_numpy(src_lengths)
            if beam == 1:
                decoded: Decoded = net.greedy(src, lengths, max_length)
            else:
                decoded = net.beam_search(src, lengths, max_length, beam=beam, length_penalty=alpha)
            out += list(zip(decoded.tokens, decoded.attention))
        return out

    def _detokenize(self, decoded: tuple[list[int], Tensor]) -> str:
        return self._tokenizers()[1].decode(decoded[0])

    # ---- evaluate ----------------------------------------------------------------

    @overload
    def evaluate(
        self, pairs: Pairs, *, beam: int | None = None, return_predictions: Literal[False] = False
    ) -> dict[str, float]: ...
    @overload
    def evaluate(
        self, pairs: Pairs, *, beam: int | None = None, return_predictions: Literal[True]
    ) -> tuple[dict[str, float], pd.DataFrame]: ...
    def evaluate(
        self, pairs: Pairs, *, beam: int | None = None, return_predictions: bool = False
    ) -> dict[str, float] | tuple[dict[str, float], pd.DataFrame]:
        """Exact match, token accuracy and corpus BLEU on held-out pairs.

        References are compared as the target tokeniser writes them back (for word
        level: lowercased, single-spaced), which is all the model can produce.

        Args:
            pairs: the held-out pairs (list or DataFrame, as for `fit`).
            beam: beam width (default the configured one).
            return_predictions: also return a DataFrame with ``source``, ``target``,
                ``prediction`` and ``correct``.

        Returns:
            ``{"exact_match", "token_accuracy", "bleu", "pairs"}`` (BLEU 0-100,
            13a tokenisation), and the predictions frame when asked.
        """
        pairs = _check_pairs(pairs)
        _, tgt_tok = self._tokenizers()
        predictions = self.translate([s for s, _ in pairs], beam=beam)
        references = [tgt_tok.decode(tgt_tok.encode(t)) for _, t in pairs]
        unit = "char" if self.config.target_level == "char" else "13a"
        metrics = {
            "exact_match": exact_match(predictions, references),
            "token_accuracy": token_accuracy(predictions, references, tokenize=unit),
            "bleu": corpus_bleu(predictions, references).score,
            "pairs": len(pairs),
        }
        if not return_predictions:
            return metrics
        frame = pd.DataFrame({"source": [s for s, _ in pairs], "target": references, "prediction": predictions})
        frame["correct"] = frame["target"].str.strip() == frame["prediction"].str.strip()
        return metrics, frame

    # ---- save / load -------------------------------------------------------------

    def save(self, path: str | os.PathLike, metrics: dict | None = None) -> None:
        """Save as a directory: ``weights.safetensors`` and JSON (configuration, tokenisers)."""
        net = self._require_fitted()
        src_tok, tgt_tok = self._tokenizers()
        metadata = {
            "task": "translator",
            "source_tokenizer": src_tok.to_dict(),
            "target_tokenizer": tgt_tok.to_dict(),
            "net": net.config.to_dict(),
            "max_length": self.max_length,
            "history": self.history,
            "data_fingerprint": self._fingerprint,
            "metrics": metrics or {},
        }
        save_model_dir(path, net, {"translator": self.config.to_dict()}, metadata)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | None = None) -> Translator:
        """Load a translator saved by `save`; nothing is unpickled."""
        state, config, metadata = load_model_dir(path)
        if metadata.get("task") != "translator" or "translator" not in config:
            raise CheckpointError(f"{path}: not a saved Translator (task {metadata.get('task')!r})")
        try:
            model = cls(
                placed(TranslatorConfig.from_dict(config["translator"], f"{path}/config.json: translator"), device)
            )
            meta = f"{path}/metadata.json"
            net_config = from_saved(Seq2SeqConfig, metadata["net"], f"{meta}: net")
            model.source_tokenizer = check_tokenizer(metadata["source_tokenizer"], f"{meta}: source_tokenizer")
            model.target_tokenizer = check_tokenizer(metadata["target_tokenizer"], f"{meta}: target_tokenizer")
            check_vocab(
                model.source_tokenizer.vocab_size, net_config.source_vocab_size, f"{meta}: net.source_vocab_size"
            )
            check_vocab(
                model.target_tokenizer.vocab_size, net_config.target_vocab_size, f"{meta}: net.target_vocab_size"
            )
            model.max_length = count_in(metadata["max_length"], 1, MAX_SEQUENCE_LENGTH, f"{meta}: max_length")
            check_shapes(lambda: Seq2Seq(net_config), state, str(path))
            net = Seq2Seq(net_config)
            net.load_state_dict(state)
        except CheckpointError:
            raise  # already names the file and the field
        except (KeyError, TypeError, RuntimeError, ValueError) as e:
            raise CheckpointError(f"{path}: the saved translator is inconsistent: {first_line(e)}") from None
        model.net = net.to(model.device_).eval()
        model.history = list(metadata.get("history") or [])
        model._fingerprint = metadata.get("data_fingerprint")
        return model

    def score(self, pairs: Pairs, y: Any = None) -> float:
        """Exact match on held-out pairs (0 to 1); greater is better. ``y`` is ignored (for scikit-learn)."""
        return float(self.evaluate(pairs)["exact_match"])

    def _require_fitted(self) -> Seq2Seq:
        if self.net is None:
            raise ConfigError("this Translator is not fitted yet: call fit(pairs) or Translator.load(path)")
        return self.net

    def _tokenizers(self) -> tuple[Tokenizer, Tokenizer]:
        self._require_fitted()
        src_tok, tgt_tok = self.source_tokenizer, self.target_tokenizer
        assert src_tok is not None and tgt_tok is not None  # fit and load set them with the network
        return src_tok, tgt_tok


class _PrintEpochs(Callback):
    def __init__(self, schedule: _Schedule):
        self.schedule = schedule

    def on_epoch_end(self, trainer, logs) -> None:
        val = logs["val_loss"]
        shown = f", validation loss {val:.4f}" if val is not None else ""
        print(
            f"  epoch {logs['epoch']}: train loss {logs['train_loss']:.4f}{shown}, teacher forcing "
            f"{self.schedule.ratio:.2f} ({logs['seconds']:.1f} s)",
            flush=True,
        )


# ---- helpers ---------------------------------------------------------------------------


def _check_pairs(pairs: Pairs) -> list[tuple[str, str]]:
    """The pairs as a list of (source, target) strings; errors name the pair."""
    if isinstance(pairs, pd.DataFrame):
        missing = [c for c in ("source", "target") if c not in pairs.columns]
        if missing:
            raise DataError(f"the pairs frame lacks column(s) {missing}; columns found: {list(pairs.columns)}")
        pairs = list(zip(pairs["source"], pairs["target"]))
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence):
        raise DataError(f"expected a list of (source, target) pairs or a DataFrame, got {type(pairs).__name__}")
    out = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise DataError(f"pair {i} (0-based) is {pair!r}; expected a (source, target) tuple of two texts")
        source, target = pair
        for side, text in (("source", source), ("target", target)):
            if not isinstance(text, str):
                raise DataError(
                    f"pair {i} (0-based): the {side} is {text!r} of type {type(text).__name__}, expected a text"
                )
            if not text.strip():
                raise DataError(f"pair {i} (0-based): the {side} text is empty")
        out.append((source, target))
    if not out:
        raise DataError("no pairs were given: need (source, target) examples to learn from")
    return out


def _encode_pairs(
    src_tok: Tokenizer, tgt_tok: Tokenizer, pairs: list[tuple[str, str]]
) -> tuple[list[list[int]], list[list[int]]]:
    sources = [src_tok.encode(s, add_special=False) for s, _ in pairs]
    targets = [tgt_tok.encode(t) for _, t in pairs]
    for (source, _), ids in zip(pairs, sources):
        if not ids:
            raise DataError(f"the source {source!r} has no {src_tok.level} tokens the tokeniser can read")
    return sources, targets
