"""Classification: name the class of a numeric sequence (`SequenceClassifier`) or a text
(`TextClassifier`).

The story of ``fit`` they share is told in `lstmkit.tasks.classifier_base`; the code lives
there, in `sequence_classifier`, `text_classifier` and `lstmkit.evaluate.classification`.
This module keeps their names importable from one place.
"""

from __future__ import annotations

from lstmkit.evaluate.classification import ClassificationReport, classification_report
from lstmkit.tasks.sequence_classifier import (
    SequenceClassifier,
    SequenceClassifierConfig,
)
from lstmkit.tasks.text_classifier import (
    TEXT_LEVELS,
    TextClassifier,
    TextClassifierConfig,
)

__all__ = [
    "SequenceClassifierConfig",
    "SequenceClassifier",
    "TextClassifierConfig",
    "TextClassifier",
    "ClassificationReport",
    "classification_report",
    "TEXT_LEVELS",
]
