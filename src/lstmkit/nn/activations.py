"""Gate and candidate activations, named as in the ONNX recurrent operators.

An LSTM uses three activation functions (ONNX calls them ``f, g, h``): ``f`` squashes
the input, forget and output gates (default sigmoid), ``g`` the candidate memory
(default tanh) and ``h`` the cell state on its way out (default tanh). A GRU uses
``f`` for its update and reset gates and ``g`` for the candidate; a plain RNN has one,
``f``. The ONNX operators let each be any of the functions below, some with
parameters ``alpha`` and ``beta``:

=================  ================================  ===========================
name               function                          default alpha, beta
=================  ================================  ===========================
Sigmoid            ``1 / (1 + exp(-x))``
Tanh               ``tanh(x)``
Relu               ``max(0, x)``
Affine             ``alpha * x + beta``              1.0, 0.0
LeakyRelu          ``x if x >= 0 else alpha * x``    0.01
ThresholdedRelu    ``x if x >= alpha else 0``        1.0
ScaledTanh         ``alpha * tanh(beta * x)``        1.0, 1.0
HardSigmoid        ``min(max(alpha*x + beta, 0), 1)``  0.2, 0.5
Elu                ``x if x >= 0 else alpha*(exp(x) - 1)``  1.0
Softsign           ``x / (1 + |x|)``
Softplus           ``log(1 + exp(x))``
=================  ================================  ===========================

Names are matched without regard to case or underscores, so ``"leaky_relu"``,
``"LeakyRelu"`` and ``"leakyrelu"`` are the same function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["Activation", "ACTIVATION_NAMES", "activation", "activations_for"]

# canonical (ONNX) name -> (uses alpha, uses beta, default alpha, default beta)
_SPECS: dict[str, tuple[bool, bool, float, float]] = {
    "Sigmoid": (False, False, 0.0, 0.0),
    "Tanh": (False, False, 0.0, 0.0),
    "Relu": (False, False, 0.0, 0.0),
    "Affine": (True, True, 1.0, 0.0),
    "LeakyRelu": (True, False, 0.01, 0.0),
    "ThresholdedRelu": (True, False, 1.0, 0.0),
    "ScaledTanh": (True, True, 1.0, 1.0),
    "HardSigmoid": (True, True, 0.2, 0.5),
    "Elu": (True, False, 1.0, 0.0),
    "Softsign": (False, False, 0.0, 0.0),
    "Softplus": (False, False, 0.0, 0.0),
}
ACTIVATION_NAMES = tuple(_SPECS)
_BY_KEY = {name.lower(): name for name in _SPECS}


@dataclass(frozen=True)
class Activation:
    """One activation function with its ``alpha`` and ``beta`` (see the module table).

    >>> Activation("LeakyRelu", alpha=0.5)(torch.tensor([-2.0, 3.0])).tolist()
    [-1.0, 3.0]
    """

    name: str
    alpha: float = 0.0
    beta: float = 0.0

    @property
    def uses_alpha(self) -> bool:
        return _SPECS[self.name][0]

    @property
    def uses_beta(self) -> bool:
        return _SPECS[self.name][1]

    def __call__(self, x: Tensor) -> Tensor:
        a, b, name = self.alpha, self.beta, self.name
        if name == "Sigmoid":
            return torch.sigmoid(x)
        if name == "Tanh":
            return torch.tanh(x)
        if name == "Relu":
            return torch.relu(x)
        if name == "Affine":
            return a * x + b
        if name == "LeakyRelu":
            return torch.where(x >= 0, x, a * x)
        if name == "ThresholdedRelu":
            return torch.where(x >= a, x, torch.zeros_like(x))
        if name == "ScaledTanh":
            return a * torch.tanh(b * x)
        if name == "HardSigmoid":
            return (a * x + b).clamp(0.0, 1.0)
        if name == "Elu":
            return torch.where(x >= 0, x, a * torch.expm1(x))
        if name == "Softsign":
            return x / (1 + x.abs())
        return F.softplus(x)  # Softplus

    def __repr__(self) -> str:
        params = [f"alpha={self.alpha}"] if self.uses_alpha else []
        params += [f"beta={self.beta}"] if self.uses_beta else []
        return f"{self.name}({', '.join(params)})"


# what an ``activations=`` entry may be: a name, a ``(name, alpha[, beta])`` tuple or an `Activation`
ActivationSpec: TypeAlias = str | Activation | Sequence[Any]


def activation(spec: ActivationSpec, alpha: float | None = None, beta: float | None = None) -> Activation:
    """Build an `Activation` from a name, a ``(name, alpha[, beta])`` tuple or an `Activation`.

    Args:
        spec: ``"tanh"``, ``"LeakyRelu"``, ``("hard_sigmoid", 0.2, 0.5)`` or an `Activation`.
        alpha, beta: parameters for the functions that take them; None for the default.

    >>> activation("hard_sigmoid")
    HardSigmoid(alpha=0.2, beta=0.5)
    >>> activation(("scaled_tanh", 2.0, 0.5))(torch.tensor([0.0])).item()
    0.0
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, (tuple, list)):
        if not 1 <= len(spec) <= 3 or not isinstance(spec[0], str):
            raise ValueError(f"an activation is a name or a (name, alpha, beta) tuple, got {spec!r}")
        return activation(spec[0], *spec[1:])
    if not isinstance(spec, str):
        raise TypeError(f"an activation is a name or a (name, alpha, beta) tuple, got {type(spec).__name__}")
    name = _BY_KEY.get(spec.replace("_", "").lower())
    if name is None:
        raise ValueError(f"unknown activation {spec!r}; expected one of {', '.join(ACTIVATION_NAMES)}")
    uses_alpha, uses_beta, default_alpha, default_beta = _SPECS[name]
    return Activation(
        name,
        float(default_alpha if alpha is None else alpha) if uses_alpha else 0.0,
        float(default_beta if beta is None else beta) if uses_beta else 0.0,
    )


def activations_for(
    specs: Sequence[ActivationSpec] | None, defaults: Sequence[str], argument: str = "activations"
) -> tuple[Activation, ...] | None:
    """Validate a cell's ``activations=`` argument; None when it equals the defaults.

    Args:
        specs: None, or one activation spec per function (``f, g, h`` for LSTM).
        defaults: the cell's default function names, e.g. ``("Sigmoid", "Tanh", "Tanh")``.

    Returns:
        A tuple of `Activation` or None when ``specs`` is None or the defaults (so the
        cell can use its fastest code).
    """
    if specs is None:
        return None
    if isinstance(specs, (str, Activation)) or not isinstance(specs, Sequence):
        raise ValueError(f"{argument} must be a sequence of {len(defaults)} activations, got {specs!r}")
    if len(specs) != len(defaults):
        raise ValueError(
            f"{argument} must list {len(defaults)} functions ({', '.join(defaults)} by default), "
            f"got {len(specs)}: {specs!r}"
        )
    acts = tuple(activation(s) for s in specs)
    if all(a.name == d for a, d in zip(acts, defaults)):
        return None
    return acts
