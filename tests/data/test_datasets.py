"""Bundled datasets: the real series, documented, and clean enough to validate."""

from importlib import resources

import numpy as np
import pytest

from lstmkit.data import datasets, validate_series
from lstmkit.errors import DataError


def test_list_datasets():
    assert datasets.list_datasets() == ["air_passengers", "sunspots"]


def test_air_passengers_is_box_jenkins_series_g():
    df = datasets.load("air_passengers")
    assert df.columns.tolist() == ["month", "passengers"] and len(df) == 144
    assert df["passengers"].iloc[:12].tolist() == [112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118]
    assert df["passengers"].iloc[-3:].tolist() == [461, 390, 432]
    assert df["passengers"].sum() == 40363  # total of the classic series
    assert str(df["month"].iloc[0].date()) == "1949-01-01" and str(df["month"].iloc[-1].date()) == "1960-12-01"


def test_sunspots_is_the_monthly_series_1749_to_1983():
    df = datasets.load("sunspots")
    assert df.columns.tolist() == ["month", "sunspots"] and len(df) == 2820
    assert df["sunspots"].iloc[:5].tolist() == [58.0, 62.6, 70.0, 55.7, 85.0]
    assert df["sunspots"].iloc[-3:].tolist() == [55.8, 33.3, 33.4]
    assert df["sunspots"].min() == 0.0 and df["sunspots"].max() == 253.8
    assert str(df["month"].iloc[-1].date()) == "1983-12-01"


@pytest.mark.parametrize("name", ["air_passengers", "sunspots"])
def test_datasets_validate_as_monthly_and_are_documented(name):
    info = datasets.dataset_info(name)
    vs = validate_series(datasets.load(name), info.target, time_col=info.time_col)
    assert vs.freq == info.freq == "MS" and vs.seasonal_period == info.seasonal_period == 12
    assert np.isfinite(vs.frame[info.target]).all()
    readme = resources.files("lstmkit.data.datasets").joinpath("README.md").read_text(encoding="utf-8")
    assert f"`{info.file}`" in readme and "pmdarima" in readme and "MIT" in readme


def test_unknown_dataset_lists_available():
    with pytest.raises(DataError, match="unknown dataset 'airline'; available: air_passengers, sunspots"):
        datasets.load("airline")
