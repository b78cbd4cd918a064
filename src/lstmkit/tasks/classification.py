"""Classification: name the class of a numeric sequence (`SequenceClassifier`) or a text
(`TextClassifier`).

The story of ``fit``, the same for both:

1. **read** the inputs into padded arrays with their real lengths (numeric sequences
   from arrays, long tables, ``.npz`` or ``.ts`` files; texts from lists, tables or
   folders) and check the labels: at least two classes, a warning for a class with a
   single example;
2. **split** off a stratified validation part for early stopping (when there is
   enough data; otherwise train for ``max_epochs`` on everything);
3. **prepare** on the training part only: per-channel scaling for sequences, the
   tokeniser's vocabulary (characters, words or byte-pair subwords) for texts, and
   optionally pretrained word vectors;
4. **train** ``ensemble`` `lstmkit.models.ClassifierNet` s (different seeds) with
   cross-entropy on batches of similar lengths, padded and masked;
5. **predict** the mean of the members' class probabilities.

``evaluate`` scores predictions with accuracy, macro-F1 and a confusion matrix
(`ClassificationReport`); labels the model never saw are warned about and counted
as errors. ``save`` writes a model directory (safetensors + JSON: configuration,
classes, scaler or tokeniser); ``load`` reads it back without unpickling anything.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from lstmkit.data.io import SUPPORTED_EXTENSIONS, read_table
from lstmkit.data.sequences import (
    PaddedBatches,
    SequenceSet,
    fit_channel_scaler,
    from_arrays,
    from_long_frame,
    read_sequences,
    scale_channels,
)
from lstmkit.data.text import load_word_vectors, make_tokenizer, pad_ids, tokenizer_from_dict
from lstmkit.data.text_io import TextSet, read_texts, texts_from_frame
from lstmkit.errors import CheckpointError, ConfigError, DataError
from lstmkit.models import ClassifierNet, ClassifierNetConfig
from lstmkit.models.classifier import LSTM_INPUTS, POOLINGS
from lstmkit.tasks.base import CellFields, Estimator, JobConfig, placed
from lstmkit.train import Trainer, fingerprint, load_model_dir, save_model_dir, seed_everything
from lstmkit.train.devices import check_device
from lstmkit.train.callbacks import job_progress

__all__ = [
    "SequenceClassifierConfig",
    "SequenceClassifier",
    "TextClassifierConfig",
    "TextClassifier",
    "ClassificationReport",
    "classification_report",
]

TEXT_LEVELS = ("char", "word", "subword")
SCHEDULES = ("plateau", "cosine")


# ---- metrics -------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassificationReport:
    """Scores of predicted against true labels.

    Attributes:
        accuracy: share of correct predictions.
        macro_f1: unweighted mean F1 over the labels present in the true or
            predicted labels (as scikit-learn's ``f1_score(average="macro")``).
        confusion: counts, rows the true labels, columns the predicted ones.
        per_class: ``precision``, ``recall``, ``f1`` and ``support`` per label.
        n: number of examples scored.
    """

    accuracy: float
    macro_f1: float
    confusion: pd.DataFrame
    per_class: pd.DataFrame
    n: int

    def to_dict(self) -> dict:
        """JSON-able: the scores, the confusion matrix as nested lists with its labels."""
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "n": self.n,
            "labels": [_jsonable_label(v) for v in self.confusion.index],
            "confusion": self.confusion.to_numpy().tolist(),
            "per_class": {str(k): {c: float(v) for c, v in row.items()} for k, row in self.per_class.iterrows()},
        }

    def __str__(self) -> str:
        return (f"accuracy {self.accuracy:.4f}, macro-F1 {self.macro_f1:.4f} on {self.n} examples\n"
                f"confusion (rows: true, columns: predicted)\n{self.confusion.to_string()}")


def classification_report(y_true, y_pred, labels=None) -> ClassificationReport:
    """Accuracy, macro-F1, per-class scores and the confusion matrix.

    Args:
        y_true: the true labels.
        y_pred: the predicted labels.
        labels: rows/columns of the confusion matrix, in order; labels found in
            ``y_true`` or ``y_pred`` but not here are appended.

    >>> r = classification_report(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    >>> r.accuracy, round(r.macro_f1, 4), r.confusion.to_numpy().tolist()
    (0.75, 0.7333, [[1, 1], [0, 2]])
    """
    y_true, y_pred = _objects(y_true), _objects(y_pred)
    if len(y_true) != len(y_pred):
        raise DataError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    if len(y_true) == 0:
        raise DataError("nothing to score: no labels")
    order = list(labels) if labels is not None else []
    for v in _sorted_labels(set(y_true.tolist()) | set(y_pred.tolist())):
        if v not in order:
            order.append(v)
    index = {v: i for i, v in enumerate(order)}
    counts = np.zeros((len(order), len(order)), dtype=np.int64)
    np.add.at(counts, ([index[v] for v in y_true], [index[v] for v in y_pred]), 1)
    tp = np.diag(counts).astype(np.float64)
    support, predicted = counts.sum(axis=1), counts.sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=precision + recall > 0)
    present = (support > 0) | (predicted > 0)
    names = pd.Index(order, dtype=object)
    return ClassificationReport(
        accuracy=float(tp.sum() / len(y_true)),
        macro_f1=float(f1[present].mean()),
        confusion=pd.DataFrame(counts, index=names, columns=names),
        per_class=pd.DataFrame({"precision": precision, "recall": recall, "f1": f1, "support": support}, index=names),
        n=len(y_true),
    )


# ---- labels --------------------------------------------------------------------------


def _objects(values) -> np.ndarray:
    values = values.tolist() if hasattr(values, "tolist") else list(values)
    out = np.empty(len(values), dtype=object)
    out[:] = [v.item() if isinstance(v, np.generic) else v for v in values]
    return out


def _sorted_labels(values) -> list:
    return sorted(values, key=lambda v: (type(v).__name__, v))


def _jsonable_label(value):
    value = value.item() if isinstance(value, np.generic) else value
    if not isinstance(value, (str, int, float, bool)):
        raise DataError(f"labels must be strings or numbers, got {value!r} of type {type(value).__name__}")
    return value


def _check_labels(y, n: int, where: str) -> np.ndarray:
    if y is None:
        raise DataError(f"{where}: no labels found; give y=, or data with the label column (label_col) "
                        "or with labels inside (.ts, .npz 'y', a folder per class)")
    y = _objects(y)
    if len(y) != n:
        raise DataError(f"{where}: {len(y)} labels for {n} examples")
    for i, v in enumerate(y):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            raise DataError(f"{where}: example {i} (0-based) has no label")
        _jsonable_label(v)
    return y


def _class_codes(y: np.ndarray, where: str) -> tuple[list, np.ndarray]:
    classes = _sorted_labels(set(y.tolist()))
    if len(classes) < 2:
        raise DataError(f"{where}: found a single class {classes!r}; a classifier needs at least two")
    counts = pd.Series(y).value_counts()
    single = [v for v in classes if counts[v] == 1]
    if single:
        warnings.warn(f"{where}: class(es) {single} have a single training example; the model will hardly learn "
                      "them and they are kept out of the validation split", stacklevel=4)
    index = {v: i for i, v in enumerate(classes)}
    return classes, np.array([index[v] for v in y], dtype=np.int64)


def _known_codes(y: np.ndarray, classes: list, where: str) -> tuple[list, np.ndarray]:
    """Codes of ``y`` in a fine-tuned model's ``classes``; a label it does not know is an error."""
    index = {v: i for i, v in enumerate(classes)}
    unknown = _sorted_labels(set(y.tolist()) - set(classes))
    if unknown:
        raise DataError(f"{where}: label(s) {unknown} are not among the classes of the model being fine-tuned "
                        f"({classes}); fine-tuning keeps its classes")
    return list(classes), np.array([index[v] for v in y], dtype=np.int64)


def _stratified_split(codes: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Validation rows: ``fraction`` of each class (rounded), never a class's last training example."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(codes):
        rows = rng.permutation(np.flatnonzero(codes == c))
        n_val = min(int(round(fraction * len(rows))), len(rows) - 1)
        val.append(rows[:n_val])
        train.append(rows[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


# ---- shared estimator machinery ------------------------------------------------------


@dataclass
class _Fitted:
    """What ``fit`` learned besides the weights (all JSON-able)."""

    classes: list
    net: dict
    members: int
    prepare: dict  # the scaler (sequences) or tokeniser (texts)
    fingerprint: str
    history: list
    n_train: int
    n_val: int
    batch_size: int | None = None  # saved from 0.1.0 on; older folders lack it


class _Classifier(Estimator):
    """fit / predict / predict_proba / evaluate / save / load around `ClassifierNet` s.

    A subclass reads its inputs (``read``) and turns them into padded arrays:
    ``_fit_prepare(inputs, rows)``, ``_encode(inputs) -> (X, lengths)`` and
    ``_net_config(n_classes)``.
    """

    _estimator_type = "classifier"
    # options added since the first saved models, with the value those models were trained with
    _saved_before: dict = {}

    def __init__(self, config=None, **options: Any):
        super().__init__(config, **options)
        self._fitted: _Fitted | None = None
        self._nets: list[ClassifierNet] = []
        self._prepared: Any = None

    # ---- fit -------------------------------------------------------------------------

    def fit(self, data, y=None, *, verbose: bool = False, progress: bool | None = None, init_from=None,
            **read_options):
        """Fit on every example of ``data`` (the training set: nothing else is seen).

        Args:
            data: the training inputs (see the class docstring for the forms).
            y: the labels, when ``data`` does not carry them.
            verbose: print one line per ensemble member.
            progress: show training progress on standard error: ``None`` only when it
                is a terminal, ``True`` always (a line per epoch when not a terminal),
                ``False`` never.
            init_from: fine-tune a saved classifier (its folder, or the fitted object):
                every member starts from its weights, and its classes, channel scaling
                or vocabulary and ensemble size are kept; a label it does not know is an error.
            **read_options: per-call reading options (``lengths=`` for padded arrays).

        Returns:
            ``self``.
        """
        c = self.config
        source = self._warm_start(init_from)
        self._fitted, self._nets, self._prepared = None, [], None
        inputs = self._for_training(self.read(data, y, **read_options))
        labels = _check_labels(inputs.y, len(inputs), self._where(inputs))
        if source is not None:
            classes, codes = _known_codes(labels, source.classes, self._where(inputs))
            self._prepared = source._prepared
            if hasattr(source, "_coverage"):
                self._coverage = source._coverage
        else:
            classes, codes = _class_codes(labels, self._where(inputs))
        train_rows, val_rows = self._split(codes)
        if source is None:
            self._prepared = self._fit_prepare(inputs, train_rows)  # scaler / vocabulary: training rows only
        X, lengths = self._encode(inputs)
        net_config = ClassifierNetConfig.from_dict(source._fitted.net) if source else self._net_config(len(classes))
        data_fingerprint = fingerprint([X, lengths])
        train_set = (X[train_rows], lengths[train_rows], codes[train_rows])
        val = None
        if len(val_rows):
            val = PaddedBatches(X[val_rows], lengths[val_rows], codes[val_rows], batch_size=256, shuffle=False)
        histories = []
        batch_size = c.batch_size or int(np.clip(len(train_rows) // 10, 8, 64))
        members = source._fitted.members if source is not None else c.ensemble
        for k in range(members):
            start = source._nets[k] if source is not None else None
            net, history = self._train_member(k, net_config, train_set, val, data_fingerprint, batch_size, start,
                                              job_progress(progress, k, members))
            self._nets.append(net)
            histories.append(history)
            if verbose:
                best = f", best validation loss {min(h['val_loss'] for h in history):.4f}" if val is not None else ""
                print(f"  member {k + 1}/{members}: {len(history)} epochs, "
                      f"train loss {history[-1]['train_loss']:.4f}{best}")
        self._fitted = _Fitted(
            classes=[_jsonable_label(v) for v in classes], net=net_config.to_dict(), members=members,
            prepare=self._prepare_dict(), fingerprint=data_fingerprint, history=histories,
            n_train=len(train_rows), n_val=len(val_rows), batch_size=batch_size,
        )
        return self

    def _split(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training and validation rows (no validation rows on small data, see ``val_fraction``)."""
        c = self.config
        # too few examples to spare any below 200: train on all of them for max_epochs
        fraction = c.val_fraction if c.val_fraction is not None else (0.1 if len(codes) >= 200 else 0.0)
        if fraction == 0:
            return np.arange(len(codes)), np.array([], dtype=np.int64)
        return _stratified_split(codes, fraction, c.seed)

    def _train_member(self, k: int, net_config: ClassifierNetConfig, train_set, val, data_fingerprint: str,
                      batch_size: int, start: ClassifierNet | None = None,
                      progress: bool | str = False):
        """Train ensemble member ``k`` (seed ``seed + k``, from ``start``'s weights when fine-tuning);
        returns the net in eval mode and its history."""
        c = self.config
        X, lengths, codes = train_set
        train = PaddedBatches(X, lengths, codes, batch_size=batch_size, shuffle=True, seed=c.seed + 1000 * k)
        seed_everything(c.seed + k)
        net = ClassifierNet(net_config)
        if start is not None:
            self._copy_weights(net, start)
        else:
            self._init_net(net)
        if c.schedule == "plateau":
            schedule_options = {"factor": 0.5, "patience": c.lr_patience}
        else:  # cosine: from lr down to zero over max_epochs, per batch
            schedule_options = {}
        trainer = Trainer(
            net, compute_loss=self._training_loss(c.seed + k), optimizer="adam", lr=c.lr,
            weight_decay=c.weight_decay, max_epochs=c.max_epochs, patience=c.patience if val is not None else None,
            schedule=c.schedule, schedule_options=schedule_options,
            seed=c.seed + k, progress=progress, distributed=False, device=self.device_,
        )
        history = trainer.fit(train, val, data_fingerprint=data_fingerprint)
        return net.eval(), history

    def _init_net(self, net: ClassifierNet) -> None:
        """Hook: a subclass may set weights (pretrained embeddings) before training."""

    def _training_loss(self, seed: int):
        """Hook: ``compute_loss(net, batch)`` for training; a subclass may augment the batch first."""
        return _cross_entropy

    def _for_training(self, inputs):
        """Hook: a subclass may drop examples it cannot learn from (empty texts)."""
        return inputs

    # ---- predict -----------------------------------------------------------------------

    @property
    def classes(self) -> list:
        """The class labels, in the order of ``predict_proba``'s columns."""
        return list(self._require_fitted().classes)

    @property
    def classes_(self) -> np.ndarray:
        """`classes` as an array, under scikit-learn's name."""
        return np.asarray(self.classes)

    def score(self, data, y=None, **read_options) -> float:
        """Accuracy on labelled data (labels in ``data`` or given as ``y``); greater is better."""
        return self.evaluate(data, y, **read_options).accuracy

    def resolved_config(self) -> dict[str, Any]:
        """The configuration with what the last fit chose for every automatic value."""
        params = super().resolved_config()
        if self._fitted is not None:
            f = self._fitted
            if f.batch_size is not None:
                params["batch_size"] = f.batch_size
            if params.get("val_fraction") is None:
                params["val_fraction"] = round(f.n_val / max(f.n_train + f.n_val, 1), 4)
        return params

    @property
    def history(self) -> list[list[dict]]:
        """Per ensemble member, the per-epoch training log of the last fit (``val_loss`` None without validation)."""
        return self._require_fitted().history

    def predict_proba(self, data, **read_options) -> np.ndarray:
        """Class probabilities: the mean over the ensemble members.

        Returns:
            ``(N, n_classes)`` float64, columns in the order of `classes`.
        """
        self._require_fitted()
        return self._proba(self.read(data, **read_options))

    def predict(self, data, **read_options) -> np.ndarray:
        """The most probable class of each example.

        Returns:
            ``(N,)`` object array of labels (as given in training).
        """
        proba = self.predict_proba(data, **read_options)
        return _objects(np.array(self.classes, dtype=object)[proba.argmax(axis=1)])

    def predict_frame(self, data, **read_options) -> pd.DataFrame:
        """Predictions as a table: ``id``, ``prediction``, one ``prob_<class>`` column per class.

        ``id`` is the example's id (the id column, the row number, or a file name).
        """
        self._require_fitted()
        inputs = self.read(data, **read_options)
        proba = self._proba(inputs)
        frame = pd.DataFrame({"id": inputs.ids,
                              "prediction": np.array(self.classes, dtype=object)[proba.argmax(axis=1)]})
        for j, label in enumerate(self.classes):
            frame[f"prob_{label}"] = proba[:, j]
        return frame

    def evaluate(self, data, y=None, **read_options) -> ClassificationReport:
        """Score the predictions on labelled data.

        Labels the model never saw cannot be predicted: they are warned about and
        counted as errors (they get their own row in the confusion matrix).

        Returns:
            A `ClassificationReport`.
        """
        self._require_fitted()
        inputs = self.read(data, y, **read_options)
        labels = _check_labels(inputs.y, len(inputs), self._where(inputs))
        unknown = _sorted_labels(set(labels.tolist()) - set(self.classes))
        if unknown:
            n = int(np.isin(labels, np.array(unknown, dtype=object)).sum())
            warnings.warn(f"{self._where(inputs)}: {n} example(s) have label(s) {unknown} that were not in training "
                          f"(known: {self.classes}); they count as errors", stacklevel=2)
        proba = self._proba(inputs)
        predicted = np.array(self.classes, dtype=object)[proba.argmax(axis=1)]
        return classification_report(labels, predicted, labels=self.classes)

    def _proba(self, inputs) -> np.ndarray:
        X, lengths = self._encode(inputs)
        batches = PaddedBatches(X, lengths, batch_size=256, shuffle=False)
        order = batches.order()
        outputs = []
        with torch.no_grad():
            for net in self._nets:
                device = next(net.parameters()).device
                parts = [F.softmax(net(x.to(device), n), dim=-1).cpu().double() for x, n in batches]
                outputs.append(torch.cat(parts).numpy())
        proba = np.empty((len(X), len(self.classes)))
        proba[order] = np.mean(outputs, axis=0)
        return proba

    # ---- save / load -------------------------------------------------------------------

    def save(self, path: str | os.PathLike, metrics: dict | None = None) -> Path:
        """Save as a directory: ``weights.safetensors`` (every member) and JSON.

        Args:
            path: the directory (created or replaced).
            metrics: numbers to keep in ``metadata.json`` (held-out accuracy, say).
        """
        fitted = self._require_fitted()
        state = {f"member{k}.{name}": t.detach().cpu() for k, net in enumerate(self._nets)
                 for name, t in net.state_dict().items()}
        metadata = {"task": self.task, "fitted": dataclasses.asdict(fitted), "data_fingerprint": fitted.fingerprint,
                    "metrics": metrics or {}}
        return save_model_dir(path, state, {self.task: self.config.to_dict()}, metadata)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | None = None):
        """Load a classifier saved by `save`; nothing is unpickled.

        Args:
            path: the model directory.
            device: where to put the networks; ``None`` keeps the saved ``device`` when
                this machine has it, else ``"auto"``.
        """
        state, config, metadata = load_model_dir(path)
        if metadata.get("task") != cls.task or cls.task not in config:
            raise CheckpointError(f"{path}: not a saved {cls.__name__} (task {metadata.get('task')!r})")
        try:
            model = cls(placed(cls.config_class.from_dict({**cls._saved_before, **config[cls.task]}), device))
            fitted = _Fitted(**metadata["fitted"])
            net_config = ClassifierNetConfig.from_dict(fitted.net)
            nets = []
            for k in range(fitted.members):
                net = ClassifierNet(net_config)
                prefix = f"member{k}."
                net.load_state_dict({n[len(prefix):]: t for n, t in state.items() if n.startswith(prefix)})
                nets.append(net.to(model.device_).eval())
            model._prepared = model._load_prepare(fitted.prepare)
        except (KeyError, TypeError, ValueError, RuntimeError) as e:
            raise CheckpointError(f"{path}: the saved {cls.__name__} is incomplete or inconsistent: {e}") from None
        model._fitted, model._nets = fitted, nets
        return model

    def _require_fitted(self) -> _Fitted:
        if self._fitted is None:
            raise ConfigError(f"this {type(self).__name__} is not fitted yet: call fit(...) or "
                              f"{type(self).__name__}.load(path)")
        return self._fitted

    @staticmethod
    def _where(inputs) -> str:
        return inputs.source


def _cross_entropy(net: ClassifierNet, batch) -> torch.Tensor:
    x, lengths, y = batch
    return F.cross_entropy(net(x, lengths), y)


def _check_common(config) -> None:
    object.__setattr__(config, "device", check_device(config.device))  # None, the old default, is "auto"
    for name in ("hidden_size", "num_layers", "max_epochs", "ensemble", "lr_patience"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    for name in ("batch_size", "patience"):
        value = getattr(config, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ConfigError(f"{name} must be a positive integer or None, got {value!r}")
    if config.pooling not in POOLINGS:
        raise ConfigError(f"pooling must be one of {POOLINGS}, got {config.pooling!r}")
    if not 0 < config.lr < 1:
        raise ConfigError(f"lr must be in (0, 1), got {config.lr!r}")
    if not 0 <= config.dropout < 1:
        raise ConfigError(f"dropout must be in [0, 1), got {config.dropout!r}")
    if config.val_fraction is not None and not 0 <= config.val_fraction < 1:
        raise ConfigError(f"val_fraction must be in [0, 1) or None, got {config.val_fraction!r}")
    if config.weight_decay < 0:
        raise ConfigError(f"weight_decay must be >= 0, got {config.weight_decay!r}")
    if config.schedule not in SCHEDULES:
        raise ConfigError(f"schedule must be one of {SCHEDULES}, got {config.schedule!r}")


# ---- numeric sequences -----------------------------------------------------------------


@dataclass(frozen=True)
class SequenceClassifierConfig(CellFields, JobConfig):
    """Everything that defines a sequence classifier; saved as JSON with the model.

    Args:
        id_col: for long tables, the column naming each sequence.
        label_col: for tables, the class column (constant within an id).
        time_col: for long tables, the column ordering the steps of a sequence.
        feature_cols: for long tables, the value columns (default: all the others).
        hidden_size, num_layers, bidirectional: the LSTM encoder (by default LSTM-FCN's
            8 units, one direction).
        lstm_input: what an LSTM step reads: ``"shuffle"`` (default), LSTM-FCN's
            dimension shuffle: one channel's whole series (zero-padded to the longest
            training sequence) per step, so a univariate series is one step and the
            LSTM sees its global shape while the convolutions read the time steps;
            sequences longer than the longest training sequence cannot be predicted.
            ``"time"``: one time step (``F`` features) per LSTM step, any length; give
            it more units (e.g. ``hidden_size=64, bidirectional=True, pooling="attention"``).
        pooling: over the LSTM outputs: ``"last"`` (default), ``"attention"``, ``"mean"``
            or ``"max"``.
        conv_channels, conv_kernels: the convolutional branch (LSTM-FCN's
            ``(128, 256, 128)`` and ``(8, 5, 3)`` by default); ``conv_channels=()`` turns it off.
        scale: standardise each channel with the training set's mean and deviation.
        augment_scale: in training, multiply each (standardised) series by a random
            factor in ``[1 - augment_scale, 1 + augment_scale]``, drawn anew per series
            and channel in every batch, so the model learns shapes rather than
            amplitudes from few examples (default ``0.2``); ``0`` turns it off.
            Padding stays zero.
        dropout: on the pooled features (before the output layer).
        ensemble: networks trained with different seeds, probabilities averaged.
        max_epochs, patience, lr, weight_decay, batch_size: training (Adam, peak
            ``lr=3e-3``); ``batch_size=None`` is a tenth of the training set, within [8, 64].
        schedule: the learning rate: ``"cosine"`` (default) anneals it from ``lr`` to
            zero over ``max_epochs``, per batch (a short stand-in for LSTM-FCN's 2,000
            epochs of plateau decay); ``"plateau"`` halves it after ``lr_patience``
            epochs without improvement (of the validation loss, or the training loss
            without validation).
        lr_patience: see ``schedule``.
        val_fraction: share of each class held out for early stopping; ``None`` holds
            out 10% from 200 examples up and nothing below (then ``max_epochs`` are run).
        device: where to train and predict: ``"auto"`` (a GPU when torch sees one), ``"cpu"``,
            ``"cuda"`` or ``"cuda:N"``.
        seed: the first member's seed; member ``k`` uses ``seed + k``.
        cell, peephole, layer_norm, coupled_gates, proj_size, zoneout, recurrent_dropout:
            the recurrent cell of the network (`lstmkit.tasks.base.CellFields`): ``cell``
            ``"lstm"`` (default), ``"gru"`` or ``"rnn"``, and the LSTM variants.
    """

    id_col: str | None = None
    label_col: str | None = "label"
    time_col: str | None = None
    feature_cols: tuple[str, ...] | None = None
    hidden_size: int = 8
    num_layers: int = 1
    bidirectional: bool = False
    pooling: str = "last"
    conv_channels: tuple[int, ...] = (128, 256, 128)
    conv_kernels: tuple[int, ...] = (8, 5, 3)
    lstm_input: str = "shuffle"
    scale: bool = True
    augment_scale: float = 0.2
    dropout: float = 0.2
    ensemble: int = 3
    max_epochs: int = 300
    patience: int | None = 30
    lr: float = 3e-3
    schedule: str = "cosine"
    lr_patience: int = 20
    weight_decay: float = 0.0
    batch_size: int | None = None
    val_fraction: float | None = None
    device: str = "auto"
    seed: int = 0

    def __post_init__(self):
        self.cell_options()  # checks cell and its variants
        _check_common(self)
        if len(self.conv_kernels) != len(self.conv_channels) and self.conv_channels:
            raise ConfigError(f"conv_kernels {self.conv_kernels} must give one kernel size per block of "
                              f"conv_channels {self.conv_channels}")
        if self.lstm_input not in LSTM_INPUTS:
            raise ConfigError(f"lstm_input must be one of {LSTM_INPUTS}, got {self.lstm_input!r}")
        if isinstance(self.augment_scale, bool) or not 0 <= self.augment_scale < 1:
            raise ConfigError(f"augment_scale must be in [0, 1), got {self.augment_scale!r}")


class SequenceClassifier(_Classifier):
    """LSTM-FCN classifier of numeric sequences (Karim et al. 2017), equal or unequal lengths.

    By default an LSTM of 8 units reads each channel's whole series as one step (the
    dimension shuffle) beside three convolution blocks over time; both are trained
    with Adam, a cosine learning rate and random amplitude scaling of the training
    series, three networks averaged.

    Takes the fields of `SequenceClassifierConfig` as keyword arguments. ``fit``,
    ``predict``, ``predict_proba``, ``predict_frame`` and ``evaluate`` accept:

    * a `lstmkit.data.sequences.SequenceSet` (labels inside);
    * an array ``(N, T)`` or ``(N, T, F)`` with ``y=`` (and ``lengths=`` if padded;
      trailing all-NaN steps are read as padding), or a list of ``(T_i, F)`` arrays;
    * a long DataFrame (one row per step; needs ``id_col``);
    * a path to a ``.ts``, ``.npz`` or long CSV/TSV/Parquet file.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> t = np.linspace(0, 6, 12)
    >>> X = np.stack([np.sin(t * (1 + k % 2)) + 0.1 * rng.normal(size=12) for k in range(20)])  # (20, 12)
    >>> y = ["slow", "fast"] * 10
    >>> clf = SequenceClassifier(hidden_size=8, conv_channels=(8,), conv_kernels=(3,), ensemble=1,
    ...                          max_epochs=15, batch_size=10, lr=0.01)
    >>> clf.fit(X, y).evaluate(X, y).accuracy  # doctest: +SKIP
    1.0
    >>> clf.classes, clf.predict_proba(X[:2]).shape  # doctest: +SKIP
    (['fast', 'slow'], (2, 2))
    """

    task = "sequence_classifier"
    config_class = SequenceClassifierConfig
    _saved_before = {"lstm_input": "time", "schedule": "plateau", "augment_scale": 0.0}

    def read(self, data, y=None, *, lengths=None) -> SequenceSet:
        """Read any accepted input into a `SequenceSet`, with its labels when it has them.

        Args:
            data: see the class docstring.
            y: labels, replacing any the data carry.
            lengths: real lengths of a padded array.
        """
        c = self.config
        if isinstance(data, (str, os.PathLike)) and Path(data).suffix.lower() in SUPPORTED_EXTENSIONS:
            data = read_table(data)
        if isinstance(data, SequenceSet):
            inputs = data
        elif isinstance(data, pd.DataFrame):
            if c.id_col is None:
                raise ConfigError(f"{data.attrs.get('source', 'a DataFrame')}: a table of sequences is read in long "
                                  f"format; set id_col (--id-col): the column naming each sequence. Columns found: "
                                  f"{list(data.columns)}")
            label_col = c.label_col if (y is None and c.label_col in data.columns) else None
            features = c.feature_cols
            if self._fitted is not None:
                features = self._prepared["channels"]  # the training columns, by name, in training order
            elif features is None and c.label_col in data.columns:
                # an unused label column is not a feature
                features = [col for col in data.columns if col not in (c.id_col, c.time_col, c.label_col)]
            inputs = from_long_frame(data, id_col=c.id_col, label_col=label_col, time_col=c.time_col,
                                     feature_cols=features)
        elif isinstance(data, (str, os.PathLike)):
            inputs = read_sequences(data)
        elif isinstance(data, (np.ndarray, list, tuple)):
            inputs = from_arrays(data, None, lengths)
        else:
            raise DataError(f"expected a SequenceSet, an array, a list of arrays, a DataFrame or a file path, "
                            f"got {type(data).__name__}")
        if y is not None:
            inputs = dataclasses.replace(inputs, y=_check_labels(y, len(inputs), inputs.source))
        if self._fitted is not None:
            self._check_channels(inputs)
        return inputs

    def _check_channels(self, inputs: SequenceSet) -> None:
        expected = self._fitted.net["n_features"]
        if inputs.X.shape[2] != expected:
            raise DataError(f"{inputs.source}: the model was trained on {expected} channel(s), the data has "
                            f"{inputs.X.shape[2]} ({list(inputs.channels)})")
        max_length = self._fitted.net.get("max_length", 0)
        if max_length and len(inputs) and inputs.lengths.max() > max_length:
            row = int(inputs.lengths.argmax())
            raise DataError(f"{inputs.source}: sequence {inputs.ids[row]!r} has {int(inputs.lengths[row])} steps; "
                            f"with lstm_input='shuffle' the model reads at most {max_length} (the longest "
                            f"training sequence)")

    def _fit_prepare(self, inputs: SequenceSet, rows: np.ndarray) -> dict:
        scaler = None
        if self.config.scale:
            scaler = fit_channel_scaler(inputs.X[rows], inputs.lengths[rows], inputs.channels).to_dict()
        # the dimension shuffle's LSTM reads this many steps per channel
        return {"channels": list(inputs.channels), "scaler": scaler, "max_length": int(inputs.lengths.max())}

    def _prepare_dict(self) -> dict:
        return self._prepared

    def _load_prepare(self, state: dict) -> dict:
        return {"channels": list(state["channels"]), "scaler": state["scaler"], "max_length": state.get("max_length")}

    def _encode(self, inputs: SequenceSet) -> tuple[np.ndarray, np.ndarray]:
        scaler = self._prepared["scaler"]
        if scaler is None:
            return inputs.X.astype(np.float32), inputs.lengths
        # channels are matched by position: the training names are the scaler's columns
        return scale_channels(scaler, inputs.X, inputs.lengths, scaler["columns"]), inputs.lengths

    def _training_loss(self, seed: int):
        spread = self.config.augment_scale
        if spread == 0:
            return _cross_entropy
        generator = torch.Generator().manual_seed(seed)

        def scaled_cross_entropy(net: ClassifierNet, batch) -> torch.Tensor:
            x, lengths, y = batch
            if net.training:  # the validation loss sees the data as they are
                B, _, F_ = x.shape  # batch, time, channels
                factor = 1 + spread * (2 * torch.rand(B, 1, F_, generator=generator) - 1)  # (B, 1, F)
                x = x * factor.to(x.device)
            return F.cross_entropy(net(x, lengths), y)

        return scaled_cross_entropy

    def _net_config(self, n_classes: int) -> ClassifierNetConfig:
        c = self.config
        return ClassifierNetConfig(
            n_classes=n_classes, n_features=len(self._prepared["channels"]), hidden_size=c.hidden_size,
            num_layers=c.num_layers, bidirectional=c.bidirectional, pooling=c.pooling, dropout=c.dropout,
            conv_channels=tuple(c.conv_channels), conv_kernels=tuple(c.conv_kernels), lstm_input=c.lstm_input,
            max_length=self._prepared["max_length"] if c.lstm_input == "shuffle" else 0, cell=c.cell_options(),
        )


# ---- texts -------------------------------------------------------------------------------


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
        max_length: keep the first ``max_length`` tokens of longer texts (``None``: all).
        embeddings: a word2vec/GloVe text file of pretrained vectors to start the
            embedding table from (its dimension replaces ``embedding_dim``).
        freeze_embeddings: keep the embedding table fixed during training.
        embedding_dim: size of the token embeddings learned from scratch.
        hidden_size, num_layers, bidirectional, pooling, dropout: the network.
        conv_channels, conv_kernels: an optional convolutional branch (off by default).
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
    max_length: int | None = None
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
        _check_common(self)
        if self.level not in TEXT_LEVELS:
            raise ConfigError(f"level must be one of {TEXT_LEVELS}, got {self.level!r}")
        if self.max_length is not None and (isinstance(self.max_length, bool) or self.max_length < 1):
            raise ConfigError(f"max_length must be a positive integer or None, got {self.max_length!r}")
        if self.embeddings is not None and self.level == "char":
            raise ConfigError("pretrained embeddings are word vectors; they need level='word' (or 'subword')")
        make_tokenizer(self.level, **self.tokenizer_options())  # checks min_freq / max_vocab for the level

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


class TextClassifier(_Classifier):
    """Bidirectional LSTM text classifier with attention pooling, at char, word or subword level.

    Takes the fields of `TextClassifierConfig` as keyword arguments. ``fit``,
    ``predict``, ``predict_proba``, ``predict_frame`` and ``evaluate`` accept a list of
    texts (with ``y=``), a DataFrame with ``text_col`` (and ``label_col``), a
    `lstmkit.data.text_io.TextSet`, or a path (table, folder per class, ``.txt``).

    Empty texts are skipped in ``fit`` and predicted from no content (a warning
    says how many) elsewhere.

    >>> texts = ["good film", "great film", "bad film", "awful film"] * 5
    >>> labels = ["pos", "pos", "neg", "neg"] * 5
    >>> clf = TextClassifier(hidden_size=8, embedding_dim=8, max_epochs=10, lr=0.02).fit(texts, labels)  # doctest: +SKIP
    >>> clf.predict(["great film", "awful film"]).tolist()  # doctest: +SKIP
    ['pos', 'neg']
    """

    task = "text_classifier"
    config_class = TextClassifierConfig
    _saved_before = {"schedule": "plateau"}

    def read(self, data, y=None) -> TextSet:
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
                raise DataError(f"{str(data)!r} is neither a folder nor a file name; to classify a single text, "
                                "pass a list: [text]")
            inputs = read_texts(data)
        elif isinstance(data, (list, tuple, np.ndarray, pd.Series)):
            texts = list(data)
            bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
            if bad:
                raise DataError(f"text {bad[0]} (0-based) is {texts[bad[0]]!r}, expected a string")
            inputs = TextSet(texts, None, _objects(range(len(texts))), "<texts>")
        else:
            raise DataError(f"expected a list of texts, a DataFrame, a TextSet or a path, got {type(data).__name__}")
        if y is not None:
            inputs = dataclasses.replace(inputs, y=_check_labels(y, len(inputs), inputs.source))
        return inputs

    def _for_training(self, inputs: TextSet) -> TextSet:
        """Empty texts teach nothing: skip them, with a warning."""
        empty = [i for i, t in enumerate(inputs.texts) if not t.strip()]
        if not empty:
            return inputs
        if len(empty) == len(inputs):
            raise DataError(f"{inputs.source}: every text is empty; nothing to learn from")
        warnings.warn(f"{inputs.source}: skipped {len(empty)} empty text(s) in training (ids "
                      f"{inputs.ids[empty[:5]].tolist()}{' ...' if len(empty) > 5 else ''})", stacklevel=4)
        keep = np.setdiff1d(np.arange(len(inputs)), empty)
        return TextSet([inputs.texts[i] for i in keep], None if inputs.y is None else inputs.y[keep],
                       inputs.ids[keep], inputs.source)

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
            ids = [s[: c.max_length] for s in ids]
        empty = [i for i, s in enumerate(ids) if not s]
        if empty:
            warnings.warn(f"{inputs.source}: {len(empty)} empty text(s) (ids {inputs.ids[empty[:5]].tolist()}) are "
                          "predicted from no content", stacklevel=4)
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
            n_classes=n_classes, vocab_size=self._prepared.vocab_size, embedding_dim=dim,
            pad_id=self._prepared.pad_id, freeze_embedding=c.freeze_embeddings, hidden_size=c.hidden_size,
            num_layers=c.num_layers, bidirectional=c.bidirectional, pooling=c.pooling, dropout=c.dropout,
            conv_channels=tuple(c.conv_channels), conv_kernels=tuple(c.conv_kernels),
            cell=c.cell_options(),
        )

    def _init_net(self, net: ClassifierNet) -> None:
        if self.config.embeddings is None:
            return
        found = torch.from_numpy(self._found)
        if not bool(found.any()):
            raise DataError(f"{self.config.embeddings}: none of the {len(found)} vocabulary tokens has a vector "
                            "in the file; check the tokeniser level and lowercasing")
        with torch.no_grad():
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
