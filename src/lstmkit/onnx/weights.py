"""Weights between lstmkit (PyTorch layout) and the ONNX ``LSTM`` / ``GRU`` / ``RNN`` operators.

The two differ only in the order of the gate blocks stacked in each matrix:

=====  ==================  =============================
op     PyTorch / lstmkit   ONNX
=====  ==================  =============================
LSTM   ``i, f, g, o``      ``i, o, f, c`` (``c`` = ``g``)
GRU    ``r, z, n``         ``z, r, h`` (``h`` = ``n``)
RNN    one block           one block
=====  ==================  =============================

and in the peepholes: lstmkit's ``weight_ch`` is ``i, f, o``, ONNX's ``P`` is
``i, o, f``. ONNX stacks the directions on a leading axis and concatenates the two
biases: ``B = [Wb, Rb]``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from lstmkit.nn.lstm import RecurrentLayer

__all__ = ["ONNX_GATE_ORDER", "layer_weights_to_onnx", "load_onnx_weights_"]

# for each op: ONNX block k is PyTorch block ONNX_GATE_ORDER[op][k]
ONNX_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN": (0,)}
_PEEPHOLE_ORDER = (0, 2, 1)  # ONNX (i, o, f) from lstmkit (i, f, o); the permutation is its own inverse


def _permute_blocks(t: Tensor, order: tuple[int, ...]) -> Tensor:
    blocks = t.chunk(len(order), dim=0)
    return torch.cat([blocks[k] for k in order], dim=0)


def _inverse(order: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sorted(range(len(order)), key=lambda k: order[k]))


def layer_weights_to_onnx(layer: RecurrentLayer, layer_index: int = 0) -> dict[str, np.ndarray]:
    """The ONNX operator inputs ``W``, ``R``, ``B`` (and ``P``) for one layer of ``layer``.

    Args:
        layer: an `lstmkit.nn.LSTM`, `GRU` or `RNN`.
        layer_index: which stacked layer.

    Returns:
        ``{"W": (D, G*H, I), "R": (D, G*H, H), "B": (D, 2*G*H)}`` plus ``"P": (D, 3H)``
        for a peephole LSTM, as float arrays (``D`` directions); a layer without bias
        gives ``B`` of zeros.

    >>> from lstmkit.nn import LSTM
    >>> w = layer_weights_to_onnx(LSTM(3, 2, bidirectional=True, peephole=True))
    >>> {k: v.shape for k, v in w.items()}
    {'W': (2, 8, 3), 'R': (2, 8, 2), 'B': (2, 16), 'P': (2, 6)}
    """
    op = type(layer).__name__
    order = ONNX_GATE_ORDER[op]
    out: dict[str, list[Tensor]] = {"W": [], "R": [], "B": []}
    with torch.no_grad():
        for direction in range(layer.num_directions):
            sfx = f"_l{layer_index}" + ("_reverse" if direction else "")
            w_ih, w_hh = layer._weight("weight_ih", sfx), layer._weight("weight_hh", sfx)
            bias_ih, bias_hh = layer._optional_weight("bias_ih", sfx), layer._optional_weight("bias_hh", sfx)
            w_ch = layer._optional_weight("weight_ch", sfx)
            out["W"].append(_permute_blocks(w_ih, order))
            out["R"].append(_permute_blocks(w_hh, order))
            rows = w_ih.shape[0]
            b_ih = bias_ih if bias_ih is not None else w_ih.new_zeros(rows)
            b_hh = bias_hh if bias_hh is not None else w_ih.new_zeros(rows)
            out["B"].append(torch.cat([_permute_blocks(b_ih, order), _permute_blocks(b_hh, order)]))
            if w_ch is not None:
                out.setdefault("P", []).append(_permute_blocks(w_ch, _PEEPHOLE_ORDER))
    return {k: torch.stack(v).detach().cpu().numpy() for k, v in out.items()}


def load_onnx_weights_(
    layer: RecurrentLayer,
    W: np.ndarray | Tensor,
    R: np.ndarray | Tensor,
    B: np.ndarray | Tensor | None = None,
    P: np.ndarray | Tensor | None = None,
    layer_index: int = 0,
) -> None:
    """Copy ONNX operator weights into one layer of ``layer`` in place (the inverse of
    `layer_weights_to_onnx`).

    Args:
        layer: an `lstmkit.nn.LSTM`, `GRU` or `RNN` whose shapes match.
        W, R: ``(D, G*H, I)`` and ``(D, G*H, H)``.
        B: ``(D, 2*G*H)``, or None when the layer has no bias.
        P: ``(D, 3H)`` peepholes, for a layer built with ``peephole=True``.
    """
    op = type(layer).__name__
    back = _inverse(ONNX_GATE_ORDER[op])
    as_tensor = lambda a: a if isinstance(a, Tensor) else torch.from_numpy(np.array(a))
    with torch.no_grad():
        for direction in range(layer.num_directions):
            sfx = f"_l{layer_index}" + ("_reverse" if direction else "")
            p = lambda name, sfx=sfx: getattr(layer, name + sfx)
            p("weight_ih").copy_(_permute_blocks(as_tensor(W[direction]), back))
            p("weight_hh").copy_(_permute_blocks(as_tensor(R[direction]), back))
            if B is not None:
                wb, rb = as_tensor(B[direction]).chunk(2)
                p("bias_ih").copy_(_permute_blocks(wb, back))
                p("bias_hh").copy_(_permute_blocks(rb, back))
            if P is not None:
                p("weight_ch").copy_(_permute_blocks(as_tensor(P[direction]), _PEEPHOLE_ORDER))
