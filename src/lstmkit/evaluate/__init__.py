"""Evaluate: forecast metrics, baselines to beat, and rolling-origin backtests.

>>> from lstmkit.evaluate import backtest, baseline_methods
>>> from lstmkit.data import datasets
>>> y = datasets.load("air_passengers")["passengers"].to_numpy()
>>> res = backtest(y, {}, horizon=12, n_windows=2, m=12, baselines=baseline_methods(12, statistical=False))
>>> res.summary["mase"].round(2).to_dict()
{'naive': 2.85, 'seasonal_naive': 1.61, 'drift': 2.47}
"""

from lstmkit.data.frequency import infer_seasonal_period
from lstmkit.evaluate.anomaly import (
    anomaly_metrics,
    event_metrics,
    point_metrics,
    rolling_zscore,
)
from lstmkit.evaluate.backtest import BacktestResult, Forecast, backtest
from lstmkit.evaluate.baselines import (
    auto_ets,
    auto_theta,
    baseline_methods,
    drift,
    ets_statsmodels,
    has_statsforecast,
    has_statsmodels,
    naive,
    seasonal_naive,
    theta_statsmodels,
)
from lstmkit.evaluate.classification import ClassificationReport, classification_report
from lstmkit.evaluate.classification_baselines import rocket_baseline, text_ngram_baseline
from lstmkit.evaluate.dtw import DTW1NN, dtw_1nn, dtw_distances
from lstmkit.evaluate.metrics import (
    coverage,
    mae,
    mase,
    mase_scale,
    pinball_loss,
    rmse,
    smape,
)
from lstmkit.evaluate.ngram import NGramLM, fit_ngram
from lstmkit.evaluate.text_metrics import (
    BLEUScore,
    corpus_bleu,
    exact_match,
    token_accuracy,
)

__all__ = [
    # metrics
    "mae",
    "rmse",
    "smape",
    "mase",
    "mase_scale",
    "coverage",
    "pinball_loss",
    # baselines
    "naive",
    "seasonal_naive",
    "drift",
    "auto_ets",
    "auto_theta",
    "ets_statsmodels",
    "theta_statsmodels",
    "has_statsforecast",
    "has_statsmodels",
    "baseline_methods",
    # backtests
    "backtest",
    "BacktestResult",
    "Forecast",
    "infer_seasonal_period",
    # language models and translation
    "NGramLM",
    "fit_ngram",
    "corpus_bleu",
    "BLEUScore",
    "exact_match",
    "token_accuracy",
    # anomaly detection
    "point_metrics",
    "event_metrics",
    "anomaly_metrics",
    "rolling_zscore",
    # classification
    "ClassificationReport",
    "classification_report",
    "text_ngram_baseline",
    "rocket_baseline",
    "dtw_1nn",
    "dtw_distances",
    "DTW1NN",
]
