"""The readable per-step driver: runs any cell's step function over a sequence.

The layer (`lstmkit.nn.lstm`) handles stacking and directions; this module holds the
pieces it needs for one direction of one layer: the time loop with per-sample
lengths, recurrent (variational) dropout and zoneout, and the reversal of padded
sequences.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["run_direction", "reverse_padded", "length_mask"]

State = tuple[Tensor, ...]
StepFn = Callable[[Tensor, State], State]


def length_mask(lengths: Tensor | None, steps: int, device: torch.device) -> Tensor | None:
    """``(B, T, 1)`` boolean mask, True at real steps; None when every sequence is full."""
    if lengths is None:
        return None
    t = torch.arange(steps, device=device)
    return (t[None, :] < lengths.to(device)[:, None]).unsqueeze(-1)


def reverse_padded(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each sequence within its own length; padded steps stay where they are.

    Shape:
        x: ``(B, T, *)``; lengths: ``(B,)`` or None (then the whole time axis flips).

    >>> x = torch.tensor([[1., 2., 3.], [4., 5., 0.]]).unsqueeze(-1)
    >>> reverse_padded(x, torch.tensor([3, 2])).squeeze(-1).tolist()
    [[3.0, 2.0, 1.0], [5.0, 4.0, 0.0]]
    """
    if lengths is None:
        return x.flip(1)
    B, T = x.shape[:2]  # batch, time
    t = torch.arange(T, device=x.device)[None, :]
    n = lengths.to(x.device)[:, None]
    index = torch.where(t < n, n - 1 - t, t)  # (B, T)
    index = index.view(B, T, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)


def run_direction(
    step: StepFn,
    gx: Tensor,
    state: State,
    mask: Tensor | None = None,
    recurrent_mask: Tensor | None = None,
    zoneout: float = 0.0,
    training: bool = False,
    zoneout_masks: State | None = None,
) -> tuple[Tensor, State]:
    """Run ``step`` over every time step of ``gx``, left to right.

    Args:
        step: ``step(gx_t, state) -> state``; ``state[0]`` is the hidden state, which is
            also the step's output.
        gx: the input's share of the pre-activations, ``W_ih x_t + b_ih``, for all steps.
        state: the initial state, a tuple of ``(B, *size)`` tensors.
        mask: ``(B, T, 1)`` boolean, True at real steps (see `length_mask`).
        recurrent_mask: dropout mask on the hidden state entering the recurrent
            product, shaped like ``state[0]`` and already scaled by ``1 / (1 - p)``;
            drawn once per sequence so every step drops the same units (Gal &
            Ghahramani 2016).
        zoneout: probability that each unit keeps its previous value (Krueger et al.
            2017); in evaluation the expectation ``p * old + (1 - p) * new`` is used.
        training: use zoneout masks (True) or the expectation (False).
        zoneout_masks: one tensor per state, ``(B, T, *size)``, non-zero (True or 1.0)
            where a unit keeps its old value; drawn here, step by step, when None.
            Layers draw them up front so that every backend sees the same draw.

    Shape:
        gx: ``(B, T, *G)``.

    Returns:
        outputs ``(B, T, *H_out)`` (zeros at padded steps) and the final state, which
        for a padded sequence is the state at its last real step.
    """
    B, T = gx.shape[:2]  # batch, time
    outputs = []
    zero = torch.zeros((), dtype=gx.dtype, device=gx.device)
    for t in range(T):
        previous = state
        if recurrent_mask is not None:
            state = (state[0] * recurrent_mask, *state[1:])
        new = step(gx[:, t], state)
        if zoneout > 0.0:
            if not training:
                new = tuple(zoneout * p + (1.0 - zoneout) * n for n, p in zip(new, previous))
            elif zoneout_masks is not None:
                new = tuple(torch.where(keep[:, t] != 0, p, n) for n, p, keep in zip(new, previous, zoneout_masks))
            else:
                new = tuple(torch.where(torch.rand_like(n) < zoneout, p, n) for n, p in zip(new, previous))
        if mask is not None:
            # padded steps keep the state: the sequence has ended
            real = mask[:, t].view(B, *([1] * (new[0].dim() - 1)))
            outputs.append(torch.where(real, new[0], zero))
            new = tuple(torch.where(real, n, p) for n, p in zip(new, previous))
        else:
            outputs.append(new[0])
        state = new
    return torch.stack(outputs, dim=1), state
