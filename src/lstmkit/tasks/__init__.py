"""What a Python user calls: estimators with fit / predict / evaluate / save / load."""

from lstmkit.tasks.classification import (
    SequenceClassifier,
    SequenceClassifierConfig,
    TextClassifier,
    TextClassifierConfig,
)
from lstmkit.tasks.forecasting import Forecaster, ForecasterConfig

__all__ = [
    "Forecaster",
    "ForecasterConfig",
    "SequenceClassifier",
    "SequenceClassifierConfig",
    "TextClassifier",
    "TextClassifierConfig",
]
