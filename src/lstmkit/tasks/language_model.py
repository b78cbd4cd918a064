"""Language modelling: train an LSTM on a user's text, score it, generate from it.

The story of `LanguageModel.fit`:

1. **validate** the corpus: a non-empty text;
2. **split** off the last ``val_fraction`` of it (at a line boundary) to steer early
   stopping; the tokeniser (``char``, ``word``, ``subword`` BPE or ``symbol``) is
   fitted on the rest only;
3. **stream**: the training ids are one long stream cut into ``batch_size``
   contiguous streams side by side (row ``b`` holds the ``b``-th slice of the
   corpus); each batch is the next ``bptt`` steps of every stream, the target the
   same shifted by one;
4. **train** with truncated BPTT: the Trainer carries the LSTM state from batch to
   batch (``carry_state=True``) and detaches it every ``bptt`` steps, so the model
   sees context far longer than one chunk while gradients stay bounded; dropout on
   embeddings and outputs and, optionally, variational recurrent dropout regularise;
5. **keep** the weights of the epoch with the best validation loss;
6. **mix** (``ngram_mix``, the default): fit a modified Kneser-Ney n-gram on the
   training ids, choose the weight ``λ`` of ``λ · p_LSTM + (1 - λ) · p_KN`` that
   scores the validation part best, and ship the mixture, its n-gram refitted on
   the whole text given to ``fit`` (`lstmkit.models.NGramMixture`).

`LanguageModel.evaluate` reports cross-entropy, perplexity and bits per character
on any text of the shipped model, of the LSTM alone and of a smoothed n-gram
(`lstmkit.evaluate.NGramLM`, modified Kneser-Ney) fitted on the same training ids;
`LanguageModel.generate` and
`LanguageModel.stream` sample from a prompt with temperature, top-k and top-p,
token by token with the state carried.

>>> lm = LanguageModel(level="char", hidden_size=16, embedding_dim=8, bptt=8, batch_size=4, max_epochs=2)
>>> text = "the cat sat on the mat. " * 40
>>> lm.fit(text).evaluate(text)["perplexity"] < 12  # doctest: +SKIP
True
>>> len(lm.generate("the ", 10, seed=0))  # doctest: +SKIP
10
"""

from __future__ import annotations

import dataclasses
import math
import os
import unicodedata
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from lstmkit.data.corpora import split_tail
from lstmkit.data.text import TOKENIZERS, Tokenizer, make_tokenizer
from lstmkit.errors import CheckpointError, ConfigError, DataError
from lstmkit.evaluate.ngram import NGramLM, fit_ngram
from lstmkit.models.language_model import (
    LanguageModelNet,
    LanguageModelNetConfig,
    stream_log_probs,
)
from lstmkit.models.ngram_mixture import NGramMixture, interpolation_weight
from lstmkit.tasks.base import CellFields, Estimator, JobConfig, placed, trainer_checkpoints
from lstmkit.tasks.saved_checks import check_ids, check_tokenizer, check_vocab, count_in
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
from lstmkit.utils.checks import non_negative_int, open_unit, positive_int
from lstmkit.utils.schema import check_shapes, first_line, from_saved

__all__ = ["LanguageModelConfig", "LanguageModel", "UnknownTokensWarning"]

# the orders a baseline n-gram may take, per level (longer contexts pay off for characters)
NGRAM_ORDERS = {"char": (2, 3, 4, 5, 6, 7), "word": (1, 2, 3, 4), "subword": (1, 2, 3, 4, 5), "symbol": (1, 2, 3, 4, 5)}


# the key of the mixture's n-gram training ids among the saved tensors
NGRAM_IDS = "ngram.ids"

# held-out text is scored in this many segments side by side, each warmed up on the ids before it
EVAL_STREAMS, EVAL_WARMUP = 16, 256
VAL_STREAMS = 16


class UnknownTokensWarning(UserWarning):
    """A prompt holds pieces the model never saw in training; they are read as ``<unk>``."""


