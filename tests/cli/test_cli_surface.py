"""The CLI's shared surface: fast help, global options anywhere, one set of words, --config, run.json, predict."""

import ast
import dataclasses
import inspect
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmkit.cli.main import build_parser, main

DETECT_FAST = ["--epochs", "1", "--window-length", "8", "--hidden-size", "4"]
COMMANDS = ["forecast", "backtest", "classify", "generate", "translate", "detect", "predict"]


def _subparsers(parser):
    return parser._subparsers._group_actions[0].choices


def test_help_imports_no_torch_pandas_or_matplotlib():
    code = (
        "import sys, inspect\n"
        "import lstmkit.cli.main as m\n"
        "assert inspect.ismodule(m), m\n"
        "p = m.build_parser()\n"
        f"for argv in [['--help']] + [[c, '--help'] for c in {COMMANDS!r}]:\n"
        "    try:\n"
        "        p.parse_args(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('torch', 'pandas', 'matplotlib') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_python_m_lstmkit_and_the_console_entry_point():
    result = subprocess.run([sys.executable, "-m", "lstmkit", "detect", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--window-length" in result.stdout and "--threshold-quantile" in result.stdout
    from importlib.metadata import entry_points

    scripts = [e for e in entry_points(group="console_scripts") if e.name == "lstmkit"]
    assert not scripts or scripts[0].value == "lstmkit.cli.main:main"


def test_every_job_option_states_the_config_default():
    """The help's defaults are read from the config source: they equal the dataclasses' defaults."""
    import lstmkit.tasks as tasks

    checked = 0
    for name, sub in _subparsers(build_parser()).items():
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings} has no help"
            if action.option_strings != ["-h", "--help"] and not action.required:
                assert "default" in action.help, f"{name} {action.option_strings}: the help states no default"
            source = getattr(action, "config_default", None)
            if source is None:
                continue
            for _, class_name in source.sources:
                fields = {f.name: f for f in dataclasses.fields(getattr(tasks, class_name))}
                if source.field not in fields:  # --cell before the job has it: not offered in the help
                    assert "the job's own" in str(source)
                    continue
                written = ast.literal_eval(str(type(source)([("", class_name)], source.field)))
                assert written == fields[source.field].default, (name, action.option_strings, class_name)
                checked += 1
    assert checked > 50


def test_no_two_options_of_a_command_differ_by_one_letter():
    import difflib

    for name, sub in _subparsers(build_parser()).items():
        flags = [o for a in sub._actions for o in a.option_strings if o.startswith("--")]
        for i, a in enumerate(flags):
            for b in flags[i + 1 :]:
                near = difflib.SequenceMatcher(None, a, b).ratio() > 0.9 and abs(len(a) - len(b)) <= 1
                assert not near, f"lstmkit {name}: {a} and {b}"


@pytest.mark.parametrize(
    "argv",
    [
        ["detect", "--threads", "2", "--device", "cpu", "--quiet"],
        ["--threads", "2", "--device", "cpu", "--quiet", "detect"],
        ["--threads", "2", "detect", "--device", "cpu", "--quiet"],
    ],
)
def test_global_options_before_or_after_the_command(argv):
    args = build_parser().parse_args(argv)
    assert (args.threads, args.device, args.quiet) == (2, "cpu", True)


def test_defaults_of_the_global_options_and_the_aliases():
    parser = build_parser()
    args = parser.parse_args(["classify"])
    assert (args.threads, args.device, args.quiet, args.config) == (1, "auto", False, None)
    assert not hasattr(args, "hidden_size")  # not given: not passed, the job's default applies
    for command, alias in [
        ("forecast", "--train"),
        ("classify", "--train"),
        ("detect", "--train"),
        ("generate", "--corpus"),
        ("translate", "--pairs"),
    ]:
        assert parser.parse_args([command, alias, "x.csv"]).data == "x.csv"


def test_old_detect_spellings_are_gone(capsys):
    for old in ("--window", "--quantile"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["detect", old, "8"])
    assert "unrecognized arguments" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["detect", "--device", "tpu"], "--device must be auto, cpu, cuda or cuda:N, got 'tpu'"),
        (["detect", "--threads", "0"], "--threads must be >= 1, got 0"),
        (["detect", "--window-length", "0"], "--window-length must be >= 1, got 0"),
    ],
)
def test_bad_global_and_job_numbers_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def _series_csv(path, n=160):
    rng = np.random.default_rng(0)
    y = np.sin(np.arange(n) / 5.0) + 0.05 * rng.normal(size=n)
    y[130] += 4.0
    pd.DataFrame({"day": pd.date_range("2020-01-01", periods=n, freq="D"), "y": y}).to_csv(path, index=False)
    return path


