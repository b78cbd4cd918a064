"""Data: files -> validated frames -> windows, scalers, splits; plus small bundled datasets.

>>> from lstmkit.data import datasets, validate_series, make_windows
>>> vs = validate_series(datasets.load("air_passengers"), "passengers", time_col="month")
>>> w = make_windows(vs.frame, lookback=24, horizon=12, **vs.roles)
>>> vs.freq, vs.seasonal_period, w.past.shape, w.target.shape
('MS', 12, (109, 24, 1), (109, 12, 1))
"""

from lstmkit.data import datasets
from lstmkit.data.calendar import (
    CALENDAR_FEATURES,
    add_calendar_features,
    calendar_features,
    default_calendar_features,
)
from lstmkit.data.frequency import (
    first_irregular_step,
    future_timestamps,
    infer_frequency,
    infer_seasonal_period,
)
from lstmkit.data.io import SUPPORTED_EXTENSIONS, read_table
from lstmkit.data.scaling import (
    MinMaxScaler,
    RobustScaler,
    SeriesScaler,
    StandardScaler,
    scaler_from_dict,
)
from lstmkit.data.splits import (
    BacktestWindow,
    backtest_windows,
    rolling_origin_splits,
    split_by_time,
    train_val_split,
)
from lstmkit.data.validation import (
    FILL_METHODS,
    ValidatedSeries,
    check_series_length,
    validate_series,
)
from lstmkit.data.windows import (
    PredictionInputs,
    Windows,
    make_prediction_inputs,
    make_windows,
)

__all__ = [
    # files and validation
    "read_table",
    "SUPPORTED_EXTENSIONS",
    "validate_series",
    "check_series_length",
    "ValidatedSeries",
    "FILL_METHODS",
    # time steps and calendar
    "infer_frequency",
    "first_irregular_step",
    "infer_seasonal_period",
    "future_timestamps",
    "calendar_features",
    "add_calendar_features",
    "default_calendar_features",
    "CALENDAR_FEATURES",
    # windows
    "make_windows",
    "Windows",
    "make_prediction_inputs",
    "PredictionInputs",
    # scaling
    "SeriesScaler",
    "StandardScaler",
    "RobustScaler",
    "MinMaxScaler",
    "scaler_from_dict",
    # splits
    "train_val_split",
    "split_by_time",
    "backtest_windows",
    "BacktestWindow",
    "rolling_origin_splits",
    # bundled data
    "datasets",
]
