"""Classification scores: accuracy, macro-F1, per-class scores and the confusion matrix."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.data.labels import as_objects, jsonable_label, sorted_labels
from lstmkit.errors import DataError

__all__ = ["ClassificationReport", "classification_report"]


@dataclass(frozen=True)
class ClassificationReport:
    """Scores of predicted against true labels.

    Attributes:
        accuracy: share of correct predictions.
        macro_f1: unweighted mean F1 over the labels present in the true or
            predicted labels (as scikit-learn's ``f1_score(average="macro")``).
        confusion: counts, rows the true labels, columns the predicted ones.
        per_class: ``precision``, ``recall``, ``f1`` and ``support`` per label.
        n: number of examples scored.
    """

    accuracy: float
    macro_f1: float
    confusion: pd.DataFrame
    per_class: pd.DataFrame
    n: int

    def to_dict(self) -> dict:
        """JSON-able: the scores, the confusion matrix as nested lists with its labels."""
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "n": self.n,
            "labels": [jsonable_label(v) for v in self.confusion.index],
            "confusion": self.confusion.to_numpy().tolist(),
            "per_class": {str(k): {c: float(v) for c, v in row.items()} for k, row in self.per_class.iterrows()},
        }

    def __str__(self) -> str:
        return (
            f"accuracy {self.accuracy:.4f}, macro-F1 {self.macro_f1:.4f} on {self.n} examples\n"
            f"confusion (rows: true, columns: predicted)\n{self.confusion.to_string()}"
        )


def classification_report(
    y_true: Iterable[Any], y_pred: Iterable[Any], labels: Sequence[Any] | None = None
) -> ClassificationReport:
    """Accuracy, macro-F1, per-class scores and the confusion matrix.

    Args:
        y_true: the true labels.
        y_pred: the predicted labels.
        labels: rows/columns of the confusion matrix, in order; labels found in
            ``y_true`` or ``y_pred`` but not here are appended.

    >>> r = classification_report(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    >>> r.accuracy, round(r.macro_f1, 4), r.confusion.to_numpy().tolist()
    (0.75, 0.7333, [[1, 1], [0, 2]])
    """
    y_true, y_pred = as_objects(y_true), as_objects(y_pred)
    if len(y_true) != len(y_pred):
        raise DataError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    if len(y_true) == 0:
        raise DataError("nothing to score: no labels")
    order = list(labels) if labels is not None else []
    for v in sorted_labels(set(y_true.tolist()) | set(y_pred.tolist())):
        if v not in order:
            order.append(v)
    index = {v: i for i, v in enumerate(order)}
    counts = np.zeros((len(order), len(order)), dtype=np.int64)
    np.add.at(counts, ([index[v] for v in y_true], [index[v] for v in y_pred]), 1)
    tp = np.diag(counts).astype(np.float64)
    support, predicted = counts.sum(axis=1), counts.sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=precision + recall > 0)
    present = (support > 0) | (predicted > 0)
    names = pd.Index(order, dtype=object)
    return ClassificationReport(
        accuracy=float(tp.sum() / len(y_true)),
        macro_f1=float(f1[present].mean()),
        confusion=pd.DataFrame(counts, index=names, columns=names),
        per_class=pd.DataFrame({"precision": precision, "recall": recall, "f1": f1, "support": support}, index=names),
        n=len(y_true),
    )
