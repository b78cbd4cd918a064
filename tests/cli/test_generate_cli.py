"""`lstmkit generate` in-process: trains, scores next to the n-gram, generates, reloads; clear errors."""

import json

import pytest

from lstmkit.cli.main import main

FAST = [
    "--epochs",
    "2",
    "--hidden-size",
    "16",
    "--embedding-dim",
    "8",
    "--bptt",
    "16",
    "--batch-size",
    "4",
    "--time-budget",
    "0",
    "--length",
    "30",
]
TEXT = "In the beginning God created the heaven and the earth.\nAnd the earth was without form, and void.\n" * 15


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_trains_scores_generates_and_reloads(corpus, tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["generate", "--data", str(corpus), "--run-dir", str(run), "--prompt", "And the", *FAST])
    assert code == 0
    out = capsys.readouterr().out
    assert "held-out perplexity" in out and "LSTM alone" in out and "-gram Kneser-Ney alone" in out
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["level"] == "char" and metrics["perplexity"] > 1 and metrics["ngram_perplexity"] > 1
    assert metrics["lstm_perplexity"] > 1 and 0 <= metrics["mixture_weight"] <= 1
    sample = (run / "sample.txt").read_text()
    assert sample.startswith("And the") and len(sample) == len("And the") + 30 + 1
    assert (run / "model" / "weights.safetensors").exists()
    page = (run / "report.html").read_text()
    for heading in ("Data", "Configuration", "Training", "Held-out perplexity", "Generated sample"):
        assert f"<h2>{heading}</h2>" in page
    assert page.count("data:image/png;base64,") == 1  # training curves
    assert "-gram Kneser-Ney alone</th>" in page and "<td>hidden_size</td>" in page
    assert not list(run.glob(".*.tmp"))

    # the saved model generates the same text from the same seed, without training: lstmkit predict
    capsys.readouterr()
    assert (
        main(
            [
                "predict",
                "--model-dir",
                str(run / "model"),
                "--prompt",
                "And the",
                "--length",
                "30",
                "--output",
                str(tmp_path / "again.csv"),
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.count("generated char tokens") == 1
    import pandas as pd

    again = pd.read_csv(tmp_path / "again.csv", dtype=str, keep_default_na=False)
    assert again.columns.tolist() == ["prompt", "text"] and again["text"][0] + "\n" == sample
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("And the\n\nIn the\n", encoding="utf-8")
    assert (
        main(
            [
                "predict",
                "--model-dir",
                str(run / "model"),
                "--data",
                str(prompts),
                "--length",
                "5",
                "--output",
                str(tmp_path / "two.csv"),
            ]
        )
        == 0
    )
    two = pd.read_csv(tmp_path / "two.csv", dtype=str, keep_default_na=False)
    assert two["prompt"].tolist() == ["And the", "In the"] and two["text"][1].startswith("In the")


@pytest.mark.parametrize("level", ["word", "symbol"])
def test_other_levels_write_the_model_where_asked(level, tmp_path, capsys):
    path = tmp_path / "tune.txt"  # for symbols: a tune, one whitespace-separated note per token
    path.write_text(TEXT if level == "word" else "C4 E4 G4 C#5 G4 E4\n" * 40, encoding="utf-8")
    model_dir = tmp_path / "model"
    assert (
        main(
            [
                "generate",
                "--data",
                str(path),
                "--level",
                level,
                "--model-dir",
                str(model_dir),
                "--run-dir",
                str(tmp_path / "run"),
                *FAST,
            ]
        )
        == 0
    )
    assert (model_dir / "manifest.json").exists()
    out = capsys.readouterr().out
    assert f"{level} tokens" in out
    if level == "symbol":
        sample = (tmp_path / "run" / "sample.txt").read_text().split()
        assert len(sample) == 1 + 30 and set(sample) <= {"C4", "E4", "G4", "C#5"}


def test_unknown_characters_and_a_long_prompt_are_notes_not_crashes(corpus, tmp_path, capsys):
    long_prompt = "And the earth " * 10  # 140 characters, more than bptt 16
    code = main(
        ["generate", "--data", str(corpus), "--run-dir", str(tmp_path / "r"), "--prompt", "Zebra " + long_prompt, *FAST]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "never saw in training: 'Z'" in err
    assert "more than the 16-token training chunk" in err


@pytest.mark.parametrize(
    "content,args,message",
    [
        ("", [], "the corpus is empty"),
        ("too short", [], "fewer than one chunk of bptt \\+ 1 = 17"),
        (TEXT, ["--length", "-1"], "--length must be >= 0"),
        (TEXT, ["--top-p", "0"], "top_p must be in \\(0, 1\\]"),
    ],
)
def test_user_mistakes_exit_2_with_a_message(tmp_path, capsys, content, args, message):
    path = tmp_path / "c.txt"
    path.write_text(content, encoding="utf-8")
    code = main(["generate", "--data", str(path), "--run-dir", str(tmp_path / "r"), *FAST, *args])
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    import re

    assert re.search(message, err), err


def test_missing_or_non_utf8_corpus(tmp_path, capsys):
    assert main(["generate", "--data", str(tmp_path / "nope.txt"), *FAST]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9 au lait\n".encode("latin-1") * 50)
    assert main(["generate", "--data", str(bad), *FAST]) == 2
    assert "not UTF-8 text (byte 3, line 1" in capsys.readouterr().err


@pytest.mark.slow
def test_no_argument_demo_trains_on_the_bundled_text(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["generate", "--epochs", "1", "--hidden-size", "32", "--length", "40"])
    assert code == 0
    out = capsys.readouterr().out
    assert "Book of Genesis, King James Version" in out
    runs = list((tmp_path / "runs").glob("generate-*"))
    assert len(runs) == 1 and (runs[0] / "model" / "weights.safetensors").exists()
    metrics = json.loads((runs[0] / "metrics.json").read_text())
    assert metrics["perplexity"] < 20  # well below the ~60 characters' uniform guess, even after one epoch


def test_the_score_lines_label_the_lstm_the_ngram_and_the_shipped_mixture():
    from lstmkit.cli.generate import _score_rows

    r = dict(lstm_perplexity=3.5, lstm_bits_per_char=1.8, ngram_order=7, ngram_perplexity=3.1)
    r.update(ngram_bits_per_char=1.6, perplexity=2.9, bits_per_char=1.5, mixture_weight=0.4)
    assert _score_rows(r) == [
        ("LSTM alone", 3.5, 1.8),
        ("7-gram Kneser-Ney alone", 3.1, 1.6),
        ("shipped: 0.40 LSTM + 0.60 KN", 2.9, 1.5),
    ]
    assert len(_score_rows({**r, "mixture_weight": 1.0})) == 2  # no mixture: the LSTM is what ships
