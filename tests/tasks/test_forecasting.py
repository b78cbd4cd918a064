"""Forecaster: fit / predict / backtest / save / load, no leakage, clear errors."""

import re

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import CheckpointError, ConfigError, DataError
from lstmkit.tasks import Forecaster

TINY = dict(ensemble=1, max_epochs=3, hidden_size=8, patience=2)


def _seasonal(n=96, start="2000-01", seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 50 + 0.3 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)
    return pd.DataFrame({"month": pd.date_range(start, periods=n, freq="MS"), "y": y})


def test_fit_predict_frame_layout_and_quantile_order():
    df = _seasonal()
    f = Forecaster(horizon=6, target="y", time_col="month", **TINY).fit(df)
    out = f.predict()
    assert out.columns.tolist() == ["step", "month", "forecast", "q0.1", "q0.5", "q0.9"]
    assert out["step"].tolist() == [1, 2, 3, 4, 5, 6]
    assert out["month"].iloc[0] == pd.Timestamp("2008-01-01")  # the month after the data
    assert (out["q0.1"] <= out["q0.5"]).all() and (out["q0.5"] <= out["q0.9"]).all()
    np.testing.assert_allclose(out["forecast"], out["q0.5"])


def test_learns_a_seasonal_series_better_than_the_seasonal_baseline_in_sample():
    df = _seasonal(n=160, seed=1)
    f = Forecaster(horizon=12, target="y", time_col="month", ensemble=1, max_epochs=40, hidden_size=16)
    f.fit(df.iloc[:-12])
    forecast = f.predict()["forecast"].to_numpy()
    actual = df["y"].to_numpy()[-12:]
    seasonal_naive = df["y"].to_numpy()[-24:-12]
    assert np.abs(forecast - actual).mean() < np.abs(seasonal_naive - actual).mean()


def test_predict_on_new_data_without_refit_and_save_load_round_trip(tmp_path):
    df = _seasonal()
    f = Forecaster(horizon=4, target="y", time_col="month", **TINY).fit(df.iloc[:80])
    from_fit = f.predict()
    from_data = f.predict(df.iloc[:80])
    pd.testing.assert_frame_equal(from_fit, from_data)
    newer = f.predict(df)  # 16 newer rows: forecast after them, same weights
    assert newer["month"].iloc[0] == df["month"].iloc[-1] + pd.offsets.MonthBegin(1)
    f.save(tmp_path / "model")
    loaded = Forecaster.load(tmp_path / "model")
    pd.testing.assert_frame_equal(loaded.predict(), from_fit)
    pd.testing.assert_frame_equal(loaded.predict(df), newer)


def test_corrupt_model_directory_is_a_clear_error(tmp_path):
    f = Forecaster(horizon=3, target="y", time_col="month", **TINY).fit(_seasonal(60))
    f.save(tmp_path / "m")
    weights = tmp_path / "m" / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:50])
    with pytest.raises(CheckpointError, match="weights.safetensors"):
        Forecaster.load(tmp_path / "m")


def test_backtest_does_not_leak_the_future():
    df = _seasonal(n=84)
    f = Forecaster(horizon=6, target="y", time_col="month", **TINY)
    first = f.backtest(df, windows=2, statistical=False)
    changed = df.copy()
    changed.loc[len(df) - 6 :, "y"] += 1000.0  # only the last window's test period changes
    second = f.backtest(changed, windows=2, statistical=False)
    a, b = (r.forecasts[r.forecasts["method"] == "lstmkit"] for r in (first, second))
    np.testing.assert_allclose(a["forecast"], b["forecast"])  # forecasts never saw those values
    assert not np.allclose(a["actual"], b["actual"])
    summary = first.summary
    assert summary.index.tolist()[:4] == ["lstmkit", "naive", "seasonal_naive", "drift"]
    assert {"mase", "smape", "coverage_80"} <= set(summary.columns)


def test_many_series_with_covariates_and_calendar():
    parts = []
    for k, level in enumerate([10.0, 100.0]):
        d = _seasonal(n=72, seed=k)
        d["y"] += level
        d["id"] = f"s{k}"
        d["price"] = np.linspace(0, 1, 72)
        d["promo"] = (np.arange(72) % 5 == 0).astype(float)
        parts.append(d)
    df = pd.concat(parts, ignore_index=True)
    f = Forecaster(
        horizon=3,
        target="y",
        time_col="month",
        id_col="id",
        past_covariates=("price",),
        future_covariates=("promo",),
        calendar=True,
        **TINY,
    ).fit(df)
    with pytest.raises(DataError, match="pass future= with their values"):
        f.predict()
    future = pd.DataFrame(
        {
            "id": ["s0"] * 3 + ["s1"] * 3,
            "promo": [1.0, 0, 0] * 2,
            "month": list(pd.date_range("2006-01", periods=3, freq="MS")) * 2,
        }
    )
    out = f.predict(future=future)
    assert out["id"].tolist() == ["s0"] * 3 + ["s1"] * 3
    s0, s1 = out[out.id == "s0"]["forecast"].mean(), out[out.id == "s1"]["forecast"].mean()
    assert s1 - s0 > 50  # per-series scaling keeps each series at its own level


