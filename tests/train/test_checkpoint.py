"""Model directories and checkpoints: round trips, atomic saves, clear errors, no pickle."""

import hashlib
import json
import os
import pickle
import random

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import lstmkit
from lstmkit.errors import CheckpointError
from lstmkit.nn import LSTM
from lstmkit.train import checkpoint as ckpt_module
from lstmkit.train import (
    fingerprint,
    get_rng_state,
    load_checkpoint,
    load_model_dir,
    save_checkpoint,
    save_model_dir,
    set_rng_state,
)
from lstmkit.train.state import merge_tensors, split_tensors


def filled(value):
    model = LSTM(2, 3)
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(value)
    return model


def test_model_dir_round_trip_keeps_tensors_config_and_metadata(tmp_path):
    model = LSTM(2, 3, num_layers=2)
    path = save_model_dir(
        tmp_path / "m",
        model,
        {"hidden": 3, "layers": [1, 2]},
        {"data_fingerprint": "abc", "metrics": {"rmse": 0.5, "best": float("inf")}},
    )
    assert sorted(p.name for p in path.iterdir()) == [
        "config.json",
        "manifest.json",
        "metadata.json",
        "weights.safetensors",
    ]
    state, config, metadata = load_model_dir(path)
    assert state.keys() == model.state_dict().keys()
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert config == {"hidden": 3, "layers": [1, 2]}
    assert metadata["lstmkit_version"] == lstmkit.__version__
    assert metadata["torch_version"] == torch.__version__
    assert metadata["data_fingerprint"] == "abc"
    assert metadata["metrics"] == {"rmse": 0.5, "best": None}  # JSON has no inf
    restored = LSTM(2, 3, num_layers=2)
    restored.load_state_dict(state)
    x = torch.randn(2, 4, 2)
    assert torch.equal(restored(x)[0], model(x)[0])


def test_tied_weights_can_be_saved(tmp_path):
    model = nn.Sequential(nn.Embedding(5, 4), nn.Linear(4, 5, bias=False))
    model[1].weight = model[0].weight  # tied, as language models do
    state, _, _ = load_model_dir(save_model_dir(tmp_path / "tied", model, {}))
    assert torch.equal(state["0.weight"], state["1.weight"])


