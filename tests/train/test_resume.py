"""Exact resume: k epochs, save, resume in a fresh Trainer and model, k more == 2k straight, bit for bit."""

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lstmkit.errors import CheckpointError
from lstmkit.nn import LSTM
from lstmkit.train import Callback, EarlyStopping, Trainer, fingerprint, load_checkpoint, seed_everything


class Regressor(nn.Module):
    """Two-layer LSTM with dropout between layers and before the head."""

    def __init__(self, dropout=0.2):
        super().__init__()
        self.lstm = LSTM(2, 6, num_layers=2, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(6, 1)

    def forward(self, x):
        out, _ = self.lstm(x)  # (B, T, H)
        return self.head(self.drop(out[:, -1]))


class Stream(nn.Module):
    """Stateful next-step model for truncated BPTT: model(x_chunk, state) -> (pred, state)."""

    def __init__(self):
        super().__init__()
        self.lstm = LSTM(1, 6)
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(6, 1)

    def forward(self, x, state=None):
        out, state = self.lstm(x, state)
        return self.head(self.drop(out)), state


def regression_data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(26, 5, 2, generator=g)
    y = x.sum(dim=(1, 2)).unsqueeze(1) / 5
    return x, y


def shuffled_loader():
    x, y = regression_data()
    val = [(x[:10], y[:10])]
    return DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True), val  # shuffles with torch's RNG


def loader_with_own_generator():
    x, y = regression_data()
    gen = torch.Generator().manual_seed(3)
    return DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True, generator=gen), None


def stream_batches():
    t = torch.arange(0, 4 * 17, dtype=torch.float32)
    series = torch.sin(0.4 * t).reshape(4, 17, 1)
    x, y = series[:, :-1], series[:, 1:]
    train = [(x[:, :8], y[:, :8]), (x[:, 8:], y[:, 8:])]
    return train, train


CASES = {
    "adam-cosine-early-stopping-shuffle-dropout": (
        Regressor,
        shuffled_loader,
        {"optimizer": "adam", "lr": 0.01, "weight_decay": 1e-4, "schedule": "cosine", "patience": 5},
    ),
    "sgd-momentum-onecycle-loader-generator": (
        Regressor,
        loader_with_own_generator,
        {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "schedule": "onecycle"},
    ),
    "rmsprop-plateau-tbptt-carried-state": (
        Stream,
        stream_batches,
        {
            "optimizer": "rmsprop",
            "lr": 0.005,
            "schedule": "plateau",
            "schedule_options": {"factor": 0.5, "patience": 0},
            "tbptt_steps": 4,
            "carry_state": True,
        },
    ),
}


