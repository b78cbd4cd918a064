"""`LSTM`, `GRU` and `RNN` layers: what users import.

Parameters are named and laid out exactly like ``torch.nn.LSTM`` / ``GRU`` / ``RNN``
(``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``weight_hr_l0``,
``..._reverse``), so a ``state_dict`` moves both ways unchanged.

The variants (peepholes, layer normalisation, coupled gates, clipping, custom
activations; see `lstmkit.nn.cells`) add parameters with the same suffixes
(``weight_ch_l0``, ``ln_weight_hh_l0_reverse``, ...), so the torch-named ones still
load from and into ``torch.nn`` where the equations agree.

Three ways to run, same numbers:

* ``fused``: torch's own kernels (oneDNN on CPU, cuDNN on GPU), through the same
  ``torch._VF`` entry points ``torch.nn.LSTM`` calls, with ``pack_padded_sequence``
  for per-sample lengths;
* ``sequence`` (LSTM only): `lstmkit.nn.fused.lstm_sequence`, one autograd Function
  per direction with a hand-written backward, which runs peepholes, layer norm,
  recurrent dropout and zoneout several times faster than the per-step driver;
* ``reference``: the readable per-step driver of `lstmkit.nn.recurrent`, which runs
  every option.

``backend="auto"`` picks ``fused`` whenever the options allow it, then ``sequence``.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import _VF, Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstmkit.nn.activations import Activation, ActivationSpec, activations_for
from lstmkit.nn.cells import (
    GRU_ACTIVATIONS,
    LSTM_ACTIVATIONS,
    check_clip,
    gru_step,
    input_gates,
    lstm_step,
    rnn_nonlinearity,
    rnn_step,
)
from lstmkit.nn.fused import lstm_sequence
from lstmkit.nn.init import INIT_SCHEMES, init_recurrent_
from lstmkit.nn.recurrent import StepFn, length_mask, reverse_padded, run_direction
from lstmkit.utils.checks import positive_int, rate

__all__ = ["RecurrentLayer", "LSTM", "GRU", "RNN", "BACKENDS", "MERGE_MODES"]

BACKENDS = ("auto", "fused", "sequence", "reference")
MERGE_MODES = ("concat", "sum", "mul", "ave")

State = tuple[Tensor, ...]


class RecurrentLayer(nn.Module, metaclass=abc.ABCMeta):
    """Shared machinery of `LSTM`, `GRU` and `RNN`; a subclass says how one step runs."""

    _gates: int  # gate blocks stacked in each weight matrix
    proj_size: int = 0  # only LSTM projects
    _state_names: tuple[str, ...]  # ("h",) or ("h", "c")
    clip: float | None  # set by every subclass
    activations: tuple[Activation, ...] | None
    weight_ih_l0: Tensor  # registered in __init__, like every ``*_l{k}`` parameter
    weight_hh_l0: Tensor

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        merge_mode: str = "concat",
        recurrent_dropout: float = 0.0,
        zoneout: float = 0.0,
        go_backwards: bool = False,
        stateful: bool = False,
        backend: str = "auto",
        init: str = "orthogonal",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ):
        super().__init__()
        self.input_size = positive_int("input_size", input_size)
        self.hidden_size = positive_int("hidden_size", hidden_size)
        self.num_layers = positive_int("num_layers", num_layers)
        self.dropout = rate("dropout", dropout)
        self.recurrent_dropout = rate("recurrent_dropout", recurrent_dropout)
        self.zoneout = rate("zoneout", zoneout)
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"merge_mode must be one of {MERGE_MODES}, got {merge_mode!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if init not in INIT_SCHEMES:
            raise ValueError(f"init must be one of {INIT_SCHEMES}, got {init!r}")
        if go_backwards and bidirectional:
            raise ValueError(
                "go_backwards=True has no meaning with bidirectional=True: a bidirectional layer reads both ways"
            )
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.bidirectional = bool(bidirectional)
        self.merge_mode = merge_mode
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.backend = backend
        self.init = init
        self._state: State | None = None  # carried between calls when stateful

        H, G, D, proj_size = hidden_size, self._gates, self.num_directions, self.proj_size
        self._flat_weight_names: list[str] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else self.output_size * D
            for direction in range(D):
                sfx = f"_l{layer}" + ("_reverse" if direction else "")
                shapes: dict[str, tuple[int, ...]] = {
                    "weight_ih": (G * H, layer_input),
                    "weight_hh": (G * H, proj_size or H),
                    **({"bias_ih": (G * H,), "bias_hh": (G * H,)} if bias else {}),
                    **({"weight_hr": (proj_size, H)} if proj_size else {}),
                }
                for name, shape in shapes.items():
                    self.register_parameter(name + sfx, nn.Parameter(torch.empty(shape, device=device, dtype=dtype)))
                    self._flat_weight_names.append(name + sfx)
                # the variants' parameters come after torch's and stay out of the flat weights
                for name, shape in self._variant_parameter_shapes().items():
                    self.register_parameter(name + sfx, nn.Parameter(torch.empty(shape, device=device, dtype=dtype)))
        self.reset_parameters()
        static = self._static_fused_blockers()
        if backend == "fused" and static:
            raise ValueError(f"backend='fused' cannot run {', '.join(static)}; use backend='auto' or 'reference'")
        static = self._sequence_blockers()
        if backend == "sequence" and static:
            raise ValueError(f"backend='sequence' cannot run {', '.join(static)}; use backend='auto' or 'reference'")

    # ---- sizes and options ------------------------------------------------------

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """Size of one direction's hidden state (``proj_size`` when projecting)."""
        return self.proj_size or self.hidden_size

    def reset_parameters(self) -> None:
        init_recurrent_(self, self.init, self._gates, self.hidden_size, self._forget_bias())

    def reset_state(self) -> None:
        """Forget the state a ``stateful`` layer carries between calls."""
        self._state = None

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, batch_first={self.batch_first}"
        for name, default in (
            ("bias", True),
            ("dropout", 0.0),
            ("bidirectional", False),
            ("merge_mode", "concat"),
            ("proj_size", 0),
            ("recurrent_dropout", 0.0),
            ("zoneout", 0.0),
            ("go_backwards", False),
            ("stateful", False),
            ("backend", "auto"),
        ):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)!r}"
        return s

    # ---- what a subclass provides -----------------------------------------------

    def _forget_bias(self) -> float | None:
        return None

    def _static_fused_blockers(self) -> list[str]:
        return ["zoneout"] if self.zoneout else []

    def _sequence_blockers(self) -> list[str]:
        """Options the ``sequence`` backend cannot run (it exists for LSTM only)."""
        return [f"{type(self).__name__} (LSTM only)"]

    def _variant_parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        return {}

    @abc.abstractmethod
    def _step(self, sfx: str) -> StepFn:
        """The step function of one layer and direction (parameter suffix ``sfx``) for the driver."""

    @abc.abstractmethod
    def _fused_call(self, *args: Any) -> tuple[Tensor, ...]:
        """The ``torch._VF`` kernel: ``(output, *final_states)``."""

    def _run_sequence(
        self,
        sfx: str,
        inp: Tensor,
        s0: State,
        lengths: Tensor | None,
        recurrent_mask: Tensor | None,
        zoneout_masks: State | None,
    ) -> tuple[Tensor, State]:
        """One layer and direction through the ``sequence`` backend (LSTM only)."""
        raise ValueError(f"backend='sequence' runs LSTM layers only, not {type(self).__name__}")

    def _weight(self, name: str, sfx: str) -> Tensor:
        """The parameter ``name + sfx``, which every layer of this kind has."""
        weight: Tensor = getattr(self, name + sfx)
        return weight

    def _optional_weight(self, name: str, sfx: str) -> Tensor | None:
        """The parameter ``name + sfx``, or None where the options leave it out."""
        weight: Tensor | None = getattr(self, name + sfx, None)
        return weight

    # ---- forward ----------------------------------------------------------------

    def uses_fused(self) -> bool:
        """Whether the next forward call runs torch's fused kernels (depends on ``training``)."""
        blockers = self._fused_blockers()
        if self.backend == "fused" and blockers:
            raise ValueError(f"backend='fused' cannot run {', '.join(blockers)}; use backend='auto' or 'reference'")
        return self.backend in ("auto", "fused") and not blockers

    def execution_path(self) -> str:
        """Which code the next forward call runs: ``"fused"``, ``"sequence"`` or ``"reference"``.

        >>> LSTM(3, 4).execution_path(), LSTM(3, 4, peephole=True).execution_path()
        ('fused', 'sequence')
        >>> LSTM(3, 4, clip=3.0).execution_path()
        'reference'
        """
        if self.uses_fused():
            return "fused"
        if self.backend in ("auto", "sequence") and not self._sequence_blockers():
            return "sequence"
        return "reference"

    def _fused_blockers(self) -> list[str]:
        blockers = self._static_fused_blockers()
        if self.recurrent_dropout and self.training:
            blockers.append("recurrent_dropout in training")
        return blockers

    def forward(
        self, x: Tensor, state: Tensor | State | None = None, lengths: Tensor | Sequence[int] | None = None
    ) -> tuple[Tensor, Tensor | State]:
        """Run the layer over a (padded) batch of sequences.

        Args:
            x: the input sequences.
            state: initial state, ``(h_0, c_0)`` for LSTM and ``h_0`` for GRU/RNN, or
                None for zeros (or, when ``stateful``, the state of the last call).
            lengths: real length of each sequence, in any order; steps past it are
                padding: their outputs are zeros and they leave the state alone.

        Shape:
            x: ``(B, T, input_size)`` if ``batch_first`` else ``(T, B, input_size)``.
            h_0, h_n: ``(num_layers * num_directions, B, H_out)``, ``H_out = proj_size or hidden_size``.
            c_0, c_n: ``(num_layers * num_directions, B, hidden_size)``.
            lengths: ``(B,)`` integers in ``[1, T]``.
            output: ``(B, T, D * H_out)`` for ``merge_mode="concat"`` (``D`` = 2 if
                bidirectional else 1), ``(B, T, H_out)`` for the other merge modes;
                time-major when not ``batch_first``.

        Returns:
            ``(output, state)`` with ``state`` laid out like the argument: the final
            state of every layer and direction, taken at each sequence's last real step.
        """
        x = self._check_input(x)
        if not self.batch_first:
            x = x.transpose(0, 1)
        B, T, _ = x.shape  # batch, time, features
        lengths = self._check_lengths(lengths, B, T)
        state = self._initial_state(state, x)
        path = self.execution_path()
        if B == 0:
            output, state = x.new_zeros(0, T, self.num_directions * self.output_size), state
        elif path == "fused":
            output, state = self._forward_fused(x, state, lengths)
        else:
            output, state = self._forward_unfused(x, state, lengths, fast=path == "sequence")
        output = self._merge(output)
        if self.stateful:
            self._state = tuple(s.detach() for s in state)
        if not self.batch_first:
            output = output.transpose(0, 1)
        return output, (state if len(state) > 1 else state[0])

    def _forward_fused(self, x: Tensor, state: State, lengths: Tensor | None) -> tuple[Tensor, State]:
        if self.go_backwards:
            x = reverse_padded(x, lengths)
        hx: State | Tensor = state if len(state) > 1 else state[0]
        weights = [getattr(self, n) for n in self._flat_weight_names]
        args = (weights, self.bias, self.num_layers, self.dropout, self.training, self.bidirectional)
        if lengths is None:
            output, *final = self._fused_call(x, hx, *args, True)
        else:
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            order, back = packed.sorted_indices, packed.unsorted_indices
            assert order is not None and back is not None  # enforce_sorted=False always records the sort
            hx = tuple(h.index_select(1, order) for h in hx) if isinstance(hx, tuple) else hx.index_select(1, order)
            data, *final = self._fused_call(packed.data, packed.batch_sizes, hx, *args)
            repacked = PackedSequence(data, packed.batch_sizes, order, back)
            output, _ = pad_packed_sequence(repacked, batch_first=True, total_length=x.shape[1])
            final = [f.index_select(1, back) for f in final]
        if self.go_backwards:
            output = reverse_padded(output, lengths)
        return output, tuple(final)

    def _forward_unfused(self, x: Tensor, state: State, lengths: Tensor | None, fast: bool) -> tuple[Tensor, State]:
        """Every layer and direction through the per-step driver, or the ``sequence`` fast path."""
        B, T, _ = x.shape  # batch, time, features
        mask = length_mask(lengths, T, x.device)
        D = self.num_directions
        finals: list[State] = []
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(D):
                sfx = f"_l{layer}" + ("_reverse" if direction else "")
                backwards = (direction == 1) != self.go_backwards
                inp = reverse_padded(layer_input, lengths) if backwards else layer_input
                s0 = tuple(s[layer * D + direction] for s in state)
                recurrent_mask, zoneout_masks = self._draw_masks(s0, T)
                if fast:
                    y, s_n = self._run_sequence(sfx, inp, s0, lengths, recurrent_mask, zoneout_masks)
                else:
                    y, s_n = run_direction(
                        self._step(sfx),
                        self._input_gates(inp, sfx),
                        s0,
                        mask,
                        recurrent_mask,
                        self.zoneout,
                        self.training,
                        zoneout_masks,
                    )
                outputs.append(reverse_padded(y, lengths) if backwards else y)
                finals.append(s_n)
            layer_input = torch.cat(outputs, dim=-1) if D == 2 else outputs[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                # contiguous first: dropout draws follow memory order, the same on every backend
                layer_input = F.dropout(layer_input.contiguous(), self.dropout, training=True)
        return layer_input, tuple(torch.stack(parts) for parts in zip(*finals))

    def _input_gates(self, inp: Tensor, sfx: str) -> Tensor:
        return input_gates(inp, getattr(self, "weight_ih" + sfx), getattr(self, "bias_ih" + sfx, None))

    def _draw_masks(self, s0: State, T: int) -> tuple[Tensor | None, State | None]:
        """This direction's random masks, drawn up front so every backend sees the same draw.

        Returns the recurrent dropout mask ``(B, H_out)`` — one per sequence and sample,
        the same at every step (variational dropout) — and the zoneout keep-masks
        ``(B, T, size)`` for each state (1.0 where a unit keeps its old value); None for
        whatever is off.
        """
        if not self.training:
            return None, None
        recurrent_mask = None
        if self.recurrent_dropout:
            keep = 1.0 - self.recurrent_dropout
            recurrent_mask = torch.bernoulli(torch.full_like(s0[0], keep)) / keep
        zoneout_masks = None
        if self.zoneout:  # 1.0 = keep; drawn time-major (the fast path's layout), handed over as (B, T, size) views
            zoneout_masks = tuple(
                torch.empty(T, *s.shape, dtype=s.dtype, device=s.device).bernoulli_(self.zoneout).transpose(0, 1)
                for s in s0
            )
        return recurrent_mask, zoneout_masks

    def _merge(self, output: Tensor) -> Tensor:
        if not self.bidirectional or self.merge_mode == "concat":
            return output
        forward, backward = output.chunk(2, dim=-1)
        if self.merge_mode == "sum":
            return forward + backward
        if self.merge_mode == "mul":
            return forward * backward
        return (forward + backward) / 2

    # ---- argument checks ---------------------------------------------------------

    def _check_input(self, x: Tensor) -> Tensor:
        name = type(self).__name__
        if isinstance(x, PackedSequence):
            raise TypeError(f"{name} takes a padded tensor and `lengths=`, not a PackedSequence")
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} expects a torch.Tensor input, got {type(x).__name__}")
        layout = "(batch, time, features)" if self.batch_first else "(time, batch, features)"
        if x.dim() != 3:
            raise ValueError(f"{name} expects a 3-D input {layout}, got shape {tuple(x.shape)}")
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name} expects {self.input_size} input features (last dim), "
                f"got {x.shape[-1]} in shape {tuple(x.shape)}"
            )
        if x.shape[1 if self.batch_first else 0] == 0:
            raise ValueError(f"{name} got a sequence of length 0 in input of shape {tuple(x.shape)}")
        weight = self.weight_ih_l0
        if x.dtype != weight.dtype:
            raise TypeError(
                f"{name} input dtype {x.dtype} does not match the layer's parameters ({weight.dtype}); "
                "convert one of them"
            )
        if x.device != weight.device:
            raise ValueError(f"{name} input is on {x.device} but the layer's parameters are on {weight.device}")
        return x

    def _check_lengths(self, lengths: Tensor | Sequence[int] | None, B: int, T: int) -> Tensor | None:
        if lengths is None:
            return None
        if not isinstance(lengths, Tensor):
            lengths = torch.as_tensor(lengths)
        if lengths.dtype.is_floating_point or lengths.dtype == torch.bool or lengths.dtype.is_complex:
            raise TypeError(f"lengths must hold integers, got dtype {lengths.dtype}")
        if lengths.dim() != 1 or lengths.shape[0] != B:
            raise ValueError(
                f"lengths must have shape ({B},) (one per sequence in the batch), got {tuple(lengths.shape)}"
            )
        lengths = lengths.to("cpu", torch.int64)
        if B and (lengths.min() < 1 or lengths.max() > T):
            bad = lengths[(lengths < 1) | (lengths > T)]
            raise ValueError(f"lengths must be in [1, {T}] (the padded sequence length), got {bad.tolist()}")
        return lengths

    def _initial_state(self, state: Tensor | State | None, x: Tensor) -> State:
        B = x.shape[0]
        if state is None and self.stateful and self._state is not None:
            if self._state[0].shape[1] != B:
                raise ValueError(
                    f"this stateful {type(self).__name__} carries state for batch size {self._state[0].shape[1]}, "
                    f"got a batch of {B}; call reset_state() first"
                )
            return self._state
        rows = self.num_layers * self.num_directions
        sizes = {"h": self.output_size, "c": self.hidden_size}
        if state is None:
            return tuple(x.new_zeros(rows, B, sizes[n]) for n in self._state_names)
        parts = state if len(self._state_names) > 1 else (state,)
        if len(self._state_names) > 1 and not (isinstance(state, (tuple, list)) and len(state) == 2):
            raise TypeError(f"{type(self).__name__} state must be a tuple (h_0, c_0), got {type(state).__name__}")
        for name, s in zip(self._state_names, parts):
            if not isinstance(s, Tensor):
                raise TypeError(f"{name}_0 must be a torch.Tensor, got {type(s).__name__}")
            expected = (rows, B, sizes[name])
            if tuple(s.shape) != expected:
                raise ValueError(
                    f"{name}_0 must have shape {expected} (layers * directions, batch, size), got {tuple(s.shape)}"
                )
            if s.dtype != x.dtype or s.device != x.device:
                raise TypeError(f"{name}_0 is {s.dtype} on {s.device}, expected {x.dtype} on {x.device} like the input")
        return tuple(parts)


