"""Forecasting: from a table of one or many series to a forecast with intervals.

The story of `Forecaster.fit`:

1. **validate** the frame (`lstmkit.data.validate_series`): columns, numbers, time order;
2. **prepare**: optional log transform (``transform="auto"`` takes logs of strictly
   positive targets), optional calendar features, per-series scaling fitted on the
   data given to ``fit`` only;
3. **window** every series into ``lookback`` inputs and ``horizon`` targets; inside
   each window the targets are written relative to a simple forecast made from the
   window itself: the last value (``base="last"``), the last value plus the window's
   mean step (``base="drift"``, for trends) or, for seasonal data, the seasonal naive
   forecast (``base="seasonal"``). The network learns what the baseline
   misses, so an untrained network already forecasts like the baseline and the level
   of a trending series never has to be extrapolated by tanh units;
4. **train** an ensemble of `ForecastNet` s (different seeds) with the pinball loss
   on the quantiles, early-stopped on the chronologically last windows of each series;
5. **predict** the median of the members for every quantile; the point forecast is the
   quantile closest to 0.5.

`Forecaster.backtest` refits on rolling origins and scores the model next to naive,
seasonal naive, drift and the statistical baselines on the same windows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import TensorDataset

from lstmkit.data import (
    StandardScaler,
    add_calendar_features,
    future_timestamps,
    make_prediction_inputs,
    make_windows,
    scaler_from_dict,
    validate_series,
)
from lstmkit.data.frequency import infer_seasonal_period
from lstmkit.data.short_series import drop_short_series, typical_length
from lstmkit.errors import CheckpointError, ConfigError, DataError
from lstmkit.evaluate import BacktestResult, Forecast, backtest, baseline_methods
from lstmkit.models import ForecastNet, ForecastNetConfig, quantile_loss
from lstmkit.nn import LSTM
from lstmkit.nn.fused import native
from lstmkit.tasks.base import (
    CellFields,
    Estimator,
    JobConfig,
    ensemble_members,
    ensemble_state,
    placed,
    trainer_checkpoints,
)
from lstmkit.tasks.saved_checks import check_forecaster
from lstmkit.train import (
    RotatingBatches,
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

__all__ = ["ForecasterConfig", "Forecaster"]

TRANSFORMS = ("auto", "log", "none")
LONG_SERIES = 1000  # windows: from here on a series gets a longer lookback and a smaller ensemble
BASES = ("auto", "last", "seasonal", "drift")


@dataclass(frozen=True)
class ForecasterConfig(CellFields, JobConfig):
    """Everything that defines a forecaster; saved as JSON with the model.

    Args:
        horizon: steps to forecast.
        lookback: input steps per window; ``None`` picks ``max(2 * horizon, 3 * m)``
            (``m`` the seasonal period), twice that when every series gives at least
            1,000 windows (a long history supports a longer memory; on short series a
            longer lookback loses accuracy), shortened for short series.
        target: the column(s) to forecast (default ``"value"``, or the only numeric
            column of a one-column frame).
        time_col, id_col: the time and series-id columns, if any.
        past_covariates: columns observed up to the forecast origin only.
        future_covariates: columns known ahead (their future values must be given).
        calendar: add sin/cos calendar features of the time column as known-ahead inputs.
        seasonal_period: ``m``; ``None`` infers it from the time column (12 monthly, ...).
        quantiles: predicted quantiles; (0.1, 0.5, 0.9) gives an 80% interval.
        transform: ``"auto"`` (log when every target value is > 0), ``"log"``, ``"none"``.
        base: the simple forecast the network corrects: ``"last"`` value, ``"drift"``
            (the last value plus the window's mean step per step ahead), ``"seasonal"``
            naive, or ``"auto"`` (the one with the smallest error on the training windows).
        strategy: ``"direct"`` (all steps at once) or ``"recursive"`` (one step, fed back).
        hidden_size, num_layers, dropout: the LSTM.
        ensemble: networks trained with different seeds; ``None`` is 10 below 1,000
            training windows (cheap there, and the median of many small networks is
            much steadier on short series) and 3 above.
        max_epochs, patience, lr, batch_size: training; ``batch_size=None`` aims at
            about 16 batches per epoch (32 to 256).
        max_windows: training windows per epoch (and a quarter as many validation
            windows, evenly strided over the last windows of each series): a series with
            more windows than that rotates through all of them, a different seeded slice
            each epoch (`lstmkit.train.RotatingBatches`), so an epoch costs the same on
            any length of history and every window is used across epochs.
        fill: ``None`` (missing values are an error), ``"interpolate"`` or ``"ffill"``.
        seed: the first member's seed; member ``k`` uses ``seed + k``.
        device: where to train and forecast: ``"auto"`` (a GPU when torch sees one),
            ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        cell, peephole, layer_norm, coupled_gates, proj_size, zoneout, recurrent_dropout:
            the recurrent cell of the network (`lstmkit.tasks.base.CellFields`): ``cell``
            ``"lstm"`` (default), ``"gru"`` or ``"rnn"``, and the LSTM variants.
    """

    horizon: int = 12
    lookback: int | None = None
    target: str | tuple[str, ...] = "value"
    time_col: str | None = None
    id_col: str | None = None
    past_covariates: tuple[str, ...] = ()
    future_covariates: tuple[str, ...] = ()
    calendar: bool = False
    seasonal_period: int | None = None
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    transform: str = "auto"
    base: str = "auto"
    strategy: str = "direct"
    hidden_size: int = 64
    num_layers: int = 1
    dropout: float = 0.0
    ensemble: int | None = None
    max_epochs: int = 100
    patience: int = 10
    lr: float = 3e-3
    batch_size: int | None = None
    max_windows: int = 768
    fill: str | None = None
    seed: int = 0
    device: str = "auto"

    def __post_init__(self):
        self.cell_options()  # checks cell and its variants
        check_device(self.device)
        for name in ("horizon", "max_epochs", "max_windows", "hidden_size", "num_layers"):
            positive_int(name, getattr(self, name))
        ensemble_size(self.ensemble, none_ok=True)
        for name in ("lookback", "seasonal_period", "batch_size"):
            positive_int(name, getattr(self, name), none_ok=True)
        if self.transform not in TRANSFORMS:
            raise ConfigError(f"transform must be one of {TRANSFORMS}, got {self.transform!r}")
        if self.base not in BASES:
            raise ConfigError(f"base must be one of {BASES}, got {self.base!r}")
        if self.strategy == "recursive" and self.base in ("seasonal", "drift"):
            raise ConfigError(f"base={self.base!r} needs strategy='direct': the recursive strategy feeds values back")
        open_unit("lr", self.lr)
        # the network checks the rest (quantiles, strategy, covariates)
        ForecastNetConfig(
            quantiles=tuple(self.quantiles),
            strategy=self.strategy,
            dropout=self.dropout,
            n_past=len(self.past_covariates),
        )

    @property
    def targets(self) -> tuple[str, ...]:
        return (self.target,) if isinstance(self.target, str) else tuple(self.target)


@dataclass
class _Fitted:
    """What `fit` learned from the data, besides the weights (all JSON-able)."""

    lookback: int
    m: int
    log: bool
    base: str
    freq: str | None
    step: float | None
    calendar_columns: list[str]
    scaler: dict
    net: dict
    members: int
    tail: dict  # the last `lookback` rows of each series, to forecast from after `load`
    fingerprint: str
    history: list
    batch_size: int | None = None  # saved from 0.1.0 on; older folders lack it

    def spacing(self) -> str | float:
        """The step that extends the time column: the frequency alias (datetimes), else the numeric step."""
        spacing = self.freq or self.step
        if spacing is None:
            raise ValueError("the training series have no regular time step to extend the forecast by")
        return spacing


class Forecaster(Estimator):
    """Multi-horizon LSTM forecaster with quantiles, baselines and backtests.

    Takes the fields of `ForecasterConfig` as keyword arguments (the estimator contract
    of `lstmkit.tasks.base`: ``get_params``, ``set_params``, ``clone``, ``score``).

    >>> from lstmkit.data import datasets
    >>> df = datasets.load("air_passengers")
    >>> f = Forecaster(horizon=6, target="passengers", time_col="month", ensemble=1, max_epochs=3)
    >>> f.fit(df).predict().columns.tolist()  # doctest: +SKIP
    ['step', 'month', 'forecast', 'q0.1', 'q0.5', 'q0.9']
    """

    task = "forecaster"
    config_class = ForecasterConfig
    _estimator_type = "regressor"

    def __init__(self, config: ForecasterConfig | None = None, **options: Any):
        super().__init__(config, **options)
        self._fitted: _Fitted | None = None
        self._nets: list[ForecastNet] = []

    # ---- fit ---------------------------------------------------------------------

    def fit(
        self,
        data: pd.DataFrame | pd.Series | np.ndarray,
        *,
        verbose: bool = False,
        progress: bool | None = None,
        init_from: str | os.PathLike | Forecaster | None = None,
        checkpoints: str | os.PathLike | None = None,
    ) -> Forecaster:
        """Fit on every row of ``data`` (the training part: nothing else is seen).

        Args:
            data: a DataFrame with the configured columns, a Series (its index is
                taken as time when it is a DatetimeIndex) or a 1-D array.
            verbose: print one line per ensemble member.
            progress: show training progress on standard error: ``None`` only when it
                is a terminal, ``True`` always (a line per epoch when not a terminal),
                ``False`` never.
            init_from: fine-tune a saved forecaster (its folder, or the fitted object):
                every member starts from its weights, and its scaling, log transform,
                lookback, seasonal period, base and ensemble size are kept (every
                series in ``data`` must have been in its training data).
            checkpoints: a folder for one training checkpoint per member, written
                after every epoch; a fit run again with the same data, configuration
                and folder continues from them and ends with the same model as an
                uninterrupted one (`lstmkit.tasks.base.trainer_checkpoints`).

        Returns:
            ``self``.
        """
        c = self.config
        source = self._warm_start(init_from)
        saved = source._require_fitted() if source is not None else None
        vs = self._validate(data)
        m = saved.m if saved else c.seasonal_period or infer_seasonal_period(vs.freq)
        # a panel's lookback suits its typical series; shorter ones are left out, with a warning
        lookback = saved.lookback if saved else self._lookback(m, typical_length(vs.lengths))
        if c.id_col:
            vs = drop_short_series(vs, lookback + c.horizon, lookback)
        frame, calendar_cols = self._with_calendar(vs.frame, vs.freq, saved.calendar_columns if saved else None)
        log = saved.log if saved else self._use_log(frame)
        frame = self._apply_log(frame, log)
        value_cols = [*c.targets, *c.past_covariates, *c.future_covariates, *calendar_cols]
        if saved:
            scaler = scaler_from_dict(saved.scaler)
            _check_known_series(scaler, frame, c.id_col)
        else:
            scaler = StandardScaler().fit(frame, value_cols, c.id_col)
        scaled = scaler.transform(frame)
        roles = dict(
            target=list(c.targets),
            id_col=c.id_col,
            past_covariates=list(c.past_covariates),
            future_covariates=[*c.future_covariates, *calendar_cols],
        )
        windows = make_windows(scaled, lookback=lookback, horizon=c.horizon, time_col=c.time_col, **roles)
        base = saved.base if saved else self._choose_base(windows, m)
        past, future, target = self._relative(windows.past, windows.future, windows.target, base, m)
        train_idx, val_idx = self._split(windows.series, windows.position)
        # the ensemble size depends on how much data there is, not on how much of it one epoch uses
        members = saved.members if saved else c.ensemble or (10 if len(train_idx) < LONG_SERIES else 3)
        val_idx = _strided(val_idx, max(1, c.max_windows // 4))

        net_config = ForecastNetConfig(
            n_targets=len(c.targets),
            n_past=len(c.past_covariates),
            n_future=len(roles["future_covariates"]),
            horizon=c.horizon,
            quantiles=tuple(c.quantiles),
            hidden_size=c.hidden_size,
            num_layers=c.num_layers,
            dropout=c.dropout,
            strategy=c.strategy,
            cell=c.cell_options(),
        )
        per_epoch = min(len(train_idx), c.max_windows)
        batch_size = c.batch_size or int(np.clip(per_epoch // 16, 32, 256))
        tensors = [torch.from_numpy(a) for a in (past, future, target)]
        train_tensors = [t[train_idx] for t in tensors]
        val_set = TensorDataset(*(t[val_idx] for t in tensors))
        nets, histories = [], []
        device = self.device_
        for k in range(members):
            seed_everything(c.seed + k)
            net = ForecastNet(net_config)
            if source is not None:
                self._copy_weights(net, source._nets[k])
            saving, resuming = trainer_checkpoints(checkpoints, k)
            trainer = Trainer(
                net,
                compute_loss=_forecast_loss,
                optimizer="adam",
                lr=c.lr,
                max_epochs=c.max_epochs,
                patience=c.patience,
                seed=c.seed + k,
                batch_size=batch_size,
                progress=job_progress(progress, k, members),
                distributed=False,
                device=device,
                **saving,
            )
            # each epoch a different slice of all the training windows, at a bounded cost
            train_set = RotatingBatches(train_tensors, batch_size, per_epoch, seed=c.seed + k)
            with _training_backend(net, trainer.device):
                history = trainer.fit(train_set, val_set, **resuming)
            net.eval()
            nets.append(net)
            histories.append(history)
            if verbose:
                best = min(h["val_loss"] for h in history)
                print(f"  member {k + 1}/{members}: {len(history)} epochs, best validation loss {best:.4f}")

        self._nets = nets
        self._fitted = _Fitted(
            lookback=lookback,
            m=m,
            log=log,
            base=base,
            freq=vs.freq,
            step=vs.step,
            calendar_columns=calendar_cols,
            scaler=scaler.to_dict(),
            net=net_config.to_dict(),
            members=members,
            tail=_tail(vs.frame, c.id_col, lookback),
            fingerprint=fingerprint(vs.frame),
            history=[[{k: v for k, v in h.items()} for h in hist] for hist in histories],
            batch_size=batch_size,
        )
        return self

    # ---- predict -----------------------------------------------------------------

    def predict(
        self, data: pd.DataFrame | pd.Series | np.ndarray | None = None, *, future: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the end of each series.

        Args:
            data: newer history to forecast from, without refitting (the fitted
                transform and scaling are reused); ``None`` forecasts after the data
                given to ``fit``.
            future: the future covariates of the ``horizon`` steps to forecast, one
                row per step (and series), when the model has ``future_covariates``.

        Returns:
            One row per (series, step): ``step`` (1..H), the time column when there
            is one, the id column when there is one, ``target`` when there are several
            targets, ``forecast`` and one ``q{level}`` column per quantile.
        """
        history = self._history(data)
        quantiles = self._forecast(history, future)  # (S, H, n_targets, Q)
        return self._to_frame(history, quantiles)

    def network_inputs(
        self, data: pd.DataFrame | pd.Series | np.ndarray | None = None, *, future: pd.DataFrame | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The arrays the fitted networks read to forecast after ``data``, as `predict` builds them.

        The last ``lookback`` rows of each series, transformed and scaled as in `fit`,
        with the targets made relative to the window's last value (what each network
        in ``_nets`` takes as ``past``), and the future covariates of the forecast steps.
        Useful to look inside a network, e.g. ``record_lstm(net.encoder, torch.from_numpy(past))``.

        Args:
            data, future: as for `predict`.

        Returns:
            ``(past, future)`` float32 arrays, one row per series (in the order of `predict`).

        Shape:
            past: ``(S, lookback, n_inputs)``; future: ``(S, horizon, n_future)`` (``n_future`` may be 0).
        """
        _, _, past, fut = self._network_inputs(self._history(data), future)
        return past, fut

    def _history(self, data) -> pd.DataFrame:
        """The history a forecast starts after: ``data`` validated, or the fitted data's tail."""
        fitted = self._require_fitted()
        c = self.config
        if data is None:
            return _untail(fitted.tail, c.time_col)
        history = self._validate(data).frame
        short = {k: n for k, n in _lengths(history, c.id_col).items() if n < fitted.lookback}
        if short:
            raise DataError(
                f"to forecast, every series needs at least lookback={fitted.lookback} rows; "
                f"too short: {_show_ids(short)}"
            )
        return history

    def _forecast(self, history: pd.DataFrame, future: pd.DataFrame | None) -> np.ndarray:
        fitted = self._require_fitted()
        c = self.config
        inputs, scaler, past, fut = self._network_inputs(history, future)
        with torch.no_grad():
            outputs = []
            for net in self._nets:
                device = next(net.parameters()).device
                outputs.append(net(torch.from_numpy(past).to(device), torch.from_numpy(fut).to(device)).cpu().numpy())
        pred = np.median(np.stack(outputs), axis=0)  # (S, H, n_targets, Q)
        pred = np.sort(pred, axis=-1)  # quantiles never cross
        pred = pred + self._offset(inputs.past, fitted.base, fitted.m)[..., None]
        series = inputs.series if c.id_col else None
        pred = scaler.inverse_transform_array(pred, list(c.targets), series=series, axis=2)
        return np.exp(pred) if fitted.log else pred

    def _network_inputs(self, history: pd.DataFrame, future: pd.DataFrame | None):
        """The prediction windows, the scaler, and the networks' ``past`` and ``future`` arrays."""
        fitted = self._require_fitted()
        c = self.config
        frame, _ = self._with_calendar(history, fitted.freq, fitted.calendar_columns)
        frame = self._apply_log(frame, fitted.log)
        scaler = scaler_from_dict(fitted.scaler)
        _check_known_series(scaler, frame, c.id_col)
        scaled = scaler.transform(frame)
        future_cols = [*c.future_covariates, *fitted.calendar_columns]
        future_frame = self._future_frame(history, future, future_cols)
        if future_frame is not None:
            future_frame = scaler.transform(future_frame)
        inputs = make_prediction_inputs(
            scaled,
            list(c.targets),
            fitted.lookback,
            c.horizon,
            future=future_frame,
            id_col=c.id_col,
            past_covariates=list(c.past_covariates),
            future_covariates=future_cols,
        )
        zeros = np.zeros((len(inputs.past), c.horizon, len(c.targets)), dtype=np.float32)
        past, fut, _ = self._relative(inputs.past, inputs.future, zeros, fitted.base, fitted.m)
        return inputs, scaler, past, fut

    def _to_frame(self, history: pd.DataFrame, quantiles: np.ndarray) -> pd.DataFrame:
        fitted = self._require_fitted()
        c = self.config
        point = ForecastNetConfig(quantiles=tuple(c.quantiles)).point_index
        rows = []
        for s, (key, part) in enumerate(_groups(history, c.id_col)):
            times = None
            if c.time_col:
                times = future_timestamps(part[c.time_col].iloc[-1], fitted.spacing(), c.horizon)
            for j, name in enumerate(c.targets):
                block = {"step": np.arange(1, c.horizon + 1)}
                if times is not None:
                    block[c.time_col] = times
                if c.id_col:
                    block[c.id_col] = key
                if len(c.targets) > 1:
                    block["target"] = name
                block["forecast"] = quantiles[s, :, j, point]
                for qi, q in enumerate(c.quantiles):
                    block[f"q{q:g}"] = quantiles[s, :, j, qi]
                rows.append(pd.DataFrame(block))
        return pd.concat(rows, ignore_index=True)

    # ---- backtest ----------------------------------------------------------------

    def backtest(
        self,
        data: pd.DataFrame | pd.Series | np.ndarray,
        windows: int = 3,
        *,
        statistical: bool = True,
        step: int | None = None,
        verbose: bool = False,
        checkpoints: str | os.PathLike | None = None,
    ) -> BacktestResult:
        """Rolling-origin evaluation: for each of ``windows`` origins at the end of the
        data, fit a fresh forecaster on everything before it and forecast ``horizon``
        steps; the baselines are scored on the same windows.

        Args:
            data: the full history.
            windows: number of origins ``K``.
            statistical: also run ETS and Theta (slower than the simple baselines).
            step: steps between origins (default ``horizon``).
            verbose: print progress.
            checkpoints: a folder for the training checkpoints of every window's fit
                (``window-<k>/``, see `fit`): a backtest run again with the same folder
                continues where it stopped.

        Returns:
            A `lstmkit.evaluate.BacktestResult`; ``.summary`` has one row per method.
        """
        c = self.config
        vs = self._validate(data)
        m = c.seasonal_period or infer_seasonal_period(vs.freq)
        full = vs.frame
        counter = iter(range(1, windows + 1))

        def lstm(train, horizon):
            k = next(counter)
            if verbose:
                print(f"backtest window {k}/{windows}: fitting on {len(train)} rows")
            folder = Path(checkpoints) / f"window-{k}" if checkpoints is not None else None
            model = Forecaster(self.config).fit(train, checkpoints=folder)
            future = None
            if c.future_covariates:
                future = _rows_after(full, train, c.id_col, c.time_col, horizon)
            q = model._forecast(train, future)[:, :, 0]  # (S, H, Q), first target
            point = ForecastNetConfig(quantiles=tuple(c.quantiles)).point_index
            squeeze = (lambda a: a[0]) if c.id_col is None else (lambda a: a)
            return Forecast(
                mean=squeeze(q[..., point]),
                quantiles={float(level): squeeze(q[..., i]) for i, level in enumerate(c.quantiles)},
            )

        return backtest(
            full,
            {"lstmkit": lstm},
            horizon=c.horizon,
            n_windows=windows,
            m=m,
            target=c.targets[0],
            id_col=c.id_col,
            time_col=c.time_col,
            step=step,
            baselines=baseline_methods(m, statistical=statistical),
        )

    # ---- save / load -------------------------------------------------------------

    def save(self, path: str | os.PathLike, metrics: dict | None = None) -> None:
        """Save as a directory: ``weights.safetensors`` (every ensemble member) and JSON.

        Args:
            path: the directory (created or replaced).
            metrics: numbers to keep in ``metadata.json`` (a backtest's scores, say).
        """
        fitted = self._require_fitted()
        state = ensemble_state(self._nets)
        metadata = {
            "task": self.task,
            "fitted": dataclasses.asdict(fitted),
            "data_fingerprint": fitted.fingerprint,
            "metrics": metrics or {},
        }
        save_model_dir(path, state, {"forecaster": self.config.to_dict()}, metadata)

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | None = None) -> Forecaster:
        """Load a forecaster saved by `save`; nothing is unpickled.

        Args:
            path: the model directory.
            device: where to put the networks; ``None`` keeps the saved ``device`` when
                this machine has it, else ``"auto"``.
        """
        state, config, metadata = load_model_dir(path)
        if metadata.get("task") != "forecaster" or "forecaster" not in config:
            raise CheckpointError(f"{path}: not a saved Forecaster (task {metadata.get('task')!r})")
        try:
            model = cls(
                placed(ForecasterConfig.from_dict(config["forecaster"], f"{path}/config.json: forecaster"), device)
            )
            fitted = from_saved(_Fitted, metadata["fitted"], f"{path}/metadata.json: fitted")
            net_config = from_saved(ForecastNetConfig, fitted.net, f"{path}/metadata.json: fitted.net")
            check_forecaster(model.config, fitted, net_config, str(path))
            nets = ensemble_members(state, fitted.members, lambda: ForecastNet(net_config), model.device_, str(path))
        except (KeyError, TypeError, RuntimeError, ConfigError) as e:
            raise CheckpointError(
                f"{path}: the saved forecaster is incomplete or inconsistent: {first_line(e)}"
            ) from None
        model._fitted, model._nets = fitted, nets
        return model

    # ---- the estimator contract ------------------------------------------------------

    def score(
        self, data: pd.DataFrame | pd.Series | np.ndarray, y: Any = None, *, future: pd.DataFrame | None = None
    ) -> float:
        """Minus the MASE of forecasting the last ``horizon`` steps of ``data`` from the rest (no refit).

        Greater is better, as scikit-learn's model selection expects: ``0`` is a perfect
        forecast, ``-1`` as good as the seasonal naive forecast in the history (``m``
        the fitted seasonal period; ``m = 1`` is the naive forecast).

        A series in ``data`` that starts after the end of the data given to ``fit`` (the
        test fold of scikit-learn's ``TimeSeriesSplit``, say) is read as the continuation
        of the fitted history, so it needs only ``horizon`` rows.

        Args:
            data: history followed by the ``horizon`` steps to score; every series needs
                at least ``lookback + horizon`` rows, counting the fitted history it continues.
            y: ignored (the targets are in ``data``); there for scikit-learn.
            future: the future covariates of the scored steps, when the model has them
                (by default they are read from ``data``'s own rows).
        """
        fitted = self._require_fitted()
        c = self.config
        parts = self._continued(self._validate(data).frame)
        short = {k: len(p) for k, p in parts if len(p) < fitted.lookback + c.horizon}
        if short:
            raise DataError(
                f"score needs lookback + horizon = {fitted.lookback + c.horizon} rows per series "
                f"(the last {c.horizon} are scored); too short: {_show_ids(short)}"
            )
        history = pd.concat([p.iloc[: -c.horizon] for _, p in parts], ignore_index=True)
        actual = np.stack([p[list(c.targets)].to_numpy(np.float64)[-c.horizon :] for _, p in parts])  # (S, H, T)
        if c.future_covariates and future is None:
            future = pd.concat([p.iloc[-c.horizon :] for _, p in parts], ignore_index=True)
        point = ForecastNetConfig(quantiles=tuple(c.quantiles)).point_index
        forecast = self._forecast(history, future)[..., point]  # (S, H, n_targets)
        m = fitted.m if fitted.m > 1 else 1
        scales = []
        for _, p in _groups(history, c.id_col):
            values = p[list(c.targets)].to_numpy(np.float64)
            lag = m if len(values) > m else 1
            scales.append(np.abs(values[lag:] - values[:-lag]).mean(axis=0))
        scale = np.maximum(np.stack(scales)[:, None, :], 1e-12)  # (S, 1, n_targets)
        return -float((np.abs(forecast - actual) / scale).mean())

    def _continued(self, frame: pd.DataFrame) -> list[tuple[Any, pd.DataFrame]]:
        """Each series of ``frame``, after the fitted history's tail when it starts after that tail ends."""
        c = self.config
        parts = _groups(frame, c.id_col)
        if c.time_col is None:
            return parts
        tails = dict(_groups(_untail(self._require_fitted().tail, c.time_col), c.id_col))
        joined = []
        for key, part in parts:
            tail = tails.get(key)
            if tail is not None and len(part) and part[c.time_col].iloc[0] > tail[c.time_col].iloc[-1]:
                part = pd.concat([tail[part.columns], part], ignore_index=True)
            joined.append((key, part))
        return joined

    def resolved_config(self) -> dict[str, Any]:
        """The configuration with what the last fit chose for every automatic value."""
        params = super().resolved_config()
        if self._fitted is not None:
            f = self._fitted
            params.update(
                lookback=f.lookback,
                seasonal_period=f.m,
                base=f.base,
                ensemble=f.members,
                transform="log" if f.log else "none",
            )
            if f.batch_size is not None:
                params["batch_size"] = f.batch_size
        return params

    @property
    def history(self) -> list[list[dict]]:
        """Per ensemble member, the per-epoch training log of the last fit."""
        return self._require_fitted().history

    @property
    def networks(self) -> tuple[ForecastNet, ...]:
        """The fitted ensemble's networks (to look inside one, e.g. with `lstmkit.explain.record_lstm`)."""
        self._require_fitted()
        return tuple(self._nets)

    @property
    def lookback(self) -> int:
        return self._require_fitted().lookback

    def validated(self, data: pd.DataFrame | pd.Series | np.ndarray) -> pd.DataFrame:
        """``data`` as `fit` sees it: validated, typed (times parsed) and sorted."""
        return self._validate(data).frame

    # ---- steps of the story ------------------------------------------------------

    def _validate(self, data):
        c = self.config
        frame = _as_frame(data, c)
        missing_time = c.time_col and c.time_col not in frame.columns
        if missing_time or any(t not in frame.columns for t in c.targets):
            numeric = [col for col in frame.columns if pd.api.types.is_numeric_dtype(frame[col])]
            wanted = [*c.targets, *([c.time_col] if c.time_col else [])]
            raise DataError(
                f"{frame.attrs.get('source', '<data>')}: column(s) {[w for w in wanted if w not in frame.columns]} "
                f"not found; columns found: {list(frame.columns)}" + (f" (numeric: {numeric})" if numeric else "")
            )
        return validate_series(
            frame,
            list(c.targets),
            time_col=c.time_col,
            id_col=c.id_col,
            past_covariates=list(c.past_covariates),
            future_covariates=list(c.future_covariates),
            fill=c.fill,
        )

    def _with_calendar(self, frame, freq, columns=None):
        c = self.config
        if not c.calendar:
            return frame, []
        if c.time_col is None or not pd.api.types.is_datetime64_any_dtype(frame[c.time_col]):
            raise ConfigError("calendar=True needs a datetime time_col")
        # the fitted feature names ("month_of_year_sin", ...) pin the features at predict time
        features = None if columns is None else list(dict.fromkeys(n.rsplit("_", 1)[0] for n in columns))
        return add_calendar_features(frame, c.time_col, features, freq=freq)

    def _lookback(self, m: int, shortest: int) -> int:
        c = self.config
        if c.lookback:
            return c.lookback
        wanted = max(2 * c.horizon, 3 * m if m > 1 else 2 * c.horizon)
        if shortest - wanted - c.horizon + 1 >= LONG_SERIES:
            wanted *= 2  # enough windows to learn from a longer memory
        # leave room for at least as many windows as the lookback is long
        return int(max(1, min(wanted, (shortest - c.horizon) // 2)))

    def _use_log(self, frame) -> bool:
        c = self.config
        positive = bool((frame[list(c.targets)].to_numpy() > 0).all())
        if c.transform == "log" and not positive:
            raise DataError("transform='log' needs every target value > 0; use transform='none'")
        return c.transform == "log" or (c.transform == "auto" and positive)

    def _apply_log(self, frame, log: bool):
        if not log:
            return frame
        frame = frame.copy()
        targets = list(self.config.targets)
        values = frame[targets].to_numpy(dtype=np.float64)
        if (values <= 0).any():
            raise DataError("the model was fitted on log targets; the new data has values <= 0 it cannot take")
        frame[targets] = np.log(values)
        return frame

    def _choose_base(self, windows, m: int) -> str:
        """``base="auto"``: the simple forecast with the smaller error over the horizon
        on the training windows (the seasonal one only if ``1 < m <= lookback``)."""
        c = self.config
        lookback = windows.past.shape[1]
        if c.base != "auto":
            if c.base == "seasonal" and not (1 < m <= lookback):
                raise ConfigError(f"base='seasonal' needs a seasonal period 1 < m <= lookback ({lookback}), got m={m}")
            return c.base
        if c.strategy == "recursive":
            return "last"
        candidates = ("last", "drift", "seasonal") if 1 < m <= lookback else ("last", "drift")
        errors = {b: np.abs(windows.target - self._offset(windows.past, b, m)).mean() for b in candidates}
        return min(errors, key=lambda b: errors[b])

    def _relative(self, past, future, target, base: str, m: int):
        """Targets and target inputs relative to each window's own simple forecast."""
        n_t = len(self.config.targets)
        past = past.copy()
        offset = self._offset(past, base, m)  # (N, H, n_t)
        past[:, :, :n_t] -= past[:, -1:, :n_t]
        return past.astype(np.float32), future.astype(np.float32), (target - offset).astype(np.float32)

    def _offset(self, past, base: str, m: int) -> np.ndarray:
        """The window's simple forecast: the last value, the line through the window's first
        and last values extended (drift), or the last season repeated."""
        n_t, H = len(self.config.targets), self.config.horizon
        L = past.shape[1]
        last = past[:, -1:, :n_t]
        steps = np.arange(H)
        if base == "seasonal":
            return past[:, L - m + steps % m, :n_t]
        if base == "drift":  # the line through the window's first and last values, extended
            slope = (last - past[:, :1, :n_t]) / max(L - 1, 1)
            return last + (steps + 1)[None, :, None] * slope
        return np.repeat(last, H, axis=1)

    def _split(self, series, position):
        """Chronological split: the last windows of every series steer early stopping.

        The ``H - 1`` windows just before a series' first validation window are left out
        of training: their targets overlap the validation targets (a window's targets
        are the ``H`` steps after its start + lookback), which would leak them.
        """
        H = self.config.horizon
        train_parts, val_parts = [], []
        for key in pd.unique(series):
            idx = np.flatnonzero(series == key)
            idx = idx[np.argsort(position[idx], kind="stable")]
            n_val = int(np.clip(len(idx) // 5, 1, max(H, len(idx) // 10))) if len(idx) > 1 else 0
            gap = min(H - 1, len(idx) - n_val - 1) if n_val else 0  # keep at least one training window
            train_parts.append(idx[: len(idx) - n_val - gap])
            val_parts.append(idx[len(idx) - n_val :])
        train, val = np.concatenate(train_parts), np.concatenate(val_parts)
        if len(train) == 0:
            raise DataError(
                f"too little data: {len(position)} window(s) of lookback + horizon; need at least 2. "
                "Give a longer series or a shorter lookback/horizon"
            )
        return train, (val if len(val) else train)

    def _future_frame(self, history, future, future_cols):
        fitted = self._require_fitted()
        c = self.config
        if not future_cols:
            return None
        if c.future_covariates:
            if future is None:
                raise DataError(
                    f"this model uses future covariates {list(c.future_covariates)}: pass future= with their "
                    f"values for the {c.horizon} steps to forecast"
                )
            missing = [col for col in c.future_covariates if col not in future.columns]
            if missing:
                raise DataError(f"future= lacks column(s) {missing}; columns found: {list(future.columns)}")
            future = self._aligned_future(history, future)
        else:
            parts = []
            assert fitted.freq is not None  # calendar features (the only other future inputs) need datetimes
            for key, part in _groups(history, c.id_col):
                times = future_timestamps(part[c.time_col].iloc[-1], fitted.freq, c.horizon)
                block = pd.DataFrame({c.time_col: times})
                if c.id_col:
                    block[c.id_col] = key
                parts.append(block)
            future = pd.concat(parts, ignore_index=True)
        if fitted.calendar_columns:
            future, _ = self._with_calendar(future, fitted.freq, fitted.calendar_columns)
        for col in c.targets + c.past_covariates:
            if col not in future.columns:
                future[col] = 0.0  # not used: only future covariates are read from this frame
        return future

    def _aligned_future(self, history: pd.DataFrame, future: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``future`` for the forecast steps of each series, in step order.

        With a time column they are joined on it (and on the id): a table shifted by a
        period is an error naming the steps it lacks, never a silently wrong forecast.
        Rows outside the forecast steps (history, or further ahead) are ignored. Without
        a time column the first ``horizon`` rows of each series are its steps.
        """
        fitted = self._require_fitted()
        c, H = self.config, self.config.horizon
        if c.id_col is not None and c.id_col not in future.columns:
            raise DataError(f"future= lacks the id column {c.id_col!r}; columns found: {list(future.columns)}")
        if c.time_col is not None and c.time_col not in future.columns:
            raise DataError(
                f"future= lacks the time column {c.time_col!r} it is matched on; columns found: {list(future.columns)}"
            )
        parts = []
        for key, part in _groups(history, c.id_col):
            name = "the series" if key is None else f"series {key!r}"
            rows = (future if c.id_col is None else future[future[c.id_col] == key]).reset_index(drop=True)
            if c.time_col is None:
                if len(rows) < H:
                    raise DataError(f"future= has {len(rows)} row(s) for {name}; the forecast needs {H}, one per step")
                parts.append(rows.iloc[:H])
                continue
            last = part[c.time_col].iloc[-1]
            expected = future_timestamps(last, fitted.spacing(), H)
            times = _as_times_like(rows[c.time_col], last, "future=")
            ahead = rows[(times > last) & (times <= expected[-1])]
            ahead_times = times[ahead.index]
            duplicated = ahead_times[ahead_times.duplicated()]
            if len(duplicated):
                raise DataError(f"future= has {name} at {_show_times(duplicated)} more than once")
            extra = ahead_times[~ahead_times.isin(expected)]
            missing = [t for t in expected if t not in set(ahead_times)]
            if missing or len(extra):
                found = f"; it has instead {_show_times(extra)}" if len(extra) else ""
                raise DataError(
                    f"future= does not cover the {H} forecast steps of {name} ({_show_times(expected[:1])} to "
                    f"{_show_times(expected[-1:])}, after its last observed time {_show_times([last])}): "
                    f"missing {_show_times(missing)}{found}"
                )
            order = pd.Series(np.arange(len(ahead)), index=pd.Index(ahead_times.to_numpy()))
            parts.append(ahead.iloc[order.loc[list(expected)].to_numpy()])
        return pd.concat(parts, ignore_index=True)

    def _require_fitted(self) -> _Fitted:
        if self._fitted is None:
            raise ConfigError("this Forecaster is not fitted yet: call fit(data) or Forecaster.load(path)")
        return self._fitted


# ---- helpers ---------------------------------------------------------------------


def _forecast_loss(net: torch.nn.Module, batch: Any) -> torch.Tensor:
    assert isinstance(net, ForecastNet)  # the Trainer hands back the network it was given
    past, future, target = batch
    teacher = target if net.config.strategy == "recursive" else None
    return quantile_loss(net(past, future, teacher), target, net.quantile_levels)


@contextlib.contextmanager
def _training_backend(net: ForecastNet, device: torch.device) -> Iterator[None]:
    """Train a plain LSTM on the CPU with the compiled sequence loops when they are built.

    torch's fused CPU kernel (oneDNN) takes fresh workspace on every call: at the
    sizes of a long series (48 windows of 192 steps) a quarter of its time went to page
    faults in the kernel (sys time). The compiled loops (`lstmkit.nn.fused.native`)
    compute the same outputs and gradients (``tests/nn/test_sequence_backend.py``) in
    0.65x the CPU time of such a fit (``bench/forecast_speed.py``). Forecasts run on
    the usual path afterwards, so a fitted and a reloaded model forecast alike; nothing
    is compiled here (``make native`` builds the loops).
    """
    encoder = net.encoder
    switch = (
        device.type == "cpu"
        and isinstance(encoder, LSTM)
        and encoder.backend == "auto"
        and encoder.execution_path() == "fused"
        and native.ready()
    )
    if switch:
        encoder.backend = "sequence"
    try:
        yield
    finally:
        if switch:
            encoder.backend = "auto"


def _strided(index: np.ndarray, most: int) -> np.ndarray:
    """At most ``most`` entries of ``index``, evenly spaced, the last one kept."""
    if len(index) <= most:
        return index
    return index[np.linspace(0, len(index) - 1, most).round().astype(int)]


def _as_frame(data, c: ForecasterConfig) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        name = c.targets[0]
        frame = pd.DataFrame({name: data.to_numpy()})
        if c.time_col:
            frame.insert(0, c.time_col, data.index)
        return frame
    if isinstance(data, (np.ndarray, list, tuple)):
        values = np.asarray(data, dtype=np.float64)
        if values.ndim != 1:
            raise DataError(f"an array history must be 1-D (one series), got shape {values.shape}")
        return pd.DataFrame({c.targets[0]: values})
    raise DataError(f"expected a DataFrame, Series or 1-D array, got {type(data).__name__}")


def _groups(frame: pd.DataFrame, id_col: str | None):
    if id_col is None:
        return [(None, frame)]
    return list(frame.groupby(id_col, sort=False))


def _lengths(frame, id_col) -> dict:
    return {key: len(part) for key, part in _groups(frame, id_col)}


def _show_ids(counts: dict) -> str:
    shown = ", ".join(
        f"{'series ' + repr(k) if k is not None else 'the series'} ({n} rows)" for k, n in list(counts.items())[:5]
    )
    return shown + (f" and {len(counts) - 5} more" if len(counts) > 5 else "")


def _tail(frame: pd.DataFrame, id_col: str | None, lookback: int) -> dict:
    tail = pd.concat([part.iloc[-lookback:] for _, part in _groups(frame, id_col)], ignore_index=True)
    columns = {}
    for col in tail.columns:
        values = tail[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            columns[col] = {"datetime": values.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").tolist()}
        else:
            columns[col] = {"values": values.tolist()}
    return columns


def _untail(tail: dict, time_col: str | None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {col: pd.to_datetime(v["datetime"]) if "datetime" in v else v["values"] for col, v in tail.items()}
    )
    return frame


def _check_known_series(scaler, frame, id_col) -> None:
    if id_col is None:
        return
    unknown = [k for k in pd.unique(frame[id_col]) if k not in set(scaler.ids)]
    if unknown:
        raise DataError(f"series {unknown[:5]} were not in the training data; the model has no scaling for them")


def _as_times_like(values: pd.Series, like, where: str) -> pd.Series:
    """``values`` as the same kind of time as ``like`` (a timestamp or a number)."""
    if isinstance(like, pd.Timestamp):
        try:
            return pd.to_datetime(values)
        except (ValueError, TypeError) as e:
            raise DataError(f"{where}: its time column cannot be read as dates ({e})") from None
    try:
        return pd.to_numeric(values).astype(np.float64)
    except (ValueError, TypeError) as e:
        raise DataError(f"{where}: its time column is not numeric like the history's ({e})") from None


def _show_times(times) -> str:
    times = list(times)
    shown = ", ".join(str(t.date() if isinstance(t, pd.Timestamp) and t == t.normalize() else t) for t in times[:5])
    return shown + (f" and {len(times) - 5} more" if len(times) > 5 else "")


def _rows_after(full, train, id_col, time_col, horizon) -> pd.DataFrame:
    parts = []
    for key, part in _groups(full, id_col):
        n = len(train) if id_col is None else int((train[id_col] == key).sum())
        parts.append(part.iloc[n : n + horizon])
    return pd.concat(parts, ignore_index=True)