def test_config_file_with_command_line_override_run_json_and_quiet(tmp_path, capsys):
    csv = _series_csv(tmp_path / "s.csv")
    config = tmp_path / "run.toml"
    config.write_text(
        'target = "y"\ntime-col = "day"\nwindow_length = 8\nhidden-size = 4\nepochs = 3\n'
        "threshold-quantile = 0.9\nquiet = true\n"
    )
    run = tmp_path / "run"
    assert (
        main(
            [
                "detect",
                "--config",
                str(config),
                "--data",
                str(csv),
                "--epochs",
                "1",
                "--run-dir",
                str(run),
                "--device",
                "cpu",
                "--threads",
                "1",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "epoch" not in out.lower()  # --quiet from the file: no training progress
    record = json.loads((run / "run.json").read_text())
    assert set(record) >= {"config", "argv", "lstmkit_version", "torch_version", "started_at", "duration_s"}
    c = record["config"]
    assert (c["window"], c["hidden_size"], c["quantile"], c["max_epochs"]) == (8, 4, 0.9, 1)  # --epochs wins
    assert c["device"] == "cpu"  # --device after the command reached the job
    assert record["argv"] == sys.argv and record["duration_s"] > 0 and record["started_at"][:2] == "20"
    page = (run / "report.html").read_text()
    assert "<th></th>" not in page  # no pandas RangeIndex column in the tables
    # the report's Run section: command line, versions, start time and duration, as in run.json
    assert "<h2>Run</h2>" in page and record["started_at"] in page and record["torch_version"] in page
    assert "command line" in page and "duration" in page


@pytest.mark.parametrize(
    "content, message",
    [
        ("hiden-size = 4\n", "unknown key 'hiden-size' for lstmkit detect"),
        ('hidden-size = "four"\n', "hidden-size must be an integer, got 'four'"),
        ("quiet = 1\n", "quiet must be true or false, got 1"),
        ('method = "spline"\n', "method must be one of ['autoencoder', 'forecast']"),
        ("hidden-size = [\n", "not valid TOML"),
    ],
)
def test_bad_config_files_name_the_file_and_the_key(tmp_path, capsys, content, message):
    config = tmp_path / "bad.toml"
    config.write_text(content)
    assert main(["detect", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert str(config) in err and message in err and "Traceback" not in err


def test_predict_with_a_saved_detector(tmp_path, capsys):
    csv = _series_csv(tmp_path / "s.csv")
    run = tmp_path / "run"
    assert main(["detect", "--data", str(csv), "--target", "y", "--run-dir", str(run), *DETECT_FAST]) == 0
    assert (
        main(["predict", "--model-dir", str(run / "model"), "--data", str(csv), "--output", str(tmp_path / "p.csv")])
        == 0
    )
    predicted, trained = pd.read_csv(tmp_path / "p.csv"), pd.read_csv(run / "detections.csv")
    assert predicted.columns.tolist() == ["day", "y", "score", "is_anomaly"]
    pd.testing.assert_frame_equal(predicted, trained)


def test_predict_with_a_saved_classifier(tmp_path, capsys):
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    pd.DataFrame({"text": ["good", "fine", "bad", "awful"] * 3, "label": ["pos", "pos", "neg", "neg"] * 3}).to_csv(
        train, index=False
    )
    pd.DataFrame({"text": ["good", "awful"]}).to_csv(test, index=False)
    run = tmp_path / "run"
    assert (
        main(
            [
                "classify",
                "--data",
                str(train),
                "--test",
                str(test),
                "--text-col",
                "text",
                "--level",
                "char",
                "--run-dir",
                str(run),
                "--epochs",
                "1",
                "--hidden-size",
                "4",
            ]
        )
        == 0
    )
    assert (
        main(["predict", "--model-dir", str(run / "model"), "--data", str(test), "--output", str(tmp_path / "p.csv")])
        == 0
    )
    predicted = pd.read_csv(tmp_path / "p.csv")
    assert predicted.columns.tolist() == ["id", "prediction", "prob_neg", "prob_pos"]
    pd.testing.assert_frame_equal(predicted, pd.read_csv(run / "predictions.csv"))
    record = json.loads((run / "run.json").read_text())
    assert record["config"]["level"] == "char" and record["config"]["batch_size"] is not None


def test_forecast_report_and_run_json_show_the_chosen_values(tmp_path, capsys):
    from lstmkit.data import datasets

    csv = tmp_path / "air.csv"
    datasets.load("air_passengers").to_csv(csv, index=False)
    run = tmp_path / "run"
    assert (
        main(
            [
                "forecast",
                "--data",
                str(csv),
                "--target",
                "passengers",
                "--time-col",
                "month",
                "--windows",
                "0",
                "--horizon",
                "3",
                "--epochs",
                "1",
                "--ensemble",
                "1",
                "--run-dir",
                str(run),
                "--quiet",
            ]
        )
        == 0
    )
    config = json.loads((run / "run.json").read_text())["config"]
    assert isinstance(config["lookback"], int) and config["horizon"] == 3 and config["ensemble"] == 1
    page = (run / "report.html").read_text()
    assert f"<td>lookback</td>\n      <td>{config['lookback']}</td>" in page


def test_predict_errors_exit_2_with_one_line(tmp_path, capsys):
    (tmp_path / "notes").mkdir()
    assert main(["predict", "--model-dir", str(tmp_path / "notes")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a saved lstmkit model" in err
    csv = _series_csv(tmp_path / "s.csv")
    run = tmp_path / "run"
    assert main(["detect", "--data", str(csv), "--target", "y", "--run-dir", str(run), *DETECT_FAST]) == 0
    capsys.readouterr()
    assert main(["predict", "--model-dir", str(run / "model")]) == 2
    assert "--data is required to predict with the anomaly model in" in capsys.readouterr().err
    assert main(["predict", "--model-dir", str(run / "model"), "--data", str(csv), "--beam", "2"]) == 2
    assert "--beam does not apply" in capsys.readouterr().err


def test_cli_package_does_not_shadow_the_main_module():
    import lstmkit.cli
    import lstmkit.cli.main as module

    assert inspect.ismodule(module) and not hasattr(lstmkit.cli, "build_parser")


SAVED = Path(__file__).resolve().parents[1] / "fixtures" / "saved-aca45bb"


def _saved_inputs(job, tmp_path):
    """The predict arguments for each saved folder, and how to read the expected values from the output."""
    if job == "forecaster":
        return [], lambda out: out["forecast"].tolist()
    if job == "sequence_classifier":
        rng = np.random.default_rng(0)
        t = np.linspace(0, 6, 12)
        X = np.stack([np.sin(t * (1 + k % 2)) + 0.1 * rng.normal(size=12) for k in range(20)])
        np.savez(tmp_path / "x.npz", X=X)
        return ["--data", str(tmp_path / "x.npz")], lambda out: out[["prob_fast", "prob_slow"]].to_numpy().tolist()
    if job == "text_classifier":
        pd.DataFrame({"text": ["great film", "bad film"]}).to_csv(tmp_path / "t.csv", index=False)
        return ["--data", str(tmp_path / "t.csv")], lambda out: out[["prob_neg", "prob_pos"]].to_numpy().tolist()
    if job == "anomaly":
        pd.DataFrame({"value": np.sin(np.arange(200) / 6.0)}).to_csv(tmp_path / "v.csv", index=False)
        return ["--data", str(tmp_path / "v.csv")], lambda out: out["score"].tolist()
    if job == "translator":
        (tmp_path / "in.txt").write_text("1 jan\n3 mar\n", encoding="utf-8")
        return ["--data", str(tmp_path / "in.txt")], lambda out: out["output"].tolist()
    return ["--prompt", "the cat", "--length", "5"], None  # language model: sampled, checked by shape


@pytest.mark.parametrize(
    "job", ["forecaster", "sequence_classifier", "text_classifier", "language_model", "translator", "anomaly"]
)
def test_predict_reads_the_job_from_any_saved_folder(job, tmp_path, capsys):
    args, read = _saved_inputs(job, tmp_path)
    output = tmp_path / "out.csv"
    assert main(["predict", "--model-dir", str(SAVED / job), *args, "--output", str(output), "--quiet"]) == 0
    out = pd.read_csv(output, dtype={"output": str, "text": str}, keep_default_na=False)
    if read is None:
        assert out.columns.tolist() == ["prompt", "text"] and out["text"][0].startswith("the cat")
        return
    expected = json.loads((SAVED / "expected.json").read_text())[job]
    got = read(out)
    if job == "translator":
        assert got == expected
    else:
        got = [np.nan if v == "" else float(v) for v in np.ravel(got)]
        expected = [np.nan if v is None else v for v in np.ravel(np.array(expected, dtype=object))]
        np.testing.assert_allclose(got, np.asarray(expected, dtype=float), rtol=1e-4, atol=1e-5)