class LSTM(RecurrentLayer):
    """Long Short-Term Memory layer, a drop-in for ``torch.nn.LSTM`` with more options.

    Args:
        input_size: features per time step.
        hidden_size: size of the cell state (and of the hidden state unless projected).
        num_layers: stacked layers; layer ``k + 1`` reads layer ``k``'s outputs.
        bias: learn ``bias_ih`` and ``bias_hh``.
        batch_first: ``(B, T, F)`` tensors (default) instead of ``(T, B, F)``.
        dropout: dropout on the outputs of every layer but the last (training only).
        bidirectional: run a second LSTM over the reversed sequences.
        merge_mode: how the final outputs of the two directions combine: ``"concat"``
            (default, as torch), ``"sum"``, ``"mul"``, ``"ave"``. Between stacked
            layers they are always concatenated, so parameters keep torch's shapes.
        proj_size: if > 0, project the hidden state to this size (LSTMP).
        peephole: the gates see the cell state: input and forget gates ``c_{t-1}``,
            the output gate ``c_t`` (Gers & Schmidhuber 2000); parameters
            ``weight_ch_l{k}`` of shape ``(3 * hidden_size,)`` for ``i, f, o``.
        layer_norm: layer-normalised LSTM (Ba et al. 2016): the input and recurrent
            pre-activations are normalised over the four gates (gains
            ``ln_weight_ih_l{k}``, ``ln_weight_hh_l{k}``) and the cell state on its way
            to the output (``ln_weight_c_l{k}``, ``ln_bias_c_l{k}``).
        input_forget: couple the forget gate to the input gate, ``f = 1 - i`` (CIFG;
            ONNX ``input_forget``). The forget-gate rows of the weights stay, unused.
        clip: bound every gate pre-activation to ``[-clip, clip]`` before its
            activation (ONNX ``clip``, "cell clip").
        activations: three activations ``(f, g, h)`` for the gates, the candidate and
            the output, replacing ``("sigmoid", "tanh", "tanh")``; names,
            ``(name, alpha, beta)`` tuples or `lstmkit.nn.activations.Activation`.
        recurrent_dropout: variational dropout on the hidden state entering the
            recurrent product: one mask per sequence and sample, kept over time.
        zoneout: probability that each unit of ``h`` and ``c`` keeps its old value.
        go_backwards: read the sequence last to first; ``output[:, t]`` is then the
            state after reading steps ``T-1 .. t`` (aligned with the input, like the
            reverse half of a bidirectional layer).
        stateful: carry the final state into the next call (truncated BPTT, streaming);
            the carried state is detached; `reset_state` forgets it.
        backend: ``"auto"`` (torch's fused kernels when the options allow, else the
            ``sequence`` fast path when it can, else the reference driver),
            ``"fused"`` / ``"sequence"`` (error if they cannot run the options),
            ``"reference"`` (the readable per-step driver). See `execution_path`.
        init: ``"orthogonal"`` (Glorot input weights, orthogonal recurrent blocks, zero
            biases and peepholes) or ``"torch"`` (PyTorch's uniform init).
        forget_bias: forget-gate bias under ``init="orthogonal"`` (default 1.0, as Keras'
            ``unit_forget_bias``), so an untrained LSTM keeps its memory.

    Shape: see `forward`.

    >>> lstm = LSTM(3, 8, num_layers=2, bidirectional=True)
    >>> out, (h, c) = lstm(torch.randn(4, 10, 3), lengths=[10, 7, 3, 1])
    >>> tuple(out.shape), tuple(h.shape)
    ((4, 10, 16), (4, 4, 8))
    >>> ln = LSTM(3, 8, layer_norm=True, peephole=True, zoneout=0.1)
    >>> ln.execution_path(), tuple(ln(torch.randn(4, 10, 3))[0].shape)
    ('sequence', (4, 10, 8))
    """

    _gates = 4
    _state_names = ("h", "c")

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        proj_size: int = 0,
        forget_bias: float = 1.0,
        peephole: bool = False,
        layer_norm: bool = False,
        input_forget: bool = False,
        clip: float | None = None,
        activations: Sequence[ActivationSpec] | None = None,
        **options: Any,
    ):
        if isinstance(proj_size, bool) or not isinstance(proj_size, int) or not 0 <= proj_size < hidden_size:
            raise ValueError(f"proj_size must be an integer in [0, hidden_size={hidden_size}), got {proj_size!r}")
        self.proj_size = proj_size
        self.forget_bias = float(forget_bias)
        self.peephole = bool(peephole)
        self.layer_norm = bool(layer_norm)
        self.input_forget = bool(input_forget)
        self.clip = check_clip(clip)
        self.activations = activations_for(activations, LSTM_ACTIVATIONS)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, **options)

    def _forget_bias(self) -> float | None:
        return self.forget_bias if self.bias else None

    def _variant_parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        H = self.hidden_size
        shapes: dict[str, tuple[int, ...]] = {"weight_ch": (3 * H,)} if self.peephole else {}
        if self.layer_norm:
            shapes.update(ln_weight_ih=(4 * H,), ln_weight_hh=(4 * H,), ln_weight_c=(H,), ln_bias_c=(H,))
        return shapes

    def _variant_names(self) -> list[str]:
        names = [n for n in ("peephole", "layer_norm", "input_forget") if getattr(self, n)]
        names += ["clip"] if self.clip is not None else []
        names += ["activations"] if self.activations is not None else []
        return names

    def _static_fused_blockers(self) -> list[str]:
        return super()._static_fused_blockers() + self._variant_names()

    def _sequence_blockers(self) -> list[str]:
        blockers = [n for n in self._variant_names() if n not in ("peephole", "layer_norm")]
        return blockers + (["proj_size"] if self.proj_size else [])

    def extra_repr(self) -> str:
        s = super().extra_repr()
        for name in self._variant_names():
            value = getattr(self, name)
            s += f", {name}={value!r}" if name in ("clip", "activations") else f", {name}=True"
        return s

    def _input_gates(self, inp: Tensor, sfx: str) -> Tensor:
        w = lambda name: self._optional_weight(name, sfx)
        return input_gates(inp, self._weight("weight_ih", sfx), w("bias_ih"), w("ln_weight_ih"))

    def _layer_norm_c(self, sfx: str) -> tuple[Tensor, Tensor] | None:
        if not self.layer_norm:
            return None
        return self._weight("ln_weight_c", sfx), self._weight("ln_bias_c", sfx)

    def _step(self, sfx: str) -> StepFn:
        w = lambda name: self._optional_weight(name, sfx)
        w_hh, b_hh, w_hr, w_ch, ln_hh = (
            self._weight("weight_hh", sfx),
            w("bias_hh"),
            w("weight_hr"),
            w("weight_ch"),
            w("ln_weight_hh"),
        )
        ln_c = self._layer_norm_c(sfx)
        input_forget, clip, activations = self.input_forget, self.clip, self.activations
        return lambda gx, s: lstm_step(
            gx,
            s[0],
            s[1],
            w_hh,
            b_hh,
            w_hr,
            w_ch=w_ch,
            ln_hh=ln_hh,
            ln_c=ln_c,
            input_forget=input_forget,
            clip=clip,
            activations=activations,
        )

    def _run_sequence(
        self,
        sfx: str,
        inp: Tensor,
        s0: State,
        lengths: Tensor | None,
        recurrent_mask: Tensor | None,
        zoneout_masks: State | None,
    ) -> tuple[Tensor, State]:
        w = lambda name: self._optional_weight(name, sfx)
        b_ih = w("bias_ih")
        y, state = lstm_sequence(
            inp.transpose(0, 1),
            s0[0],
            s0[1],
            self._weight("weight_ih", sfx),
            self._weight("weight_hh", sfx),
            None if b_ih is None else b_ih + self._weight("bias_hh", sfx),  # both biases or neither
            lengths,
            ln_ih=w("ln_weight_ih"),
            w_ch=w("weight_ch"),
            ln_hh=w("ln_weight_hh"),
            ln_c=self._layer_norm_c(sfx),
            recurrent_mask=recurrent_mask,
            zoneout=self.zoneout,
            zoneout_masks=zoneout_masks,
        )
        return y.transpose(0, 1), state

    def _fused_call(self, *args: Any) -> tuple[Tensor, ...]:
        return _VF.lstm(*args)


