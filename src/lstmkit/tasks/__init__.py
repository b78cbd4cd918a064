"""What a Python user calls: estimators with fit / predict / evaluate / save / load."""

from lstmkit.tasks.forecasting import Forecaster, ForecasterConfig

__all__ = ["Forecaster", "ForecasterConfig"]
