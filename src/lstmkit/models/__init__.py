"""Networks per application: tensors in, tensors out."""

from lstmkit.models.classifier import ClassifierNet, ClassifierNetConfig
from lstmkit.models.forecaster import ForecastNet, ForecastNetConfig, pinball_loss

__all__ = ["ForecastNet", "ForecastNetConfig", "pinball_loss", "ClassifierNet", "ClassifierNetConfig"]
