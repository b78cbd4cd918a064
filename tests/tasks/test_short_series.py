"""A series too short for the lookback is left out of a panel with a warning naming it;
the other series keep the lookback their own length gives."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.data.short_series import ShortSeriesDropped
from lstmkit.errors import DataError
from lstmkit.tasks import Forecaster


def _panel(lengths: dict[str, int]) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    parts = [
        pd.DataFrame({"id": key, "t": np.arange(n), "y": np.sin(np.arange(n) / 3.0) + 0.1 * rng.normal(size=n) + 5})
        for key, n in lengths.items()
    ]
    return pd.concat(parts, ignore_index=True)


def _forecaster(**kw) -> Forecaster:
    options = dict(horizon=3, target="y", time_col="t", id_col="id", ensemble=1, max_epochs=1, hidden_size=4)
    return Forecaster(**{**options, **kw})


def test_one_short_series_is_dropped_by_name_and_the_others_keep_their_lookback():
    data = _panel({"a": 60, "b": 60, "c": 60, "tiny": 4})
    alone = _forecaster().fit(_panel({"a": 60, "b": 60, "c": 60}))
    with pytest.warns(ShortSeriesDropped, match=r"left out 1 of 4 series .* 'tiny' \(4 rows\); .* keep lookback 6"):
        model = _forecaster().fit(data)
    assert model.lookback == alone.lookback == 6  # not cut to fit the 4-row series
    assert sorted(model.predict()["id"].unique()) == ["a", "b", "c"]


def test_a_panel_of_equal_series_drops_nothing(recwarn):
    model = _forecaster().fit(_panel({"a": 30, "b": 30}))
    assert not [w for w in recwarn if issubclass(w.category, ShortSeriesDropped)]
    assert model.lookback == 6


def test_a_given_lookback_drops_the_series_it_does_not_fit():
    with pytest.warns(ShortSeriesDropped, match=r"'b' \(20 rows\)"):
        model = _forecaster(lookback=20).fit(_panel({"a": 60, "b": 20}))
    assert model.lookback == 20


def test_when_every_series_is_too_short_it_is_an_error():
    with pytest.raises(DataError, match="every series is shorter than lookback \\+ horizon = 53 rows"):
        _forecaster(lookback=50).fit(_panel({"a": 30, "b": 30}))
