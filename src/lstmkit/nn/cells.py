"""One time step of the LSTM, GRU and plain RNN, with the equations written out.

Each cell type is two things that share one set of equations:

* a *step function* (`lstm_step`, `gru_step`, `rnn_step`) that takes the input
  already multiplied by ``W_ih`` (the recurrent driver does that for all time steps
  at once, which is the cheap part) and does the recurrent half of the step;
* a *cell module* (`LSTMCell`, `GRUCell`, `RNNCell`) that owns the weights, named and
  shaped like ``torch.nn.LSTMCell`` & co., and computes a whole step from ``x_t``.

Gate order inside the stacked weights follows PyTorch (and cuDNN): LSTM ``i, f, g, o``,
GRU ``r, z, n``, so weights move to and from ``torch.nn`` unchanged.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["LSTMCell", "GRUCell", "RNNCell", "lstm_step", "gru_step", "rnn_step"]


def lstm_step(
    gx: Tensor,
    h: Tensor,
    c: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    w_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """The recurrent half of one LSTM step (Hochreiter & Schmidhuber 1997, with forget gate).

    Args:
        gx: ``W_ih x_t + b_ih``, the input's share of the four gate pre-activations.
        h: previous hidden state (after projection when ``w_hr`` is given).
        c: previous cell state.
        w_hh, b_hh: recurrent weights ``(4H, H_out)`` and bias ``(4H,)`` or None.
        w_hr: optional projection ``(P, H)`` (Sak et al. 2014); ``h = W_hr (o * tanh(c))``.

    Shape:
        gx: ``(B, 4H)``; h: ``(B, H_out)``; c: ``(B, H)``.

    Returns:
        ``(h_t, c_t)``.
    """
    i, f, g, o = (gx + F.linear(h, w_hh, b_hh)).chunk(4, dim=-1)
    i = torch.sigmoid(i)  # input gate: how much of the candidate to write
    f = torch.sigmoid(f)  # forget gate: how much of the old memory to keep
    g = torch.tanh(g)  # candidate memory
    o = torch.sigmoid(o)  # output gate: how much of the memory to show
    c = f * c + i * g
    h = o * torch.tanh(c)
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


def gru_step(
    gx: Tensor,
    h: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    reset_after: bool = True,
) -> Tensor:
    """The recurrent half of one GRU step (Cho et al. 2014).

    ``reset_after=True`` is the cuDNN / PyTorch form, where the reset gate multiplies
    the recurrent product: ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.
    ``reset_after=False`` is the original form, where it multiplies the state first:
    ``n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)``.

    Shape:
        gx: ``(B, 3H)``; h: ``(B, H)``.

    Returns:
        ``h_t``.
    """
    x_r, x_z, x_n = gx.chunk(3, dim=-1)
    w_hr, w_hz, w_hn = w_hh.chunk(3, dim=0)
    b_hr, b_hz, b_hn = b_hh.chunk(3) if b_hh is not None else (None, None, None)
    r = torch.sigmoid(x_r + F.linear(h, w_hr, b_hr))  # reset gate
    z = torch.sigmoid(x_z + F.linear(h, w_hz, b_hz))  # update gate
    if reset_after:
        n = torch.tanh(x_n + r * F.linear(h, w_hn, b_hn))
    else:
        n = torch.tanh(x_n + F.linear(r * h, w_hn, b_hn))
    return (1 - z) * n + z * h


def rnn_step(
    gx: Tensor,
    h: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """One Elman RNN step: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    Shape:
        gx: ``(B, H)``; h: ``(B, H)``.
    """
    pre = gx + F.linear(h, w_hh, b_hh)
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


class _CellBase(nn.Module):
    """Weights shaped like ``torch.nn.*Cell``: ``weight_ih (G*H, I)``, ``weight_hh (G*H, H)``."""

    gates: int = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, recurrent_size: int | None = None):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        rows = self.gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        self.weight_hh = nn.Parameter(torch.empty(rows, recurrent_size or hidden_size))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(rows))
            self.bias_hh = nn.Parameter(torch.empty(rows))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's cell initialisation: uniform in ``±1/sqrt(hidden_size)``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def _check_input(self, x: Tensor) -> None:
        if x.dim() != 2 or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__} expects input of shape (batch, {self.input_size}), "
                f"got {tuple(x.shape)}"
            )

    def _zeros(self, x: Tensor, size: int) -> Tensor:
        return x.new_zeros(x.shape[0], size)


class LSTMCell(_CellBase):
    """One LSTM step from ``x_t``; parameters as in ``torch.nn.LSTMCell`` (+ ``weight_hr``).

    Args:
        input_size: features per step.
        hidden_size: size of the cell state.
        bias: learn ``bias_ih`` and ``bias_hh``.
        proj_size: if > 0, the hidden state is projected to this size by ``weight_hr``.

    Shape:
        x: ``(B, input_size)``; state: ``(h (B, H_out), c (B, hidden_size))`` or None
        for zeros, where ``H_out = proj_size or hidden_size``.

    Returns:
        ``(h_t, (h_t, c_t))``.

    >>> cell = LSTMCell(3, 5)
    >>> h, (h, c) = cell(torch.zeros(2, 3))
    >>> tuple(h.shape), tuple(c.shape)
    ((2, 5), (2, 5))
    """

    gates = 4

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, proj_size: int = 0):
        if not isinstance(proj_size, int) or not 0 <= proj_size < hidden_size:
            raise ValueError(f"proj_size must be an integer in [0, hidden_size={hidden_size}), got {proj_size!r}")
        self.proj_size = proj_size
        super().__init__(input_size, hidden_size, bias, recurrent_size=proj_size or hidden_size)
        if proj_size:
            self.weight_hr = nn.Parameter(torch.empty(proj_size, hidden_size))
            bound = 1.0 / math.sqrt(hidden_size)
            nn.init.uniform_(self.weight_hr, -bound, bound)
        else:
            self.register_parameter("weight_hr", None)

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        self._check_input(x)
        if state is None:
            state = (self._zeros(x, self.proj_size or self.hidden_size), self._zeros(x, self.hidden_size))
        h, c = state
        gx = F.linear(x, self.weight_ih, self.bias_ih)
        h, c = lstm_step(gx, h, c, self.weight_hh, self.bias_hh, self.weight_hr)
        return h, (h, c)


class GRUCell(_CellBase):
    """One GRU step from ``x_t``; parameters as in ``torch.nn.GRUCell``.

    Args:
        reset_after: ``True`` (default) is PyTorch's and cuDNN's formulation; ``False``
            applies the reset gate before the recurrent product (Cho et al. 2014).

    Shape:
        x: ``(B, input_size)``; state: ``h (B, hidden_size)`` or None for zeros.

    Returns:
        ``(h_t, h_t)``.

    >>> h, _ = GRUCell(3, 4)(torch.zeros(2, 3))
    >>> tuple(h.shape)
    (2, 4)
    """

    gates = 3

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, reset_after: bool = True):
        super().__init__(input_size, hidden_size, bias)
        self.reset_after = reset_after

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        self._check_input(x)
        h = self._zeros(x, self.hidden_size) if state is None else state
        gx = F.linear(x, self.weight_ih, self.bias_ih)
        h = gru_step(gx, h, self.weight_hh, self.bias_hh, self.reset_after)
        return h, h


class RNNCell(_CellBase):
    """One Elman RNN step from ``x_t``; parameters as in ``torch.nn.RNNCell``.

    Args:
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Shape:
        x: ``(B, input_size)``; state: ``h (B, hidden_size)`` or None for zeros.

    Returns:
        ``(h_t, h_t)``.

    >>> h, _ = RNNCell(3, 4, nonlinearity="relu")(torch.ones(2, 3))
    >>> bool((h >= 0).all())
    True
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        self._check_input(x)
        h = self._zeros(x, self.hidden_size) if state is None else state
        gx = F.linear(x, self.weight_ih, self.bias_ih)
        h = rnn_step(gx, h, self.weight_hh, self.bias_hh, self.nonlinearity)
        return h, h
