"""What an LSTM layer does inside: its gates, candidate, cell and hidden state at every step.

`record_lstm` runs the layer's own step equations (`lstmkit.nn.cells.lstm_step`) from
the layer's own parameters, one step at a time, and listens to them: the step takes
its activations as arguments, so the recorder hands it the layer's activations
wrapped in functions that keep what they return. Nothing is re-derived here, and the
recorded ``h`` and ``c`` are the layer's outputs and states (the tests check them
against the fused path, step by step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from lstmkit.nn.cells import input_gates, lstm_step
from lstmkit.nn.lstm import LSTM
from lstmkit.nn.recurrent import length_mask, reverse_padded

__all__ = ["Recording", "record_lstm", "GATES"]

GATES = ("input_gate", "forget_gate", "candidate", "output_gate", "cell", "hidden")


@dataclass(frozen=True)
class Recording:
    """Every step of every layer and direction of one LSTM call.

    Time is aligned with the input for every direction: ``[..., t, :]`` is the step
    that read ``x_t`` (the reverse direction reads them last to first, as in the
    layer's output). Padded steps (past a sequence's length) hold zeros.

    Attributes:
        input_gate, forget_gate, output_gate: the gates ``i, f, o``, in ``[0, 1]``.
        candidate: ``g``, the candidate memory written through the input gate.
        cell: the cell state ``c_t`` after the step.
        hidden: the hidden state ``h_t`` after the step (the layer's output).
        output: the layer's output, laid out as the layer returns it.
        final_state: ``(h_n, c_n)`` as the layer returns them.
        lengths: ``(B,)`` real lengths, or None when every sequence is full.

    Shape:
        input_gate, forget_gate, candidate, output_gate, cell: ``(L, D, B, T, H)``
        with ``L`` layers, ``D`` directions, ``H = hidden_size``.
        hidden: ``(L, D, B, T, H_out)``, ``H_out = proj_size or hidden_size``.
    """

    input_gate: Tensor
    forget_gate: Tensor
    candidate: Tensor
    output_gate: Tensor
    cell: Tensor
    hidden: Tensor
    output: Tensor
    final_state: tuple[Tensor, Tensor]
    lengths: Tensor | None

    def get(self, name: str, layer: int = 0, direction: int = 0, sample: int = 0) -> Tensor:
        """One quantity of one sequence, ``(T, H)``; ``name`` is one of `GATES`."""
        if name not in GATES:
            raise ValueError(f"name must be one of {GATES}, got {name!r}")
        values = getattr(self, name)
        L, D, B = values.shape[:3]
        for arg, value, size in (("layer", layer, L), ("direction", direction, D), ("sample", sample, B)):
            if not 0 <= value < size:
                raise ValueError(f"{arg} must be in [0, {size}), got {value}")
        steps = values.shape[3] if self.lengths is None else int(self.lengths[sample])
        return values[layer, direction, sample, :steps]


class _Listener:
    """An activation that keeps every value it returns, in call order."""

    def __init__(self, function):
        self.function = function
        self.values: list[Tensor] = []

    def __call__(self, a: Tensor) -> Tensor:
        out = self.function(a)
        self.values.append(out)
        return out


def record_lstm(
    layer: LSTM, x: Tensor, lengths: Tensor | Sequence[int] | None = None, state: tuple[Tensor, Tensor] | None = None
) -> Recording:
    """Record the gates, candidate, cell and hidden state of ``layer`` at every step.

    The layer, its parameters and its carried state (``stateful``) are left alone;
    the call runs without gradients. Every option of `lstmkit.nn.LSTM` is recorded
    except those that make a step depend on randomness or mix states after the
    step: ``zoneout`` and, in training mode, ``dropout`` / ``recurrent_dropout``
    (call ``layer.eval()`` first).

    Args:
        layer: an `lstmkit.nn.LSTM`.
        x: the input, as the layer takes it.
        lengths: real length of each sequence, as the layer takes it.
        state: initial ``(h_0, c_0)``, as the layer takes it; None for zeros (or the
            state a ``stateful`` layer carries).

    Shape:
        x: ``(B, T, input_size)`` if ``layer.batch_first`` else ``(T, B, input_size)``.

    Returns:
        A `Recording`.

    >>> lstm = LSTM(2, 3, num_layers=2, bidirectional=True).eval()
    >>> rec = record_lstm(lstm, torch.randn(4, 5, 2), lengths=[5, 4, 2, 1])
    >>> tuple(rec.forget_gate.shape), tuple(rec.get("cell", layer=1, direction=1, sample=2).shape)
    ((2, 2, 4, 5, 3), (2, 3))
    """
    if not isinstance(layer, LSTM):
        raise TypeError(f"record_lstm expects an lstmkit.nn.LSTM, got {type(layer).__name__}")
    unsupported = ["zoneout"] if layer.zoneout else []
    if layer.training:
        unsupported += [n for n in ("dropout", "recurrent_dropout") if getattr(layer, n)]
    if unsupported:
        raise ValueError(
            f"record_lstm cannot record an LSTM with {', '.join(unsupported)} "
            f"({'; '.join(f'{n}={getattr(layer, n)}' for n in unsupported)}): its steps mix in random masks or "
            "expectations the step equations do not see; call layer.eval() (dropout) or record a layer without zoneout"
        )
    x = layer._check_input(x)
    with torch.no_grad():
        if not layer.batch_first:
            x = x.transpose(0, 1)
        B, T, _ = x.shape  # batch, time, features
        lengths = layer._check_lengths(lengths, B, T)
        s0 = layer._initial_state(state, x)
        mask = length_mask(lengths, T, x.device)  # (B, T, 1) or None
        D = layer.num_directions
        records: dict[str, list[Tensor]] = {name: [] for name in GATES}
        finals: list[tuple[Tensor, Tensor]] = []
        layer_input = x
        for k in range(layer.num_layers):
            outputs = []
            for direction in range(D):
                sfx = f"_l{k}" + ("_reverse" if direction else "")
                backwards = (direction == 1) != layer.go_backwards
                inp = reverse_padded(layer_input, lengths) if backwards else layer_input
                h0, c0 = (s[k * D + direction] for s in s0)
                steps, final = _record_direction(layer, sfx, inp, h0, c0, mask)
                if backwards:
                    steps = {name: reverse_padded(v, lengths) for name, v in steps.items()}
                for name in GATES:
                    records[name].append(steps[name])
                outputs.append(steps["hidden"])
                finals.append(final)
            layer_input = torch.cat(outputs, dim=-1) if D == 2 else outputs[0]
        output = layer._merge(layer_input)
        if not layer.batch_first:
            output = output.transpose(0, 1)
        stacked = {name: torch.stack(v).unflatten(0, (layer.num_layers, D)) for name, v in records.items()}
        h_n, c_n = (torch.stack(parts) for parts in zip(*finals))
    return Recording(**stacked, output=output, final_state=(h_n, c_n), lengths=lengths)


def _record_direction(
    layer: LSTM, sfx: str, inp: Tensor, h: Tensor, c: Tensor, mask: Tensor | None
) -> tuple[dict[str, Tensor], tuple[Tensor, Tensor]]:
    """One layer and direction, left to right over ``inp`` (already reversed if need be).

    Returns each quantity ``(B, T, size)`` in step order and the final ``(h, c)``.
    """
    w = lambda name: layer._optional_weight(name, sfx)
    sigma, act_g, act_h = layer.activations or (torch.sigmoid, torch.tanh, torch.tanh)
    gx = input_gates(inp, layer._weight("weight_ih", sfx), w("bias_ih"), w("ln_weight_ih"))  # (B, T, 4H)
    ln_c = layer._layer_norm_c(sfx)
    B, T = gx.shape[:2]  # batch, time
    steps: dict[str, list[Tensor]] = {name: [] for name in GATES}
    zero = torch.zeros((), dtype=gx.dtype, device=gx.device)
    for t in range(T):
        gates, candidate = _Listener(sigma), _Listener(act_g)
        h_new, c_new = lstm_step(
            gx[:, t],
            h,
            c,
            layer._weight("weight_hh", sfx),
            w("bias_hh"),
            w("weight_hr"),
            w_ch=w("weight_ch"),
            ln_hh=w("ln_weight_hh"),
            ln_c=ln_c,
            input_forget=layer.input_forget,
            clip=layer.clip,
            activations=(gates, candidate, act_h),
        )
        # lstm_step calls the gate activation for i, f, o in that order (f = 1 - i when coupled)
        if layer.input_forget:
            (i, o), f = gates.values, 1 - gates.values[0]
        else:
            i, f, o = gates.values
        values = {
            "input_gate": i,
            "forget_gate": f,
            "candidate": candidate.values[0],
            "output_gate": o,
            "cell": c_new,
            "hidden": h_new,
        }
        if mask is None:
            h, c = h_new, c_new
        else:
            # padded steps keep the state (the sequence has ended) and record zeros
            real = mask[:, t]  # (B, 1)
            values = {name: torch.where(real, v, zero) for name, v in values.items()}
            h, c = torch.where(real, h_new, h), torch.where(real, c_new, c)
        for name, v in values.items():
            steps[name].append(v)
    return {name: torch.stack(v, dim=1) for name, v in steps.items()}, (h, c)
