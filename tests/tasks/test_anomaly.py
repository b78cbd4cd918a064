"""`AnomalyDetector`: training-only threshold, streaming == batch, robust vs raw scores, spikes, save/load, errors."""

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.errors import ConfigError, DataError
from lstmkit.evaluate.anomaly import anomaly_metrics, rolling_robust_scores
from lstmkit.tasks import AnomalyDetector

TINY = dict(window=12, hidden_size=8, max_epochs=6, patience=3, seed=0)


def _sine(n=400, seed=0):
    rng = np.random.default_rng(seed)
    return np.sin(np.arange(n) / 5.0) + 0.05 * rng.normal(size=n)


@pytest.fixture(scope="module")
def forecaster():
    return AnomalyDetector(method="forecast", **TINY).fit(_sine()[:250])


@pytest.fixture(scope="module")
def multivariate():
    y = _sine()
    frame = pd.DataFrame({"t": np.arange(len(y)), "a": y, "b": np.cos(np.arange(len(y)) / 5.0)})
    det = AnomalyDetector(
        method="autoencoder", target=("a", "b"), time_col="t", window=8, hidden_size=8, max_epochs=2, seed=0
    )
    return det.fit(frame.iloc[:250]), frame


def test_threshold_sees_only_training_data(forecaster):
    y = _sine()
    other = y.copy()
    other[250:] += 10 * np.random.default_rng(1).normal(size=150)  # a wild test period
    refit = AnomalyDetector(method="forecast", **TINY).fit(other[:250])
    assert refit.threshold == forecaster.threshold
    before = forecaster.threshold
    forecaster.predict(other)
    assert forecaster.threshold == before
    # scores of the training rows do not depend on what follows them
    np.testing.assert_array_equal(forecaster.score_samples(y)[:250], forecaster.score_samples(other)[:250])
    train = forecaster.score_samples(y[:250])
    assert forecaster.threshold == pytest.approx(np.nanquantile(train, forecaster.config.quantile))


def test_false_alarm_rate_sets_the_share_of_flagged_training_steps():
    y = _sine()
    det = AnomalyDetector(method="forecast", false_alarm_rate=0.1, **TINY).fit(y[:250])
    flagged = det.predict(y[:250])["is_anomaly"].mean()
    assert flagged == pytest.approx(0.1, abs=0.01)


def test_streaming_equals_batch_forecast(forecaster):
    y = _sine()
    batch = forecaster.score_samples(y)
    forecaster.reset_stream()
    stream = np.array([forecaster.update(v) for v in y])
    assert np.isnan(batch[0]) and np.isnan(stream[0])
    np.testing.assert_allclose(stream, batch, rtol=1e-5, atol=1e-6)
    forecaster.reset_stream()


def test_streaming_equals_batch_autoencoder_multivariate(multivariate):
    det, frame = multivariate
    batch = det.score_samples(frame.iloc[:60])
    det.reset_stream()
    stream = np.array([det.update(row) for row in frame[["a", "b"]].to_numpy()[:60]])
    assert np.isnan(batch[:7]).all() and np.isnan(stream[:7]).all()
    np.testing.assert_allclose(stream, batch, rtol=1e-5, atol=1e-6)
    with pytest.raises(DataError, match=r"update expects 2 finite value\(s\)"):
        det.update(1.0)


def test_raw_scoring_is_the_squared_error_and_streams_like_the_batch():
    y = _sine()
    det = AnomalyDetector(method="forecast", scoring="raw", **TINY).fit(y[:250])
    errors = det._batch_errors(torch.from_numpy(det._scaled(det.validated(y))))  # (T, 1)
    batch = det.score_samples(y)
    np.testing.assert_allclose(batch, errors[:, 0].astype(float) ** 2, rtol=1e-6)
    det.reset_stream()
    np.testing.assert_allclose([det.update(v) for v in y], batch, rtol=1e-5, atol=1e-6)


