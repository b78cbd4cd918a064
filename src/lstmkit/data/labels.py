"""Class labels as given by the user: objects kept as they are, checked, sorted and coded.

Labels may be strings or numbers (what JSON can hold); codes are their positions in the
sorted label list, which is the column order of every probability table.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.errors import DataError

__all__ = ["as_objects", "sorted_labels", "jsonable_label", "check_labels", "class_codes", "known_codes"]


def as_objects(values: Iterable[Any]) -> np.ndarray:
    values = values.tolist() if hasattr(values, "tolist") else list(values)
    out = np.empty(len(values), dtype=object)
    out[:] = [v.item() if isinstance(v, np.generic) else v for v in values]
    return out


def sorted_labels(values: Iterable[Any]) -> list:
    return sorted(values, key=lambda v: (type(v).__name__, v))


def jsonable_label(value: Any) -> str | int | float | bool:
    value = value.item() if isinstance(value, np.generic) else value
    if not isinstance(value, (str, int, float, bool)):
        raise DataError(f"labels must be strings or numbers, got {value!r} of type {type(value).__name__}")
    return value


def check_labels(y: Iterable[Any] | None, n: int, where: str) -> np.ndarray:
    if y is None:
        raise DataError(
            f"{where}: no labels found; give y=, or data with the label column (label_col) "
            "or with labels inside (.ts, .npz 'y', a folder per class)"
        )
    y = as_objects(y)
    if len(y) != n:
        raise DataError(f"{where}: {len(y)} labels for {n} examples")
    for i, v in enumerate(y):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            raise DataError(f"{where}: example {i} (0-based) has no label")
        jsonable_label(v)
    return y


def class_codes(y: np.ndarray, where: str) -> tuple[list, np.ndarray]:
    classes = sorted_labels(set(y.tolist()))
    if len(classes) < 2:
        raise DataError(f"{where}: found a single class {classes!r}; a classifier needs at least two")
    counts = pd.Series(y).value_counts()
    single = [v for v in classes if counts[v] == 1]
    if single:
        warnings.warn(
            f"{where}: class(es) {single} have a single training example; the model will hardly learn "
            "them and they are kept out of the validation split",
            stacklevel=4,
        )
    index = {v: i for i, v in enumerate(classes)}
    return classes, np.array([index[v] for v in y], dtype=np.int64)


def known_codes(y: np.ndarray, classes: list, where: str) -> tuple[list, np.ndarray]:
    """Codes of ``y`` in a fine-tuned model's ``classes``; a label it does not know is an error."""
    index = {v: i for i, v in enumerate(classes)}
    unknown = sorted_labels(set(y.tolist()) - set(classes))
    if unknown:
        raise DataError(
            f"{where}: label(s) {unknown} are not among the classes of the model being fine-tuned "
            f"({classes}); fine-tuning keeps its classes"
        )
    return list(classes), np.array([index[v] for v in y], dtype=np.int64)
