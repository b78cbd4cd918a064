"""The forecasting network: a recurrent encoder with a multi-horizon quantile head.

Tensors in, tensors out. Inputs are already scaled; the task layer
(`lstmkit.tasks.forecasting`) does the scaling, windowing and un-scaling.

Two strategies:

* ``direct`` (default): the encoder reads the lookback window; its last hidden state,
  with the future-known covariates of all ``H`` horizon steps, goes through one
  linear head that emits every step and quantile at once.
* ``recursive``: the network forecasts one step, feeds its median back in as the
  next input and carries the recurrent state on (no recomputation of the window). It is
  trained with teacher forcing over the horizon.

The encoder is an LSTM unless ``cell`` (a `CellOptions`) says otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from lstmkit.models.recurrent import CellOptions, hidden_of

__all__ = ["ForecastNetConfig", "ForecastNet", "quantile_loss"]


@dataclass(frozen=True)
class ForecastNetConfig:
    """Shape and size of a `ForecastNet`.

    Args:
        n_targets: target series predicted per sample.
        n_past: covariates observed only in the past (extra input channels).
        n_future: covariates known in the future too (calendar features, ...).
        horizon: steps predicted.
        quantiles: predicted quantiles, ascending; the point forecast is the one
            closest to 0.5.
        hidden_size, num_layers, dropout: the recurrent encoder.
        strategy: ``"direct"`` or ``"recursive"``.
        cell: the encoder's recurrent layer, a `CellOptions` (``"lstm"``, ``"gru"``,
            ``"rnn"`` and the LSTM variants); its dict form (from JSON) or a cell name
            is converted. Default: the plain LSTM.
    """

    n_targets: int = 1
    n_past: int = 0
    n_future: int = 0
    horizon: int = 1
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    hidden_size: int = 64
    num_layers: int = 1
    dropout: float = 0.0
    strategy: str = "direct"
    cell: CellOptions = CellOptions()

    def __post_init__(self):
        object.__setattr__(self, "cell", CellOptions.coerce(self.cell))  # a dict when read back from JSON
        self.cell.check_hidden_size(self.hidden_size)
        if self.strategy not in ("direct", "recursive"):
            raise ValueError(f"strategy must be 'direct' or 'recursive', got {self.strategy!r}")
        if self.strategy == "recursive" and self.n_past:
            raise ValueError(
                f"the recursive strategy needs every input in the future too, but {self.n_past} "
                "past-only covariate(s) were given; use strategy='direct'"
            )
        qs = tuple(self.quantiles)
        if not qs or any(not 0 < q < 1 for q in qs) or list(qs) != sorted(set(qs)):
            raise ValueError(f"quantiles must be distinct, ascending and inside (0, 1), got {self.quantiles!r}")
        if self.horizon < 1:
            raise ValueError(f"horizon must be at least 1, got {self.horizon}")

    @property
    def n_inputs(self) -> int:
        return self.n_targets + self.n_past + self.n_future

    @property
    def point_index(self) -> int:
        return min(range(len(self.quantiles)), key=lambda i: abs(self.quantiles[i] - 0.5))

    def to_dict(self) -> dict:
        return {**asdict(self), "quantiles": list(self.quantiles)}

    @classmethod
    def from_dict(cls, d: dict) -> ForecastNetConfig:
        """Rebuild from `to_dict` (JSON); a dict saved before ``cell`` existed reads as the plain LSTM."""
        return cls(**{**d, **({"quantiles": tuple(d["quantiles"])} if "quantiles" in d else {})})


def quantile_loss(pred: Tensor, target: Tensor, quantiles: Tensor) -> Tensor:
    """Mean quantile (pinball) loss of network outputs: the training loss of `ForecastNet`.

    Tensors in, prediction first; the scoring metric on arrays is
    `lstmkit.evaluate.pinball_loss(y_true, y_pred, quantiles)`.

    Shape:
        pred: ``(..., Q)``; target: ``(...)``; quantiles: ``(Q,)``.

    >>> quantile_loss(torch.tensor([[1.0]]), torch.tensor([3.0]), torch.tensor([0.9]))
    tensor(1.8000)
    """
    error = target.unsqueeze(-1) - pred
    return torch.maximum(quantiles * error, (quantiles - 1) * error).mean()


class ForecastNet(nn.Module):
    """Recurrent (LSTM, GRU or RNN) encoder + multi-horizon quantile head.

    Args:
        config: a `ForecastNetConfig`.

    Shape:
        past: ``(B, L, n_targets + n_past + n_future)``; the target channels first,
            then past covariates, then future covariates over the lookback.
        future: ``(B, H, n_future)`` future-known covariates over the horizon, or None.
        teacher: ``(B, H, n_targets)`` true future targets, used by the recursive
            strategy in training (teacher forcing); ignored by ``direct``.
        output: ``(B, H, n_targets, Q)``.

    >>> net = ForecastNet(ForecastNetConfig(horizon=4, hidden_size=8))
    >>> tuple(net(torch.randn(2, 12, 1)).shape)
    (2, 4, 1, 3)
    """

    quantile_levels: Tensor  # a buffer, registered in __init__

    def __init__(self, config: ForecastNetConfig):
        super().__init__()
        self.config = config
        c = config
        self.encoder = c.cell.build(c.n_inputs, c.hidden_size, num_layers=c.num_layers, dropout=c.dropout)
        Q = len(c.quantiles)
        H_out = c.cell.output_size(c.hidden_size)  # proj_size when projecting
        if c.strategy == "direct":
            self.head = nn.Linear(H_out + c.horizon * c.n_future, c.horizon * c.n_targets * Q)
        else:
            self.head = nn.Linear(H_out, c.n_targets * Q)
        self.register_buffer("quantile_levels", torch.tensor(c.quantiles), persistent=False)

    def forward(self, past: Tensor, future: Tensor | None = None, teacher: Tensor | None = None) -> Tensor:
        c = self.config
        B, L, F = past.shape  # batch, lookback, input channels
        if F != c.n_inputs:
            raise ValueError(f"ForecastNet expects {c.n_inputs} input channels, got {F}")
        if c.n_future and (future is None or tuple(future.shape) != (B, c.horizon, c.n_future)):
            got = None if future is None else tuple(future.shape)
            raise ValueError(f"ForecastNet expects future covariates of shape {(B, c.horizon, c.n_future)}, got {got}")
        if c.strategy == "direct":
            return self._direct(past, future)
        return self._recursive(past, future, teacher)

    def _direct(self, past: Tensor, future: Tensor | None) -> Tensor:
        c = self.config
        _, state = self.encoder(past)
        features = hidden_of(state)[-1]  # (B, H_out): the top layer's hidden state after the last step
        if c.n_future:
            assert future is not None  # forward checks the covariates whenever n_future > 0
            features = torch.cat([features, future.flatten(1)], dim=1)
        return self.head(features).view(past.shape[0], c.horizon, c.n_targets, len(c.quantiles))

    def _recursive(self, past: Tensor, future: Tensor | None, teacher: Tensor | None) -> Tensor:
        c = self.config
        B = past.shape[0]
        Q = len(c.quantiles)
        if teacher is not None and self.training:
            # teacher forcing: read the window and the true horizon (but its last step) in one pass
            steps = teacher[:, :-1]
            if c.n_future:
                assert future is not None  # forward checks the covariates whenever n_future > 0
                steps = torch.cat([steps, future[:, :-1]], dim=-1)
            out, _ = self.encoder(torch.cat([past, steps], dim=1))
            return self.head(out[:, past.shape[1] - 1 :]).view(B, c.horizon, c.n_targets, Q)
        out, state = self.encoder(past)
        prediction = self.head(out[:, -1]).view(B, 1, c.n_targets, Q)
        predictions = [prediction]
        for t in range(1, c.horizon):
            step = prediction[..., c.point_index]  # (B, 1, n_targets): the median goes back in
            if c.n_future:
                assert future is not None  # forward checks the covariates whenever n_future > 0
                step = torch.cat([step, future[:, t - 1 : t]], dim=-1)
            out, state = self.encoder(step, state)
            prediction = self.head(out[:, -1]).view(B, 1, c.n_targets, Q)
            predictions.append(prediction)
        return torch.cat(predictions, dim=1)
