"""Sliding windows: shapes and values on hand-made series, covariate placement, series boundaries."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.data import make_prediction_inputs, make_windows, validate_series
from lstmkit.errors import ConfigError, DataError


def test_single_series_values_by_hand():
    # y = 0..6, lookback 3, horizon 2 -> origins 3, 4, 5
    w = make_windows(pd.DataFrame({"y": np.arange(7.0)}), "y", lookback=3, horizon=2)
    assert w.past.shape == (3, 3, 1) and w.future.shape == (3, 2, 0) and w.target.shape == (3, 2, 1)
    assert w.past[..., 0].tolist() == [[0, 1, 2], [1, 2, 3], [2, 3, 4]]
    assert w.target[..., 0].tolist() == [[3, 4], [4, 5], [5, 6]]
    assert w.position.tolist() == [3, 4, 5]
    assert w.series.tolist() == [0, 0, 0] and w.time is None
    assert w.past.dtype == np.float32 and len(w) == 3


def test_stride_and_window_count_formula():
    T, L, H, S = 20, 4, 3, 5
    w = make_windows(pd.DataFrame({"y": np.arange(float(T))}), "y", lookback=L, horizon=H, stride=S)
    assert len(w) == (T - L - H) // S + 1 == 3
    assert w.position.tolist() == [4, 9, 14]
    assert w.target[-1, :, 0].tolist() == [14, 15, 16]


def test_covariate_placement():
    # y = 10*t, past covariate p = 100 + t (lookback only), future covariate f = 1000 + t (both parts)
    t = np.arange(6.0)
    df = pd.DataFrame({"y": 10 * t, "p": 100 + t, "f": 1000 + t})
    w = make_windows(df, "y", lookback=2, horizon=2, past_covariates=["p"], future_covariates=["f"])
    assert w.past_columns == ("y", "p", "f") and w.future_columns == ("f",) and w.target_columns == ("y",)
    assert w.past.shape == (3, 2, 3) and w.future.shape == (3, 2, 1)
    first = w.past[0]  # rows t = 0, 1
    assert first.tolist() == [[0, 100, 1000], [10, 101, 1001]]
    assert w.future[0, :, 0].tolist() == [1002, 1003]  # the forecast steps t = 2, 3
    assert w.target[0, :, 0].tolist() == [20, 30]
    # the past covariate never appears in the horizon part
    assert not np.isin(100 + t[2:4], w.future[0]).any()


def test_several_targets_keep_their_order():
    df = pd.DataFrame({"a": np.arange(5.0), "b": -np.arange(5.0)})
    w = make_windows(df, ["b", "a"], lookback=2, horizon=1)
    assert w.target[0, 0].tolist() == [-2, 2] and w.past[0].tolist() == [[0, 0], [-1, 1]]


def test_windows_never_cross_series():
    # series a: 0..4, series b: 100..103; values tell which series a number came from
    df = pd.DataFrame({"id": ["a"] * 5 + ["b"] * 4, "y": [0, 1, 2, 3, 4, 100, 101, 102, 103.0]})
    w = make_windows(df, "y", lookback=2, horizon=2, id_col="id")
    assert w.series.tolist() == ["a", "a", "b"]
    assert w.position.tolist() == [2, 3, 2]
    for past, target, sid in zip(w.past[..., 0], w.target[..., 0], w.series):
        values = np.concatenate([past, target])
        assert np.all(values >= 100) if sid == "b" else np.all(values < 100)
    assert w.target[2, :, 0].tolist() == [102, 103]


def test_series_order_is_first_appearance_and_time_is_reported():
    vs = validate_series(
        pd.DataFrame(
            {
                "id": [2, 2, 2, 1, 1, 1],
                "t": pd.date_range("2021-01-01", periods=3, freq="D").tolist() * 2,
                "y": np.arange(6.0),
            }
        ),
        "y",
        time_col="t",
        id_col="id",
    )
    w = make_windows(vs.frame, lookback=2, horizon=1, **vs.roles)
    assert w.series.dtype == np.int64 and w.series.tolist() == [1, 2]  # validated frames are sorted by id
    assert pd.DatetimeIndex(w.time).equals(pd.DatetimeIndex(["2021-01-03", "2021-01-03"]))
    assert w.index.columns.tolist() == ["series", "position", "time"]


def test_short_series_raises_or_is_skipped():
    df = pd.DataFrame({"id": ["a"] * 5 + ["b"] * 2, "y": np.arange(7.0)})
    with pytest.raises(DataError, match=r"1 series too short .*'b' \(2 rows\)"):
        make_windows(df, "y", lookback=2, horizon=2, id_col="id")
    w = make_windows(df, "y", lookback=2, horizon=2, id_col="id", skip_short=True)
    assert set(w.series.tolist()) == {"a"} and len(w) == 2


def test_non_finite_value_names_column_and_row():
    df = pd.DataFrame({"y": [1.0, 2.0, np.nan, 4.0], "p": 1.0})
    with pytest.raises(DataError, match=r"column 'y' is nan at row 2"):
        make_windows(df, "y", lookback=1, horizon=1, past_covariates=["p"])


def test_bad_arguments():
    df = pd.DataFrame({"y": np.arange(5.0)})
    with pytest.raises(ConfigError, match="horizon must be a positive integer, got 0"):
        make_windows(df, "y", lookback=2, horizon=0)
    with pytest.raises(DataError, match="missing column\\(s\\) 'x'"):
        make_windows(df, "y", lookback=2, horizon=1, future_covariates=["x"])


def test_prediction_inputs_take_the_tail_and_future_covariates():
    hist = pd.DataFrame({"id": ["a"] * 4 + ["b"] * 3, "y": [1, 2, 3, 4, 10, 20, 30.0], "f": np.arange(7.0)})
    fut = pd.DataFrame({"id": ["b", "b", "a", "a"], "f": [70.0, 71.0, 50.0, 51.0]})
    p = make_prediction_inputs(hist, "y", lookback=2, horizon=2, future=fut, id_col="id", future_covariates=["f"])
    assert p.series.tolist() == ["a", "b"]
    assert p.past.tolist() == [[[3, 2], [4, 3]], [[20, 5], [30, 6]]]
    assert p.future[..., 0].tolist() == [[50, 51], [70, 71]]
    with pytest.raises(DataError, match="series 'b' has 1 rows of future covariates, expected horizon 2"):
        make_prediction_inputs(
            hist, "y", lookback=2, horizon=2, future=fut.iloc[1:], id_col="id", future_covariates=["f"]
        )
