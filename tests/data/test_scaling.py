"""Scalers: per-series statistics by hand, inverse transforms, JSON round trips."""

import json

import numpy as np
import pandas as pd
import pytest

from lstmkit.data import MinMaxScaler, RobustScaler, StandardScaler, make_windows, scaler_from_dict
from lstmkit.errors import ConfigError, DataError


def two_series():
    return pd.DataFrame(
        {
            "id": ["a", "a", "a", "b", "b", "b"],
            "y": [1.0, 2.0, 3.0, 10.0, 20.0, 60.0],
            "x": [5.0, 5.0, 5.0, 0.0, 1.0, 2.0],
        }
    )


def test_standard_scaler_statistics_per_series_by_hand():
    s = StandardScaler().fit(two_series(), ["y", "x"], id_col="id")
    assert s.ids == ["a", "b"]
    assert s.center.tolist() == [[2.0, 5.0], [30.0, 1.0]]
    # std (ddof 0): a.y sqrt(2/3); b.y sqrt((400 + 100 + 900) / 3); a.x constant -> scale 1
    assert s.scale == pytest.approx(np.array([[np.sqrt(2 / 3), 1.0], [np.sqrt(1400 / 3), np.sqrt(2 / 3)]]))
    out = s.transform(two_series())
    assert out["y"].tolist() == pytest.approx(
        [-np.sqrt(1.5), 0.0, np.sqrt(1.5), -20 / np.sqrt(1400 / 3), -10 / np.sqrt(1400 / 3), 30 / np.sqrt(1400 / 3)]
    )
    assert out["x"].tolist()[:3] == [0.0, 0.0, 0.0]  # constant column: shifted, not blown up


def test_robust_and_minmax_statistics_by_hand():
    df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0, 100.0]})
    r = RobustScaler().fit(df, ["y"])
    assert r.center.tolist() == [[3.0]] and r.scale.tolist() == [[2.0]]  # median 3, q75 4 - q25 2
    mm = MinMaxScaler().fit(df, ["y"])
    assert mm.transform(df)["y"].tolist() == pytest.approx([0.0, 1 / 99, 2 / 99, 3 / 99, 1.0])


@pytest.mark.parametrize("cls", [StandardScaler, RobustScaler, MinMaxScaler])
def test_inverse_transform_round_trip(cls):
    df = two_series()
    s = cls().fit(df, ["y", "x"], id_col="id")
    back = s.inverse_transform(s.transform(df))
    assert np.allclose(back[["y", "x"]].to_numpy(), df[["y", "x"]].to_numpy())
    assert back["id"].tolist() == df["id"].tolist()


@pytest.mark.parametrize("cls", [StandardScaler, RobustScaler, MinMaxScaler])
def test_json_round_trip(cls):
    df = two_series()
    s = cls().fit(df, ["y", "x"], id_col="id")
    text = json.dumps(s.to_dict())
    t = scaler_from_dict(json.loads(text))
    assert type(t) is cls and t.ids == ["a", "b"] and t.columns == ["y", "x"]
    assert t.transform(df).equals(s.transform(df))


def test_integer_ids_survive_json():
    df = pd.DataFrame({"id": np.array([7, 7, 9, 9]), "y": [0.0, 2.0, 0.0, 4.0]})
    s = scaler_from_dict(json.loads(json.dumps(StandardScaler().fit(df, "y", id_col="id").to_dict())))
    assert s.ids == [7, 9]
    assert s.transform(df)["y"].tolist() == [-1.0, 1.0, -1.0, 1.0]


def test_scaler_is_fitted_on_train_and_applied_to_later_rows():
    train = pd.DataFrame({"y": [0.0, 2.0]})
    s = StandardScaler().fit(train, "y")
    assert s.transform(pd.DataFrame({"y": [4.0]}))["y"].tolist() == [3.0]  # (4 - 1) / 1


def test_inverse_of_window_arrays_per_series():
    df = two_series()
    s = StandardScaler().fit(df, ["y"], id_col="id")
    w = make_windows(s.transform(df), "y", lookback=1, horizon=2, id_col="id")
    back = s.inverse_transform_array(w.target, ["y"], series=w.series)
    assert np.allclose(back[..., 0], [[2.0, 3.0], [20.0, 60.0]])
    # quantile outputs: the column axis is not last
    q = np.stack([w.target, w.target], axis=-1)  # (N, H, 1, Q)
    assert s.inverse_transform_array(q, ["y"], series=w.series, axis=2)[..., 1].tolist() == back.tolist()
    assert np.allclose(s.transform_array(back, ["y"], series=w.series), w.target)


def test_errors():
    df = two_series()
    with pytest.raises(ConfigError, match="StandardScaler is not fitted"):
        StandardScaler().transform(df)
    s = StandardScaler().fit(df, ["y"], id_col="id")
    with pytest.raises(
        DataError, match=r"series \['c'\] of 'id' were not in the training frame.*fitted ids: \['a', 'b'\]"
    ):
        s.transform(pd.DataFrame({"id": ["c"], "y": [1.0]}))
    with pytest.raises(DataError, match="pass series="):
        s.inverse_transform_array(np.zeros((2, 1)), ["y"])
    with pytest.raises(DataError, match=r"columns \['z'\] were not fitted"):
        s.inverse_transform_array(np.zeros((2, 1)), ["z"], series=["a", "b"])
    with pytest.raises(DataError, match="column 'y' is nan at row 1"):
        StandardScaler().fit(pd.DataFrame({"y": [1.0, np.nan]}), "y")
    with pytest.raises(DataError, match="unknown scaler kind 'zscore'"):
        scaler_from_dict({"kind": "zscore"})
    with pytest.raises(DataError, match="saved scaler is inconsistent"):
        scaler_from_dict({**s.to_dict(), "scale": [[1.0]]})