@dataclass(frozen=True)
class LanguageModelConfig(CellFields, JobConfig):
    """Everything that defines a language model; saved as JSON with it.

    The automatic (``None``) values are those measured best on the bundled text;
    `resolved` fills them in, and `LanguageModel.resolved_config` reports them.

    Args:
        level: ``"char"``, ``"word"``, ``"subword"`` (byte-level BPE; ``"bpe"`` is
            accepted) or ``"symbol"`` (whitespace-separated tokens kept as written:
            music, any symbolic sequence).
        lowercase: lowercase the text first (default: the tokeniser's own, which
            lowercases words only).
        min_freq: pieces seen fewer times become ``<unk>`` (char, word, symbol).
        max_vocab: at most this many ids (char, word, symbol).
        bpe_vocab_size: the subword vocabulary size (BPE merges + 256 bytes + specials).
        hidden_size, num_layers: the network.
        embedding_dim: the token embedding size; ``None``: 32 for characters, the
            hidden size otherwise (so that the weights can be tied).
        dropout: between stacked LSTM layers; ``None``: 0.2 with several layers, else 0.
        embedding_dropout: on the input embeddings.
        output_dropout: on the LSTM outputs; ``None``: 0.1 for characters, 0.3 otherwise.
        recurrent_dropout: variational dropout on the recurrent state (slower: the
            fused kernels cannot run it).
        tie_weights: share the input embeddings with the softmax weights; ``None``:
            when the level is not characters and the embedding has the hidden size.
        bptt: truncated-BPTT length ``k``: steps per chunk, the state detached between
            chunks; ``None``: 64 for characters, 32 otherwise.
        batch_size: contiguous streams trained side by side; ``None``: 32 for
            characters, 16 otherwise.
        max_epochs, patience, lr, clip_grad_norm: training (Adam).
        max_steps: stop after this many optimiser steps (one per ``bptt`` chunk),
            or after ``max_epochs`` when that comes first; the learning rate follows
            a cosine from ``lr`` down to 5% of it over those steps. The default,
            1800 steps of the 256-unit network, keeps a whole ``lstmkit generate``
            run on a megabyte of text (n-gram and scoring included) under 5 minutes
            of one CPU thread; it was chosen on Shakespeare's comedies (against 3600
            steps of 128 units, same time). ``None``: epochs only, the rate halved
            whenever the validation loss does not improve.
        val_fraction: share of the corpus's end used for early stopping and to
            choose the n-gram mixture's weight.
        ngram_mix: ship the LSTM mixed with a modified Kneser-Ney n-gram of the
            training text, ``λ · p_LSTM + (1 - λ) · p_KN``, for scores and for sampling
            (`lstmkit.models.NGramMixture`). The n-gram's order and ``λ`` are chosen on
            the training text alone (``λ`` on its last ``val_fraction``, the n-gram then
            refitted on all of it). ``False``, or no validation part: the LSTM alone.
        time_budget: also stop after this many seconds (the current epoch ends
            early; the best weights so far are kept), the rate annealed over the
            time (or the steps, whichever runs out first). It makes the result
            depend on the machine's speed and load: the same call trains a
            different model on a slower or busier machine. ``None`` (default): no limit.
        device: where to train and predict: ``"auto"`` (a GPU when torch sees one), ``"cpu"``,
            ``"cuda"`` or ``"cuda:N"``.
        seed: seeds weight initialisation, dropout and the data order.
        cell, peephole, layer_norm, coupled_gates, proj_size, zoneout, recurrent_dropout:
            the recurrent cell of the network (`lstmkit.tasks.base.CellFields`): ``cell``
            ``"lstm"`` (default), ``"gru"`` or ``"rnn"``, and the LSTM variants.
    """

    level: str = "char"
    lowercase: bool | None = None
    min_freq: int = 1
    max_vocab: int | None = None
    bpe_vocab_size: int = 2000
    embedding_dim: int | None = None
    hidden_size: int = 256
    num_layers: int = 1
    dropout: float | None = None
    embedding_dropout: float = 0.0
    output_dropout: float | None = None
    recurrent_dropout: float = 0.0
    tie_weights: bool | None = None
    bptt: int | None = None
    batch_size: int | None = None
    max_epochs: int = 20
    max_steps: int | None = 1800
    patience: int | None = 3
    lr: float = 1e-2
    clip_grad_norm: float | None = 1.0
    val_fraction: float = 0.05
    ngram_mix: bool = True
    time_budget: float | None = None
    device: str = "auto"
    seed: int = 0

    def __post_init__(self):
        self.cell_options(recurrent_dropout=False)  # checks cell and its variants
        object.__setattr__(self, "device", check_device(self.device))  # None, the old default, is "auto"
        if self.level == "bpe":
            object.__setattr__(self, "level", "subword")
        if self.level not in TOKENIZERS:
            raise ConfigError(f"level must be one of {list(TOKENIZERS)} (or 'bpe'), got {self.level!r}")
        for name in ("min_freq", "max_epochs"):
            positive_int(name, getattr(self, name))
        for name in ("bptt", "batch_size", "embedding_dim"):
            positive_int(name, getattr(self, name), none_ok=True)
        non_negative_int("patience", self.patience, none_ok=True)
        positive_int("max_steps", self.max_steps, none_ok=True)
        open_unit("lr", self.lr)
        if not 0 <= self.val_fraction < 0.5:
            raise ConfigError(f"val_fraction must be in [0, 0.5), got {self.val_fraction!r}")
        if not isinstance(self.ngram_mix, bool):
            raise ConfigError(f"ngram_mix must be True or False, got {self.ngram_mix!r}")
        if self.time_budget is not None and not self.time_budget > 0:
            raise ConfigError(f"time_budget must be a positive number of seconds or None, got {self.time_budget!r}")
        try:  # the network checks its own sizes and rates
            (self if self._is_resolved() else self.resolved()).net_config(vocab_size=2)
        except ValueError as e:
            raise ConfigError(str(e)) from None

    _AUTOMATIC = ("embedding_dim", "dropout", "output_dropout", "tie_weights", "bptt", "batch_size")

    def _is_resolved(self) -> bool:
        return all(getattr(self, name) is not None for name in self._AUTOMATIC)

    def resolved(self) -> LanguageModelConfig:
        """This configuration with every automatic (``None``) value filled in for its level."""
        char = self.level == "char"
        embedding = self.embedding_dim or (32 if char else self.hidden_size)
        return dataclasses.replace(
            self,
            embedding_dim=embedding,
            dropout=self.dropout if self.dropout is not None else (0.2 if self.num_layers > 1 else 0.0),
            output_dropout=self.output_dropout if self.output_dropout is not None else (0.1 if char else 0.3),
            tie_weights=self.tie_weights
            if self.tie_weights is not None
            else (not char and embedding == self.hidden_size),
            bptt=self.bptt or (64 if char else 32),
            batch_size=self.batch_size or (32 if char else 16),
        )

    def net_config(self, vocab_size: int) -> LanguageModelNetConfig:
        """The network of this configuration, which must be `resolved`."""
        embedding_dim, dropout, output_dropout, tie_weights = (
            self.embedding_dim,
            self.dropout,
            self.output_dropout,
            self.tie_weights,
        )
        assert embedding_dim is not None and dropout is not None, "net_config() needs a resolved() configuration"
        assert output_dropout is not None and tie_weights is not None, "net_config() needs a resolved() configuration"
        return LanguageModelNetConfig(
            vocab_size=vocab_size,
            embedding_dim=embedding_dim,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            dropout=dropout,
            embedding_dropout=self.embedding_dropout,
            output_dropout=output_dropout,
            recurrent_dropout=self.recurrent_dropout,
            tie_weights=tie_weights,
            cell=self.cell_options(recurrent_dropout=False),
        )

    def tokenizer(self) -> Tokenizer:
        options: dict[str, Any] = {}
        if self.level == "subword":
            options["vocab_size"] = self.bpe_vocab_size
        else:
            options.update(min_freq=self.min_freq, max_size=self.max_vocab)
        if self.lowercase is not None and self.level != "symbol":
            options["lowercase"] = self.lowercase
        return make_tokenizer(self.level, **options)


