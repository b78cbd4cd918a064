"""The next-step network: a recurrent layer and a linear head forecasting the next step.

`lstmkit.tasks.anomaly` scores each step by the error of this forecast, made with
the recurrent state carried from the series' start (and, when streaming, from one
`AnomalyDetector.update` to the next).
"""

from __future__ import annotations

from torch import Tensor, nn

from lstmkit.models.recurrent import CellOptions, State

__all__ = ["NextStepNet"]


class NextStepNet(nn.Module):
    """An LSTM (or GRU, RNN) and a linear head forecasting the next step of every feature.

    Args:
        n_features: channels per time step, read and forecast.
        hidden_size: units of the recurrent layer.
        cell: the recurrent layer, a `CellOptions`, its dict form or a cell name
            (default: the plain LSTM).

    Shape:
        x: ``(B, T, F)``; output: ``(B, T, F)``, ``out[:, t]`` forecasts ``x[:, t + 1]``;
        state: ``(h, c)``, each ``(1, B, hidden)`` (``h`` has ``proj_size`` features
        when projecting), or ``h`` alone for a GRU or RNN.

    >>> import torch
    >>> net = NextStepNet(2, 8, cell="gru")
    >>> out, h = net(torch.randn(3, 5, 2))
    >>> tuple(out.shape), tuple(h.shape)
    ((3, 5, 2), (1, 3, 8))
    """

    def __init__(self, n_features: int, hidden_size: int, *, cell: CellOptions | dict | str = "lstm"):
        super().__init__()
        self.cell = CellOptions.coerce(cell)
        # named lstm whatever the cell: the parameter names of saved detectors stay valid
        self.lstm = self.cell.build(n_features, hidden_size)
        self.head = nn.Linear(self.cell.output_size(hidden_size), n_features)

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        out, state = self.lstm(x, state)  # (B, T, H_out)
        return self.head(out), state
