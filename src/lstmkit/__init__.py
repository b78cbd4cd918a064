"""lstmkit: LSTM sequence modelling end to end, on PyTorch."""

__version__ = "0.1.0"

__all__ = ["__version__"]
