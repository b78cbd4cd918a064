"""Seeds and random-number-generator states of Python, NumPy and torch.

Exact resume needs every generator that training draws from: torch's (dropout,
``DataLoader`` shuffling, initialisation), CUDA's, NumPy's and Python's ``random``.
`get_rng_state` captures them as a tree that `lstmkit.train.state.split_tensors`
can store, and `set_rng_state` puts them back.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

__all__ = ["seed_everything", "get_rng_state", "set_rng_state"]


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and CUDA).

    Args:
        seed: A non-negative integer.

    Raises:
        ValueError: ``seed`` is not a non-negative integer.

    >>> seed_everything(0); a = torch.rand(1)
    >>> seed_everything(0); torch.equal(a, torch.rand(1))
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def get_rng_state() -> dict[str, Any]:
    """Capture the state of every global random generator.

    Returns:
        ``{"python": ..., "numpy": ..., "torch": uint8 tensor, "cuda": [uint8 tensors]}``
        (``cuda`` is empty without a GPU).

    >>> state = get_rng_state(); a = torch.rand(1)
    >>> set_rng_state(state); torch.equal(a, torch.rand(1))
    True
    """
    np_state = np.random.get_state(legacy=False)
    return {
        "python": random.getstate(),
        "numpy": {
            "bit_generator": np_state["bit_generator"],
            "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore generator states captured by `get_rng_state`.

    CUDA states are restored when this machine has the same number of GPUs;
    otherwise they are skipped (a run resumed on a CPU has no CUDA generator).

    Args:
        state: The dict returned by `get_rng_state` (possibly after a checkpoint
            round trip, which turns the Python state's tuples into tuples again).
    """
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    np_state = state["numpy"]
    np.random.set_state(
        {
            "bit_generator": np_state["bit_generator"],
            "state": {"key": np_state["key"].numpy().astype(np.uint32), "pos": np_state["pos"]},
            "has_gauss": np_state["has_gauss"],
            "gauss": np_state["gauss"],
        }
    )
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda") or []
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
