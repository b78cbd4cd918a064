"""`lstmkit translate` in-process: pairs file or the date demo, metrics, heatmap, reload, errors."""

import json

import pandas as pd
import pytest

from lstmkit.cli.main import main
from lstmkit.data.dates import date_pairs

FAST = ["--epochs", "2", "--hidden-size", "16", "--embedding-dim", "8", "--batch-size", "32", "--time-budget", "0"]


@pytest.fixture
def pairs_tsv(tmp_path):
    path = tmp_path / "dates.tsv"
    path.write_text("".join(f"{s}\t{t}\n" for s, t in date_pairs(120, seed=3)), encoding="utf-8")
    return path


def test_trains_on_pairs_scores_plots_and_reloads(pairs_tsv, tmp_path, capsys):
    run = tmp_path / "run"
    inputs = tmp_path / "inputs.txt"
    inputs.write_text("3rd of March 1998\n\n03/03/98\n", encoding="utf-8")
    code = main(["translate", "--data", str(pairs_tsv), "--input", str(inputs), "--run-dir", str(run), *FAST])
    assert code == 0
    out = capsys.readouterr().out
    assert "12 held-out pairs (greedy decoding)" in out and "exact match" in out and "BLEU" in out
    assert "'3rd of March 1998' -> " in out and "'03/03/98' -> " in out
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics) >= {"exact_match", "token_accuracy", "bleu", "pairs", "beam"} and metrics["pairs"] == 12
    predictions = pd.read_csv(run / "predictions.csv")
    assert predictions.columns.tolist() == ["source", "target", "prediction", "correct"] and len(predictions) == 12
    assert predictions["correct"].mean() == pytest.approx(metrics["exact_match"])
    assert (run / "attention.png").stat().st_size > 5_000
    page = (run / "report.html").read_text()
    for heading in ("Data", "Configuration", "Training", "Scores", "Translations"):
        assert f"<h2>{heading}</h2>" in page
    assert page.count("data:image/png;base64,") == 2  # training curves, attention heatmap
    assert "<th>bleu</th>" in page and "<td>3rd of March 1998</td>" in page
    assert not list(run.glob(".*.tmp"))

    # the saved model translates without training: lstmkit predict gives the training run's translations
    import ast

    printed = dict(
        tuple(ast.literal_eval(side) for side in line.strip().split(" -> "))
        for line in out.splitlines()
        if line.startswith("  '") and " -> " in line
    )
    assert (
        main(
            [
                "predict",
                "--model-dir",
                str(run / "model"),
                "--data",
                str(inputs),
                "--output",
                str(tmp_path / "again.csv"),
            ]
        )
        == 0
    )
    again = pd.read_csv(tmp_path / "again.csv", dtype=str, keep_default_na=False)
    assert again.columns.tolist() == ["input", "output"]
    assert dict(zip(again["input"], again["output"])) == printed
    assert main(["predict", "--model-dir", str(run / "model"), "--input", "03/03/98", "--beam", "3"]) == 0
    assert "03/03/98" in capsys.readouterr().out


def test_csv_pairs_with_header(tmp_path, capsys):
    path = tmp_path / "pairs.csv"
    pd.DataFrame(date_pairs(40, seed=1), columns=["source", "target"]).to_csv(path, index=False)
    assert main(["translate", "--data", str(path), "--run-dir", str(tmp_path / "r"), *FAST]) == 0
    assert "4 held-out pairs" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content,name,message",
    [
        ("", "empty.tsv", "holds no pairs"),
        ("only a source\n", "one.tsv", "line 1 has 1 field"),
        ("a\tb\n\t c\n", "blank.tsv", "line 2 has an empty source text"),
        ("a,b\n", "pairs.json", "unsupported file type"),
    ],
)
def test_bad_pairs_files_exit_2_with_a_message(tmp_path, capsys, content, name, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert main(["translate", "--data", str(path), *FAST]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_options_exit_2(pairs_tsv, capsys):
    assert main(["translate", "--data", str(pairs_tsv), "--beam", "0", *FAST]) == 2
    assert "--beam must be >= 1" in capsys.readouterr().err


def test_demo_with_tiny_settings(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["translate", "--demo-size", "200", *FAST]) == 0
    out = capsys.readouterr().out
    assert "generated date pairs (human format -> ISO)" in out and "20 held-out pairs" in out
    assert "'3rd of March 1998' -> " in out
    run = next((tmp_path / "runs").glob("translate-*"))
    assert (run / "attention.png").exists() and (run / "model" / "manifest.json").exists()