class GRU(RecurrentLayer):
    """Gated Recurrent Unit layer, a drop-in for ``torch.nn.GRU`` with more options.

    Takes the arguments of `LSTM` except ``proj_size``, ``forget_bias``, ``peephole``,
    ``layer_norm`` and ``input_forget``, plus:

    Args:
        reset_after: ``True`` (default; PyTorch's and cuDNN's form, fused; ONNX
            ``linear_before_reset=1``) applies the reset gate to ``W_hn h + b_hn``;
            ``False`` applies it to ``h`` before the product (the original GRU).
        clip: bound every gate pre-activation to ``[-clip, clip]`` (ONNX ``clip``).
        activations: two activations ``(f, g)`` for the gates and the candidate,
            replacing ``("sigmoid", "tanh")``.

    >>> out, h = GRU(3, 8)(torch.randn(2, 5, 3))
    >>> tuple(out.shape), tuple(h.shape)
    ((2, 5, 8), (1, 2, 8))
    """

    _gates = 3
    _state_names = ("h",)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        reset_after: bool = True,
        clip: float | None = None,
        activations: Sequence[ActivationSpec] | None = None,
        **options: Any,
    ):
        self.reset_after = bool(reset_after)
        self.clip = check_clip(clip)
        self.activations = activations_for(activations, GRU_ACTIVATIONS)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, **options)

    def _variant_names(self) -> list[str]:
        names = [] if self.reset_after else ["reset_after=False"]
        names += ["clip"] if self.clip is not None else []
        return names + (["activations"] if self.activations is not None else [])

    def _static_fused_blockers(self) -> list[str]:
        return super()._static_fused_blockers() + self._variant_names()

    def extra_repr(self) -> str:
        s = super().extra_repr() + ("" if self.reset_after else ", reset_after=False")
        s += f", clip={self.clip!r}" if self.clip is not None else ""
        return s + (f", activations={self.activations!r}" if self.activations is not None else "")

    def _step(self, sfx: str) -> StepFn:
        w_hh, b_hh = self._weight("weight_hh", sfx), self._optional_weight("bias_hh", sfx)
        clip, activations = self.clip, self.activations
        return lambda gx, s: (gru_step(gx, s[0], w_hh, b_hh, self.reset_after, clip=clip, activations=activations),)

    def _fused_call(self, *args: Any) -> tuple[Tensor, ...]:
        return _VF.gru(*args)