def test_training_state_round_trip_keeps_types_exactly(tmp_path):
    model = nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.8, 0.99))
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
    state = {"optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "rng": get_rng_state()}
    save_checkpoint(tmp_path / "c", model, state, {"trainer": {"lr": 0.01}}, {"epoch": 1})
    loaded = load_checkpoint(tmp_path / "c").training_state

    assert loaded["optimizer"]["param_groups"] == opt.state_dict()["param_groups"]  # tuples and all
    assert isinstance(loaded["optimizer"]["param_groups"][0]["betas"], tuple)
    assert sorted(loaded["optimizer"]["state"]) == [0, 1]  # integer keys stay integers
    for key, value in opt.state_dict()["state"][0].items():
        assert torch.equal(loaded["optimizer"]["state"][0][key], value)  # includes the Adam step count
    assert loaded["scheduler"]["best"] == float("inf")
    fresh = torch.optim.Adam(nn.Linear(3, 2).parameters())
    fresh.load_state_dict(loaded["optimizer"])
    assert fresh.state_dict()["param_groups"][0]["betas"] == (0.8, 0.99)


def test_split_tensors_output_is_standard_json():
    tree, tensors = split_tensors({"a": (1, float("-inf")), 3: [torch.ones(2)], "__x": None}, prefix="p.")
    text = json.dumps(tree, allow_nan=False)
    back = merge_tensors(json.loads(text), tensors)
    assert back["a"] == (1, float("-inf")) and back["__x"] is None and torch.equal(back[3][0], torch.ones(2))
    assert list(tensors) == ["p.3.0"]


def test_rng_state_round_trip_covers_python_numpy_and_torch():
    state = get_rng_state()
    first = (random.random(), np.random.rand(), torch.rand(1))
    set_rng_state(merge_tensors(*split_tensors(state)))  # as after a checkpoint
    assert (random.random(), np.random.rand()) == first[:2]
    assert torch.equal(torch.rand(1), first[2])


def test_a_save_that_fails_midway_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt"
    save_checkpoint(path, filled(1.0), {"epoch": 1}, {"v": 1})
    real_write = ckpt_module._write_file
    written = []

    def crash_on_third_file(file, data):
        written.append(file.name)
        if len(written) == 3:
            raise OSError("disk full")
        real_write(file, data)

    monkeypatch.setattr(ckpt_module, "_write_file", crash_on_third_file)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, filled(2.0), {"epoch": 2}, {"v": 2})
    monkeypatch.undo()

    ckpt = load_checkpoint(path)
    assert ckpt.config == {"v": 1} and ckpt.training_state == {"epoch": 1}
    assert all(torch.all(t == 1.0) for t in ckpt.state_dict.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == [".ckpt.lock", "ckpt"]  # the half-written copy is gone
    save_checkpoint(path, filled(2.0), {"epoch": 2}, {"v": 2})  # and the next save works
    assert load_checkpoint(path).training_state == {"epoch": 2}


def test_a_crash_between_the_two_renames_falls_back_to_the_previous_copy(tmp_path, monkeypatch):
    path = tmp_path / "ckpt"
    save_checkpoint(path, filled(1.0), {"epoch": 1}, {})
    real_rename = ckpt_module.os.rename
    calls = []

    def die_on_second_rename(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed after the old copy stepped aside
        real_rename(src, dst)

    monkeypatch.setattr(ckpt_module.os, "rename", die_on_second_rename)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, filled(2.0), {"epoch": 2}, {})
    monkeypatch.undo()
    assert not path.exists()
    with pytest.warns(UserWarning, match="a save was interrupted"):
        ckpt = load_checkpoint(path)
    assert ckpt.training_state == {"epoch": 1}


def test_two_interrupted_saves_in_a_row_recover_the_newest_copy_and_later_saves_clean_up(tmp_path, monkeypatch):
    path = tmp_path / "ckpt"
    save_checkpoint(path, filled(1.0), {"epoch": 1}, {})
    real_rename = ckpt_module.os.rename

    # save 2 completes its renames but is killed before it removes the backup of save 1
    monkeypatch.setattr(ckpt_module, "_clean_leftovers", lambda path: None)
    save_checkpoint(path, filled(2.0), {"epoch": 2}, {})
    monkeypatch.undo()
    # save 3 is killed between its two renames: save 2 has stepped aside next to save 1's backup
    calls = []

    def die_on_second_rename(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_rename(src, dst)

    monkeypatch.setattr(ckpt_module.os, "rename", die_on_second_rename)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, filled(3.0), {"epoch": 3}, {})
    monkeypatch.undo()
    assert len(list(tmp_path.glob(".ckpt.old-*"))) == 2
    with pytest.warns(UserWarning, match="newest previous copy"):
        assert load_checkpoint(path).training_state == {"epoch": 2}  # save 2's copy, not save 1's
    # a stale temporary folder of a save long dead, and the backups, go with the next complete save
    stale = tmp_path / ".ckpt.tmp-dead"
    stale.mkdir()
    os.utime(stale, (0, 0))
    save_checkpoint(path, filled(4.0), {"epoch": 4}, {})
    assert sorted(p.name for p in tmp_path.iterdir()) == [".ckpt.lock", "ckpt"]  # backups gone; the lock file stays


def test_saving_refuses_to_replace_a_directory_that_is_not_a_checkpoint(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "notes.txt").write_text("precious")
    with pytest.raises(CheckpointError, match="refusing to replace .*results.*no manifest.json"):
        save_model_dir(tmp_path / "results", nn.Linear(1, 1), {})
    assert (tmp_path / "results" / "notes.txt").read_text() == "precious"


def _corrupt_byte(file):
    data = bytearray(file.read_bytes())
    data[-3] ^= 0xFF
    file.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda d: (d / "weights.safetensors").unlink(), r"weights\.safetensors is missing"),
        (lambda d: (d / "training_state.json").unlink(), r"training_state\.json is missing"),
        (lambda d: _corrupt_byte(d / "weights.safetensors"), r"weights\.safetensors is corrupt: its sha256"),
        (
            lambda d: (d / "training_state.safetensors").write_bytes(
                (d / "training_state.safetensors").read_bytes()[:40]
            ),
            r"training_state\.safetensors is truncated or altered: expected \d+ bytes, found 40",
        ),
        (lambda d: (d / "manifest.json").write_text("{not json"), r"manifest\.json is not valid JSON"),
        (lambda d: (d / "manifest.json").unlink(), r"manifest\.json is missing; .* not an lstmkit model directory"),
    ],
)
def test_damaged_checkpoints_raise_checkpoint_error_naming_the_file(tmp_path, damage, message):
    path = save_checkpoint(tmp_path / "ckpt", filled(1.0), {"m": torch.ones(3)}, {})
    damage(path)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_a_consistent_manifest_does_not_hide_a_bad_safetensors_file(tmp_path):
    path = save_model_dir(tmp_path / "m", filled(1.0), {})
    garbage = b"\x10\x00\x00\x00\x00\x00\x00\x00{broken header}"
    (path / "weights.safetensors").write_bytes(garbage)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"]["weights.safetensors"] = {"bytes": len(garbage), "sha256": hashlib.sha256(garbage).hexdigest()}
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match=r"weights\.safetensors is not a valid safetensors file"):
        load_model_dir(path)


