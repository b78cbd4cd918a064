"""`lstmkit <command> --resume RUN_DIR`: an interrupted run continues to the model an uninterrupted one makes."""

import json

import pytest
import torch
from safetensors.torch import load_file

from lstmkit.cli import resume
from lstmkit.cli.main import Terminated, main
from lstmkit.errors import ConfigError
from lstmkit.train import Trainer


@pytest.fixture
def csv(tmp_path):
    from lstmkit.data import datasets

    path = tmp_path / "air.csv"
    datasets.load("air_passengers").to_csv(path, index=False)
    return path


def _forecast(csv, run, *extra):
    return [
        "forecast",
        "--data",
        str(csv),
        "--target",
        "passengers",
        "--time-col",
        "month",
        "--horizon",
        "6",
        "--windows",
        "1",
        "--epochs",
        "3",
        "--ensemble",
        "2",
        "--no-statistical",
        "--quiet",
        "--run-dir",
        str(run),
        *extra,
    ]


def _stop_at_epoch(monkeypatch, n, error):
    """Raise ``error`` when the n-th epoch of the process (across every fit) is about to start."""
    run_epoch, calls = Trainer._run_epoch, []

    def stopping(self, train, val):
        calls.append(1)
        if len(calls) == n:
            raise error
        run_epoch(self, train, val)

    monkeypatch.setattr(Trainer, "_run_epoch", stopping)
    return run_epoch


@pytest.mark.parametrize(
    ("stop_at", "error", "code", "said"),
    [
        (3, Terminated(), 143, "terminated (SIGTERM)"),  # in the backtest's fit, second member
        (8, KeyboardInterrupt(), 130, "interrupted"),  # in the final fit, second member
    ],
)
def test_an_interrupted_forecast_resumes_to_the_same_model_and_forecast(
    csv, tmp_path, capsys, monkeypatch, stop_at, error, code, said
):
    assert main(_forecast(csv, tmp_path / "straight")) == 0
    assert not (tmp_path / "straight" / "checkpoints").exists()  # a finished run keeps none

    run = tmp_path / "run"
    run_epoch = _stop_at_epoch(monkeypatch, stop_at, error)
    capsys.readouterr()
    assert main(_forecast(csv, run)) == code
    err = capsys.readouterr().err
    assert said in err and f"continue with `lstmkit forecast --resume {run}`" in err
    assert (run / "checkpoints").is_dir() and not (run / "run.json").exists()
    assert json.loads((run / "resume.json").read_text())["argv"] == _forecast(csv, run)

    monkeypatch.setattr(Trainer, "_run_epoch", run_epoch)
    assert main(["forecast", "--resume", str(run)]) == 0
    straight = load_file(tmp_path / "straight" / "model" / "weights.safetensors")
    resumed = load_file(run / "model" / "weights.safetensors")
    assert straight.keys() == resumed.keys()
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    assert (run / "forecast.csv").read_text() == (tmp_path / "straight" / "forecast.csv").read_text()
    assert (run / "run.json").is_file() and not (run / "checkpoints").exists()

    assert main(["forecast", "--resume", str(run)]) == 2  # finished: nothing to continue
    assert "that run finished" in capsys.readouterr().err


def _resume_args(tmp_path, record, *extra, command="forecast"):
    from lstmkit.cli.main import build_parser

    run = tmp_path / "r"
    run.mkdir(exist_ok=True)
    if record is not None:
        (run / resume.RESUME_FILE).write_text(record if isinstance(record, str) else json.dumps(record))
    parser = build_parser()
    argv = [command, "--resume", str(run), *extra]
    return resume.resumed_argv(parser, parser.parse_args(argv), argv), run


def test_resume_takes_the_saved_arguments_and_only_where_and_how_to_run(tmp_path):
    saved = {"command": "forecast", "argv": ["forecast", "--epochs", "3"]}
    argv, run = _resume_args(tmp_path, saved, "--threads", "2", "--quiet")
    assert argv == [
        "forecast",
        "--epochs",
        "3",
        "--threads",
        "2",
        "--quiet",
        "--run-dir",
        str(run),
        "--resume",
        str(run),
    ]


@pytest.mark.parametrize(
    ("record", "extra", "command", "message"),
    [
        (None, [], "forecast", r"resume\.json is missing, so this is not the folder of an interrupted run"),
        ("{not json", [], "forecast", r"resume\.json: not readable as JSON"),
        ({"command": "forecast", "argv": "forecast"}, [], "forecast", r"'argv' must be a list of strings"),
        (
            {"command": "classify", "argv": []},
            [],
            "forecast",
            r"holds a `lstmkit classify` run, not `lstmkit forecast`",
        ),
        (
            {"command": "forecast", "argv": []},
            ["--epochs", "9", "--layers", "2"],
            "forecast",
            r"also given: --epochs, --layers\. Start a new run",
        ),
    ],
)
def test_resume_refuses_what_it_cannot_continue(tmp_path, record, extra, command, message):
    with pytest.raises(ConfigError, match=message):
        _resume_args(tmp_path, record, *extra, command=command)


def test_resume_of_a_missing_folder_exits_2(tmp_path, capsys):
    assert main(["classify", "--resume", str(tmp_path / "nowhere")]) == 2
    assert "no such run folder" in capsys.readouterr().err


def test_a_run_folder_in_use_by_another_run_is_refused_at_once(tmp_path):
    import argparse
    import contextlib

    with contextlib.ExitStack() as first:
        resume.start_checkpoints(tmp_path / "run", argparse.Namespace(cleanup=first, argv=["forecast"]), "forecast")
        with pytest.raises(ConfigError, match="is in use by another lstmkit run"):
            resume.start_checkpoints(tmp_path / "run", argparse.Namespace(argv=["forecast"]), "forecast")
    with contextlib.ExitStack() as again:  # released when the first run ended
        resume.start_checkpoints(tmp_path / "run", argparse.Namespace(cleanup=again, argv=["forecast"]), "forecast")


def test_a_new_run_in_an_old_folder_clears_its_checkpoints(tmp_path):
    import argparse

    stale = tmp_path / "run" / "checkpoints" / "member-0"
    stale.mkdir(parents=True)
    args = argparse.Namespace(argv=["forecast", "--epochs", "2"])
    assert resume.start_checkpoints(tmp_path / "run", args, "forecast") == tmp_path / "run" / "checkpoints"
    assert not stale.exists() and args.checkpoints == tmp_path / "run" / "checkpoints"
    saved = json.loads((tmp_path / "run" / resume.RESUME_FILE).read_text())
    assert saved == {"command": "forecast", "argv": ["forecast", "--epochs", "2"]}
