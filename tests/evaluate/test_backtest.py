"""The rolling-origin runner: windows, what methods see, scores by hand, table layout."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import ConfigError, DataError
from lstmkit.evaluate import Forecast, backtest, drift, naive


def test_univariate_scores_by_hand():
    y = np.arange(12.0) ** 2  # 0, 1, 4, ..., 121
    seen = []

    def last_value(train, horizon):
        seen.append(len(train))
        return np.full(horizon, train[-1])

    res = backtest(y, {"last": last_value}, horizon=2, n_windows=2, baselines={})
    assert seen == [8, 10]  # origins 12 - 2 - 2 = 8 and 10
    ps = res.per_series
    assert ps["origin"].tolist() == [8, 10]
    # window 0: train ends at 49, actuals 64, 81 -> errors 15, 32
    w0 = ps.iloc[0]
    assert w0["mae"] == pytest.approx((15 + 32) / 2)
    assert w0["rmse"] == pytest.approx(np.sqrt((15**2 + 32**2) / 2))
    assert w0["smape"] == pytest.approx(100 * (15 / 113 + 32 / 130))
    naive_scale = np.mean(np.abs(np.diff(y[:8])))  # (49 - 0) / 7 = 7
    assert w0["mase"] == pytest.approx(23.5 / naive_scale)
    assert res.summary.loc["last", "mae"] == pytest.approx(ps["mae"].mean())
    assert res.series == [0]


def test_multi_series_methods_see_only_the_past_and_baselines_follow():
    df = pd.DataFrame(
        {
            "id": ["a"] * 8 + ["b"] * 6,
            "t": list(range(8)) + list(range(6)),
            "y": np.r_[np.arange(8.0), 10 * np.arange(6.0)],
        }
    )

    def global_model(train, horizon):
        assert isinstance(train, pd.DataFrame) and list(train.columns) == ["id", "t", "y"]
        last = train.groupby("id", sort=False)["y"].last()
        return np.stack([np.full(horizon, last["a"] + 1), np.full(horizon, last["b"] + 10)])  # (S, H)

    res = backtest(
        df,
        {"model": global_model},
        horizon=2,
        n_windows=2,
        target="y",
        id_col="id",
        time_col="t",
        baselines={"naive": naive, "drift": drift},
    )
    assert res.series == ["a", "b"]
    assert res.summary.index.tolist() == ["model", "naive", "drift"]  # model first, then baselines
    assert res.summary["kind"].tolist() == ["model", "baseline", "baseline"]
    ps = res.per_series
    # a: origins 4, 6; b: origins 2, 4 (counted from each series' end)
    assert ps[ps["method"] == "model"]["origin"].tolist() == [4, 2, 6, 4]
    assert ps[ps["method"] == "model"]["origin_time"].tolist() == [4, 2, 6, 4]
    # model: next step right, second step off by one step (1 for a, 10 for b)
    assert ps[ps["method"] == "model"]["mae"].tolist() == pytest.approx([0.5, 5.0, 0.5, 5.0])
    # drift on a straight line is exact
    assert np.allclose(ps[ps["method"] == "drift"]["mae"], 0.0)
    pw = res.per_window
    assert pw.loc[(pw["method"] == "model") & (pw["window"] == 0), "mae"].item() == pytest.approx(2.75)
    assert res.per_window.columns.tolist()[-1] == "seconds"
    fc = res.forecasts
    row = fc[(fc["method"] == "naive") & (fc["window"] == 1) & (fc["series"] == "b")]
    assert row["actual"].tolist() == [40.0, 50.0] and row["forecast"].tolist() == [30.0, 30.0]
    assert row["time"].tolist() == [4, 5] and row["step"].tolist() == [1, 2]


def test_quantile_forecasts_add_pinball_and_coverage():
    y = np.array([0.0, 0.0, 0.0, 0.0, 10.0, 20.0])

    def with_interval(train, horizon):
        return Forecast(np.full(horizon, 15.0), {0.1: np.full(horizon, 12.0), 0.9: np.full(horizon, 18.0)})

    res = backtest(y, {"q": with_interval}, horizon=2, n_windows=1, baselines={})
    row = res.per_series.iloc[0]
    # actuals 10, 20: q0.1=12 -> 0.9*2 and 0.1*8; q0.9=18 -> 0.1*8 and 0.9*2
    assert row["pinball"] == pytest.approx(np.mean([0.9 * 2, 0.1 * 8, 0.1 * 8, 0.9 * 2]))
    assert row["coverage_80"] == 0.0
    assert res.forecasts.columns.tolist()[-2:] == ["q0.1", "q0.9"]


def test_dict_output_per_series_is_accepted():
    df = pd.DataFrame({"id": ["x"] * 4 + ["y"] * 4, "v": np.arange(8.0)})
    res = backtest(
        df,
        {"d": lambda train, h: {"y": np.zeros(h), "x": np.ones(h)}},
        horizon=1,
        n_windows=1,
        target="v",
        id_col="id",
        baselines={},
    )
    assert res.forecasts["forecast"].tolist() == [1.0, 0.0]


def test_default_baselines_use_seasonal_period():
    y = np.tile([1.0, 5.0, 3.0], 6)
    res = backtest(y, {}, horizon=3, n_windows=2, m=3)
    assert res.summary.index.tolist()[:3] == ["naive", "seasonal_naive", "drift"]
    assert res.summary.loc["seasonal_naive", "mae"] == 0.0


def test_errors_name_method_window_and_shape():
    y = np.arange(10.0)
    with pytest.raises(DataError, match="method 'bad', window 0: forecast has 3 values, expected horizon 2"):
        backtest(y, {"bad": lambda train, h: np.zeros(3)}, horizon=2, n_windows=2, baselines={})
    with pytest.raises(ConfigError, match=r"method name\(s\) \['naive'\] are used by both"):
        backtest(y, {"naive": naive}, horizon=2, n_windows=1, baselines={"naive": naive})
    with pytest.raises(DataError, match="a series of 10 rows is too short for 5 backtest windows"):
        backtest(y, {}, horizon=2, n_windows=5, baselines={"naive": naive})
    with pytest.raises(DataError, match="an array history must be 1-D"):
        backtest(np.zeros((5, 2)), {}, horizon=1, n_windows=1, baselines={"naive": naive})

    def boom(train, h):
        raise RuntimeError("model diverged")

    with pytest.raises(RuntimeError) as e:
        backtest(y, {"boom": boom}, horizon=2, n_windows=1, baselines={})
    assert "while running method 'boom' on backtest window 0" in e.value.__notes__