def test_missing_paths_and_model_dirs_without_training_state(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist; expected a model or checkpoint directory"):
        load_model_dir(tmp_path / "nowhere")
    path = save_model_dir(tmp_path / "m", nn.Linear(1, 1), {})
    with pytest.raises(CheckpointError, match="does not list training_state.safetensors; .* not a training checkpoint"):
        load_checkpoint(path)


def test_loading_never_unpickles(tmp_path, monkeypatch):
    model = nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(1, 2)).sum().backward()
    opt.step()
    path = save_checkpoint(tmp_path / "c", model, {"optimizer": opt.state_dict()}, {})

    def forbidden(*args, **kwargs):
        raise AssertionError("unpickling is not allowed when loading")

    monkeypatch.setattr(torch, "load", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    ckpt = load_checkpoint(path)
    assert torch.equal(
        ckpt.training_state["optimizer"]["state"][0]["momentum_buffer"], opt.state[model.weight]["momentum_buffer"]
    )


def test_fingerprint_depends_on_values_shape_and_dtype_only():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert fingerprint(a) == fingerprint(a.copy()) == fingerprint(torch.from_numpy(a))
    assert fingerprint(np.asfortranarray(a)) == fingerprint(a)  # memory layout does not matter
    b = a.copy()
    b[2, 3] += 1e-3
    assert fingerprint(b) != fingerprint(a)
    assert fingerprint(a.reshape(4, 3)) != fingerprint(a)
    assert fingerprint(a.astype(np.float64)) != fingerprint(a)
    assert len(fingerprint(a)) == 64


def test_fingerprint_of_frames_and_collections():
    df = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=3), "y": [1.0, 2.0, 3.0], "k": ["a", "b", "c"]})
    assert fingerprint(df) == fingerprint(df.copy())
    assert fingerprint(df) != fingerprint(df.assign(k=["a", "b", "d"]))
    assert fingerprint(df) != fingerprint(df.rename(columns={"y": "z"}))
    assert fingerprint(df) != fingerprint(df.set_index("t"))
    assert fingerprint([torch.ones(2), {"b": 1, "a": 2}]) == fingerprint([torch.ones(2), {"a": 2, "b": 1}])
    with pytest.raises(TypeError, match=r"cannot hash obj\[1\] of type object"):
        fingerprint([1, object()])


