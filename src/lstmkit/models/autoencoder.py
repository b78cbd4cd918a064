"""An LSTM autoencoder: encode a window into the recurrent state, decode it back.

Tensors in, tensors out; scaling and windowing belong to `lstmkit.tasks.anomaly`.

The encoder reads the window; its final state (``(h, c)`` for the default LSTM,
``h`` for a GRU or RNN, see ``cell``) is the only thing the decoder receives. The
decoder starts from that state and unrolls ``W`` steps, each fed the step it
reconstructed before (zeros at the first step), and emits the window in reverse
order, as in Srivastava et al. (2015): the most recent step comes first,
closest to the state that summarises it. The output is flipped back, so
``out[:, t]`` reconstructs ``x[:, t]``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from lstmkit.models.recurrent import CellOptions
from lstmkit.utils.checks import positive_int

__all__ = ["LSTMAutoencoderConfig", "LSTMAutoencoder"]


@dataclass(frozen=True)
class LSTMAutoencoderConfig:
    """Shape and size of an `LSTMAutoencoder`.

    Args:
        n_features: channels per time step.
        hidden_size: the recurrent state size (the bottleneck).
        num_layers: stacked layers in the encoder and in the decoder.
        cell: the recurrent layer of the encoder and of the decoder, a `CellOptions`
            (``"lstm"``, ``"gru"``, ``"rnn"`` and the LSTM variants); its dict form
            (from JSON) or a cell name is converted. Default: the plain LSTM.
    """

    n_features: int = 1
    hidden_size: int = 32
    num_layers: int = 1
    cell: CellOptions = CellOptions()

    def __post_init__(self):
        object.__setattr__(self, "cell", CellOptions.coerce(self.cell))  # a dict when read back from JSON
        for name in ("n_features", "hidden_size", "num_layers"):
            positive_int(name, getattr(self, name))
        self.cell.check_hidden_size(self.hidden_size)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> LSTMAutoencoderConfig:
        """Rebuild from `to_dict` (JSON); a dict saved before ``cell`` existed reads as the plain LSTM."""
        return cls(**d)


class LSTMAutoencoder(nn.Module):
    """Encoder LSTM -> state -> decoder LSTM -> linear head, reconstructing the window.

    The two recurrent layers are LSTMs unless ``config.cell`` names a GRU or RNN.

    Args:
        config: an `LSTMAutoencoderConfig`.

    Shape:
        x: ``(B, W, F)``; output: ``(B, W, F)``, the reconstruction of ``x``.

    >>> net = LSTMAutoencoder(LSTMAutoencoderConfig(n_features=2, hidden_size=8))
    >>> tuple(net(torch.randn(3, 10, 2)).shape)
    (3, 10, 2)
    """

    def __init__(self, config: LSTMAutoencoderConfig):
        super().__init__()
        self.config = config
        c = config
        self.encoder = c.cell.build(c.n_features, c.hidden_size, num_layers=c.num_layers)
        self.decoder = c.cell.build(c.n_features, c.hidden_size, num_layers=c.num_layers)
        self.head = nn.Linear(c.cell.output_size(c.hidden_size), c.n_features)

    def forward(self, x: Tensor) -> Tensor:
        B, W, F = x.shape  # batch, window, features
        if F != self.config.n_features:
            raise ValueError(f"LSTMAutoencoder expects {self.config.n_features} features, got {F}")
        _, state = self.encoder(x)  # (h, c) or h: the decoder is the same kind of layer
        step = x.new_zeros(B, 1, F)  # nothing reconstructed yet
        steps = []
        for _ in range(W):
            out, state = self.decoder(step, state)
            step = self.head(out)  # (B, 1, F), fed back as the next input
            steps.append(step)
        return torch.cat(steps[::-1], dim=1)  # decoded newest first: flip back to time order