def test_recursive_strategy_and_series_input():
    y = pd.Series(_seasonal(60)["y"].to_numpy())
    out = Forecaster(horizon=5, strategy="recursive", **TINY).fit(y).predict()
    assert out.columns.tolist() == ["step", "forecast", "q0.1", "q0.5", "q0.9"]
    assert np.isfinite(out["forecast"]).all()


def test_bad_input_is_named():
    df = _seasonal(40)
    with pytest.raises(DataError, match=r"column\(s\) \['sales'\] not found; columns found: \['month', 'y'\]"):
        Forecaster(target="sales", time_col="month").fit(df)
    bad = df.copy()
    bad.loc[7, "y"] = np.nan
    with pytest.raises(DataError, match="row 7"):
        Forecaster(target="y", time_col="month").fit(bad)
    with pytest.raises(DataError):
        Forecaster(horizon=30, lookback=30, target="y", time_col="month").fit(df)
    with pytest.raises(ConfigError, match="horizon must be a positive integer, got 0"):
        Forecaster(horizon=0)
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['horizn'\] \(did you mean 'horizon'"):
        Forecaster(horizn=3)
    with pytest.raises(ConfigError, match="not fitted yet"):
        Forecaster().predict()


def test_simple_forecasts_the_network_corrects():
    f = Forecaster(horizon=14, target="y")
    past = (2.0 * np.arange(36, dtype=float)).reshape(1, 36, 1)  # a line: 0, 2, ..., 70
    np.testing.assert_array_equal(f._offset(past, "last", 12)[0, :, 0], np.full(14, 70.0))
    np.testing.assert_array_equal(f._offset(past, "drift", 12)[0, :, 0], 70.0 + 2.0 * np.arange(1, 15))
    seasonal = f._offset(past, "seasonal", 12)[0, :, 0]  # the last 12 values, then again from the start
    np.testing.assert_array_equal(seasonal, [*range(48, 72, 2), 48, 50])


@pytest.mark.parametrize(
    ("shape", "expected"),
    [("trend", "drift"), ("seasonal", "seasonal"), ("walk", "last")],
)
def test_auto_base_is_the_simple_forecast_with_the_smallest_training_error(shape, expected):
    rng = np.random.default_rng(0)
    t = np.arange(120)
    y = {
        "trend": 100 + 2.0 * t + rng.normal(0, 0.5, 120),
        "seasonal": 100 + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.5, 120),
        "walk": 100 + np.cumsum(rng.normal(0, 1, 120)),
    }[shape]
    df = pd.DataFrame({"month": pd.date_range("2000-01", periods=120, freq="MS"), "y": y})
    f = Forecaster(horizon=6, target="y", time_col="month", transform="none", **TINY).fit(df)
    assert f._fitted.base == expected


def test_drift_base_needs_the_direct_strategy():
    with pytest.raises(ConfigError, match="base='drift' needs strategy='direct'"):
        Forecaster(base="drift", strategy="recursive")


def test_default_lookback_grows_with_the_history():
    f = Forecaster(horizon=12, target="y")
    assert f._lookback(m=12, shortest=500) == 36  # max(2 * horizon, 3 * m)
    assert f._lookback(m=12, shortest=1046) == 36  # 999 windows of 36 + 12
    assert f._lookback(m=12, shortest=1047) == 72  # 1,000 windows: a long history, twice the memory
    assert f._lookback(m=1, shortest=60) == 24  # 2 * horizon
    assert f._lookback(m=12, shortest=80) == 34  # short series: room for as many windows as steps
    assert Forecaster(horizon=12, lookback=10)._lookback(m=12, shortest=5000) == 10  # given: kept


def test_ensemble_size_follows_the_training_windows_not_the_strided_subset():
    # lookback 4 + horizon 1: 1,100 rows give 987 training windows (10 members), 1,700 give 1,527 (3);
    # max_windows=64 caps what each epoch sees but not how much data the fit had
    fast = dict(horizon=1, lookback=4, target="y", max_windows=64, max_epochs=1, hidden_size=4)
    short = Forecaster(**fast).fit(_seasonal(n=1100))
    long = Forecaster(**fast).fit(_seasonal(n=1700))
    assert short._fitted.members == 10
    assert long._fitted.members == 3