class _Streams:
    """Re-iterable ``(x, y)`` batches over ``B`` contiguous streams, ``bptt`` steps at a time.

    A step or time budget can end an epoch early: iteration stops once ``budget`` is spent.
    """

    def __init__(self, ids: Sequence[int], streams: int, bptt: int):
        data = torch.as_tensor(ids, dtype=torch.long)
        T = (len(data) - 1) // streams  # steps per stream
        self.x = data[: streams * T].view(streams, T)  # row b: the b-th slice of the corpus
        self.y = data[1 : streams * T + 1].view(streams, T)  # the token after each one
        self.bptt = bptt
        self.budget: TrainingBudget | None = None

    def __len__(self) -> int:
        return -(-self.x.shape[1] // self.bptt)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        for start in range(0, self.x.shape[1], self.bptt):
            # a spent budget ends the epoch, but never before its first batch (an empty epoch is an error)
            if start and self.budget is not None and self.budget.spent:
                return
            yield self.x[:, start : start + self.bptt], self.y[:, start : start + self.bptt]


def _next_token_loss(logits: Tensor, target: Tensor) -> Tensor:
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))


class LanguageModel(Estimator):
    """An LSTM language model on your own text: fit, evaluate, generate, save, load.

    Takes the fields of `LanguageModelConfig` as keyword arguments (or a config).

    Attributes:
        tokenizer: the fitted tokeniser.
        net: the fitted `lstmkit.models.LanguageModelNet`.
        history: the per-epoch training log of the last fit.
        mixture: the `lstmkit.models.NGramMixture` shipped with the LSTM, or None
            (``ngram_mix=False``, no validation part, or a model saved before it existed).
    """

    task = "language_model"
    config_class = LanguageModelConfig

    def __init__(self, config: LanguageModelConfig | None = None, **options: Any):
        super().__init__(config, **options)
        self.tokenizer: Tokenizer | None = None
        self.net: LanguageModelNet | None = None
        self.history: list[dict] = []
        self._start: list[int] = []  # the ids generation starts from when the prompt is empty
        self._fingerprint: str | None = None
        self.mixture: NGramMixture | None = None

    # ---- fit ---------------------------------------------------------------------

    def fit(
        self,
        text: str,
        *,
        verbose: bool = False,
        progress: bool | None = None,
        init_from: str | os.PathLike | LanguageModel | None = None,
        checkpoints: str | os.PathLike | None = None,
    ) -> LanguageModel:
        """Train on a corpus (one text; its last ``val_fraction`` steers early stopping).

        Args:
            text: the corpus, one string (a file's whole content).
            verbose: print one line per epoch.
            progress: show training progress on standard error: ``None`` only when it
                is a terminal, ``True`` always (a line per epoch when not a terminal),
                ``False`` never.
            init_from: fine-tune a saved language model (its folder, or the fitted
                object): training starts from its weights and keeps its tokeniser
                (pieces it never saw are read as ``<unk>``).

            checkpoints: a folder for training checkpoints, written after every
                epoch; a fit run again with the same data, configuration and folder
                continues from them and ends with the same model as an uninterrupted
                one (`lstmkit.tasks.base.trainer_checkpoints`).
        Returns:
            ``self``.

        Raises:
            DataError: an empty corpus, or one too short for a single chunk of ``bptt + 1`` tokens.
        """
        c = self.config.resolved()
        source = self._warm_start(init_from)
        text = _check_text(text, "the corpus")
        train_text, val_text = split_tail(text, c.val_fraction) if c.val_fraction else (text, "")
        tokenizer = source.tokenizer if source is not None else c.tokenizer().fit([train_text])
        val_ids = tokenizer.encode(val_text, add_special=False) if val_text.strip() else []
        if len(val_ids) < 2:  # too short to score: everything trains, and no early stopping
            train_text, val_ids = text, []
            tokenizer = source.tokenizer if source is not None else c.tokenizer().fit([train_text])
        train_ids = tokenizer.encode(train_text, add_special=False)
        if len(train_ids) < c.bptt + 1:
            raise DataError(
                f"the corpus is too short: {len(train_ids)} {c.level} tokens to train on, fewer than one chunk of "
                f"bptt + 1 = {c.bptt + 1}; give a longer text or a smaller bptt (--bptt)"
            )
        streams = min(c.batch_size, (len(train_ids) - 1) // c.bptt)
        train = _Streams(train_ids, streams, c.bptt)
        # validation steers early stopping only: its segments start cold, which is close enough
        val = _Streams(val_ids, max(1, min(VAL_STREAMS, (len(val_ids) - 1) // c.bptt)), c.bptt) if val_ids else None

        seed_everything(c.seed)
        net = LanguageModelNet(source.net.config if source is not None else c.net_config(tokenizer.vocab_size))
        if source is not None:
            self._copy_weights(net, source.net)
        budgeted = c.max_steps is not None or c.time_budget is not None
        callbacks: list[Callback] = [TrainingBudget(train, c.max_steps, c.time_budget)] if budgeted else []
        plateau = val is not None and not budgeted  # a budget anneals the rate itself
        if verbose:
            callbacks.append(_PrintEpochs())
        saving, resuming = trainer_checkpoints(checkpoints)
        trainer = Trainer(
            net,
            _next_token_loss,
            optimizer="adam",
            lr=c.lr,
            max_epochs=c.max_epochs,
            patience=c.patience if val is not None else None,
            clip_grad_norm=c.clip_grad_norm,
            seed=c.seed,
            tbptt_steps=c.bptt,
            carry_state=True,
            callbacks=callbacks,
            progress=job_progress(progress),
            distributed=False,
            device=self.device_,
            schedule="plateau" if plateau else None,
            schedule_options={"factor": 0.5, "patience": 0} if plateau else None,
            **saving,
        )
        self.history = trainer.fit(train, val, **resuming)
        self.net = net.eval()
        self.tokenizer = tokenizer
        self.mixture = _fit_mixture(net, train_ids, val_ids, tokenizer.vocab_size, c) if c.ngram_mix else None
        if verbose and self.mixture is not None:
            print(
                f"  shipped: {self.mixture.weight:.3f} LSTM + {1 - self.mixture.weight:.3f} "
                f"{self.mixture.ngram.order}-gram Kneser-Ney (weight chosen on {len(val_ids):,} validation tokens)",
                flush=True,
            )
        self._start = _start_ids(tokenizer, train_ids)
        self._fingerprint = fingerprint(text)
        return self

    # ---- evaluate ----------------------------------------------------------------

    @torch.no_grad()
    def evaluate(self, text: str, *, train_text: str | None = None, ngram_order: int | None = None) -> dict[str, float]:
        """Cross-entropy, perplexity and bits per character on a (held-out) text.

        Every token but the first is scored given all the text before it (the first
        has no context): the text is read as one stream from a zero state, in 16
        segments side by side, each warmed up on the 256 tokens before it
        (`lstmkit.models.language_model.stream_log_probs`). The plain keys score the
        shipped model (the n-gram mixture when there is one), the ``lstm_*`` keys the
        LSTM alone, the ``ngram_*`` keys the n-gram alone.

        Args:
            text: the text to score, e.g. the held-out tail of the corpus.
            train_text: also fit a modified Kneser-Ney n-gram on this text (the
                training part) with the same tokeniser and score it on the same
                tokens: the ``ngram_*`` keys.
            ngram_order: the n-gram order; ``None`` chooses it on the end of
                ``train_text`` (never on ``text``).

        Returns:
            ``cross_entropy`` (nats per token), ``perplexity``, ``bits_per_token``,
            ``bits_per_char`` (total bits over the characters scored), ``tokens``;
            ``lstm_cross_entropy``, ``lstm_perplexity``, ``lstm_bits_per_char`` and
            ``mixture_weight`` (``λ``; 1.0 without a mixture, the keys then equal the
            plain ones); with ``train_text``, ``ngram_order``, ``ngram_cross_entropy``,
            ``ngram_perplexity``, ``ngram_bits_per_char``.
        """
        net, tokenizer = self._require_fitted()
        text = _check_text(text, "the text to evaluate")
        ids = tokenizer.encode(text, add_special=False)
        if len(ids) < 2:
            raise DataError(
                f"the text to evaluate has {len(ids)} {self.config.level} token(s); "
                "at least 2 are needed (one to start from, one to score)"
            )
        lstm = stream_log_probs(net, torch.as_tensor(ids), streams=EVAL_STREAMS, warmup=EVAL_WARMUP)
        shipped = self.mixture.log_probs(lstm, ids, start=1) if self.mixture is not None else lstm
        total, lstm_total = -float(shipped.double().sum()), -float(lstm.double().sum())
        n = len(ids) - 1
        chars = _chars_scored(text, tokenizer, ids)
        result = {
            "cross_entropy": total / n,
            "perplexity": math.exp(total / n),
            "bits_per_token": total / n / math.log(2),
            "bits_per_char": total / math.log(2) / chars,
            "tokens": n,
            "lstm_cross_entropy": lstm_total / n,
            "lstm_perplexity": math.exp(lstm_total / n),
            "lstm_bits_per_char": lstm_total / math.log(2) / chars,
            "mixture_weight": self.mixture.weight if self.mixture is not None else 1.0,
        }
        if train_text is not None:
            train_ids = tokenizer.encode(_check_text(train_text, "train_text"), add_special=False)
            own = self.mixture.ngram if self.mixture is not None else None
            if own is not None and ngram_order is None and np.array_equal(own.training_ids, train_ids):
                ngram = own  # what self.ngram(train_ids) would fit again: the same ids, the same order choice
            else:
                ngram = self.ngram(train_ids, ngram_order)
            scores = ngram.evaluate(ids, start=1)
            result.update(
                ngram_order=ngram.order,
                ngram_cross_entropy=scores["cross_entropy"],
                ngram_perplexity=scores["perplexity"],
                ngram_bits_per_char=scores["cross_entropy"] * n / math.log(2) / chars,
            )
        return result

    def ngram(self, train_ids: Sequence[int], order: int | None = None) -> NGramLM:
        """A modified Kneser-Ney n-gram over this model's token ids (the baseline).

        Args:
            train_ids: training ids made by this model's tokeniser.
            order: the order; ``None`` chooses it on the last tenth of ``train_ids``.
        """
        _, tokenizer = self._require_fitted()
        if order is not None:
            return NGramLM(order, tokenizer.vocab_size).fit(train_ids)
        return fit_ngram(train_ids, tokenizer.vocab_size, NGRAM_ORDERS[self.config.level])

    # ---- generate ----------------------------------------------------------------

    def stream(
        self,
        prompt: str = "",
        n: int = 200,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
    ) -> Iterator[str]:
        """Generate token by token: yield each new piece of text as soon as it is sampled.

        Tokens are drawn from the shipped model: the n-gram mixture when there is one
        (temperature, top-k and top-p apply to its probabilities), else the LSTM.

        The prompt is read once; each sampled token is fed back with the carried
        state, so the cost per token does not grow with the text. Pieces are the
        continuation of the *decoded* prompt: for word and symbol levels the first
        piece starts with a space.

        Args:
            prompt: the text to continue; empty starts from the corpus's start
                (a new line for characters).
            n: tokens to generate.
            temperature: 0 is greedy, below 1 safer, above 1 wilder.
            top_k: sample among the ``k`` most likely tokens only.
            top_p: sample within the smallest set of tokens holding probability ``p``.
            seed: makes the sampling repeatable (``None``: torch's global generator).

        Yields:
            Text pieces; joined they equal `generate`'s result.

        Warns:
            UnknownTokensWarning: the prompt holds pieces never seen in training
                (read as ``<unk>``).
        """
        net, tokenizer = self._require_fitted()
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ConfigError(f"n (the number of tokens to generate) must be a non-negative integer, got {n!r}")
        _check_sampling(temperature, top_k, top_p)
        prompt_ids = self.encode_prompt(prompt)
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        banned = [i for i in (tokenizer.pad_id, tokenizer.unk_id, tokenizer.bos_id, tokenizer.eos_id) if i is not None]
        ids = list(prompt_ids)
        emitted = tokenizer.decode(ids)
        for token in net.stream(
            prompt_ids,
            n,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            generator=generator,
            banned=banned,
            chunk=max(self.config.resolved().bptt, 256),
            next_logits=self.mixture.next_logits if self.mixture is not None else None,
        ):
            ids.append(token)
            text = tokenizer.decode(ids)
            if text.endswith("\ufffd"):
                continue  # a byte-level token ended inside a character: wait for its other bytes
            yield text[len(emitted) :]
            emitted = text

    def generate(
        self,
        prompt: str = "",
        n: int = 200,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
    ) -> str:
        """The continuation of ``prompt``: ``n`` sampled tokens as text (see `stream`)."""
        return "".join(self.stream(prompt, n, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed))

    def encode_prompt(self, prompt: str) -> list[int]:
        """The ids generation starts from; warns about pieces never seen in training."""
        _, tokenizer = self._require_fitted()
        if not isinstance(prompt, str):
            raise DataError(f"the prompt must be a text (str), got {type(prompt).__name__}")
        ids = tokenizer.encode(prompt, add_special=False) if prompt.strip() or self.config.level == "char" else []
        unknown = _unknown_pieces(tokenizer, prompt, ids)
        if unknown:
            shown = ", ".join(repr(p) for p in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
            warnings.warn(
                f"the prompt has {len(unknown)} piece(s) the model never saw in training: {shown}; "
                "they are read as <unk> (unknown), which weakens the context",
                UnknownTokensWarning,
                stacklevel=3,
            )
        return ids or list(self._start)

    # ---- save / load -------------------------------------------------------------

    def save(self, path: str | os.PathLike, metrics: dict | None = None) -> None:
        """Save as a directory: ``weights.safetensors`` and JSON (configuration, tokeniser).

        A mixture's n-gram is saved as the token ids it counted (``ngram.ids`` in the
        safetensors file; int16 when the vocabulary allows) and its order and weight
        (JSON), and counted again on `load`: no pickle, and about two bytes per
        training token instead of its n-gram tables.

        Args:
            path: the directory (created or replaced).
            metrics: extra numbers to keep in ``metadata.json`` (e.g. held-out perplexity).
        """
        net, tokenizer = self._require_fitted()
        tensors = dict(net.state_dict())
        if self.mixture is not None:
            ids = self.mixture.ngram.training_ids
            small = tokenizer.vocab_size <= torch.iinfo(torch.int16).max
            tensors[NGRAM_IDS] = torch.as_tensor(ids, dtype=torch.int16 if small else torch.int32)
        metadata = {
            "task": "language_model",
            "tokenizer": tokenizer.to_dict(),
            "net": net.config.to_dict(),
            "ngram_mixture": self.mixture.to_dict() if self.mixture is not None else None,
            "start_ids": self._start,
            "history": self.history,
            "data_fingerprint": self._fingerprint,
            "metrics": metrics or {},
        }
        save_model_dir(path, tensors, {"language_model": self.config.to_dict()}, metadata)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | None = None) -> LanguageModel:
        """Load a model saved by `save`; nothing is unpickled.

        Args:
            path: the model directory.
            device: where to put the network; ``None`` keeps the saved ``device`` when
                this machine has it, else ``"auto"``.
        """
        state, config, metadata = load_model_dir(path)
        if metadata.get("task") != "language_model" or "language_model" not in config:
            raise CheckpointError(f"{path}: not a saved LanguageModel (task {metadata.get('task')!r})")
        try:
            saved = LanguageModelConfig.from_dict(config["language_model"], f"{path}/config.json: language_model")
            model = cls(placed(saved, device))
            net_config = from_saved(LanguageModelNetConfig, metadata["net"], f"{path}/metadata.json: net")
            model.tokenizer = check_tokenizer(metadata["tokenizer"], f"{path}/metadata.json: tokenizer")
            check_vocab(model.tokenizer.vocab_size, net_config.vocab_size, f"{path}/metadata.json: net.vocab_size")
            check_ids(metadata.get("start_ids") or [], net_config.vocab_size, f"{path}/metadata.json: start_ids")
            ngram_ids = state.pop(NGRAM_IDS, None)
            check_shapes(lambda: LanguageModelNet(net_config), state, str(path))
            net = LanguageModelNet(net_config)
            net.load_state_dict(state)
            mix = metadata.get("ngram_mixture")  # absent from folders saved before the mixture
            if mix is not None and ngram_ids is not None:
                model.mixture = _saved_mixture(mix, ngram_ids, net_config.vocab_size, f"{path}/metadata.json")
        except CheckpointError:
            raise  # already names the file and the field
        except (KeyError, TypeError, RuntimeError, ValueError) as e:
            raise CheckpointError(f"{path}: the saved language model is inconsistent: {first_line(e)}") from None
        model.net = net.to(model.device_).eval()
        model._start = list(metadata.get("start_ids") or [])
        model.history = list(metadata.get("history") or [])
        model._fingerprint = metadata.get("data_fingerprint")
        return model

    def resolved_config(self) -> dict[str, Any]:
        """The configuration with the level-dependent automatic values filled in."""
        return {
            **super().resolved_config(),
            **{name: getattr(self.config.resolved(), name) for name in LanguageModelConfig._AUTOMATIC},
        }

    def score(self, text: str, y: Any = None) -> float:
        """Minus the cross-entropy (nats per token) on a held-out text; greater is better.

        ``y`` is ignored (the text is its own target); it is there for scikit-learn.
        """
        return -self.evaluate(text)["cross_entropy"]

    def _require_fitted(self) -> tuple[LanguageModelNet, Tokenizer]:
        if self.net is None or self.tokenizer is None:
            raise ConfigError("this LanguageModel is not fitted yet: call fit(text) or LanguageModel.load(path)")
        return self.net, self.tokenizer


class _PrintEpochs(Callback):
    def on_epoch_end(self, trainer, logs) -> None:
        val = logs["val_loss"]
        shown = f"validation perplexity {math.exp(val):.2f}" if val is not None else "no validation text"
        print(
            f"  epoch {logs['epoch']}: train loss {logs['train_loss']:.3f} nats/token, {shown} "
            f"({logs['seconds']:.1f} s)",
            flush=True,
        )


# ---- helpers ---------------------------------------------------------------------------


def _fit_mixture(
    net: LanguageModelNet, train_ids: list[int], val_ids: list[int], vocab_size: int, c: LanguageModelConfig
) -> NGramMixture | None:
    """The n-gram mixture: ``λ`` chosen on the validation ids, the n-gram refitted on all.

    An n-gram of the training ids alone scores the validation ids next to the LSTM
    (both read on from the end of the training ids, as the text runs); ``λ`` is the
    weight that maximises the mixture's likelihood there. The shipped n-gram is then
    fitted on training and validation ids together, its order chosen on their end
    by `fit_ngram` (the same n-gram `LanguageModel.evaluate` reports as the baseline).
    None when there is no validation text to choose on.
    """
    if len(val_ids) < 2:
        return None
    shipped = fit_ngram(train_ids + val_ids, vocab_size, NGRAM_ORDERS[c.level])
    held_back = NGramLM(shipped.order, vocab_size).fit(train_ids)
    context = train_ids[-EVAL_WARMUP:]
    ids = context + val_ids
    lstm = stream_log_probs(net, torch.as_tensor(ids), streams=VAL_STREAMS, warmup=EVAL_WARMUP)[len(context) - 1 :]
    weight = interpolation_weight(lstm.double().exp().numpy(), held_back.token_probs(ids, start=len(context)))
    return NGramMixture(weight, shipped)


def _saved_mixture(mix: Any, ids: Tensor, vocab_size: int, where: str) -> NGramMixture:
    """The saved n-gram mixture, checked (order, vocabulary, weight, ids) before the n-gram is recounted."""
    if not isinstance(mix, dict):
        raise CheckpointError(f"{where}: ngram_mixture must be an object, got {type(mix).__name__}")
    order = count_in(mix.get("order"), 1, 20, f"{where}: ngram_mixture.order")
    count_in(mix.get("vocab_size"), 1, vocab_size, f"{where}: ngram_mixture.vocab_size")
    weight = mix.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0.0 <= weight <= 1.0:
        raise CheckpointError(f"{where}: ngram_mixture.weight must be a number from 0 to 1, got {weight!r}")
    if ids.dim() != 1 or ids.is_floating_point() or (len(ids) and (ids.min() < 0 or ids.max() >= vocab_size)):
        raise CheckpointError(f"{where}: the n-gram's ids must be token ids from 0 to {vocab_size - 1}")
    ngram = NGramLM(order, mix["vocab_size"]).fit(ids.long().tolist())
    return NGramMixture(float(weight), ngram)


def _check_text(text: Any, what: str) -> str:
    if not isinstance(text, str):
        raise DataError(f"{what} must be a text (str), got {type(text).__name__}")
    if not text.strip():
        raise DataError(f"{what} is empty (no text, only whitespace)")
    return text


def _check_sampling(temperature: Any, top_k: Any, top_p: Any) -> None:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature >= 0:
        raise ConfigError(f"temperature must be a number >= 0 (0 is greedy), got {temperature!r}")
    positive_int("top_k", top_k, none_ok=True)
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float)) or not 0 < top_p <= 1):
        raise ConfigError(f"top_p must be in (0, 1] or None, got {top_p!r}")


def _chars_scored(text: str, tokenizer: Tokenizer, ids: list[int]) -> int:
    """Characters of the text after its first token: what the scored tokens spell out."""
    first = len(tokenizer.decode(ids[:1]))
    return max(len(unicodedata.normalize("NFC", text)) - first, 1)


def _unknown_pieces(tokenizer: Tokenizer, prompt: str, ids: list[int]) -> list[str]:
    if tokenizer.unk_id not in ids:
        return []
    pieces = tokenizer.tokenize(prompt)
    if len(pieces) != len(ids):  # byte-level BPE never has unknown pieces; be safe anyway
        return ["<unk>"] * ids.count(tokenizer.unk_id)
    return [p for p, i in zip(pieces, ids) if i == tokenizer.unk_id]


def _start_ids(tokenizer: Tokenizer, train_ids: list[int]) -> list[int]:
    """What an empty prompt starts from: a newline for characters, else the corpus's first token."""
    if tokenizer.level == "char":
        newline = tokenizer.encode("\n", add_special=False)
        if newline and newline[0] != tokenizer.unk_id:
            return newline
    return train_ids[:1]
