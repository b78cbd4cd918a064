"""What a Python user calls: estimators with fit / predict / evaluate / save / load."""

from lstmkit.tasks.anomaly import AnomalyDetector, AnomalyDetectorConfig
from lstmkit.tasks.base import Estimator, JobConfig, load
from lstmkit.tasks.forecasting import Forecaster, ForecasterConfig
from lstmkit.tasks.language_model import LanguageModel, LanguageModelConfig
from lstmkit.tasks.sequence_classifier import (
    SequenceClassifier,
    SequenceClassifierConfig,
)
from lstmkit.tasks.text_classifier import TextClassifier, TextClassifierConfig
from lstmkit.tasks.translation import Translator, TranslatorConfig

__all__ = [
    "Forecaster",
    "ForecasterConfig",
    "SequenceClassifier",
    "SequenceClassifierConfig",
    "TextClassifier",
    "TextClassifierConfig",
    "LanguageModel",
    "LanguageModelConfig",
    "Translator",
    "TranslatorConfig",
    "AnomalyDetector",
    "AnomalyDetectorConfig",
    "Estimator",
    "JobConfig",
    "load",
]
