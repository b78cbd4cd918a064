"""Look inside an LSTM: its gates over time, and which inputs its outputs owe their value to."""

from lstmkit.explain.attribution import (
    captum_available,
    classifier_attributions,
    forecast_attributions,
    integrated_gradients,
)
from lstmkit.explain.plots import plot_attributions, plot_gates
from lstmkit.explain.recording import GATES, Recording, record_lstm

__all__ = [
    "record_lstm",
    "Recording",
    "GATES",  # what the layer does inside
    "plot_gates",
    "plot_attributions",  # figures
    "integrated_gradients",
    "forecast_attributions",
    "classifier_attributions",
    "captum_available",  # attributions
]
