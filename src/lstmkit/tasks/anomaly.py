"""Anomaly detection in one or several aligned series, scored per time step.

The story of `AnomalyDetector.fit` (training data only):

1. **validate** the frame (`lstmkit.data.validate_series`): columns, numbers, order,
   missing values (an error unless ``fill`` says how to fill them);
2. **prepare**: a `StandardScaler` per value column, fitted on the training rows;
3. **train** a small network with early stopping on the last 20% of the windows:

   * ``method="forecast"``: an LSTM with a linear head forecasts the next step; the
     score of step ``t`` is the mean squared (scaled) error of its one-step-ahead
     forecast, made with the recurrent state carried from the series' start;
   * ``method="autoencoder"``: an `LSTMAutoencoder` reconstructs windows of
     ``window`` steps; the score of step ``t`` is the mean squared error of step
     ``t``'s reconstruction in the window that ends at ``t``. Scores use the past
     only, so a stream gives the same scores as a batch;

4. **score**: with ``scoring="robust"`` (the default) each step's signed error (per
   column) is compared with the errors of the ``scale_window`` steps before it:
   ``|e - median| / (1.4826 MAD)``, the largest over columns
   (`lstmkit.evaluate.anomaly.rolling_robust_scores`). The score is then in units of
   the *recent* error's spread, so a stretch where the series is harder to forecast
   (a noisier regime, a level the network never saw) does not flag every step, and a
   quiet stretch does not hide a jump. With ``scoring="raw"`` the score is the mean
   squared error itself (folders saved before ``scoring`` existed load as ``"raw"``);
5. **threshold**: the ``quantile`` of the training scores, or the ``1 - false_alarm_rate``
   quantile when a target false-alarm rate is given. Later data never moves it.

Steps without a score score NaN and are never flagged: the first step for ``forecast``
and the first ``window - 1`` for ``autoencoder``, and with ``scoring="robust"`` the
next ``window`` steps too (the spread needs that many earlier errors, or ``scale_window``
when that is fewer).

`AnomalyDetector.update` scores one new point at a time: one LSTM step for
``forecast`` (the state is carried), one window for ``autoencoder`` (a rolling buffer),
and the last ``scale_window`` errors kept for ``robust`` scoring.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from numpy.typing import ArrayLike
from torch import Tensor, nn
from torch.utils.data import TensorDataset

from lstmkit.data import SeriesScaler, StandardScaler, validate_series
from lstmkit.errors import CheckpointError, ConfigError, DataError
from lstmkit.evaluate.anomaly import anomaly_metrics, robust_residual_score, rolling_robust_scores
from lstmkit.models.autoencoder import LSTMAutoencoder, LSTMAutoencoderConfig
from lstmkit.models.next_step import NextStepNet
from lstmkit.tasks.base import CellFields, Estimator, JobConfig, placed, trainer_checkpoints
from lstmkit.tasks.saved_checks import check_detector_fitted, check_scaler
from lstmkit.train import (
    Trainer,
    fingerprint,
    load_model_dir,
    save_model_dir,
    seed_everything,
)
from lstmkit.train.callbacks import job_progress
from lstmkit.train.devices import check_device
from lstmkit.utils.checks import open_unit, positive_int
from lstmkit.utils.schema import check_shapes

__all__ = ["AnomalyDetectorConfig", "AnomalyDetector", "NextStepNet"]

METHODS = ("autoencoder", "forecast")
SCORINGS = ("raw", "robust")


@dataclass(frozen=True)
class AnomalyDetectorConfig(CellFields, JobConfig):
    """Everything that defines a detector; saved as JSON with the model.

    Args:
        method: ``"forecast"`` (one-step-ahead error) or ``"autoencoder"`` (reconstruction error).
        window: training window length (steps); for ``autoencoder`` also the scoring window.
        target: the value column(s) (default ``"value"``, or the only column of a 1-D input).
        time_col: the time column, if any.
        scoring: ``"robust"``: each step's error against the median and MAD of the errors
            of the ``scale_window`` steps before it; ``"raw"``: the mean squared error.
        scale_window: the earlier errors in the ``robust`` median and MAD.
        quantile: the threshold is this quantile of the training scores ...
        false_alarm_rate: ... or, when given, the ``1 - false_alarm_rate`` quantile:
            about this share of normal steps will be flagged.
        hidden_size: the LSTM state size.
        max_epochs, patience, lr, batch_size: training.
        fill: ``None`` (missing values are an error), ``"interpolate"`` or ``"ffill"``.
        seed: seeds initialisation and shuffling.
        device: where to train and score: ``"auto"`` (a GPU when torch sees one), ``"cpu"``,
            ``"cuda"`` or ``"cuda:N"``.
        cell, peephole, layer_norm, coupled_gates, proj_size, zoneout, recurrent_dropout:
            the recurrent cell of the network (`lstmkit.tasks.base.CellFields`): ``cell``
            ``"lstm"`` (default), ``"gru"`` or ``"rnn"``, and the LSTM variants.
    """

    method: str = "forecast"
    window: int = 32
    target: str | tuple[str, ...] = "value"
    time_col: str | None = None
    scoring: str = "robust"
    scale_window: int = 128
    quantile: float = 0.995
    false_alarm_rate: float | None = None
    hidden_size: int = 32
    max_epochs: int = 30
    patience: int = 5
    lr: float = 1e-2
    batch_size: int = 64
    fill: str | None = None
    seed: int = 0
    device: str = "auto"

    def __post_init__(self):
        self.cell_options()  # checks cell and its variants
        check_device(self.device)
        if self.method not in METHODS:
            raise ConfigError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.scoring not in SCORINGS:
            raise ConfigError(f"scoring must be one of {SCORINGS}, got {self.scoring!r}")
        for name in ("window", "scale_window", "hidden_size", "max_epochs", "patience", "batch_size"):
            positive_int(name, getattr(self, name))
        if self.window < 2:
            raise ConfigError(f"window must be at least 2, got {self.window}")
        if self.scale_window < 2:
            raise ConfigError(f"scale_window must be at least 2, got {self.scale_window}")
        open_unit("quantile", self.quantile)
        if self.false_alarm_rate is not None and not 0 < self.false_alarm_rate < 1:
            raise ConfigError(f"false_alarm_rate must be in (0, 1) or None, got {self.false_alarm_rate!r}")
        open_unit("lr", self.lr)
        if self.fill not in (None, "interpolate", "ffill"):
            raise ConfigError(f"fill must be None, 'interpolate' or 'ffill', got {self.fill!r}")

    @property
    def targets(self) -> tuple[str, ...]:
        return (self.target,) if isinstance(self.target, str) else tuple(self.target)


class AnomalyDetector(Estimator):
    """LSTM anomaly detector: fit on normal history, score and flag each new step.

    Takes the fields of `AnomalyDetectorConfig` as keyword arguments.

    >>> t = np.arange(400)
    >>> y = np.sin(t / 6.0)
    >>> det = AnomalyDetector(window=16, hidden_size=8, max_epochs=3).fit(y[:300])  # doctest: +SKIP
    >>> y[350] += 5.0
    >>> bool(det.predict(y)["is_anomaly"][350])  # doctest: +SKIP
    True
    """

    task = "anomaly"
    config_class = AnomalyDetectorConfig

    def __init__(self, config: AnomalyDetectorConfig | None = None, **options: Any):
        super().__init__(config, **options)
        self.net: nn.Module | None = None
        self.scaler: SeriesScaler | None = None
        self.threshold: float | None = None
        self.fitted_: dict[str, Any] = {}
        self.reset_stream()

    # ---- validate and prepare ----------------------------------------------------

    def validated(self, data: pd.DataFrame | pd.Series | np.ndarray) -> pd.DataFrame:
        """``data`` checked and cleaned as the detector sees it: the value columns (and the time column).

        Raises:
            DataError: a column is missing or not numeric, a value is missing (without
                ``fill``) or infinite, time goes backwards; the message says where.
        """
        c = self.config
        if isinstance(data, pd.Series):
            data = data.to_frame(name=data.name if data.name is not None else c.targets[0])
        elif isinstance(data, np.ndarray):
            if data.ndim not in (1, 2):
                raise DataError(f"an array must be 1-D or 2-D (time, features), got shape {data.shape}")
            cols = c.targets if data.ndim == 2 and data.shape[1] == len(c.targets) else None
            if cols is None and data.ndim == 2:
                raise DataError(
                    f"a 2-D array must have one column per target {list(c.targets)}, got shape {data.shape}"
                )
            data = pd.DataFrame(data.reshape(len(data), -1), columns=list(c.targets))
        elif not isinstance(data, pd.DataFrame):
            raise DataError(f"expected a DataFrame, Series or NumPy array, got {type(data).__name__}")
        return validate_series(data, list(c.targets), time_col=c.time_col, fill=c.fill).frame

    def _scaled(self, frame: pd.DataFrame) -> np.ndarray:
        scaler = self._fitted_scaler()
        return scaler.transform(frame)[list(self.config.targets)].to_numpy(np.float32, copy=True)  # (T, F)

    # ---- fit ---------------------------------------------------------------------

    def fit(
        self,
        data: pd.DataFrame | pd.Series | np.ndarray,
        *,
        verbose: bool = False,
        progress: bool | None = None,
        init_from: str | os.PathLike | AnomalyDetector | None = None,
        checkpoints: str | os.PathLike | None = None,
    ) -> AnomalyDetector:
        """Fit the scaler, the network and the threshold on ``data`` (the training part only).

        Args:
            data: a DataFrame with the target column(s), a Series, or an array ``(T,)``/``(T, F)``.
            verbose: print the training summary.
            progress: show training progress on standard error: ``None`` only when it
                is a terminal, ``True`` always (a line per epoch when not a terminal),
                ``False`` never.
            init_from: fine-tune a saved detector (its folder, or the fitted object):
                training starts from its weights and keeps its scaler; the threshold
                is set anew from the scores of ``data``.

            checkpoints: a folder for training checkpoints, written after every
                epoch; a fit run again with the same data, configuration and folder
                continues from them and ends with the same model as an uninterrupted
                one (`lstmkit.tasks.base.trainer_checkpoints`).
        Returns:
            ``self``.
        """
        c = self.config
        source = self._warm_start(init_from)
        frame = self.validated(data)
        shortest = 2 * c.window + 2
        if len(frame) < shortest:
            raise DataError(
                f"the training series has {len(frame)} rows; window={c.window} needs at least "
                f"{shortest} (lower the window or give more data)"
            )
        self.scaler = source.scaler if source is not None else StandardScaler().fit(frame, list(c.targets))
        x = torch.from_numpy(self._scaled(frame))  # (T, F)
        T, F = x.shape  # time, features
        seed_everything(c.seed)
        if c.method == "forecast":
            self.net = NextStepNet(F, c.hidden_size, cell=c.cell_options())
            windows = x.unfold(0, c.window + 1, 1).permute(0, 2, 1)  # (N, window + 1, F)
            dataset = (windows[:, :-1], windows[:, 1:])
            loss = _next_step_loss
        else:
            self.net = LSTMAutoencoder(
                LSTMAutoencoderConfig(n_features=F, hidden_size=c.hidden_size, cell=c.cell_options())
            )
            windows = x.unfold(0, c.window, 1).permute(0, 2, 1)  # (N, window, F)
            dataset = (windows, windows)
            loss = _reconstruction_loss
        if source is not None:
            self._copy_weights(self.net, source.net)
        n_val = max(1, len(windows) // 5)
        # the last windows validate: they come after every training window in time
        train_set = TensorDataset(*(t[:-n_val] for t in dataset))
        val_set = TensorDataset(*(t[-n_val:] for t in dataset))
        saving, resuming = trainer_checkpoints(checkpoints)
        trainer = Trainer(
            self.net,
            compute_loss=loss,
            optimizer="adam",
            lr=c.lr,
            max_epochs=c.max_epochs,
            patience=c.patience,
            seed=c.seed,
            batch_size=c.batch_size,
            progress=job_progress(progress),
            distributed=False,
            device=self.device_,
            **saving,
        )
        history = trainer.fit(train_set, val_set, **resuming)
        self.net.eval()
        scores = self._batch_scores(x)
        level = 1 - c.false_alarm_rate if c.false_alarm_rate is not None else c.quantile
        self.threshold = float(np.nanquantile(scores, level))
        self.fitted_ = {
            "n_features": F,
            "threshold": self.threshold,
            "train_rows": T,
            "fingerprint": fingerprint(frame),
            "history": history,
        }
        if verbose:
            best = min(h["val_loss"] for h in history)
            print(
                f"  {c.method}: {len(history)} epochs, best validation loss {best:.4f}, threshold {self.threshold:.4f}"
            )
        self.reset_stream()
        return self

    # ---- score and predict -------------------------------------------------------

    def _require_fitted(self) -> nn.Module:
        if self.net is None:
            raise ConfigError("this AnomalyDetector is not fitted yet: call fit(...) or AnomalyDetector.load(...)")
        return self.net

    def _fitted_scaler(self) -> SeriesScaler:
        assert self.scaler is not None  # fit sets it before it scales anything, load with the network
        return self.scaler

    @torch.no_grad()
    def _batch_errors(self, x: Tensor) -> np.ndarray:
        """Signed errors ``(T, F)``: forecast (or reconstruction) minus value; NaN rows while warming up."""
        net = self._require_fitted()
        x = x.to(next(net.parameters()).device)
        T, F = x.shape  # time, features
        errors = np.full((T, F), np.nan, dtype=np.float32)
        if self.config.method == "forecast":
            pred, _ = net(x[None])  # (1, T, F): pred[t] forecasts x[t + 1]
            errors[1:] = (pred[0, :-1] - x[1:]).cpu().numpy()
        else:
            W = self.config.window
            if T >= W:
                windows = x.unfold(0, W, 1).permute(0, 2, 1)  # (T - W + 1, W, F)
                recon = torch.cat([net(w) for w in windows.split(1024)])
                errors[W - 1 :] = (recon[:, -1] - windows[:, -1]).cpu().numpy()
        return errors

    def _batch_scores(self, x: Tensor) -> np.ndarray:
        errors = self._batch_errors(x)  # (T, F)
        c = self.config
        if c.scoring == "raw":
            return (errors.astype(np.float64) ** 2).mean(axis=1)
        return rolling_robust_scores(errors, c.scale_window, min_periods=self._min_errors())

    def _min_errors(self) -> int:
        """Earlier errors a robust score needs: ``window`` (or all ``scale_window``, when fewer)."""
        return min(self.config.window, self.config.scale_window)

    def score_samples(self, data: pd.DataFrame | pd.Series | np.ndarray) -> np.ndarray:
        """Anomaly score per row of ``data`` (higher is more anomalous; NaN while warming up).

        ``data`` is scored from its own first row: give it the history too when the
        first rows matter (the training rows, say, followed by the new ones).

        Returns:
            ``(T,)`` float array.
        """
        self._require_fitted()
        return self._batch_scores(torch.from_numpy(self._scaled(self.validated(data))))

    def predict(self, data: pd.DataFrame | pd.Series | np.ndarray) -> pd.DataFrame:
        """One row per row of ``data``: the time column (if any), ``score`` and ``is_anomaly``."""
        self._require_fitted()
        frame = self.validated(data)
        scores = self._batch_scores(torch.from_numpy(self._scaled(frame)))
        out = pd.DataFrame({"score": scores, "is_anomaly": np.nan_to_num(scores, nan=-np.inf) > self.threshold})
        if self.config.time_col:
            out.insert(0, self.config.time_col, frame[self.config.time_col].to_numpy())
        return out

    def evaluate(self, data: pd.DataFrame | pd.Series | np.ndarray, labels: ArrayLike) -> dict[str, float]:
        """Point-wise and event-wise precision, recall and F1 of the flags against 0/1 ``labels``.

        See `lstmkit.evaluate.anomaly` for the definitions.
        """
        flags = self.predict(data)["is_anomaly"].to_numpy()
        if labels is None:
            raise DataError("evaluate needs labels: one 0/1 value per row of data (1 for a known anomaly)")
        labels = np.asarray(labels)
        if len(labels) != len(flags):
            raise DataError(f"labels must have one value per row: {len(flags)} rows, {len(labels)} labels")
        try:
            return anomaly_metrics(labels, flags)
        except ValueError as e:
            raise DataError(f"labels: {e}") from None

    def score(self, data: pd.DataFrame | pd.Series | np.ndarray, y: ArrayLike) -> float:
        """Event-wise F1 of the flags against 0/1 labels ``y`` (greater is better; see `evaluate`).

        The per-row anomaly scores are `score_samples`.
        """
        return float(self.evaluate(data, y)["event_f1"])

    # ---- streaming ---------------------------------------------------------------

    def reset_stream(self) -> None:
        """Forget the streamed past: the next `update` starts a new series."""
        self._state = None
        self._forecast: Tensor | None = None
        self._buffer: deque = deque(maxlen=self.config.window)
        self._errors: deque = deque(maxlen=self.config.scale_window)  # the last errors, for robust scoring
        self._affine: tuple[Tensor, Tensor] | None = None  # (a, b): scaled = a * value + b, made on the first update

    def _stream_affine(self) -> tuple[Tensor, Tensor]:
        # the scaler is affine per column: read it off once, so a streamed step costs one multiply-add
        if self._affine is None:
            cols, scaler = list(self.config.targets), self._fitted_scaler()
            b = scaler.transform_array(np.zeros((1, len(cols))), cols)
            a = scaler.transform_array(np.ones((1, len(cols))), cols) - b
            self._affine = (torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32))
        return self._affine

    @torch.no_grad()
    def update(self, value: float | Sequence[float]) -> float:
        """Score one new time step, carrying the past from the previous calls.

        Gives the same scores as `score` on the whole series (see the module docstring).

        Args:
            value: a number, or one number per target column.

        Returns:
            The step's score (NaN while warming up); compare with ``self.threshold``.
        """
        net = self._require_fitted()
        c = self.config
        v = np.asarray(value, dtype=float).reshape(-1)
        if len(v) != len(c.targets) or not np.isfinite(v).all():
            raise DataError(f"update expects {len(c.targets)} finite value(s) for {list(c.targets)}, got {value!r}")
        a, b = self._stream_affine()
        x = (a * torch.tensor(v[None], dtype=torch.float32) + b).to(next(net.parameters()).device)  # (1, F)
        error = None  # (F,) forecast or reconstruction minus value
        if c.method == "forecast":
            if self._forecast is not None:
                error = (self._forecast - x)[0].cpu().numpy()
            pred, self._state = net(x[None], self._state)  # one LSTM step
            self._forecast = pred[0]
        else:
            self._buffer.append(x)
            if len(self._buffer) == c.window:
                window = torch.cat(list(self._buffer))[None]  # (1, W, F)
                error = (net(window)[0, -1] - window[0, -1]).cpu().numpy()
        if error is None:
            return float("nan")
        if c.scoring == "raw":
            return float((error.astype(np.float64) ** 2).mean())
        past = np.array(self._errors, dtype=np.float64)  # (n, F), before this step's error joins
        self._errors.append(error.astype(np.float64))
        return (
            robust_residual_score(past, error.astype(np.float64)) if len(past) >= self._min_errors() else float("nan")
        )

    # ---- save and load -----------------------------------------------------------

    def save(self, path: str | os.PathLike, metrics: dict | None = None) -> None:
        """Write the weights (safetensors) and configuration, scaler and threshold (JSON).

        Args:
            path: the directory (created or replaced).
            metrics: numbers to keep in ``metadata.json`` (F1 on labelled data, say).
        """
        net = self._require_fitted()
        fitted = {k: v for k, v in self.fitted_.items() if k != "history"}
        save_model_dir(
            path,
            net,
            {"detector": self.config.to_dict(), "scaler": self._fitted_scaler().to_dict(), "fitted": fitted},
            metadata={
                "task": self.task,
                "history": self.fitted_.get("history", []),
                "data_fingerprint": self.fitted_.get("fingerprint"),
                "metrics": metrics or {},
            },
        )

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | None = None) -> AnomalyDetector:
        """Load a detector written by `save`.

        Args:
            path: the model directory.
            device: where to put the network; ``None`` keeps the saved ``device`` when
                this machine has it, else ``"auto"``.
        """
        state, config, _ = load_model_dir(path)
        if "detector" not in config:
            raise CheckpointError(f"{path} holds no anomaly detector (its config has no 'detector' entry)")
        saved = dict(config["detector"]) if isinstance(config["detector"], dict) else config["detector"]
        if isinstance(saved, dict):
            # folders saved before `scoring` existed scored the raw squared error: keep scoring them so
            saved.setdefault("scoring", "raw")
        det = cls(placed(AnomalyDetectorConfig.from_dict(saved, f"{path}/config.json: detector"), device))
        det.fitted_ = check_detector_fitted(
            config.get("fitted"), len(det.config.targets), f"{path}/config.json: fitted"
        )
        det.scaler = check_scaler(config.get("scaler"), list(det.config.targets), f"{path}/config.json: scaler")
        det.threshold = float(det.fitted_["threshold"])
        F, c = det.fitted_["n_features"], det.config

        def build() -> torch.nn.Module:
            if c.method == "forecast":
                return NextStepNet(F, c.hidden_size, cell=c.cell_options())
            return LSTMAutoencoder(
                LSTMAutoencoderConfig(n_features=F, hidden_size=c.hidden_size, cell=c.cell_options())
            )

        check_shapes(build, state, str(path))
        det.net = build()
        det.net.load_state_dict(state)
        det.net.to(det.device_).eval()
        return det


def _next_step_loss(model: nn.Module, batch) -> Tensor:
    x, y = batch
    pred, _ = model(x)
    return ((pred - y) ** 2).mean()


def _reconstruction_loss(model: nn.Module, batch) -> Tensor:
    x, _ = batch
    return ((model(x) - x) ** 2).mean()
