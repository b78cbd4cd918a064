"""One time step of the LSTM, GRU and plain RNN, with the equations written out.

Each cell type is two things that share one set of equations:

* a *step function* (`lstm_step`, `gru_step`, `rnn_step`) that takes the input
  already multiplied by ``W_ih`` (the recurrent driver does that for all time steps
  at once, which is the cheap part) and does the recurrent half of the step;
* a *cell module* (`LSTMCell`, `GRUCell`, `RNNCell`) that owns the weights, named and
  shaped like ``torch.nn.LSTMCell`` & co., and computes a whole step from ``x_t``.

Gate order inside the stacked weights follows PyTorch (and cuDNN): LSTM ``i, f, g, o``,
GRU ``r, z, n``, so weights move to and from ``torch.nn`` unchanged.

The variants are options of the same equations, not copies: peepholes, layer
normalisation, coupled input and forget gates, and — the options of the ONNX
operators — ``clip`` and custom ``activations`` (see `lstmkit.nn.activations`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmkit.nn.activations import Activation, activation, activations_for
from lstmkit.utils.checks import positive_int

__all__ = [
    "LSTMCell",
    "GRUCell",
    "RNNCell",
    "lstm_step",
    "gru_step",
    "rnn_step",
    "input_gates",
    "check_clip",
    "LSTM_ACTIVATIONS",
    "GRU_ACTIVATIONS",
    "RNN_ACTIVATIONS",
]

LSTM_ACTIVATIONS = ("Sigmoid", "Tanh", "Tanh")  # ONNX f (gates), g (candidate), h (output)
GRU_ACTIVATIONS = ("Sigmoid", "Tanh")  # ONNX f (gates), g (candidate)
RNN_ACTIVATIONS = ("Tanh",)  # ONNX f


def check_clip(clip: float | None) -> float | None:
    """Validate an ONNX-style ``clip`` threshold: None (no clipping) or a positive number."""
    if clip is None:
        return None
    if isinstance(clip, bool) or not isinstance(clip, (int, float)) or not clip > 0 or math.isinf(clip):
        raise ValueError(f"clip must be None or a positive finite number, got {clip!r}")
    return float(clip)


def input_gates(x: Tensor, w_ih: Tensor, b_ih: Tensor | None, ln_weight: Tensor | None = None) -> Tensor:
    """The input's share of the gate pre-activations: ``W_ih x + b_ih``.

    With ``ln_weight`` (a layer-normalised cell) the product is normalised over all
    gates before the bias: ``LN(W_ih x) * ln_weight + b_ih`` (Ba et al. 2016, eq. 20).
    The recurrent driver calls this once for every time step at a time.

    Shape:
        x: ``(*, input_size)`` -> ``(*, G*H)``.
    """
    if ln_weight is None:
        return F.linear(x, w_ih, b_ih)
    gx = F.layer_norm(F.linear(x, w_ih), ln_weight.shape, ln_weight)
    return gx if b_ih is None else gx + b_ih


def _clamp(clip: float | None):
    """ONNX ``clip``: bound every pre-activation to ``[-clip, clip]`` before its function."""
    if clip is None:
        return lambda a: a
    return lambda a: a.clamp(-clip, clip)


def lstm_step(
    gx: Tensor,
    h: Tensor,
    c: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    w_hr: Tensor | None = None,
    *,
    w_ch: Tensor | None = None,
    ln_hh: Tensor | None = None,
    ln_c: tuple[Tensor, Tensor] | None = None,
    input_forget: bool = False,
    clip: float | None = None,
    activations: tuple[Callable[[Tensor], Tensor], ...] | None = None,
) -> tuple[Tensor, Tensor]:
    """The recurrent half of one LSTM step (Hochreiter & Schmidhuber 1997, with forget gate).

    The equations, gates in PyTorch's order ``i, f, g, o`` (``⊙`` is elementwise)::

        a = gx + W_hh h + b_hh          (layer norm: gx + LN(W_hh h) ⊙ γ_hh + b_hh)
        i = σ(a_i + w_ci ⊙ c)           (peephole on the old cell state)
        f = σ(a_f + w_cf ⊙ c)           (input_forget: f = 1 - i)
        g = tanh(a_g)
        c' = f ⊙ c + i ⊙ g
        o = σ(a_o + w_co ⊙ c')          (peephole on the new cell state)
        h' = o ⊙ tanh(c')               (layer norm: o ⊙ tanh(LN(c') ⊙ γ_c + β_c))
        h' = W_hr h'                    (projection)

    Args:
        gx: ``W_ih x_t + b_ih`` (see `input_gates`), the input's share of the four gates.
        h: previous hidden state (after projection when ``w_hr`` is given).
        c: previous cell state.
        w_hh, b_hh: recurrent weights ``(4H, H_out)`` and bias ``(4H,)`` or None.
        w_hr: optional projection ``(P, H)`` (Sak et al. 2014).
        w_ch: peephole weights ``(3H,)``, for ``i, f, o`` (Gers & Schmidhuber 2000).
        ln_hh: layer-norm gain ``(4H,)`` of the recurrent product (Ba et al. 2016).
        ln_c: layer-norm gain and bias ``((H,), (H,))`` of the cell state on its way out.
        input_forget: couple the gates, ``f = 1 - i`` (CIFG, Greff et al. 2017).
        clip: bound every pre-activation to ``[-clip, clip]`` (ONNX ``clip``).
        activations: ``(σ, tanh_g, tanh_h)`` replacements (ONNX ``f, g, h``).

    Shape:
        gx: ``(B, 4H)``; h: ``(B, H_out)``; c: ``(B, H)``.

    Returns:
        ``(h_t, c_t)``.

    >>> H = 2
    >>> h, c = lstm_step(torch.zeros(1, 4 * H), torch.zeros(1, H), torch.ones(1, H),
    ...                  torch.zeros(4 * H, H), None, w_ch=torch.ones(3 * H))
    >>> round(c[0, 0].item(), 4)  # f = σ(0 + 1 * c) = 0.7311, i ⊙ g = 0
    0.7311
    """
    sigma, act_g, act_h = activations or (torch.sigmoid, torch.tanh, torch.tanh)
    clamp = _clamp(clip)
    if ln_hh is None:
        a = gx + F.linear(h, w_hh, b_hh)
    else:
        a = gx + F.layer_norm(F.linear(h, w_hh), ln_hh.shape, ln_hh)
        a = a if b_hh is None else a + b_hh
    a_i, a_f, a_g, a_o = a.chunk(4, dim=-1)
    if w_ch is not None:
        w_ci, w_cf, w_co = w_ch.chunk(3)
        a_i = a_i + w_ci * c
        a_f = a_f + w_cf * c
    i = sigma(clamp(a_i))  # input gate: how much of the candidate to write
    f = 1 - i if input_forget else sigma(clamp(a_f))  # forget gate: how much old memory to keep
    g = act_g(clamp(a_g))  # candidate memory
    c = f * c + i * g
    if w_ch is not None:
        a_o = a_o + w_co * c
    o = sigma(clamp(a_o))  # output gate: how much of the memory to show
    shown = c if ln_c is None else F.layer_norm(c, c.shape[-1:], ln_c[0], ln_c[1])
    h = o * act_h(shown)
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


def gru_step(
    gx: Tensor,
    h: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    reset_after: bool = True,
    *,
    clip: float | None = None,
    activations: tuple[Callable[[Tensor], Tensor], ...] | None = None,
) -> Tensor:
    """The recurrent half of one GRU step (Cho et al. 2014).

    ``reset_after=True`` is the cuDNN / PyTorch form (ONNX ``linear_before_reset=1``),
    where the reset gate multiplies the recurrent product:
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.
    ``reset_after=False`` is the original form, where it multiplies the state first:
    ``n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)``.

    Args:
        clip: bound every pre-activation to ``[-clip, clip]`` (ONNX ``clip``).
        activations: ``(σ, tanh)`` replacements for the gates and the candidate
            (ONNX ``f, g``).

    Shape:
        gx: ``(B, 3H)``; h: ``(B, H)``.

    Returns:
        ``h_t``.
    """
    sigma, act_g = activations or (torch.sigmoid, torch.tanh)
    clamp = _clamp(clip)
    x_r, x_z, x_n = gx.chunk(3, dim=-1)
    w_hr, w_hz, w_hn = w_hh.chunk(3, dim=0)
    b_hr, b_hz, b_hn = b_hh.chunk(3) if b_hh is not None else (None, None, None)
    r = sigma(clamp(x_r + F.linear(h, w_hr, b_hr)))  # reset gate
    z = sigma(clamp(x_z + F.linear(h, w_hz, b_hz)))  # update gate
    if reset_after:
        n = act_g(clamp(x_n + r * F.linear(h, w_hn, b_hn)))
    else:
        n = act_g(clamp(x_n + F.linear(r * h, w_hn, b_hn)))
    return (1 - z) * n + z * h


def rnn_step(
    gx: Tensor,
    h: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    nonlinearity: str | Callable[[Tensor], Tensor] = "tanh",
    *,
    clip: float | None = None,
) -> Tensor:
    """One Elman RNN step: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    Args:
        nonlinearity: ``"tanh"``, ``"relu"`` or any activation (ONNX ``f``).
        clip: bound the pre-activation to ``[-clip, clip]`` (ONNX ``clip``).

    Shape:
        gx: ``(B, H)``; h: ``(B, H)``.
    """
    pre = _clamp(clip)(gx + F.linear(h, w_hh, b_hh))
    if nonlinearity == "tanh":
        return torch.tanh(pre)
    if nonlinearity == "relu":
        return torch.relu(pre)
    if isinstance(nonlinearity, str):
        raise ValueError(f"nonlinearity must be 'tanh', 'relu' or a callable, got {nonlinearity!r}")
    return nonlinearity(pre)


class _CellBase(nn.Module):
    """Weights shaped like ``torch.nn.*Cell``: ``weight_ih (G*H, I)``, ``weight_hh (G*H, H)``."""

    gates: int = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, recurrent_size: int | None = None):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            positive_int(name, value)
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
                f"{type(self).__name__} expects input of shape (batch, {self.input_size}), got {tuple(x.shape)}"
            )

    def _zeros(self, x: Tensor, size: int) -> Tensor:
        return x.new_zeros(x.shape[0], size)


class LSTMCell(_CellBase):
    """One LSTM step from ``x_t``; parameters as in ``torch.nn.LSTMCell`` (+ ``weight_hr``).

    The variants are options of the same equations (see `lstm_step`).

    Args:
        input_size: features per step.
        hidden_size: size of the cell state.
        bias: learn ``bias_ih`` and ``bias_hh``.
        proj_size: if > 0, the hidden state is projected to this size by ``weight_hr``.
        peephole: the gates see the cell state (``weight_ch``, ``(3H,)`` for ``i, f, o``).
        layer_norm: normalise the input and recurrent pre-activations (gains
            ``ln_weight_ih``, ``ln_weight_hh``) and the cell state (``ln_weight_c``,
            ``ln_bias_c``), after Ba et al. 2016.
        input_forget: couple the forget gate to the input gate, ``f = 1 - i``.
        clip: bound every gate pre-activation to ``[-clip, clip]`` (ONNX ``clip``).
        activations: three activations ``(f, g, h)`` replacing ``(sigmoid, tanh, tanh)``:
            names, ``(name, alpha, beta)`` tuples or `Activation` (see
            `lstmkit.nn.activations`).

    Shape:
        x: ``(B, input_size)``; state: ``(h (B, H_out), c (B, hidden_size))`` or None
        for zeros, where ``H_out = proj_size or hidden_size``.

    Returns:
        ``(h_t, (h_t, c_t))``.

    >>> cell = LSTMCell(3, 5, peephole=True, layer_norm=True)
    >>> h, (h, c) = cell(torch.zeros(2, 3))
    >>> tuple(h.shape), tuple(c.shape), tuple(cell.weight_ch.shape)
    ((2, 5), (2, 5), (15,))
    """

    gates = 4
    # registered in __init__, None where the options leave them out
    weight_hr: Tensor | None
    weight_ch: Tensor | None
    ln_weight_ih: Tensor | None
    ln_weight_hh: Tensor | None
    ln_weight_c: Tensor | None
    ln_bias_c: Tensor | None

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        proj_size: int = 0,
        *,
        peephole: bool = False,
        layer_norm: bool = False,
        input_forget: bool = False,
        clip: float | None = None,
        activations: Sequence | None = None,
    ):
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or not 0 <= proj_size < hidden_size:
            raise ValueError(f"proj_size must be an integer in [0, hidden_size={hidden_size}), got {proj_size!r}")
        self.proj_size = proj_size
        self.peephole = bool(peephole)
        self.layer_norm = bool(layer_norm)
        self.input_forget = bool(input_forget)
        self.clip = check_clip(clip)
        self.activations = activations_for(activations, LSTM_ACTIVATIONS)
        super().__init__(input_size, hidden_size, bias, recurrent_size=proj_size or hidden_size)
        H = hidden_size
        extra = {
            **({"weight_hr": (proj_size, H)} if proj_size else {}),
            **({"weight_ch": (3 * H,)} if peephole else {}),
            **(
                {"ln_weight_ih": (4 * H,), "ln_weight_hh": (4 * H,), "ln_weight_c": (H,), "ln_bias_c": (H,)}
                if layer_norm
                else {}
            ),
        }
        for name in ("weight_hr", "weight_ch", "ln_weight_ih", "ln_weight_hh", "ln_weight_c", "ln_bias_c"):
            if name in extra:
                self.register_parameter(name, nn.Parameter(torch.empty(extra[name])))
            else:
                self.register_parameter(name, None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's cell initialisation, ``±1/sqrt(hidden_size)``; layer-norm gains 1, biases 0."""
        super().reset_parameters()
        for name, p in self.named_parameters():
            if name.startswith("ln_weight"):
                nn.init.ones_(p)
            elif name.startswith("ln_bias"):
                nn.init.zeros_(p)

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        self._check_input(x)
        if state is None:
            state = (self._zeros(x, self.proj_size or self.hidden_size), self._zeros(x, self.hidden_size))
        h, c = state
        gx = input_gates(x, self.weight_ih, self.bias_ih, self.ln_weight_ih)
        ln_c = None
        if self.layer_norm:
            assert self.ln_weight_c is not None and self.ln_bias_c is not None  # registered with layer_norm
            ln_c = (self.ln_weight_c, self.ln_bias_c)
        h, c = lstm_step(
            gx,
            h,
            c,
            self.weight_hh,
            self.bias_hh,
            self.weight_hr,
            w_ch=self.weight_ch,
            ln_hh=self.ln_weight_hh,
            ln_c=ln_c,
            input_forget=self.input_forget,
            clip=self.clip,
            activations=self.activations,
        )
        return h, (h, c)


class GRUCell(_CellBase):
    """One GRU step from ``x_t``; parameters as in ``torch.nn.GRUCell``.

    Args:
        reset_after: ``True`` (default) is PyTorch's and cuDNN's formulation; ``False``
            applies the reset gate before the recurrent product (Cho et al. 2014).
        clip: bound every gate pre-activation to ``[-clip, clip]`` (ONNX ``clip``).
        activations: two activations ``(f, g)`` replacing ``(sigmoid, tanh)``.

    Shape:
        x: ``(B, input_size)``; state: ``h (B, hidden_size)`` or None for zeros.

    Returns:
        ``(h_t, h_t)``.

    >>> h, _ = GRUCell(3, 4)(torch.zeros(2, 3))
    >>> tuple(h.shape)
    (2, 4)
    """

    gates = 3

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        reset_after: bool = True,
        *,
        clip: float | None = None,
        activations: Sequence | None = None,
    ):
        super().__init__(input_size, hidden_size, bias)
        self.reset_after = reset_after
        self.clip = check_clip(clip)
        self.activations = activations_for(activations, GRU_ACTIVATIONS)

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        self._check_input(x)
        h = self._zeros(x, self.hidden_size) if state is None else state
        gx = F.linear(x, self.weight_ih, self.bias_ih)
        h = gru_step(
            gx, h, self.weight_hh, self.bias_hh, self.reset_after, clip=self.clip, activations=self.activations
        )
        return h, h


class RNNCell(_CellBase):
    """One Elman RNN step from ``x_t``; parameters as in ``torch.nn.RNNCell``.

    Args:
        nonlinearity: ``"tanh"`` or ``"relu"``.
        clip: bound the pre-activation to ``[-clip, clip]`` (ONNX ``clip``).
        activations: one activation ``(f,)`` replacing the nonlinearity (any of
            `lstmkit.nn.activations`); leave ``nonlinearity`` at ``"tanh"`` then.

    Shape:
        x: ``(B, input_size)``; state: ``h (B, hidden_size)`` or None for zeros.

    Returns:
        ``(h_t, h_t)``.

    >>> h, _ = RNNCell(3, 4, nonlinearity="relu")(torch.ones(2, 3))
    >>> bool((h >= 0).all())
    True
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        *,
        clip: float | None = None,
        activations: Sequence | None = None,
    ):
        self.nonlinearity, self.activations = rnn_nonlinearity(nonlinearity, activations)
        super().__init__(input_size, hidden_size, bias)
        self.clip = check_clip(clip)

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        self._check_input(x)
        h = self._zeros(x, self.hidden_size) if state is None else state
        gx = F.linear(x, self.weight_ih, self.bias_ih)
        act = self.activations[0] if self.activations else self.nonlinearity
        h = rnn_step(gx, h, self.weight_hh, self.bias_hh, act, clip=self.clip)
        return h, h


def rnn_nonlinearity(nonlinearity: str, activations: Sequence | None) -> tuple[str, tuple[Activation, ...] | None]:
    """Check an RNN's ``nonlinearity`` and ``activations``; ``"relu"`` is the activation Relu."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    acts = activations_for(activations, RNN_ACTIVATIONS)
    if acts is not None and nonlinearity != "tanh":
        raise ValueError(f"give either nonlinearity={nonlinearity!r} or activations={activations!r}, not both")
    if acts is not None and acts[0] == activation("Relu"):
        return "relu", None  # the fused kernels run it
    return nonlinearity, acts
