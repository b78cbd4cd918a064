"""Convolutional LSTM (Shi et al. 2015) for spatio-temporal data: video, radar, grids.

The LSTM's matrix products become 2-D convolutions, so the state keeps its spatial
layout: for frames ``X_t (C_in, H, W)`` and state ``h, c (C, H, W)`` (``*`` is a
convolution, ``⊙`` elementwise)::

    a = W_x * X_t + W_h * h + b               (four gate maps, PyTorch order i, f, g, o)
    i = σ(a_i + w_ci ⊙ c)                     (peepholes: one weight per unit, Shi et al.)
    f = σ(a_f + w_cf ⊙ c)
    g = tanh(a_g)
    c' = f ⊙ c + i ⊙ g
    o = σ(a_o + w_co ⊙ c')
    h' = o ⊙ tanh(c')

Convolutions use ``"same"`` padding, so every state has the frame's height and width.
The layer runs through the same per-step driver as `lstmkit.nn.LSTM`
(`lstmkit.nn.recurrent.run_direction`): per-sample lengths, initial and returned
states, stacking and both directions work the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.nn.recurrent import length_mask, reverse_padded, run_direction
from lstmkit.utils.checks import positive_int

__all__ = ["ConvLSTMCell2d", "ConvLSTM2d", "convlstm_step"]


def _pair(value, name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in pair):
        raise ValueError(f"{name} must be a positive integer or a pair of them, got {value!r}")
    return pair


def convlstm_step(gx: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, w_ch: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """The recurrent half of one ConvLSTM step.

    Args:
        gx: ``W_x * X_t + b``, the input's share of the gate maps.
        h, c: previous hidden and cell state.
        w_hh: recurrent kernels ``(4C, C, kh, kw)``.
        w_ch: peephole weights ``(3, C, H, W)`` for ``i, f, o``, or None.

    Shape:
        gx: ``(B, 4C, H, W)``; h, c: ``(B, C, H, W)``.

    Returns:
        ``(h_t, c_t)``.
    """
    a_i, a_f, a_g, a_o = (gx + F.conv2d(h, w_hh, padding="same")).chunk(4, dim=1)
    if w_ch is not None:
        a_i = a_i + w_ch[0] * c
        a_f = a_f + w_ch[1] * c
    i = torch.sigmoid(a_i)
    f = torch.sigmoid(a_f)
    g = torch.tanh(a_g)
    c = f * c + i * g
    if w_ch is not None:
        a_o = a_o + w_ch[2] * c
    o = torch.sigmoid(a_o)
    return o * torch.tanh(c), c


class ConvLSTMCell2d(nn.Module):
    """One ConvLSTM step from a frame ``x_t``.

    Args:
        in_channels: channels of each input frame.
        hidden_channels: channels of the hidden and cell state.
        kernel_size: convolution kernel, an integer or ``(kh, kw)`` (``"same"`` padding).
        bias: learn a bias per gate map channel.
        peephole: the gates see the cell state through one weight per unit, as in Shi
            et al.; needs ``frame_size``.
        frame_size: ``(height, width)`` of the frames, for the peephole weights.

    Parameters: ``weight_ih (4C, C_in, kh, kw)``, ``weight_hh (4C, C, kh, kw)``,
    ``bias (4C,)``, ``weight_ch (3, C, height, width)``; gates stacked ``i, f, g, o``.

    Shape:
        x: ``(B, in_channels, height, width)``; state: ``(h, c)`` each
        ``(B, hidden_channels, height, width)``, or None for zeros.

    Returns:
        ``(h_t, (h_t, c_t))``.

    >>> cell = ConvLSTMCell2d(2, 4, kernel_size=3)
    >>> h, (h, c) = cell(torch.randn(1, 2, 8, 8))
    >>> tuple(h.shape)
    (1, 4, 8, 8)
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        kernel_size: int | Sequence[int] = 3,
        bias: bool = True,
        *,
        peephole: bool = False,
        frame_size: Sequence[int] | None = None,
    ):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("hidden_channels", hidden_channels)):
            positive_int(name, value)
        self.in_channels, self.hidden_channels = in_channels, hidden_channels
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.peephole = bool(peephole)
        if peephole and frame_size is None:
            raise ValueError(
                "peephole=True needs frame_size=(height, width): Shi et al.'s peepholes have one weight per unit"
            )
        self.frame_size = frame = _pair(frame_size, "frame_size") if frame_size is not None else None
        C, (kh, kw) = hidden_channels, self.kernel_size
        self.weight_ih = nn.Parameter(torch.empty(4 * C, in_channels, kh, kw))
        self.weight_hh = nn.Parameter(torch.empty(4 * C, C, kh, kw))
        self.bias = nn.Parameter(torch.empty(4 * C)) if bias else None
        self.weight_ch: nn.Parameter | None
        if peephole:
            assert frame is not None  # checked above
            self.weight_ch = nn.Parameter(torch.empty(3, C, *frame))
        else:
            self.weight_ch = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform kernels (each gate's recurrent block on its own), zero biases but a
        forget-gate bias of 1, zero peepholes."""
        nn.init.xavier_uniform_(self.weight_ih)
        for block in self.weight_hh.chunk(4, dim=0):
            nn.init.xavier_uniform_(block)
        if self.bias is not None:
            nn.init.zeros_(self.bias)
            with torch.no_grad():
                self.bias[self.hidden_channels : 2 * self.hidden_channels] = 1.0  # remember by default
        if self.weight_ch is not None:
            nn.init.zeros_(self.weight_ch)

    def input_gates(self, x: Tensor) -> Tensor:
        """``W_x * x + b`` for a batch of frames ``(N, C_in, H, W)``."""
        return F.conv2d(x, self.weight_ih, self.bias, padding="same")

    def check_frames(self, x: Tensor, what: str = "x") -> None:
        if x.shape[-3] != self.in_channels:
            raise ValueError(f"{what} must have {self.in_channels} channels, got shape {tuple(x.shape)}")
        if self.frame_size is not None and tuple(x.shape[-2:]) != self.frame_size:
            raise ValueError(
                f"{what} frames must be {self.frame_size} (the peepholes' frame_size), got {tuple(x.shape[-2:])}"
            )

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        if x.dim() != 4:
            raise ValueError(f"ConvLSTMCell2d expects (batch, channels, height, width), got shape {tuple(x.shape)}")
        self.check_frames(x)
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_channels, *x.shape[-2:])
            state = (zeros, zeros)
        h, c = convlstm_step(self.input_gates(x), state[0], state[1], self.weight_hh, self.weight_ch)
        return h, (h, c)


class ConvLSTM2d(nn.Module):
    """A (stacked, optionally bidirectional) ConvLSTM over sequences of frames.

    Args:
        in_channels: channels of each input frame.
        hidden_channels: channels of every layer's state.
        kernel_size: convolution kernel (``"same"`` padding).
        num_layers: stacked layers; layer ``k + 1`` reads layer ``k``'s outputs.
        bias: learn the gate biases.
        batch_first: ``(B, T, C, H, W)`` (default) instead of ``(T, B, C, H, W)``.
        bidirectional: run a second ConvLSTM over the reversed sequences; the
            directions' outputs are concatenated along the channels.
        peephole: Shi et al.'s peepholes (one weight per unit); needs ``frame_size``.
        frame_size: ``(height, width)`` of the frames, for the peepholes.

    Cells ``cells[k * D + d]`` (``D`` = 2 if bidirectional else 1) hold the parameters
    of layer ``k``, direction ``d``.

    Shape: see `forward`.

    >>> layer = ConvLSTM2d(1, 4, kernel_size=3, num_layers=2)
    >>> out, (h, c) = layer(torch.randn(2, 5, 1, 8, 8), lengths=[5, 3])
    >>> tuple(out.shape), tuple(h.shape)
    ((2, 5, 4, 8, 8), (2, 2, 4, 8, 8))
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        kernel_size: int | Sequence[int] = 3,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = True,
        bidirectional: bool = False,
        *,
        peephole: bool = False,
        frame_size: Sequence[int] | None = None,
    ):
        super().__init__()
        positive_int("num_layers", num_layers)
        self.in_channels, self.hidden_channels, self.num_layers = in_channels, hidden_channels, num_layers
        self.batch_first, self.bidirectional = bool(batch_first), bool(bidirectional)
        D = self.num_directions
        self.cells = nn.ModuleList(
            ConvLSTMCell2d(
                in_channels if k == 0 else D * hidden_channels,
                hidden_channels,
                kernel_size,
                bias,
                peephole=peephole,
                frame_size=frame_size,
            )
            for k in range(num_layers)
            for _ in range(D)
        )

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def extra_repr(self) -> str:
        cell = self.cells[0]
        return (
            f"{self.in_channels}, {self.hidden_channels}, kernel_size={cell.kernel_size}, num_layers={self.num_layers}"
            + (", bidirectional=True" if self.bidirectional else "")
            + (", peephole=True" if cell.peephole else "")
        )

    def forward(
        self, x: Tensor, state: tuple[Tensor, Tensor] | None = None, lengths: Tensor | Sequence[int] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """Run over a (padded) batch of frame sequences.

        Args:
            x: the frames.
            state: ``(h_0, c_0)`` or None for zeros.
            lengths: real length of each sequence; later frames are padding: their
                outputs are zeros and they leave the state alone.

        Shape:
            x: ``(B, T, C_in, H, W)`` (``(T, B, ...)`` if not ``batch_first``).
            h_0, c_0, h_n, c_n: ``(num_layers * D, B, hidden_channels, H, W)``.
            output: ``(B, T, D * hidden_channels, H, W)``.

        Returns:
            ``(output, (h_n, c_n))``, the final states taken at each sequence's last real frame.
        """
        if x.dim() != 5:
            layout = (
                "(batch, time, channels, height, width)"
                if self.batch_first
                else "(time, batch, channels, height, width)"
            )
            raise ValueError(f"ConvLSTM2d expects a 5-D input {layout}, got shape {tuple(x.shape)}")
        if not self.batch_first:
            x = x.transpose(0, 1)
        B, T, C, H, W = x.shape  # batch, time, channels, height, width
        self._cell(0).check_frames(x)
        lengths = self._check_lengths(lengths, B, T)
        rows, D = self.num_layers * self.num_directions, self.num_directions
        if state is None:
            zeros = x.new_zeros(rows, B, self.hidden_channels, H, W)
            state = (zeros, zeros)
        expected = (rows, B, self.hidden_channels, H, W)
        if not (
            isinstance(state, (tuple, list)) and len(state) == 2 and all(tuple(s.shape) == expected for s in state)
        ):
            shapes = [tuple(s.shape) for s in state] if isinstance(state, (tuple, list)) else type(state).__name__
            raise ValueError(f"state must be (h_0, c_0), each of shape {expected}, got {shapes}")
        mask = length_mask(lengths, T, x.device)
        finals = []
        layer_input = x
        for k in range(self.num_layers):
            outputs = []
            for d in range(D):
                cell = self._cell(k * D + d)
                inp = reverse_padded(layer_input, lengths) if d == 1 else layer_input
                gx = cell.input_gates(inp.reshape(B * T, *inp.shape[2:])).view(B, T, -1, H, W)  # all frames at once
                s0 = (state[0][k * D + d], state[1][k * D + d])
                step = lambda g, s, cell=cell: convlstm_step(g, s[0], s[1], cell.weight_hh, cell.weight_ch)
                y, s_n = run_direction(step, gx, s0, mask)
                outputs.append(reverse_padded(y, lengths) if d == 1 else y)
                finals.append(s_n)
            layer_input = torch.cat(outputs, dim=2) if D == 2 else outputs[0]
        output = layer_input if self.batch_first else layer_input.transpose(0, 1)
        h_n, c_n = (torch.stack(parts) for parts in zip(*finals))
        return output, (h_n, c_n)

    def _cell(self, index: int) -> ConvLSTMCell2d:
        cell = self.cells[index]
        assert isinstance(cell, ConvLSTMCell2d)  # the ModuleList holds nothing else
        return cell

    @staticmethod
    def _check_lengths(lengths, B: int, T: int) -> Tensor | None:
        if lengths is None:
            return None
        lengths = torch.as_tensor(lengths)
        if lengths.dtype.is_floating_point or lengths.dtype == torch.bool:
            raise TypeError(f"lengths must hold integers, got dtype {lengths.dtype}")
        if tuple(lengths.shape) != (B,):
            raise ValueError(
                f"lengths must have shape ({B},) (one per sequence in the batch), got {tuple(lengths.shape)}"
            )
        lengths = lengths.to("cpu", torch.int64)
        if B and (lengths.min() < 1 or lengths.max() > T):
            raise ValueError(f"lengths must be in [1, {T}] (the padded sequence length), got {lengths.tolist()}")
        return lengths
