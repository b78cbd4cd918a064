"""`lstmkit forecast / backtest / predict` in-process: files written, errors without tracebacks."""

import json

import pandas as pd
import pytest

from lstmkit.cli.main import main

FAST = ["--epochs", "2", "--ensemble", "1", "--no-statistical"]


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "air.csv"
    from lstmkit.data import datasets

    datasets.load("air_passengers").to_csv(path, index=False)
    return path


def test_forecast_writes_csv_plot_model_and_backtest(csv, tmp_path, capsys):
    run = tmp_path / "run"
    code = main(
        [
            "forecast",
            "--data",
            str(csv),
            "--target",
            "passengers",
            "--time-col",
            "month",
            "--windows",
            "1",
            "--horizon",
            "6",
            "--run-dir",
            str(run),
            *FAST,
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "seasonal_naive" in out and "lstmkit" in out
    forecast = pd.read_csv(run / "forecast.csv")
    assert forecast.columns.tolist() == ["step", "month", "forecast", "q0.1", "q0.5", "q0.9"]
    assert forecast["month"].iloc[0] == "1961-01-01"
    assert (run / "forecast.png").stat().st_size > 10_000
    page = (run / "report.html").read_text()
    assert "data:image/png;base64," in page
    for heading in ("Data", "Configuration", "Backtest", "Forecast", "Training", "Inside the network"):
        assert f"<h2>{heading}</h2>" in page
    assert page.count("data:image/png;base64,") == 3  # forecast, training curves, gates
    assert "<td>horizon</td>" in page and "<td>MS</td>" in page  # the configuration and the frequency
    from lstmkit.tasks import Forecaster

    saved = Forecaster.load(run / "model")
    past, future = saved.network_inputs()  # what the networks read, as predict builds it
    assert past.shape == (1, saved.lookback, saved._nets[0].config.n_inputs) and future.shape[:2] == (1, 6)
    assert (run / "forecast.csv").stat().st_mode & 0o044  # readable by others, like any file the user writes
    assert (run / "model" / "weights.safetensors").exists()
    summary = json.loads((run / "backtest.json").read_text())
    assert summary[0]["method"] == "lstmkit"
    assert not list(run.glob(".*.tmp"))  # no temporary files left behind

    assert main(["predict", "--model-dir", str(run / "model"), "--output", str(tmp_path / "p.csv")]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "p.csv"), forecast)


def test_backtest_json(csv, capsys):
    assert (
        main(
            [
                "backtest",
                "--data",
                str(csv),
                "--target",
                "passengers",
                "--time-col",
                "month",
                "--windows",
                "1",
                "--horizon",
                "3",
                "--json",
                *FAST,
            ]
        )
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert [r["method"] for r in rows][:3] == ["lstmkit", "naive", "seasonal_naive"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--target", "sales", "--time-col", "month"], "column(s) ['sales'] not found"),
        (["--time-col", "month"], "--target is required with --data"),
        (["--target", "passengers", "--windows", "-1"], "--windows must be >= 0"),
    ],
)
def test_user_mistakes_exit_2_with_a_message(csv, capsys, args, message):
    assert main(["forecast", "--data", str(csv), *args, *FAST]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_file_and_ragged_csv(tmp_path, capsys):
    assert main(["forecast", "--data", str(tmp_path / "nope.csv"), "--target", "y"]) == 2
    assert "nope.csv" in capsys.readouterr().err
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("t,y\n1,2\n2,3,4\n")
    assert main(["forecast", "--data", str(ragged), "--target", "y"]) == 2
    assert "ragged.csv" in capsys.readouterr().err


def test_predict_with_a_corrupt_model(tmp_path, capsys):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{not json")
    assert main(["predict", "--model-dir", str(tmp_path / "m")]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.slow
def test_no_argument_forecast_runs_the_bundled_sunspots(tmp_path, capsys):
    run = tmp_path / "demo"
    assert main(["forecast", "--run-dir", str(run), "--windows", "1", *FAST]) == 0
    out = capsys.readouterr().out
    assert "bundled sunspots (2820 points)" in out
    forecast = pd.read_csv(run / "forecast.csv")
    assert len(forecast) == 12 and forecast["month"].iloc[0] == "1984-01-01"
