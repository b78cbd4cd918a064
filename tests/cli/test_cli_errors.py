"""What the CLI does with a bug and with colliding runs: one line and no lost outputs."""

import pytest

import lstmkit.cli.detect as detect
from lstmkit.cli.main import main
from lstmkit.cli.options import new_run_dir


def _boom(args):
    raise RuntimeError("something lstmkit did not expect")


def test_an_unexpected_error_is_one_line_with_a_hint_and_exit_1(monkeypatch, capsys):
    monkeypatch.setattr(detect, "run", _boom)
    assert main(["detect"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "unexpected error: RuntimeError: something lstmkit did not expect" in err
    assert "--debug" in err


def test_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setattr(detect, "run", _boom)
    with pytest.raises(RuntimeError, match="did not expect"):
        main(["detect", "--debug"])


def test_an_os_error_is_the_users_to_fix(monkeypatch, capsys):
    def denied(args):
        raise PermissionError(13, "Permission denied", "/root/elsewhere/forecast.csv")

    monkeypatch.setattr(detect, "run", denied)
    assert main(["detect"]) == 2
    assert "error: [Errno 13] Permission denied: '/root/elsewhere/forecast.csv'" in capsys.readouterr().err


def test_runs_started_in_the_same_second_get_their_own_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("time.strftime", lambda fmt: fmt.replace("%Y%m%d-%H%M%S", "20260101-000000"))
    first, second, third = (new_run_dir("forecast", None) for _ in range(3))
    assert [p.name for p in (first, second, third)] == [
        "forecast-20260101-000000",
        "forecast-20260101-000000-2",
        "forecast-20260101-000000-3",
    ]
    assert all(p.is_dir() for p in (first, second, third))
    assert new_run_dir("forecast", str(tmp_path / "mine")) == tmp_path / "mine"


def test_a_folder_given_as_output_is_refused_before_any_training(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    assert main(["detect", "--output", str(tmp_path / "out"), "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert f"--output {tmp_path / 'out'} is a folder" in err
    assert not (tmp_path / "run").exists()  # refused before the run folder was made or anything trained


def test_a_file_given_as_model_dir_is_refused_before_any_training(tmp_path, capsys):
    (tmp_path / "model").write_text("my notes")
    assert main(["forecast", "--model-dir", str(tmp_path / "model"), "--run-dir", str(tmp_path / "run")]) == 2
    assert "not an lstmkit model directory" in capsys.readouterr().err
    assert (tmp_path / "model").read_text() == "my notes" and not (tmp_path / "run").exists()


def test_sigterm_ends_a_run_with_a_message_like_ctrl_c(monkeypatch, capsys, tmp_path):
    import os
    import signal

    from lstmkit.utils.files import atomic_path

    def killed_while_writing(args):
        with atomic_path(tmp_path / "out.csv") as tmp:
            tmp.write_text("half of it")
            os.kill(os.getpid(), signal.SIGTERM)  # as `kill PID` from another shell
            tmp.write_text("never")  # not reached: the signal unwinds the run here
        return 0

    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(detect, "run", killed_while_writing)
    assert main(["detect"]) == 143
    assert "terminated (SIGTERM); files written so far are complete" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # the half-written file was never put in place
    assert signal.getsignal(signal.SIGTERM) is before  # the caller's handler is back