class StopAfter(Callback):
    """Interrupt the fit after ``epoch`` (the checkpoint of that epoch is already written)."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, trainer, logs):
        if logs["epoch"] == self.epoch:
            trainer.stop_training = True


def new_model(cls, seed):
    seed_everything(seed)
    return cls()


@pytest.mark.parametrize("case", CASES)
def test_resume_equals_an_uninterrupted_run_bit_for_bit(tmp_path, case):
    model_cls, data, options = CASES[case]
    options = {**options, "max_epochs": 4, "seed": 0, "progress": False}

    straight = new_model(model_cls, 1)
    straight_trainer = Trainer(straight, nn.MSELoss(), **options)
    straight_history = straight_trainer.fit(*data())

    interrupted = new_model(model_cls, 1)
    Trainer(interrupted, nn.MSELoss(), checkpoint_dir=tmp_path / "ckpt", callbacks=[StopAfter(2)], **options).fit(
        *data()
    )
    assert load_checkpoint(tmp_path / "ckpt").metadata["epoch"] == 2

    seed_everything(12345)  # another process: other RNG states, other initial weights
    resumed = new_model(model_cls, 99)
    trainer = Trainer.resume(tmp_path / "ckpt", resumed, nn.MSELoss(), progress=False)
    assert (trainer.epoch, trainer.global_step) == (2, straight_trainer.global_step // 2)
    history = trainer.fit(*data())

    for name, value in straight.state_dict().items():
        assert torch.equal(resumed.state_dict()[name], value), name
    assert [(r["epoch"], r["train_loss"], r["val_loss"], r["lr"]) for r in history] == [
        (r["epoch"], r["train_loss"], r["val_loss"], r["lr"]) for r in straight_history
    ]
    expected_opt, got_opt = straight_trainer.optimizer.state_dict(), trainer.optimizer.state_dict()
    assert got_opt["param_groups"] == expected_opt["param_groups"]
    for i, slots in expected_opt["state"].items():
        for key, value in slots.items():  # exp_avg, Adam's step count, momentum buffers...
            assert torch.equal(got_opt["state"][i][key], value), (i, key)


def test_fit_resume_from_restores_early_stopping_and_records_the_data_fingerprint(tmp_path):
    loader, val = shuffled_loader()
    options = {"lr": 0.01, "max_epochs": 3, "patience": 1, "seed": 0, "progress": False}
    first = Trainer(new_model(Regressor, 1), nn.MSELoss(), checkpoint_dir=tmp_path / "ckpt", **options)
    first.fit(loader, val)
    ckpt = load_checkpoint(tmp_path / "ckpt")
    assert ckpt.metadata["data_fingerprint"] == fingerprint(list(loader.dataset.tensors))
    assert ckpt.metadata["metrics"]["epoch"] == len(first.history)
    assert ckpt.config["trainer"]["patience"] == 1

    second = Trainer(new_model(Regressor, 5), nn.MSELoss(), **options)
    second.fit(loader, val, resume_from=tmp_path / "ckpt")
    stopper = next(cb for cb in second.callbacks if isinstance(cb, EarlyStopping))
    original = next(cb for cb in first.callbacks if isinstance(cb, EarlyStopping))
    assert (stopper.best, stopper.best_epoch, stopper.wait) == (original.best, original.best_epoch, original.wait)
    assert len(second.history) == len(first.history)  # nothing left to do: same end
    for name, value in first.model.state_dict().items():
        assert torch.equal(second.model.state_dict()[name], value)


def test_resuming_into_other_options_or_another_model_is_refused(tmp_path):
    loader, _ = loader_with_own_generator()
    Trainer(new_model(Regressor, 1), nn.MSELoss(), max_epochs=1, checkpoint_dir=tmp_path / "c", progress=False).fit(
        loader
    )
    sgd = Trainer(Regressor(), nn.MSELoss(), optimizer="sgd", progress=False)
    with pytest.raises(CheckpointError, match="trained with optimizer='adam', this trainer has optimizer='sgd'"):
        sgd.load_checkpoint(tmp_path / "c")
    Trainer(
        Regressor(), nn.MSELoss(), schedule="cosine", max_epochs=1, checkpoint_dir=tmp_path / "cos", progress=False
    ).fit(loader)
    with pytest.raises(
        CheckpointError, match="'cosine' schedule was built for max_epochs=1; resuming with max_epochs=2"
    ):
        Trainer.resume(tmp_path / "cos", Regressor(), nn.MSELoss(), max_epochs=2)
    other = Trainer(nn.Linear(2, 1), nn.MSELoss(), progress=False)
    with pytest.raises(CheckpointError, match="does not fit this model/trainer"):
        other.load_checkpoint(tmp_path / "c")


def test_resuming_on_other_data_warns(tmp_path):
    loader, _ = loader_with_own_generator()
    Trainer(new_model(Regressor, 1), nn.MSELoss(), max_epochs=1, checkpoint_dir=tmp_path / "c", progress=False).fit(
        loader
    )
    x, y = regression_data()
    other = DataLoader(TensorDataset(x + 1, y), batch_size=8, shuffle=True, generator=torch.Generator())
    trainer = Trainer.resume(tmp_path / "c", Regressor(), nn.MSELoss(), max_epochs=2, progress=False)
    with pytest.warns(UserWarning, match="on different training data"):
        trainer.fit(other)


def _edit_training_state(folder, edit):
    """Edit training_state.json by hand and re-sign it in the manifest, so that only the check can catch it."""
    import hashlib
    import json

    path = folder / "training_state.json"
    state = json.loads(path.read_text())
    edit(state)
    data = json.dumps(state).encode()
    path.write_bytes(data)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["training_state.json"] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.update(epoch=-100), r"'epoch' must be >= 0, found -100"),
        (lambda s: s.update(epoch="2"), r"'epoch' must be a whole number, found '2'"),
        (lambda s: s.update(epoch=5), r"'history' must hold one object per finished epoch \(5\), found 2 entries"),
        (lambda s: s.pop("optimizer"), r"the field 'optimizer' is missing"),
        (lambda s: s.update(optimizer={"state": []}), r"'optimizer' must hold 'state' \(an object\)"),
        (lambda s: s.update(rng={"python": 1}), r"'rng' must hold the 'python', 'numpy' and 'torch'"),
        (lambda s: s.update(history=[1, 2]), r"'history' must hold one object per finished epoch"),
    ],
)
def test_a_crafted_training_state_is_refused_naming_the_field(tmp_path, edit, message):
    loader, _ = loader_with_own_generator()
    options = {"max_epochs": 2, "progress": False}
    Trainer(new_model(Regressor, 1), nn.MSELoss(), checkpoint_dir=tmp_path / "c", **options).fit(loader)
    _edit_training_state(tmp_path / "c", edit)
    with pytest.raises(CheckpointError, match=r"training_state\.json: " + message):
        Trainer(Regressor(), nn.MSELoss(), **options).load_checkpoint(tmp_path / "c")


def test_a_crafted_python_generator_state_is_refused_when_fit_restores_it(tmp_path):
    loader, _ = loader_with_own_generator()
    options = {"max_epochs": 2, "progress": False}
    Trainer(new_model(Regressor, 1), nn.MSELoss(), checkpoint_dir=tmp_path / "c", **options).fit(loader)
    _edit_training_state(tmp_path / "c", lambda s: s["rng"].update(python=[3, "not a state", None]))
    trainer = Trainer(Regressor(), nn.MSELoss(), **{**options, "max_epochs": 3})
    with pytest.raises(CheckpointError, match="the saved random generator states"):
        trainer.fit(loader, resume_from=tmp_path / "c")
