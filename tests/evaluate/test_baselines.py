"""Baselines against hand-computed forecasts; optional statistical models when installed."""

import numpy as np
import pytest

from lstmkit.errors import ConfigError, DataError
from lstmkit.evaluate import baselines
from lstmkit.evaluate.baselines import baseline_methods, drift, naive, seasonal_naive


def test_naive_repeats_last_value():
    assert naive([3.0, 1.0, 4.0], 3).tolist() == [4.0, 4.0, 4.0]


def test_seasonal_naive_wraps_the_last_season():
    y = [1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0]
    assert seasonal_naive(y, 6, m=4).tolist() == [10.0, 20.0, 30.0, 40.0, 10.0, 20.0]
    assert seasonal_naive(y, 2, m=1).tolist() == [40.0, 40.0]


def test_drift_extends_the_first_to_last_line():
    # slope (9 - 1) / (5 - 1) = 2
    assert drift([1.0, 5.0, 2.0, 8.0, 9.0], 3).tolist() == [11.0, 13.0, 15.0]
    assert drift([7.0], 2).tolist() == [7.0, 7.0]


def test_simple_baselines_forecast_each_column():
    y = np.array([[1.0, 10.0], [2.0, 30.0], [3.0, 50.0]])
    assert naive(y, 2).tolist() == [[3.0, 50.0], [3.0, 50.0]]
    assert drift(y, 1).tolist() == [[4.0, 70.0]]
    assert seasonal_naive(y, 3, m=2).tolist() == [[2.0, 30.0], [3.0, 50.0], [2.0, 30.0]]


def test_baseline_errors():
    with pytest.raises(DataError, match="history has 3 values; this forecast needs at least 12"):
        seasonal_naive([1.0, 2.0, 3.0], 2, m=12)
    with pytest.raises(DataError, match=r"history is nan at index \(1,\)"):
        naive([1.0, np.nan], 1)
    with pytest.raises(ConfigError, match="horizon must be a positive integer, got 0"):
        drift([1.0, 2.0], 0)


def test_baseline_methods_lists_simple_ones_first():
    methods = baseline_methods(m=4, statistical=False)
    assert list(methods) == ["naive", "seasonal_naive", "drift"]
    assert methods["seasonal_naive"]([1.0, 2.0, 3.0, 4.0, 5.0], 2).tolist() == [2.0, 3.0]
    assert list(baseline_methods(m=1, statistical=False)) == ["naive", "drift"]


def noisy_season(n=24, m=4, seed=0):
    rng = np.random.default_rng(seed)
    return 50 + np.tile([5.0, -3.0, 8.0, -10.0], n // m) + rng.normal(0, 0.3, n)


@pytest.mark.skipif(not baselines.has_statsmodels(), reason="statsmodels (extra lstmkit[data]) not installed")
def test_statsmodels_ets_and_theta_follow_a_clear_season():
    y = noisy_season()
    pattern = 50 + np.array([5.0, -3.0, 8.0, -10.0])
    for f in (baselines.ets_statsmodels, baselines.theta_statsmodels):
        fc = f(y, 4, m=4)
        assert fc.shape == (4,)
        assert np.abs(fc - pattern).max() < 1.5, f.__name__
    assert baselines.ets_statsmodels(np.full(6, 3.0), 2).tolist() == [3.0, 3.0]


@pytest.mark.skipif(baselines.has_statsforecast(), reason="statsforecast is installed")
def test_statsforecast_missing_says_how_to_install():
    with pytest.raises(ImportError, match="needs the optional package 'statsforecast': pip install statsforecast"):
        baselines.auto_ets([1.0, 2.0, 3.0], 2)
    names = list(baseline_methods(m=4))
    assert "AutoETS" not in names
    if baselines.has_statsmodels():
        assert names[-2:] == ["ETS (statsmodels)", "Theta (statsmodels)"]


def test_statsforecast_models_when_installed():
    sf_models = pytest.importorskip("statsforecast.models")
    y = noisy_season()
    expected = sf_models.AutoETS(season_length=4).forecast(y=y, h=3)["mean"]
    assert np.allclose(baselines.auto_ets(y, 3, m=4), expected)
    expected = sf_models.AutoTheta(season_length=4).forecast(y=y, h=3)["mean"]
    assert np.allclose(baselines.auto_theta(y, 3, m=4), expected)
    assert list(baseline_methods(m=4))[-2:] == ["AutoETS", "AutoTheta"]
