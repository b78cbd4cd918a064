"""Anomaly metrics worked out by hand, the rolling z-score baseline and anomaly injection."""

import numpy as np
import pytest

from lstmkit.evaluate.anomaly import (
    anomaly_metrics,
    event_metrics,
    inject_anomalies,
    point_metrics,
    rolling_zscore,
    runs,
)


def test_runs():
    assert runs([1, 1, 0, 0, 1, 0, 1, 1, 1]) == [(0, 2), (4, 5), (6, 9)]
    assert runs([0, 0]) == []


def test_point_and_event_metrics_by_hand():
    labels = [0, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1, 1]
    flags = [0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1]
    # points: tp = 2 (steps 2, 11), flagged 4, labelled 6
    assert point_metrics(labels, flags) == pytest.approx({"precision": 0.5, "recall": 2 / 6, "f1": 0.4})
    # events (1-3), (7), (10-11): 2 detected of 3; alarms (2), (5-6), (11): 2 of 3 touch an event
    e = event_metrics(labels, flags)
    assert e == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3})
    both = anomaly_metrics(labels, flags)
    assert both["point_recall"] == pytest.approx(1 / 3) and both["event_recall"] == pytest.approx(2 / 3)


def test_silent_detector_scores_zero_and_bad_input_is_rejected():
    assert point_metrics([0, 1], [0, 0]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert event_metrics([0, 0], [0, 0]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    with pytest.raises(ValueError, match="same length, got 3 and 2"):
        point_metrics([0, 1, 0], [0, 1])
    with pytest.raises(ValueError, match="0/1"):
        event_metrics([0, 2], [0, 1])


def test_rolling_zscore_matches_a_loop_and_takes_the_largest_column():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 2))
    z = rolling_zscore(x, window=5)
    for t in (5, 17, 49):
        past = x[t - 5 : t]
        expected = np.max(np.abs(x[t] - past.mean(0)) / past.std(0))
        assert z[t] == pytest.approx(expected)
    assert np.isnan(z[:5]).all()
    with pytest.raises(ValueError, match="window must be an integer >= 2, got 1"):
        rolling_zscore(x, window=1)


def test_inject_anomalies_is_reproducible_and_labels_what_it_changed():
    y = np.sin(np.arange(300) / 7)
    a, la = inject_anomalies(y, start=150, n_spikes=4, n_shifts=1, shift_length=6, seed=3)
    b, lb = inject_anomalies(y, start=150, n_spikes=4, n_shifts=1, shift_length=6, seed=3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert la.sum() == 10 and la[:150].sum() == 0
    np.testing.assert_array_equal(la.astype(bool), a != y)
    assert len(runs(la)) == 5  # no two anomalies touch
