"""Optimisers and learning-rate schedules by name.

Schedules and when they step:

* ``"plateau"``: ``ReduceLROnPlateau`` on the validation loss (the training loss
  without a validation set), once per epoch. Defaults: ``factor=0.1, patience=10``.
* ``"cosine"``: ``CosineAnnealingLR`` from ``lr`` down to ``eta_min`` (default 0)
  over all the batches of ``max_epochs`` epochs, once per batch.
* ``"onecycle"``: ``OneCycleLR`` with ``max_lr=lr`` over all the batches of
  ``max_epochs`` epochs, once per batch (with truncated BPTT the chunks of a batch
  share its learning rate).

Any other constructor argument of the torch scheduler can be passed through
``schedule_options``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from lstmkit.errors import ConfigError

__all__ = ["OPTIMIZERS", "SCHEDULES", "PER_BATCH_SCHEDULES", "build_optimizer", "build_scheduler"]

OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
SCHEDULES = ("plateau", "cosine", "onecycle")
PER_BATCH_SCHEDULES = ("cosine", "onecycle")


def build_optimizer(
    name: str,
    params: Iterable[nn.Parameter],
    *,
    lr: float,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
) -> torch.optim.Optimizer:
    """Make a torch optimiser from its name.

    Args:
        name: One of ``"adam"``, ``"adamw"``, ``"rmsprop"``, ``"sgd"``.
        params: The parameters to optimise.
        lr: Learning rate (the peak rate for ``"onecycle"``).
        weight_decay: L2 penalty (decoupled for ``"adamw"``).
        momentum: Momentum for ``"sgd"`` and ``"rmsprop"``; must be 0 for the Adams.

    Returns:
        The optimiser.

    Raises:
        ConfigError: Unknown name, or momentum given to an Adam optimiser.

    >>> opt = build_optimizer("sgd", nn.Linear(2, 1).parameters(), lr=0.1, momentum=0.9)
    >>> type(opt).__name__, opt.param_groups[0]["momentum"]
    ('SGD', 0.9)
    """
    if name not in OPTIMIZERS:
        raise ConfigError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")
    if momentum and name in ("adam", "adamw"):
        raise ConfigError(f"momentum applies to 'sgd' and 'rmsprop' only, got momentum={momentum} with {name!r}")
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay, momentum=momentum)
    return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, momentum=momentum)


def build_scheduler(
    name: str | None,
    optimizer: torch.optim.Optimizer,
    *,
    total_steps: int | None = None,
    options: dict[str, Any] | None = None,
) -> Any:
    """Make a learning-rate scheduler from its name.

    Args:
        name: ``"plateau"``, ``"cosine"``, ``"onecycle"`` or ``None`` (no schedule).
        optimizer: The optimiser whose learning rate it drives (its current ``lr``
            is the starting rate, or the peak for ``"onecycle"``).
        total_steps: Number of batches in the whole fit; needed by the per-batch
            schedules.
        options: Extra keyword arguments for the torch scheduler.

    Returns:
        The scheduler, or ``None`` when ``name`` is ``None``.

    Raises:
        ConfigError: Unknown name, missing ``total_steps``, or options the torch
            scheduler does not accept.

    >>> opt = torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=1.0)
    >>> sched = build_scheduler("cosine", opt, total_steps=4)
    >>> for _ in range(2): opt.step(); sched.step()
    >>> round(opt.param_groups[0]["lr"], 6)
    0.5
    """
    if name is None:
        return None
    if name not in SCHEDULES:
        raise ConfigError(f"schedule must be one of {SCHEDULES} or None, got {name!r}")
    if name in PER_BATCH_SCHEDULES and (not isinstance(total_steps, int) or total_steps <= 0):
        raise ConfigError(f"schedule {name!r} needs the number of batches in the fit, got total_steps={total_steps!r}")
    options = dict(options or {})
    lr = optimizer.param_groups[0]["lr"]
    sched = torch.optim.lr_scheduler
    try:
        if name == "plateau":
            return sched.ReduceLROnPlateau(optimizer, **{"mode": "min", "factor": 0.1, "patience": 10, **options})
        if name == "cosine":
            return sched.CosineAnnealingLR(optimizer, **{"T_max": total_steps, "eta_min": 0.0, **options})
        return sched.OneCycleLR(optimizer, **{"max_lr": lr, "total_steps": total_steps, **options})
    except (TypeError, ValueError) as e:
        raise ConfigError(f"schedule_options {options} are not accepted by the {name!r} schedule: {e}") from None
