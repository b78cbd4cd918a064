"""lstmkit: LSTM sequence modelling end to end, on PyTorch.

``import lstmkit`` stays light (no torch): the jobs live in `lstmkit.tasks`, and
`load` reads any saved job.
"""

from __future__ import annotations

import os
from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "load"]


def load(path: str | os.PathLike, device: str | None = None) -> Any:
    """Load any job saved by its ``save`` (or a CLI ``--model-dir``): the folder says which.

    Args:
        path: the model folder.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"``; ``None`` keeps the saved
            device when this machine has it, else ``"auto"``.

    Returns:
        The fitted job (a `lstmkit.tasks.Forecaster`, ``SequenceClassifier``,
        ``TextClassifier``, ``LanguageModel``, ``Translator`` or ``AnomalyDetector``).
    """
    from lstmkit.tasks.base import load as load_job

    return load_job(path, device=device)
