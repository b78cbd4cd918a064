"""`lstmkit classify` in-process: the bundled example, sequences, texts, and errors without tracebacks."""

import json

import numpy as np
import pandas as pd
import pytest

from lstmkit.cli.main import main
from lstmkit.data.datasets.classification import ucr_path
from lstmkit.tasks import SequenceClassifier, TextClassifier

FAST = ["--epochs", "1", "--ensemble", "1", "--hidden-size", "8"]


@pytest.mark.slow
def test_bundled_language_example_runs_with_no_data(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["classify", "--run-dir", str(run), *FAST]) == 0
    out = capsys.readouterr().out
    assert "bundled language-ID words (7200 train / 1800 test, dutch, english, spanish)" in out
    assert "accuracy" in out and "Confusion matrix" in out
    predictions = pd.read_csv(run / "predictions.csv")
    assert predictions.columns.tolist() == ["id", "prediction", "prob_dutch", "prob_english", "prob_spanish"]
    assert len(predictions) == 1800
    np.testing.assert_allclose(predictions.filter(like="prob_").sum(axis=1), 1.0, rtol=1e-6)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["n"] == 1800 and metrics["labels"] == ["dutch", "english", "spanish"]
    assert np.sum(metrics["confusion"]) == 1800
    assert metrics["accuracy"] == pytest.approx(np.trace(metrics["confusion"]) / 1800)
    assert (run / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert TextClassifier.load(run / "model").config.level == "char"
    assert not list(run.glob(".*.tmp"))


def _long_csv(path, n, seed, labelled=True):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        label = ["up", "down"][i % 2]
        T = int(rng.integers(5, 9))
        values = np.cumsum(rng.normal(1.0 if label == "up" else -1.0, 0.3, size=T))
        frame = pd.DataFrame({"series": f"s{i}", "step": np.arange(T)[::-1], "value": values[::-1]})
        if labelled:
            frame["class"] = label
        rows.append(frame)
    pd.concat(rows).to_csv(path, index=False)
    return path


def test_sequences_from_long_csv_with_ids_in_the_predictions(tmp_path, capsys):
    train = _long_csv(tmp_path / "train.csv", 24, 0)
    test = _long_csv(tmp_path / "test.csv", 10, 1)
    out_csv, model_dir = tmp_path / "out" / "p.csv", tmp_path / "models" / "seq"
    code = main(
        [
            "classify",
            "--data",
            str(train),
            "--test",
            str(test),
            "--id-col",
            "series",
            "--time-col",
            "step",
            "--label-col",
            "class",
            "--output",
            str(out_csv),
            "--model-dir",
            str(model_dir),
            "--run-dir",
            str(tmp_path / "run"),
            "--epochs",
            "30",
            "--ensemble",
            "1",
            "--hidden-size",
            "8",
        ]
    )
    assert code == 0
    predictions = pd.read_csv(out_csv)
    assert predictions["id"].tolist() == [f"s{i}" for i in range(10)]
    assert predictions.columns.tolist() == ["id", "prediction", "prob_down", "prob_up"]
    assert (predictions["prediction"] == ["up", "down"] * 5).mean() >= 0.9
    assert SequenceClassifier.load(model_dir).classes == ["down", "up"]
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["accuracy"] >= 0.9


def test_sequences_from_ts_files(tmp_path, capsys):
    run = tmp_path / "run"
    code = main(
        [
            "classify",
            "--data",
            str(ucr_path("ItalyPowerDemand", "train")),
            "--test",
            str(ucr_path("ItalyPowerDemand", "test")),
            "--run-dir",
            str(run),
            "--no-conv",
            *FAST,
        ]
    )
    assert code == 0
    predictions = pd.read_csv(run / "predictions.csv")
    assert len(predictions) == 1029 and predictions.columns.tolist() == ["id", "prediction", "prob_1", "prob_2"]
    assert "macro-F1" in capsys.readouterr().out
    page = (run / "report.html").read_text()
    for heading in ("Data", "Configuration", "Training", "Test"):
        assert f"<h2>{heading}</h2>" in page
    assert page.count("data:image/png;base64,") == 2  # training curves, confusion matrix
    assert "<td>hidden_size</td>" in page and "macro_f1" in page


def test_texts_with_an_unlabelled_test_file_are_only_predicted(tmp_path, capsys):
    train = tmp_path / "train.csv"
    pd.DataFrame({"review": ["good", "fine", "bad", "awful"] * 3, "label": ["pos", "pos", "neg", "neg"] * 3}).to_csv(
        train, index=False
    )
    test = tmp_path / "test.csv"
    pd.DataFrame({"review": ["good", "awful", ""]}).to_csv(test, index=False)
    run = tmp_path / "run"
    code = main(
        [
            "classify",
            "--data",
            str(train),
            "--test",
            str(test),
            "--text-col",
            "review",
            "--level",
            "char",
            "--run-dir",
            str(run),
            *FAST,
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "the test data have no labels, so nothing is scored" in captured.out
    assert "warning: " in captured.err and "predicted from no content" in captured.err
    assert pd.read_csv(run / "predictions.csv")["id"].tolist() == [0, 1, 2]
    assert not (run / "metrics.json").exists()
    page = (run / "report.html").read_text()
    assert "<h2>Training</h2>" in page and "predicted, not scored" in page
    assert page.count("data:image/png;base64,") == 1  # training curves; no confusion matrix without labels


def test_unknown_test_labels_are_a_warning_not_a_crash(tmp_path, capsys):
    train = tmp_path / "train.csv"
    pd.DataFrame({"text": ["aa", "bb"] * 4, "label": ["a", "b"] * 4}).to_csv(train, index=False)
    test = tmp_path / "test.csv"
    pd.DataFrame({"text": ["aa", "cc"], "label": ["a", "c"]}).to_csv(test, index=False)
    code = main(
        [
            "classify",
            "--data",
            str(train),
            "--test",
            str(test),
            "--text-col",
            "text",
            "--run-dir",
            str(tmp_path / "run"),
            *FAST,
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "label(s) ['c'] that were not in training" in err
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["labels"] == ["a", "b", "c"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--data", "{tmp}/plain.csv"], "cannot tell texts from sequences; give --text-col"),
        (["--data", "{tmp}/missing.csv", "--text-col", "t"], "missing.csv: no such file"),
        (["--data", "{tmp}/plain.csv", "--text-col", "nope"], "column(s) ['nope'] not found"),
        (
            ["--data", "{tmp}/plain.csv", "--id-col", "x", "--label-col", "y", "--features", "v"],
            "1 id(s) have mixed labels (id 1: ['a', 'b'])",
        ),
        (["--data", "{tmp}/plain.csv", "--id-col", "x", "--label-col", "y"], "feature column 't' must be numeric"),
        (["--epochs", "0"], "--epochs must be >= 1, got 0"),
        (["--test", "{tmp}/plain.csv"], "give --data too"),
        (["--data", "{tmp}/plain.csv", "--id-col", "x", "--level", "char"], "--level/--embeddings are for texts"),
    ],
)
def test_user_errors_exit_2_with_a_message(tmp_path, capsys, args, message):
    frame = pd.DataFrame({"x": [1, 1, 2], "y": ["a", "b", "b"], "t": ["p", "q", "r"], "v": [0.5, 1.5, 2.5]})
    frame.to_csv(tmp_path / "plain.csv", index=False)
    argv = ["classify", *[a.replace("{tmp}", str(tmp_path)) for a in args], "--run-dir", str(tmp_path / "r")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstmkit classify: error: ") and message in err
    assert "Traceback" not in err
