"""`SequenceClassifier`: LSTM-FCN classification of numeric sequences.

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
import torch.nn.functional as F
from numpy.typing import ArrayLike

from lstmkit.data.io import SUPPORTED_EXTENSIONS, read_table
from lstmkit.data.labels import (
    check_labels,
)
from lstmkit.data.sequences import (
    SequenceSet,
    fit_channel_scaler,
    from_arrays,
    from_long_frame,
    read_sequences,
    scale_channels,
)
from lstmkit.errors import ConfigError, DataError
from lstmkit.models import ClassifierNet, ClassifierNetConfig
from lstmkit.models.classifier import LSTM_INPUTS
from lstmkit.tasks.base import CellFields, JobConfig
from lstmkit.tasks.classifier_base import (
    BaseClassifier,
    _Fitted,
    check_classifier_config,
    cross_entropy_loss,
)

__all__ = ["SequenceClassifierConfig", "SequenceClassifier"]


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
            longer sequences at prediction are resampled to the longest training length.
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
        check_classifier_config(self)
        if len(self.conv_kernels) != len(self.conv_channels) and self.conv_channels:
            raise ConfigError(
                f"conv_kernels {self.conv_kernels} must give one kernel size per block of "
                f"conv_channels {self.conv_channels}"
            )
        if self.lstm_input not in LSTM_INPUTS:
            raise ConfigError(f"lstm_input must be one of {LSTM_INPUTS}, got {self.lstm_input!r}")
        if isinstance(self.augment_scale, bool) or not 0 <= self.augment_scale < 1:
            raise ConfigError(f"augment_scale must be in [0, 1), got {self.augment_scale!r}")


class SequenceClassifier(BaseClassifier):
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

    def read(self, data: object, y: Iterable[Any] | None = None, *, lengths: ArrayLike | None = None) -> SequenceSet:
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
                raise ConfigError(
                    f"{data.attrs.get('source', 'a DataFrame')}: a table of sequences is read in long "
                    f"format; set id_col (--id-col): the column naming each sequence. Columns found: "
                    f"{list(data.columns)}"
                )
            label_col = c.label_col if (y is None and c.label_col in data.columns) else None
            features = c.feature_cols
            if self._fitted is not None:
                features = self._prepared["channels"]  # the training columns, by name, in training order
            elif features is None and c.label_col in data.columns:
                # an unused label column is not a feature
                features = [col for col in data.columns if col not in (c.id_col, c.time_col, c.label_col)]
            inputs = from_long_frame(
                data, id_col=c.id_col, label_col=label_col, time_col=c.time_col, feature_cols=features
            )
        elif isinstance(data, (str, os.PathLike)):
            inputs = read_sequences(data)
        elif isinstance(data, (np.ndarray, list, tuple)):
            inputs = from_arrays(data, None, lengths)
        else:
            raise DataError(
                f"expected a SequenceSet, an array, a list of arrays, a DataFrame or a file path, "
                f"got {type(data).__name__}"
            )
        if y is not None:
            inputs = dataclasses.replace(inputs, y=check_labels(y, len(inputs), inputs.source))
        if self._fitted is not None:
            self._check_channels(inputs, self._fitted)
        return inputs

    def _check_channels(self, inputs: SequenceSet, fitted: _Fitted) -> None:
        expected = fitted.net["n_features"]
        if inputs.X.shape[2] != expected:
            raise DataError(
                f"{inputs.source}: the model was trained on {expected} channel(s), the data has "
                f"{inputs.X.shape[2]} ({list(inputs.channels)})"
            )

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
        inputs = self._fit_to_length(inputs)
        scaler = self._prepared["scaler"]
        if scaler is None:
            return inputs.X.astype(np.float32), inputs.lengths
        # channels are matched by position: the training names are the scaler's columns
        return scale_channels(scaler, inputs.X, inputs.lengths, scaler["columns"]), inputs.lengths

    def _fit_to_length(self, inputs: SequenceSet) -> SequenceSet:
        """With the dimension shuffle, sequences longer than the longest training one, resampled to its length.

        The shuffled LSTM reads a channel's whole series as one input of ``max_length``
        values, so a longer series cannot be read as it is. It is resampled (linear
        interpolation over its real steps) to ``max_length`` steps, keeping its shape from
        start to end, as time-series classifiers commonly do with unequal lengths; a
        warning says how many. Shorter sequences are padded as in training.
        """
        max_length = self._prepared.get("max_length") if self.config.lstm_input == "shuffle" else None
        if self._fitted is None or not max_length or not len(inputs) or inputs.lengths.max() <= max_length:
            return inputs
        longer = np.flatnonzero(inputs.lengths > max_length)
        X = inputs.X[:, :max_length].astype(np.float64, copy=True)
        lengths = inputs.lengths.copy()
        target = np.linspace(0.0, 1.0, max_length)
        for i in longer:
            n = int(inputs.lengths[i])
            source = np.linspace(0.0, 1.0, n)
            for f in range(X.shape[2]):
                X[i, :, f] = np.interp(target, source, inputs.X[i, :n, f])
            lengths[i] = max_length
        warnings.warn(
            f"{inputs.source}: {len(longer)} sequence(s) are longer than the longest training sequence "
            f"({max_length} steps; e.g. {inputs.ids[longer[0]]!r} has {int(inputs.lengths[longer[0]])}); "
            f"with lstm_input='shuffle' they are resampled to {max_length} steps",
            stacklevel=4,
        )
        return dataclasses.replace(inputs, X=X, lengths=lengths)

    def _training_loss(self, seed: int):
        spread = self.config.augment_scale
        if spread == 0:
            return cross_entropy_loss
        generator = torch.Generator().manual_seed(seed)

        def scaled_cross_entropy(net: ClassifierNet, batch) -> torch.Tensor:
            x, lengths, y = batch
            if net.training:  # the validation loss sees the data as they are
                B, _, F_ = x.shape  # batch, time, channels
                factor = 1 + spread * (2 * torch.rand(B, 1, F_, generator=generator) - 1)  # (B, 1, F)
                x = x * factor.to(x.device)
            return F.cross_entropy(net(x, lengths), y)

        scaled_cross_entropy.generators = (generator,)  # type: ignore[attr-defined]  # kept in checkpoints
        return scaled_cross_entropy

    def _net_config(self, n_classes: int) -> ClassifierNetConfig:
        c = self.config
        return ClassifierNetConfig(
            n_classes=n_classes,
            n_features=len(self._prepared["channels"]),
            hidden_size=c.hidden_size,
            num_layers=c.num_layers,
            bidirectional=c.bidirectional,
            pooling=c.pooling,
            dropout=c.dropout,
            conv_channels=tuple(c.conv_channels),
            conv_kernels=tuple(c.conv_kernels),
            lstm_input=c.lstm_input,
            max_length=self._prepared["max_length"] if c.lstm_input == "shuffle" else 0,
            cell=c.cell_options(),
        )
