"""Initialisers for recurrent layers.

``"orthogonal"`` (lstmkit's default, as in Keras): Xavier/Glorot uniform for the input
weights, an orthogonal matrix for each gate's block of the recurrent weights (so the
recurrent map neither blows up nor shrinks the state at the start of training), zero
biases, and a forget-gate bias of 1 so an untrained LSTM remembers by default
(Jozefowicz et al. 2015). ``"torch"``: PyTorch's uniform ``±1/sqrt(hidden_size)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["INIT_SCHEMES", "init_recurrent_"]

INIT_SCHEMES = ("orthogonal", "torch")


@torch.no_grad()
def init_recurrent_(
    module: nn.Module,
    scheme: str = "orthogonal",
    gates: int = 4,
    hidden_size: int | None = None,
    forget_bias: float | None = None,
) -> None:
    """Initialise every recurrent parameter of ``module`` in place.

    ``weight_ih*``, ``weight_hh*``, ``weight_hr*`` and ``bias_*`` follow ``scheme``;
    peephole weights ``weight_ch*`` start at zero under ``"orthogonal"`` (the cell
    starts as a plain LSTM) and uniform under ``"torch"``; layer-norm gains
    ``ln_weight*`` start at one and layer-norm biases ``ln_bias*`` at zero.

    Args:
        module: a layer or cell with PyTorch-named recurrent parameters.
        scheme: ``"orthogonal"`` or ``"torch"`` (see the module docstring).
        gates: gate blocks stacked in the weights (LSTM 4, GRU 3, RNN 1).
        hidden_size: size of one gate block; read from ``module.hidden_size`` if None.
        forget_bias: value of the LSTM forget-gate bias (gate block 1) under
            ``"orthogonal"``; None leaves it at zero.
    """
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"init must be one of {INIT_SCHEMES}, got {scheme!r}")
    if not hidden_size:
        size = module.hidden_size
        assert isinstance(size, int), f"{type(module).__name__}.hidden_size must be an int"
        hidden_size = size
    for name, p in module.named_parameters():
        if name.startswith("ln_weight"):
            nn.init.ones_(p)
        elif name.startswith("ln_bias"):
            nn.init.zeros_(p)
        elif scheme == "torch":
            bound = 1.0 / math.sqrt(hidden_size)
            nn.init.uniform_(p, -bound, bound)
        elif name.startswith("weight_ch"):
            nn.init.zeros_(p)
        elif name.startswith(("weight_ih", "weight_hr")):
            nn.init.xavier_uniform_(p)
        elif name.startswith("weight_hh"):
            for block in p.chunk(gates, dim=0):
                nn.init.orthogonal_(block)
        elif name.startswith("bias"):
            nn.init.zeros_(p)
            # the two biases add up: put the forget bias in bias_ih only
            if forget_bias is not None and name.startswith("bias_ih"):
                p[hidden_size : 2 * hidden_size] = forget_bias
