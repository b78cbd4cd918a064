"""Frequencies, seasonal periods, future time stamps and calendar features."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.data import (
    add_calendar_features,
    calendar_features,
    default_calendar_features,
    first_irregular_step,
    future_timestamps,
    infer_frequency,
    infer_seasonal_period,
)
from lstmkit.errors import ConfigError, DataError


@pytest.mark.parametrize(
    "freq, m",
    [
        ("MS", 12),
        ("ME", 12),
        ("QS", 4),
        ("QE-DEC", 4),
        ("D", 7),
        ("h", 24),
        ("W-SUN", 52),
        ("W", 52),
        ("B", 5),
        ("2h", 12),
        ("6h", 4),
        ("5h", 1),
        ("YS", 1),
        ("min", 1),
        ("s", 1),
        (None, 1),
        (2.0, 1),
    ],
)
def test_infer_seasonal_period(freq, m):
    assert infer_seasonal_period(freq) == m


@pytest.mark.parametrize("freq", ["MS", "ME", "QS-JAN", "D", "B", "h", "15min", "W-WED", "YE-DEC"])
def test_infer_frequency_round_trips_date_range(freq):
    times = pd.date_range("2021-01-01", periods=7, freq=freq)
    inferred = infer_frequency(times)  # pandas 2 may name an equivalent anchor (QS-OCT for QS-JAN)
    assert pd.date_range(times[0], periods=7, freq=inferred).equals(times)
    assert infer_seasonal_period(inferred) == infer_seasonal_period(freq)


def test_infer_frequency_short_inputs():
    assert infer_frequency(pd.to_datetime(["2021-01-01"])) is None
    assert infer_frequency(pd.to_datetime(["2021-01-01", "2021-01-03"])) == "2D"


def test_first_irregular_step_uses_the_majority_step():
    t = pd.date_range("2021-01-01", periods=10, freq="D").delete(6)
    assert first_irregular_step(t) == (5, "D")
    # the gap at the very start still reads against the majority
    months = pd.date_range("2020-01-01", periods=8, freq="MS").delete(1)
    assert first_irregular_step(months) == (0, "MS")


def test_first_irregular_step_numeric():
    assert first_irregular_step([0, 3, 6, 12, 15]) == (2, 3.0)
    assert first_irregular_step(np.arange(5) * 0.1) is None  # float noise is not a gap


def test_future_timestamps():
    assert future_timestamps(pd.Timestamp("2021-12-01"), "MS", 2).tolist() == [
        pd.Timestamp("2022-01-01"),
        pd.Timestamp("2022-02-01"),
    ]
    assert future_timestamps(pd.Timestamp("2021-03-05 23:00"), "h", 1)[0] == pd.Timestamp("2021-03-06 00:00")
    assert future_timestamps(3, 0.5, 2).tolist() == [3.5, 4.0]


def test_default_calendar_features_follow_frequency():
    assert default_calendar_features("MS") == ("month_of_year",)
    assert default_calendar_features("QE") == ("month_of_year",)
    assert default_calendar_features("W-SUN") == ("day_of_year",)
    assert default_calendar_features("D") == ("day_of_week", "day_of_year")
    assert default_calendar_features("30min") == ("hour_of_day", "day_of_week")
    assert default_calendar_features("YS") == ()
    assert default_calendar_features(None) == ()


def test_calendar_feature_values_by_hand():
    # 2024-04-03 is a Wednesday (weekday 2), day 94 of a leap year, 18:00
    t = pd.to_datetime(["2024-04-03 18:00"])
    f = calendar_features(t, ["hour_of_day", "day_of_week", "day_of_month", "day_of_year", "month_of_year"])
    phase = {
        "hour_of_day": 18 / 24,
        "day_of_week": 2 / 7,
        "day_of_month": 2 / 30,
        "day_of_year": 93 / 366,
        "month_of_year": 3 / 12,
    }
    for name, p in phase.items():
        assert f[f"{name}_sin"].iloc[0] == pytest.approx(np.sin(2 * np.pi * p))
        assert f[f"{name}_cos"].iloc[0] == pytest.approx(np.cos(2 * np.pi * p))


def test_month_features_are_a_circle_december_next_to_january():
    f = calendar_features(pd.date_range("2021-01-01", periods=12, freq="MS"))
    assert list(f.columns) == ["month_of_year_sin", "month_of_year_cos"]
    assert np.allclose(f["month_of_year_sin"] ** 2 + f["month_of_year_cos"] ** 2, 1.0)
    dec, jan, jun = f.iloc[11].to_numpy(), f.iloc[0].to_numpy(), f.iloc[5].to_numpy()
    assert np.linalg.norm(dec - jan) == pytest.approx(np.linalg.norm(f.iloc[1].to_numpy() - jan))
    assert np.linalg.norm(jun - jan) > np.linalg.norm(dec - jan)


def test_add_calendar_features_multi_series_and_index_alignment():
    t = pd.date_range("2021-01-01", periods=3, freq="MS")
    df = pd.DataFrame({"id": ["a"] * 3 + ["b"] * 3, "t": list(t) * 2, "y": range(6)}, index=list("uvwxyz"))
    out, names = add_calendar_features(df, "t")
    assert names == ["month_of_year_sin", "month_of_year_cos"]
    assert out.index.tolist() == list("uvwxyz")
    assert out.loc["x", "month_of_year_cos"] == pytest.approx(1.0)  # January again, series b
    assert out.loc["w", "month_of_year_sin"] == pytest.approx(np.sin(2 * np.pi * 2 / 12))


def test_calendar_errors():
    with pytest.raises(ConfigError, match="unknown calendar feature"):
        calendar_features(pd.date_range("2021-01-01", periods=2), ["moon_phase"])
    with pytest.raises(DataError, match="time column 'when' not found"):
        add_calendar_features(pd.DataFrame({"t": [1]}), "when")
    df, _ = add_calendar_features(pd.DataFrame({"t": pd.date_range("2021-01-01", periods=3, freq="MS")}), "t")
    with pytest.raises(DataError, match="already exist"):
        add_calendar_features(df, "t")
