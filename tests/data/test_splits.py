"""Chronological splits, rolling-origin windows, and the no-leakage guarantee."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.data import (
    StandardScaler,
    backtest_windows,
    make_windows,
    rolling_origin_splits,
    split_by_time,
    train_val_split,
)
from lstmkit.errors import ConfigError, DataError


def panel():
    return pd.DataFrame(
        {
            "id": ["a"] * 10 + ["b"] * 6,
            "t": list(range(10)) + list(range(6)),
            "y": np.r_[np.arange(10.0), 100 + np.arange(6.0)],
        }
    )


def test_train_val_split_per_series_last_rows():
    train, val = train_val_split(panel(), 2, id_col="id")
    assert train.groupby("id")["t"].max().to_dict() == {"a": 7, "b": 3}
    assert val["y"].tolist() == [8, 9, 104, 105]
    assert train.index.tolist() == list(range(12))


def test_train_val_split_fraction_and_context():
    train, val = train_val_split(panel(), 0.2, id_col="id", context=3)
    # a: round(0.2 * 10) = 2 validation rows, b: round(1.2) = 1
    assert val[val["id"] == "a"]["y"].tolist() == [5, 6, 7, 8, 9]  # 3 context rows + 2
    assert val[val["id"] == "b"]["y"].tolist() == [102, 103, 104, 105]
    assert len(train) == 8 + 5


def test_train_val_split_errors():
    with pytest.raises(DataError, match="series 'b' has 6 rows; val_size 6 leaves no training rows"):
        train_val_split(panel(), 6, id_col="id")
    with pytest.raises(ConfigError, match="fractional val_size must be in \\(0, 1\\), got 1.5"):
        train_val_split(panel(), 1.5)


def test_split_by_time():
    df = pd.DataFrame({"t": pd.date_range("2020-01-01", periods=5, freq="MS"), "y": range(5)})
    train, val = split_by_time(df, "t", "2020-04-01")
    assert train["y"].tolist() == [0, 1, 2] and val["y"].tolist() == [3, 4]
    with pytest.raises(DataError, match="leaves one part empty"):
        split_by_time(df, "t", "2030-01-01")


def test_backtest_window_origins_by_hand():
    # T = 12, H = 3, K = 3, step = H: origins 12 - 3 - (2, 1, 0) * 3 = 3, 6, 9
    ws = backtest_windows(12, horizon=3, n_windows=3)
    assert [(w.window, w.origin, w.stop) for w in ws] == [(0, 3, 6), (1, 6, 9), (2, 9, 12)]
    assert ws[1].train == slice(0, 6) and ws[1].test == slice(6, 9)
    # overlapping test windows with step 1
    assert [w.origin for w in backtest_windows(12, horizon=3, n_windows=3, step=1)] == [7, 8, 9]


def test_backtest_windows_too_short_says_what_is_needed():
    with pytest.raises(
        DataError, match="a series of 8 rows is too short for 3 backtest windows of horizon 3 .*needs 10 rows"
    ):
        backtest_windows(8, horizon=3, n_windows=3)
    with pytest.raises(ConfigError, match="n_windows must be a positive integer, got 0"):
        backtest_windows(8, horizon=3, n_windows=0)


def test_rolling_origin_splits_multi_series_from_each_end():
    splits = list(rolling_origin_splits(panel(), horizon=2, n_windows=2, id_col="id"))
    assert [k for k, _, _ in splits] == [0, 1]
    k, train, test = splits[0]
    # a: T=10 -> origins 6, 8; b: T=6 -> origins 2, 4
    assert test["y"].tolist() == [6, 7, 102, 103]
    assert train.groupby("id").size().to_dict() == {"a": 6, "b": 2}
    _, train, test = splits[1]
    assert test["y"].tolist() == [8, 9, 104, 105]
    with pytest.raises(DataError, match="series 'b': a series of 6 rows is too short"):
        rolling_origin_splits(panel(), horizon=3, n_windows=2, id_col="id", min_train=1)


def test_no_leakage_after_the_origin():
    """Changing every value at and after a forecast origin changes nothing fitted for that origin."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"id": ["a"] * 30 + ["b"] * 24, "y": rng.normal(size=54), "p": rng.normal(size=54)})
    k = 1  # the middle of 3 windows
    _, train, _ = list(rolling_origin_splits(df, horizon=4, n_windows=3, id_col="id"))[k]

    tampered = df.copy()
    origins = {"a": 30 - 4 - 4, "b": 24 - 4 - 4}  # T - H - (K - 1 - k) * H
    for sid, origin in origins.items():
        rows = np.flatnonzero(tampered["id"] == sid)[origin:]
        tampered.loc[rows, ["y", "p"]] = 1e6 + rng.normal(size=(len(rows), 2))
    _, train2, test2 = list(rolling_origin_splits(tampered, horizon=4, n_windows=3, id_col="id"))[k]

    pd.testing.assert_frame_equal(train, train2)
    assert (test2["y"] > 1e5).all()  # the tampering did hit the test part
    s1 = StandardScaler().fit(train, ["y", "p"], id_col="id")
    s2 = StandardScaler().fit(train2, ["y", "p"], id_col="id")
    assert s1.to_dict() == s2.to_dict()
    w1 = make_windows(s1.transform(train), "y", lookback=3, horizon=2, id_col="id", past_covariates=["p"])
    w2 = make_windows(s2.transform(train2), "y", lookback=3, horizon=2, id_col="id", past_covariates=["p"])
    assert np.array_equal(w1.past, w2.past) and np.array_equal(w1.target, w2.target)
