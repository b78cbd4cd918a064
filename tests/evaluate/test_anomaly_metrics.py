"""Anomaly metrics worked out by hand, the rolling z-score baseline, robust error scores and anomaly injection."""

import numpy as np
import pytest

from lstmkit.evaluate.anomaly import (
    anomaly_metrics,
    event_metrics,
    inject_anomalies,
    point_metrics,
    robust_residual_score,
    rolling_robust_scores,
    rolling_zscore,
    runs,
    zscore_flags,
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


def _robust_reference(r: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """`rolling_robust_scores` written as the definition: a loop over steps and columns."""
    out = np.full(len(r), np.nan)
    for t in range(len(r)):
        past = [row for row in r[max(0, t - window) : t] if not np.isnan(row).any()]
        if np.isnan(r[t]).any() or len(past) < min_periods:
            continue
        z = []
        for f in range(r.shape[1]):
            col = np.array([row[f] for row in past])
            med = np.median(col)
            z.append(abs(r[t, f] - med) / max(1.4826 * np.median(np.abs(col - med)), 1e-6))
        out[t] = max(z)
    return out


def test_rolling_robust_scores_match_the_definition_loop():
    rng = np.random.default_rng(0)
    r = rng.standard_t(3, size=(60, 2))
    r[:3] = np.nan  # no forecast yet
    r[40, 1] += 25.0
    got = rolling_robust_scores(r, window=10, min_periods=4)
    np.testing.assert_allclose(got, _robust_reference(r, 10, 4), rtol=1e-12, equal_nan=True)
    assert np.isnan(got[:7]).all() and not np.isnan(got[7:]).any()
    assert int(np.nanargmax(got)) == 40
    # one column: the same as a (T, 1) array; the last step scored against the steps before it alone
    np.testing.assert_array_equal(rolling_robust_scores(r[:, 0], 10, 4), rolling_robust_scores(r[:, :1], 10, 4))
    assert got[59] == pytest.approx(robust_residual_score(r[49:59], r[59]))


def test_robust_scores_ignore_the_level_of_noise_and_a_flat_past():
    rng = np.random.default_rng(1)
    quiet = rng.normal(size=500)
    loud = 100 * quiet + 7.0
    # the same surprise in units of the recent spread scores the same, however loud the series
    np.testing.assert_allclose(rolling_robust_scores(loud, 50, 20), rolling_robust_scores(quiet, 50, 20), rtol=1e-9)
    flat = np.zeros(30)
    flat[-1] = 1e-3
    assert rolling_robust_scores(flat, 10, 5)[-1] == pytest.approx(1e-3 / 1e-6)


def test_rolling_robust_scores_reject_bad_arguments():
    with pytest.raises(ValueError, match="window must be an integer >= 2, got 1"):
        rolling_robust_scores(np.zeros(5), window=1, min_periods=1)
    with pytest.raises(ValueError, match=r"min_periods must be an integer in \[1, window=4\], got 5"):
        rolling_robust_scores(np.zeros(5), window=4, min_periods=5)
    with pytest.raises(ValueError, match="NaN only in leading rows"):
        rolling_robust_scores(np.array([0.0, 1.0, np.nan, 2.0]), window=2, min_periods=1)
    assert np.isnan(rolling_robust_scores(np.full(4, np.nan), window=2, min_periods=1)).all()


def test_zscore_flags_use_a_threshold_from_the_training_rows_only():
    rng = np.random.default_rng(2)
    y = rng.normal(size=300)
    wild = y.copy()
    wild[200:] *= 50  # after training: must not move the threshold
    z = rolling_zscore(y, window=20)
    threshold = np.nanquantile(z[:200], 0.95)
    np.testing.assert_array_equal(
        zscore_flags(y, 200, window=20, level=0.95), np.nan_to_num(z, nan=-np.inf) > threshold
    )
    np.testing.assert_array_equal(zscore_flags(wild, 200, 20, 0.95)[:200], zscore_flags(y, 200, 20, 0.95)[:200])
    assert not zscore_flags(y, 200, 20, 0.95)[:20].any()  # no score yet: never flagged