def _rewrite_weights(folder, change):
    """Edit a saved folder's weights and re-sign its manifest, as a careful tamperer would."""
    import safetensors.torch

    weights = folder / "weights.safetensors"
    state = change(safetensors.torch.load(weights.read_bytes()))
    weights.write_bytes(safetensors.torch.save(state))
    manifest = json.loads((folder / "manifest.json").read_text())
    data = weights.read_bytes()
    manifest["files"]["weights.safetensors"] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: {k: torch.full_like(v, float("nan")) for k, v in s.items()}, r"holds NaN or infinite values"),
        (lambda s: {k: v.to(torch.int64) for k, v in s.items()}, r"has dtype torch.int64; weights are floating"),
    ],
)
def test_weights_that_cannot_run_are_refused_by_name(tmp_path, change, message):
    folder = save_model_dir(tmp_path / "m", nn.Linear(2, 1), {"in": 2})
    _rewrite_weights(folder, change)
    with pytest.raises(CheckpointError, match=r"weights\.safetensors: tensor '(weight|bias)' " + message):
        load_model_dir(folder)


def test_token_ids_load_as_integers_and_negative_ids_are_refused(tmp_path):
    ids = torch.tensor([3, 0, 7, 2], dtype=torch.int16)
    folder = save_model_dir(tmp_path / "m", {"weight": torch.ones(2), "ngram.ids": ids}, {"in": 2})
    state, _, _ = load_model_dir(folder)
    assert state["ngram.ids"].dtype == torch.int16 and state["ngram.ids"].tolist() == [3, 0, 7, 2]
    _rewrite_weights(folder, lambda s: {**s, "ngram.ids": -s["ngram.ids"]})
    with pytest.raises(CheckpointError, match=r"tensor 'ngram.ids' holds negative token ids"):
        load_model_dir(folder)


def test_a_linked_weights_file_is_not_followed(tmp_path):
    folder = save_model_dir(tmp_path / "m", nn.Linear(2, 1), {"in": 2})
    elsewhere = tmp_path / "elsewhere.safetensors"
    (folder / "weights.safetensors").rename(elsewhere)
    (folder / "weights.safetensors").symlink_to(elsewhere)
    with pytest.raises(CheckpointError, match="is a symbolic link"):
        load_model_dir(folder)


def test_a_manifest_size_that_is_not_a_number_is_named(tmp_path):
    folder = save_model_dir(tmp_path / "m", nn.Linear(2, 1), {"in": 2})
    manifest = json.loads((folder / "manifest.json").read_text())
    size = manifest["files"]["weights.safetensors"]["bytes"]
    manifest["files"]["weights.safetensors"]["bytes"] = str(size)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(
        CheckpointError, match=rf"size of weights\.safetensors must be a whole number of bytes, got '{size}'"
    ):
        load_model_dir(folder)


def test_sigterm_during_the_swap_lands_after_it_so_the_folder_is_whole(tmp_path, monkeypatch):
    import signal

    class Stop(Exception):
        pass

    def stop(signum, frame):
        raise Stop

    save_checkpoint(tmp_path / "c", {"w": torch.zeros(2)}, {"epoch": 1}, {})
    swap_in = ckpt_module._swap_in

    def signalled_swap(new, path):
        signal.raise_signal(signal.SIGTERM)  # as if it came between the two renames
        swap_in(new, path)

    monkeypatch.setattr(ckpt_module, "_swap_in", signalled_swap)
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        with pytest.raises(Stop):
            save_checkpoint(tmp_path / "c", {"w": torch.ones(2)}, {"epoch": 2}, {})
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert load_checkpoint(tmp_path / "c").training_state == {"epoch": 2}
    assert not list(tmp_path.glob(".c.old-*")) and not list(tmp_path.glob(".c.tmp-*"))