class RNN(RecurrentLayer):
    """Elman RNN layer (tanh or ReLU), a drop-in for ``torch.nn.RNN`` with more options.

    Takes the arguments of `GRU` except ``reset_after``, plus:

    Args:
        nonlinearity: ``"tanh"`` (default) or ``"relu"``.
        activations: one activation ``(f,)`` replacing the nonlinearity (any of
            `lstmkit.nn.activations`; ONNX ``f``); leave ``nonlinearity`` at its default.

    >>> out, h = RNN(3, 8, nonlinearity="relu")(torch.randn(2, 5, 3))
    >>> tuple(out.shape)
    (2, 5, 8)
    """

    _gates = 1
    _state_names = ("h",)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = True,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        nonlinearity: str = "tanh",
        clip: float | None = None,
        activations: Sequence[ActivationSpec] | None = None,
        **options: Any,
    ):
        self.nonlinearity, self.activations = rnn_nonlinearity(nonlinearity, activations)
        self.clip = check_clip(clip)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, **options)

    def _variant_names(self) -> list[str]:
        names = ["clip"] if self.clip is not None else []
        return names + (["activations"] if self.activations is not None else [])

    def _static_fused_blockers(self) -> list[str]:
        return super()._static_fused_blockers() + self._variant_names()

    def extra_repr(self) -> str:
        s = super().extra_repr() + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")
        s += f", clip={self.clip!r}" if self.clip is not None else ""
        return s + (f", activations={self.activations!r}" if self.activations is not None else "")

    def _step(self, sfx: str) -> StepFn:
        w_hh, b_hh = self._weight("weight_hh", sfx), self._optional_weight("bias_hh", sfx)
        act = self.activations[0] if self.activations is not None else self.nonlinearity
        return lambda gx, s: (rnn_step(gx, s[0], w_hh, b_hh, act, clip=self.clip),)

    def _fused_call(self, *args: Any) -> tuple[Tensor, ...]:
        kernel = _VF.rnn_tanh if self.nonlinearity == "tanh" else _VF.rnn_relu
        return kernel(*args)
