"""Networks per application: tensors in, tensors out."""

from lstmkit.models.autoencoder import LSTMAutoencoder, LSTMAutoencoderConfig
from lstmkit.models.classifier import ClassifierNet, ClassifierNetConfig
from lstmkit.models.forecaster import ForecastNet, ForecastNetConfig, quantile_loss
from lstmkit.models.language_model import (
    LanguageModelNet,
    LanguageModelNetConfig,
    sample_next,
)
from lstmkit.models.next_step import NextStepNet
from lstmkit.models.ngram_mixture import NGramMixture, interpolation_weight
from lstmkit.models.recurrent import CELLS, CellOptions
from lstmkit.models.seq2seq import Seq2Seq, Seq2SeqConfig

__all__ = [
    "CellOptions",
    "CELLS",  # the recurrent layer of every network
    "ForecastNet",
    "ForecastNetConfig",
    "quantile_loss",  # forecasting
    "ClassifierNet",
    "ClassifierNetConfig",  # classification
    "LanguageModelNet",
    "LanguageModelNetConfig",
    "sample_next",
    "NGramMixture",
    "interpolation_weight",  # language models
    "Seq2Seq",
    "Seq2SeqConfig",  # sequence to sequence
    "LSTMAutoencoder",
    "LSTMAutoencoderConfig",
    "NextStepNet",  # anomaly detection
]
