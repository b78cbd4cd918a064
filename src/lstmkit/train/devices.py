"""Where a job trains and predicts: ``device="auto"|"cpu"|"cuda"|"cuda:N"``.

A configuration holds the device as a string (it is saved as JSON); `check_device`
validates its spelling when the configuration is made, and `resolve_device` turns it
into a `torch.device` when a model is built, with a clear error when this machine
cannot give what was asked for (a CUDA device on a CPU-only build, say).
"""

from __future__ import annotations

import re

import torch

from lstmkit.errors import ConfigError

__all__ = ["DEVICES", "check_device", "resolve_device"]

DEVICES = ("auto", "cpu", "cuda", "cuda:N")
_SPELLING = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def check_device(device: str | None) -> str:
    """The device's spelling, checked; ``None`` (the old default) reads as ``"auto"``.

    >>> check_device("cuda:1"), check_device(None)
    ('cuda:1', 'auto')
    """
    if device is None:
        return "auto"
    if not isinstance(device, str) or not _SPELLING.match(device):
        raise ConfigError(f"device must be one of 'auto', 'cpu', 'cuda' or 'cuda:N' (N a GPU index), got {device!r}")
    return device


def resolve_device(device: str | torch.device | None) -> torch.device:
    """The `torch.device` for a configured device: ``"auto"`` is the first GPU when torch sees one, else the CPU.

    Raises:
        ConfigError: a CUDA device was asked for and this torch build or machine has none,
            or the GPU index is past the last GPU.

    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(device, torch.device):
        device = str(device)
    spec = check_device(device)
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}, no GPU visible"
            raise ConfigError(
                f"device={spec!r} asks for a GPU, but torch {torch.__version__} ({build}) sees none; "
                "use device='cpu' or device='auto'"
            )
        index = int(spec.split(":")[1]) if ":" in spec else 0
        count = torch.cuda.device_count()
        if index >= count:
            raise ConfigError(f"device={spec!r}: this machine has {count} GPU(s), numbered 0 to {count - 1}")
    return torch.device(spec)