def test_progress_prints_a_line_per_epoch_per_member_and_is_quiet_by_default(capsys, monkeypatch):
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR", "FORCE_TERMINAL"):  # captured stderr is no terminal
        monkeypatch.delenv(name, raising=False)
    options = dict(horizon=3, target="y", time_col="month", **{**TINY, "ensemble": 2, "max_epochs": 2})
    Forecaster(**options).fit(_seasonal(60), progress=True)
    lines = capsys.readouterr().err.splitlines()
    labels = [
        re.match(r"(member \d/2  epoch \d/2)  train_loss \d+\.\d{4}  val_loss \d+\.\d{4}  \d+\.\d s$", line)
        for line in lines
    ]
    assert [m.group(1) for m in labels] == [
        "member 1/2  epoch 1/2",
        "member 1/2  epoch 2/2",
        "member 2/2  epoch 1/2",
        "member 2/2  epoch 2/2",
    ]
    Forecaster(**options).fit(_seasonal(60))  # progress=None: on only when stderr is a terminal
    Forecaster(**options).fit(_seasonal(60), progress=False)
    assert capsys.readouterr().err == ""


def test_validation_targets_never_reach_training():
    # two series of 40 and 25 windows; horizon 6: a window's targets are the 6 steps after it
    f = Forecaster(horizon=6, target="y")
    series = np.array(["a"] * 40 + ["b"] * 25)
    position = np.concatenate([np.arange(40), np.arange(25)])
    train, val = f._split(series, position)
    for key in ("a", "b"):
        t, v = position[train][series[train] == key], position[val][series[val] == key]
        assert t.max() + 6 <= v.min()  # the last training targets end before the first validation target
        assert v.max() == position[series == key].max()  # validation: the last windows
    # validation: a fifth of the windows, at most max(horizon, a tenth): 6 and 5; a gap of horizon - 1 = 5 each
    assert len(train) == (40 - 6 - 5) + (25 - 5 - 5)


def test_long_history_rotates_through_every_training_window_deterministically(monkeypatch):
    from lstmkit.tasks import forecasting

    made = []
    original = forecasting.RotatingBatches

    def recording(tensors, batch_size, per_epoch, seed):
        made.append(original(tensors, batch_size, per_epoch, seed))
        return made[-1]

    monkeypatch.setattr(forecasting, "RotatingBatches", recording)
    options = dict(horizon=2, lookback=4, target="y", max_windows=16, max_epochs=6, patience=None, ensemble=1)
    options.update(hidden_size=4)
    first = Forecaster(**options).fit(_seasonal(n=60)).predict()
    (batches,) = made
    n_train = batches.rows  # 55 windows, 5 for validation, a gap of 1: 49
    assert n_train == 49 and len(batches) == 1  # 16 windows per epoch, in one batch (32 at least)
    seen = {int(r) for epoch in range(6) for r in batches.epoch_rows(epoch)}
    assert seen == set(range(n_train))  # 6 epochs of 16 windows cover all 49, not a fixed strided 16
    again = Forecaster(**options).fit(_seasonal(n=60)).predict()
    pd.testing.assert_frame_equal(first, again)  # the same seed, the same forecast


@pytest.mark.parametrize("ready", [True, False])
def test_trains_on_the_compiled_loops_when_built_and_forecasts_on_the_usual_path(monkeypatch, ready):
    from lstmkit.tasks import forecasting
    from lstmkit.train import Trainer

    paths = []
    fit = Trainer.fit

    def recording_fit(trainer, *args, **kwargs):
        paths.append(trainer.model.encoder.execution_path())
        return fit(trainer, *args, **kwargs)

    monkeypatch.setattr(forecasting.native, "ready", lambda: ready)
    monkeypatch.setattr(Trainer, "fit", recording_fit)
    f = Forecaster(horizon=3, target="y", time_col="month", device="cpu", **TINY).fit(_seasonal(60))
    assert paths == ["sequence" if ready else "fused"]
    assert f._nets[0].encoder.execution_path() == "fused"  # forecasts: the same path as after load
    peephole = Forecaster(horizon=3, target="y", time_col="month", peephole=True, device="cpu", **TINY)
    peephole.fit(_seasonal(60))
    assert paths[-1] == "sequence"  # a variant keeps the path its options chose
    assert peephole._nets[0].encoder.backend == "auto"
