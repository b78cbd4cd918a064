"""Two processes saving to one model folder, and a third loading it: turns, never a torn read."""

import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import lstmkit.utils.locks as locks
from lstmkit.errors import CheckpointError
from lstmkit.train.checkpoint import load_model_dir, save_model_dir


def _writer(path: Path, writer: int, saves: int) -> None:
    # every weight of a save is its writer's number, and its config names the writer
    for i in range(saves):
        save_model_dir(path, {"w": torch.full((64, 64), float(writer))}, {"writer": writer, "i": i})


def _reader(path: Path, writing) -> None:
    loads = 0
    while writing.is_set() or loads < 10:  # load again and again for as long as the writers save
        state, config, _ = load_model_dir(path)
        assert set(state["w"].flatten().tolist()) == {float(config["writer"])}  # one save's files, not two
        loads += 1


def _run(target, *args) -> multiprocessing.Process:
    # forked: the children start at once, without importing torch again
    process = multiprocessing.get_context("fork").Process(target=target, args=args)
    process.start()
    return process


def test_two_writers_and_a_reader_on_one_folder_never_fail_nor_tear(tmp_path):
    path = tmp_path / "model"
    save_model_dir(path, {"w": torch.full((64, 64), 1.0)}, {"writer": 1, "i": -1})
    writing = multiprocessing.get_context("fork").Event()
    writing.set()
    reader = _run(_reader, path, writing)
    writers = [_run(_writer, path, 1, 30), _run(_writer, path, 2, 30)]
    for p in writers:
        p.join(timeout=120)
    writing.clear()
    reader.join(timeout=120)
    assert [p.exitcode for p in [*writers, reader]] == [0, 0, 0]  # a failed save or a torn load exits 1
    state, config, _ = load_model_dir(path)
    assert config["i"] == 29 and set(state["w"].flatten().tolist()) == {float(config["writer"])}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.lock", "model"]  # no backups left behind


def test_a_save_waits_its_turn_then_fails_with_a_message(tmp_path, monkeypatch):
    path = tmp_path / "model"
    save_model_dir(path, {"w": torch.zeros(2)}, {})
    monkeypatch.setattr(locks, "LOCK_TIMEOUT", 0.2)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); "
            "sys.stdin.read()",
            str(locks.lock_file(path)),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(CheckpointError, match=r"model is locked: another process is using it \(waited 0.2 s\)"):
            save_model_dir(path, {"w": torch.ones(2)}, {})
        with pytest.raises(CheckpointError, match="another process is saving to it"):
            load_model_dir(path)
    finally:
        holder.communicate("", timeout=10)
    state, _, _ = load_model_dir(path)  # released when the holder ended
    assert state["w"].tolist() == [0.0, 0.0]


def test_loads_share_the_lock(tmp_path):
    path = tmp_path / "model"
    save_model_dir(path, {"w": torch.zeros(2)}, {})
    with locks.folder_lock(path, shared=True, timeout=0.1):
        assert load_model_dir(path)[0]["w"].tolist() == [0.0, 0.0]  # a second reader is not blocked
