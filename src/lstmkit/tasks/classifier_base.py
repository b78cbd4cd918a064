"""What the two classifiers share: `SequenceClassifier` (numeric sequences) and `TextClassifier` (texts).

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

import abc
import dataclasses
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from lstmkit.data.labels import (
    as_objects,
    check_labels,
    class_codes,
    jsonable_label,
    known_codes,
    sorted_labels,
)
from lstmkit.data.sequences import (
    PaddedBatches,
)
from lstmkit.data.splits import stratified_split
from lstmkit.errors import CheckpointError, ConfigError
from lstmkit.evaluate.classification import ClassificationReport, classification_report
from lstmkit.models import ClassifierNet, ClassifierNetConfig
from lstmkit.models.classifier import POOLINGS
from lstmkit.tasks.base import Estimator, ensemble_members, ensemble_state, placed, trainer_checkpoints
from lstmkit.tasks.saved_checks import NET_DEFAULTS, check_classes, check_prepared
from lstmkit.train import (
    GeneratorStates,
    Trainer,
    fingerprint,
    load_model_dir,
    save_model_dir,
    seed_everything,
)
from lstmkit.train.callbacks import job_progress
from lstmkit.train.devices import check_device
from lstmkit.utils.checks import ensemble_size, open_unit, positive_int
from lstmkit.utils.schema import first_line, from_saved

__all__ = ["BaseClassifier", "SCHEDULES", "check_classifier_config", "cross_entropy_loss"]

SCHEDULES = ("plateau", "cosine")


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


class BaseClassifier(Estimator):
    """fit / predict / predict_proba / evaluate / save / load around `ClassifierNet` s.

    A subclass reads its inputs (``read``) and turns them into padded arrays:
    ``_fit_prepare(inputs, rows)``, ``_encode(inputs) -> (X, lengths)`` and
    ``_net_config(n_classes)``.
    """

    _estimator_type = "classifier"
    # options added since the first saved models, with the value those models were trained with
    _saved_before: dict = {}

    def __init__(self, config: Any = None, **options: Any):
        super().__init__(config, **options)
        self._fitted: _Fitted | None = None
        self._nets: list[ClassifierNet] = []
        self._prepared: Any = None

    # ---- what a subclass provides (signatures vary: sequences or texts) ---------------

    @abc.abstractmethod
    def read(self, *args: Any, **kwargs: Any) -> Any:
        """The inputs (and labels) of ``data`` as a `SequenceSet` or `TextSet`."""

    @abc.abstractmethod
    def _fit_prepare(self, *args: Any, **kwargs: Any) -> Any:
        """Fit the scaler or tokeniser on the training rows; returns what ``_encode`` uses."""

    @abc.abstractmethod
    def _prepare_dict(self) -> dict:
        """The fitted preparation as JSON-able data, for ``save``."""

    @abc.abstractmethod
    def _load_prepare(self, state: dict) -> Any:
        """The inverse of ``_prepare_dict``."""

    @abc.abstractmethod
    def _encode(self, *args: Any, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
        """The inputs as padded arrays and their lengths: ``(X, lengths)``."""

    @abc.abstractmethod
    def _net_config(self, n_classes: int) -> ClassifierNetConfig:
        """The network's configuration for ``n_classes`` classes."""

    # ---- fit -------------------------------------------------------------------------

    def fit(
        self,
        data: object,
        y: Iterable[Any] | None = None,
        *,
        verbose: bool = False,
        progress: bool | None = None,
        init_from: str | os.PathLike | BaseClassifier | None = None,
        checkpoints: str | os.PathLike | None = None,
        **read_options: Any,
    ) -> Self:
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
            checkpoints: a folder for one training checkpoint per member, written
                after every epoch; a fit run again with the same data, configuration
                and folder continues from them and ends with the same model as an
                uninterrupted one (`lstmkit.tasks.base.trainer_checkpoints`).
            **read_options: per-call reading options (``lengths=`` for padded arrays).

        Returns:
            ``self``.
        """
        c = self.config
        source = self._warm_start(init_from)
        self._fitted, self._nets, self._prepared = None, [], None
        inputs = self._for_training(self.read(data, y, **read_options))
        labels = check_labels(inputs.y, len(inputs), self._where(inputs))
        if source is not None:
            classes, codes = known_codes(labels, source.classes, self._where(inputs))
            self._prepared = source._prepared
            if hasattr(source, "_coverage"):
                self._coverage = source._coverage
        else:
            classes, codes = class_codes(labels, self._where(inputs))
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
            net, history = self._train_member(
                k,
                net_config,
                train_set,
                val,
                data_fingerprint,
                batch_size,
                start,
                job_progress(progress, k, members),
                checkpoints,
            )
            self._nets.append(net)
            histories.append(history)
            if verbose:
                best = f", best validation loss {min(h['val_loss'] for h in history):.4f}" if val is not None else ""
                print(
                    f"  member {k + 1}/{members}: {len(history)} epochs, "
                    f"train loss {history[-1]['train_loss']:.4f}{best}"
                )
        self._fitted = _Fitted(
            classes=[jsonable_label(v) for v in classes],
            net=net_config.to_dict(),
            members=members,
            prepare=self._prepare_dict(),
            fingerprint=data_fingerprint,
            history=histories,
            n_train=len(train_rows),
            n_val=len(val_rows),
            batch_size=batch_size,
        )
        return self

    def _split(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training and validation rows (no validation rows on small data, see ``val_fraction``)."""
        c = self.config
        # too few examples to spare any below 200: train on all of them for max_epochs
        fraction = c.val_fraction if c.val_fraction is not None else (0.1 if len(codes) >= 200 else 0.0)
        if fraction == 0:
            return np.arange(len(codes)), np.array([], dtype=np.int64)
        return stratified_split(codes, fraction, c.seed)

    def _train_member(
        self,
        k: int,
        net_config: ClassifierNetConfig,
        train_set,
        val,
        data_fingerprint: str,
        batch_size: int,
        start: ClassifierNet | None = None,
        progress: bool | str = False,
        checkpoints: str | os.PathLike | None = None,
    ):
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
        saving, resuming = trainer_checkpoints(checkpoints, k)
        loss = self._training_loss(c.seed + k)
        trainer = Trainer(
            net,
            compute_loss=loss,
            callbacks=[GeneratorStates(*getattr(loss, "generators", ()))],
            optimizer="adam",
            lr=c.lr,
            weight_decay=c.weight_decay,
            max_epochs=c.max_epochs,
            patience=c.patience if val is not None else None,
            schedule=c.schedule,
            schedule_options=schedule_options,
            seed=c.seed + k,
            progress=progress,
            distributed=False,
            device=self.device_,
            **saving,
        )
        history = trainer.fit(train, val, data_fingerprint=data_fingerprint, **resuming)
        return net.eval(), history

    def _init_net(self, net: ClassifierNet) -> None:
        """Hook: a subclass may set weights (pretrained embeddings) before training."""

    def _training_loss(self, seed: int):
        """Hook: ``compute_loss(net, batch)`` for training; a subclass may augment the batch first."""
        return cross_entropy_loss

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

    def score(self, data: object, y: Iterable[Any] | None = None, **read_options: Any) -> float:
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

    def predict_proba(self, data: object, **read_options: Any) -> np.ndarray:
        """Class probabilities: the mean over the ensemble members.

        Returns:
            ``(N, n_classes)`` float64, columns in the order of `classes`.
        """
        self._require_fitted()
        return self._proba(self.read(data, **read_options))

    def predict(self, data: object, **read_options: Any) -> np.ndarray:
        """The most probable class of each example.

        Returns:
            ``(N,)`` object array of labels (as given in training).
        """
        proba = self.predict_proba(data, **read_options)
        return as_objects(np.array(self.classes, dtype=object)[proba.argmax(axis=1)])

    def predict_frame(self, data: object, **read_options: Any) -> pd.DataFrame:
        """Predictions as a table: ``id``, ``prediction``, one ``prob_<class>`` column per class.

        ``id`` is the example's id (the id column, the row number, or a file name).
        """
        self._require_fitted()
        inputs = self.read(data, **read_options)
        proba = self._proba(inputs)
        frame = pd.DataFrame(
            {"id": inputs.ids, "prediction": np.array(self.classes, dtype=object)[proba.argmax(axis=1)]}
        )
        for j, label in enumerate(self.classes):
            frame[f"prob_{label}"] = proba[:, j]
        return frame

    def evaluate(self, data: object, y: Iterable[Any] | None = None, **read_options: Any) -> ClassificationReport:
        """Score the predictions on labelled data.

        Labels the model never saw cannot be predicted: they are warned about and
        counted as errors (they get their own row in the confusion matrix).

        Returns:
            A `ClassificationReport`.
        """
        self._require_fitted()
        inputs = self.read(data, y, **read_options)
        labels = check_labels(inputs.y, len(inputs), self._where(inputs))
        unknown = sorted_labels(set(labels.tolist()) - set(self.classes))
        if unknown:
            n = int(np.isin(labels, np.array(unknown, dtype=object)).sum())
            warnings.warn(
                f"{self._where(inputs)}: {n} example(s) have label(s) {unknown} that were not in training "
                f"(known: {self.classes}); they count as errors",
                stacklevel=2,
            )
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
        state = ensemble_state(self._nets)
        metadata = {
            "task": self.task,
            "fitted": dataclasses.asdict(fitted),
            "data_fingerprint": fitted.fingerprint,
            "metrics": metrics or {},
        }
        return save_model_dir(path, state, {self.task: self.config.to_dict()}, metadata)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | None = None) -> Self:
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
            saved = {**cls._saved_before, **config[cls.task]}
            model = cls(placed(cls.config_class.from_dict(saved, f"{path}/config.json: {cls.task}"), device))
            fitted = from_saved(_Fitted, metadata["fitted"], f"{path}/metadata.json: fitted")
            net_config = from_saved(
                ClassifierNetConfig, fitted.net, f"{path}/metadata.json: fitted.net", defaults=NET_DEFAULTS
            )
            check_classes(fitted.classes, net_config.n_classes, f"{path}/metadata.json: fitted.classes")
            model._prepared = model._load_prepare(fitted.prepare)
            check_prepared(model._prepared, net_config, f"{path}/metadata.json: fitted.prepare")
            nets = ensemble_members(state, fitted.members, lambda: ClassifierNet(net_config), model.device_, str(path))
        except CheckpointError:
            raise  # already names the file and the field
        except (KeyError, TypeError, ValueError, RuntimeError) as e:
            raise CheckpointError(f"{path}: the saved {cls.__name__} is inconsistent: {first_line(e)}") from None
        model._fitted, model._nets = fitted, nets
        return model

    def _require_fitted(self) -> _Fitted:
        if self._fitted is None:
            raise ConfigError(
                f"this {type(self).__name__} is not fitted yet: call fit(...) or {type(self).__name__}.load(path)"
            )
        return self._fitted

    @staticmethod
    def _where(inputs) -> str:
        return inputs.source