def test_robust_scores_are_the_errors_against_their_recent_spread(forecaster):
    y = _sine()
    errors = forecaster._batch_errors(torch.from_numpy(forecaster._scaled(forecaster.validated(y))))
    c = forecaster.config
    np.testing.assert_allclose(
        forecaster.score_samples(y), rolling_robust_scores(errors, c.scale_window, min_periods=c.window), rtol=1e-6
    )
    short = AnomalyDetector(method="forecast", scale_window=5, **TINY)  # fewer than `window`: all of them
    short.net, short.scaler = forecaster.net, forecaster.scaler
    np.testing.assert_allclose(short.score_samples(y), rolling_robust_scores(errors, 5, min_periods=5), rtol=1e-6)
    short.reset_stream()
    # float32 step and sequence paths differ by ~1e-6; a spread of 5 errors amplifies that to ~1e-5
    np.testing.assert_allclose([short.update(v) for v in y], short.score_samples(y), rtol=1e-4, atol=1e-6)
    assert np.isnan(forecaster.score_samples(y)[: c.window + 1]).all()  # the first error, then `window` more


def test_a_noisier_stretch_is_not_one_long_alarm_with_robust_scores():
    rng = np.random.default_rng(3)
    t = np.arange(700)
    y = np.sin(t / 5.0) + np.where(t < 300, 0.05, 0.4) * rng.normal(size=len(t))  # 8x the noise after training
    shares = {}
    for scoring in ("raw", "robust"):
        det = AnomalyDetector(method="forecast", scoring=scoring, scale_window=48, **TINY).fit(y[:300])
        shares[scoring] = det.predict(y)["is_anomaly"].to_numpy()[400:].mean()  # once the spread has adapted
    assert shares["raw"] > 0.2  # a threshold set on quiet errors: much of the noisy stretch is flagged
    assert shares["robust"] < 0.05  # about the training share (quantile 0.995)


def test_predict_frame_has_time_score_and_flags(multivariate):
    det, frame = multivariate
    out = det.predict(frame)
    assert out.columns.tolist() == ["t", "score", "is_anomaly"]
    assert len(out) == len(frame) and not out["is_anomaly"][:7].any()


def test_detects_injected_spikes(forecaster):
    y = _sine()
    spikes = [270, 310, 360]
    y[spikes] += [3.0, -3.0, 3.0]
    labels = np.zeros(len(y), dtype=int)
    labels[spikes] = 1
    flags = forecaster.predict(y)["is_anomaly"].to_numpy()
    assert flags[spikes].all()
    m = forecaster.evaluate(y[250:], labels[250:])
    assert m == anomaly_metrics(labels[250:], forecaster.predict(y[250:])["is_anomaly"].to_numpy())
    assert m["event_recall"] == 1.0 and m["point_precision"] >= 0.3


def test_save_load_round_trip(forecaster, tmp_path):
    forecaster.save(tmp_path / "det")
    loaded = AnomalyDetector.load(tmp_path / "det")
    assert loaded.threshold == forecaster.threshold and loaded.config == forecaster.config
    y = _sine()
    np.testing.assert_array_equal(loaded.score_samples(y), forecaster.score_samples(y))


def test_clear_errors():
    y = _sine(100)
    with pytest.raises(ConfigError, match="method must be one of .* got 'iforest'"):
        AnomalyDetector(method="iforest")
    with pytest.raises(ConfigError, match="scoring must be one of .* got 'mad'"):
        AnomalyDetector(scoring="mad")
    with pytest.raises(ConfigError, match="scale_window must be at least 2, got 1"):
        AnomalyDetector(**TINY, scale_window=1)
    with pytest.raises(ConfigError, match="not fitted yet"):
        AnomalyDetector().score_samples(y)
    with pytest.raises(DataError, match="'value'"):
        AnomalyDetector(**TINY).fit(pd.DataFrame({"x": y}))
    with pytest.raises(DataError, match="has 20 rows; window=12 needs at least 26"):
        AnomalyDetector(**TINY).fit(y[:20])
    gappy = y.copy()
    gappy[10] = np.nan
    with pytest.raises(DataError, match="missing"):
        AnomalyDetector(**TINY).fit(gappy)
    AnomalyDetector(fill="interpolate", **{**TINY, "max_epochs": 1}).fit(gappy)  # filled: fine
    with pytest.raises(DataError, match="one column per target"):
        AnomalyDetector(**TINY).fit(np.zeros((100, 3)))


def test_public_api_is_exported():
    import lstmkit.models as models
    import lstmkit.tasks as tasks

    assert {"AnomalyDetector", "AnomalyDetectorConfig"} <= set(tasks.__all__)
    assert {"LSTMAutoencoder", "LSTMAutoencoderConfig"} <= set(models.__all__)
    assert all(hasattr(tasks, n) for n in tasks.__all__) and all(hasattr(models, n) for n in models.__all__)
