"""`lstmkit detect` in-process: files written, metrics printed, errors without tracebacks."""

import json

import numpy as np
import pandas as pd
import pytest

from lstmkit.cli.main import main
from lstmkit.data.synthetic import anomaly_demo

FAST = ["--epochs", "2", "--window-length", "8", "--hidden-size", "4"]


def _series(n=240, seed=0):
    rng = np.random.default_rng(seed)
    y = np.sin(np.arange(n) / 5.0) + 0.05 * rng.normal(size=n)
    labels = np.zeros(n, dtype=int)
    for t in (150, 190, 220):
        y[t] += 4.0
        labels[t] = 1
    return pd.DataFrame(
        {
            "day": pd.date_range("2020-01-01", periods=n, freq="D"),
            "y": y,
            "z": np.cos(np.arange(n) / 5.0),
            "label": labels,
        }
    )


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "series.csv"
    _series().to_csv(path, index=False)
    return path


def test_detect_writes_scores_plot_and_metric_table(csv, tmp_path, capsys):
    run = tmp_path / "run"
    code = main(
        [
            "detect",
            "--data",
            str(csv),
            "--target",
            "y,z",
            "--time-col",
            "day",
            "--label-col",
            "label",
            "--train-until",
            "2020-04-29",
            "--run-dir",
            str(run),
            *FAST,
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "training on the first 120 of 240 rows" in out
    assert "rolling z-score" in out and "event_f1" in out
    written = pd.read_csv(run / "detections.csv")
    assert written.columns.tolist() == ["day", "y", "z", "label", "score", "is_anomaly"]
    assert set(written["is_anomaly"].unique()) <= {0, 1} and np.isnan(written["score"][0])
    assert (run / "detections.png").stat().st_size > 10_000
    page = (run / "report.html").read_text()
    for heading in ("Data", "Configuration", "Training", "Detections"):
        assert f"<h2>{heading}</h2>" in page
    assert page.count("data:image/png;base64,") == 2  # training curves, detections
    assert "rolling z-score" in page and "<td>window</td>" in page and "<td>D</td>" in page
    assert not list(run.glob(".*.tmp"))


def test_threshold_ignores_rows_after_training(tmp_path, capsys):
    frames = [_series(), _series()]
    frames[1].loc[120:, "y"] += 50.0  # a different test period
    outputs = []
    for k, frame in enumerate(frames):
        path = tmp_path / f"s{k}.csv"
        frame.to_csv(path, index=False)
        out = tmp_path / f"out{k}.csv"
        assert (
            main(
                [
                    "detect",
                    "--data",
                    str(path),
                    "--target",
                    "y",
                    "--train-until",
                    "120",
                    "--output",
                    str(out),
                    "--run-dir",
                    str(tmp_path / f"run{k}"),
                    *FAST,
                ]
            )
            == 0
        )
        threshold = [line for line in capsys.readouterr().out.splitlines() if line.startswith("threshold")]
        outputs.append((threshold[0].split(":")[0], pd.read_csv(out)))
    assert outputs[0][0] == outputs[1][0]
    pd.testing.assert_series_equal(outputs[0][1]["score"][:120], outputs[1][1]["score"][:120])


def test_no_arguments_runs_the_bundled_labelled_demo(tmp_path, capsys):
    run = tmp_path / "demo"
    assert main(["detect", "--run-dir", str(run), "--epochs", "1", "--window-length", "8", "--hidden-size", "4"]) == 0
    out = capsys.readouterr().out
    assert "bundled sunspots with injected anomalies" in out and "rolling z-score" in out
    written = pd.read_csv(run / "detections.csv")
    assert len(written) == 2820 and written["is_anomaly"].sum() > 0


def test_demo_is_reproducible_and_untouched_in_the_training_half():
    a, b = anomaly_demo(), anomaly_demo()
    pd.testing.assert_frame_equal(a, b)
    assert a["is_anomaly"][:1410].sum() == 0 and a["is_anomaly"].sum() == 8 + 2 * 12


@pytest.mark.parametrize(
    "args, message",
    [
        (["--target", "nope"], "--target 'nope' is not a column"),
        (["--target", "y", "--label-col", "missing"], "--label-col 'missing' is not a column"),
        (["--target", "y", "--label-col", "y"], "must hold 0 or 1 in every row"),
        (["--target", "y", "--train-until", "999"], "leaves 999 training rows of 240"),
        (["--target", "y", "--train-until", "2020-03-01"], "a time needs --time-col"),
        (["--target", "y", "--method", "forecast", "--window-length", "200"], "needs at least 402"),
        ([], "--target is required with --data"),
    ],
)
def test_user_errors_exit_2_without_traceback(csv, tmp_path, capsys, args, message):
    assert main(["detect", "--data", str(csv), "--run-dir", str(tmp_path / "r"), *FAST[:2], *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_values_need_fill(tmp_path, capsys):
    frame = _series()
    frame.loc[5, "y"] = np.nan
    path = tmp_path / "gappy.csv"
    frame.to_csv(path, index=False)
    assert main(["detect", "--data", str(path), "--target", "y", "--run-dir", str(tmp_path / "r"), *FAST]) == 2
    assert "missing" in capsys.readouterr().err
    assert (
        main(
            [
                "detect",
                "--data",
                str(path),
                "--target",
                "y",
                "--fill",
                "interpolate",
                "--run-dir",
                str(tmp_path / "r"),
                *FAST,
            ]
        )
        == 0
    )


def test_target_without_data_is_an_error(capsys):
    assert main(["detect", "--target", "y"]) == 2
    assert "give --data too" in capsys.readouterr().err


def test_scoring_options_reach_the_detector_and_match_the_job(csv, tmp_path, capsys):
    from lstmkit.cli import detect
    from lstmkit.tasks import anomaly

    assert detect.METHODS == anomaly.METHODS and detect.SCORINGS == anomaly.SCORINGS
    model = tmp_path / "m"
    args = ["detect", "--data", str(csv), "--target", "y", "--run-dir", str(tmp_path / "r"), "--model-dir", str(model)]
    assert main([*args, *FAST, "--scoring", "raw", "--scale-window", "20"]) == 0
    saved = json.loads((model / "config.json").read_text())["detector"]
    assert saved["scoring"] == "raw" and saved["scale_window"] == 20
    assert main([*args, *FAST, "--scale-window", "1"]) == 2
    assert "--scale-window" in capsys.readouterr().err