def cross_entropy_loss(net: ClassifierNet, batch: Sequence[torch.Tensor]) -> torch.Tensor:
    x, lengths, y = batch
    return F.cross_entropy(net(x, lengths), y)


def check_classifier_config(config) -> None:
    object.__setattr__(config, "device", check_device(config.device))  # None, the old default, is "auto"
    for name in ("hidden_size", "num_layers", "max_epochs", "lr_patience"):
        positive_int(name, getattr(config, name))
    ensemble_size(config.ensemble)
    for name in ("batch_size", "patience"):
        positive_int(name, getattr(config, name), none_ok=True)
    if config.pooling not in POOLINGS:
        raise ConfigError(f"pooling must be one of {POOLINGS}, got {config.pooling!r}")
    open_unit("lr", config.lr)
    if not 0 <= config.dropout < 1:
        raise ConfigError(f"dropout must be in [0, 1), got {config.dropout!r}")
    if config.val_fraction is not None and not 0 <= config.val_fraction < 1:
        raise ConfigError(f"val_fraction must be in [0, 1) or None, got {config.val_fraction!r}")
    if config.weight_decay < 0:
        raise ConfigError(f"weight_decay must be >= 0, got {config.weight_decay!r}")
    if config.schedule not in SCHEDULES:
        raise ConfigError(f"schedule must be one of {SCHEDULES}, got {config.schedule!r}")
