"""The Trainer loop: learning, clipping, early stopping, NaN detection, logs, data and options."""

import csv
import io
import json
import math
import re

import pytest
import torch
from rich.console import Console
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lstmkit.errors import ConfigError, TrainingError
from lstmkit.nn import LSTM
from lstmkit.train import Callback, EarlyStopping, ProgressBar, Trainer, TrainerConfig, job_progress, seed_everything
from lstmkit.train.callbacks import format_epoch


def line_batches(slope=3.0, n=32, size=8):
    x = torch.linspace(-1, 1, n).unsqueeze(1)
    y = slope * x
    return [(x[i : i + size], y[i : i + size]) for i in range(0, n, size)]


class LastStep(nn.Module):
    """LSTM over a sequence, a linear read-out of the last step."""

    def __init__(self, features=1, hidden=8):
        super().__init__()
        self.lstm = LSTM(features, hidden)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.lstm(x)  # (B, T, H)
        return self.head(out[:, -1])


class Recorder(Callback):
    def __init__(self):
        self.steps, self.epochs, self.weights = [], [], []

    def on_before_optimizer_step(self, trainer, logs):
        grads = [p.grad for p in trainer.model.parameters() if p.grad is not None]
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
        self.steps.append({**logs, "lr_now": trainer.lr, "clipped_norm": norm.item()})

    def on_epoch_end(self, trainer, logs):
        self.epochs.append(dict(logs))
        self.weights.append({k: v.clone() for k, v in trainer.model.state_dict().items()})


def test_lstm_learns_a_tiny_sequence_task():
    seed_everything(0)
    x = torch.rand(64, 6, 1)
    y = x.mean(dim=1)  # the mean of the sequence: needs memory over all steps
    train = [(x[i : i + 16], y[i : i + 16]) for i in range(0, 48, 16)]
    val = [(x[48:], y[48:])]
    trainer = Trainer(LastStep(), nn.MSELoss(), lr=0.02, max_epochs=25, seed=0, progress=False)
    history = trainer.fit(train, val)
    assert [row["epoch"] for row in history] == list(range(1, 26))
    assert set(history[0]) == {"epoch", "train_loss", "val_loss", "lr", "seconds"}
    assert history[-1]["train_loss"] < 0.1 * history[0]["train_loss"]
    assert history[-1]["val_loss"] < 0.1 * history[0]["val_loss"]
    assert trainer.evaluate(val) == pytest.approx(history[-1]["val_loss"], rel=1e-6)
    assert trainer.global_step == 25 * 3


def test_epoch_loss_is_the_sample_weighted_mean_of_batch_losses():
    model = nn.Linear(1, 1)
    x = torch.arange(10.0).unsqueeze(1)
    y = torch.zeros(10, 1)
    batches = [(x[:8], y[:8]), (x[8:], y[8:])]  # sizes 8 and 2
    trainer = Trainer(model, nn.MSELoss(), lr=1e-3, max_epochs=1, progress=False)
    with torch.no_grad():
        expected = float(nn.MSELoss()(model(x), y))  # no step has happened yet
    assert trainer.evaluate(batches) == pytest.approx(expected, rel=1e-6)


def test_clipping_bounds_the_global_gradient_norm():
    recorder = Recorder()
    trainer = Trainer(
        nn.Linear(1, 1), nn.MSELoss(), optimizer="sgd", lr=0.01, max_epochs=2, callbacks=[recorder], progress=False
    )
    assert trainer.config.clip_grad_norm == 1.0  # on by default
    trainer.fit(line_batches(slope=100.0))
    assert len(recorder.steps) == 8
    assert all(s["grad_norm"] > 5.0 for s in recorder.steps)  # the raw gradients are large...
    assert all(s["clipped_norm"] <= 1.0 + 1e-5 for s in recorder.steps)  # ...and the step sees at most 1
    assert recorder.steps[0]["clipped_norm"] == pytest.approx(1.0, rel=1e-5)


def test_clipping_can_be_disabled():
    recorder = Recorder()
    trainer = Trainer(
        nn.Linear(1, 1),
        nn.MSELoss(),
        optimizer="sgd",
        lr=1e-4,
        max_epochs=1,
        clip_grad_norm=None,
        callbacks=[recorder],
        progress=False,
    )
    trainer.fit(line_batches(slope=100.0))
    for step in recorder.steps:
        assert step["clipped_norm"] == pytest.approx(step["grad_norm"], rel=1e-6)
        assert step["clipped_norm"] > 5.0


def test_early_stopping_stops_and_restores_the_best_weights():
    # training pulls w towards 2, the validation loss is lowest at w = 1: it falls, then rises
    x = torch.linspace(0.5, 1.5, 16).unsqueeze(1)
    train, val = [(x, 2 * x)], [(x, x)]
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    recorder = Recorder()
    trainer = Trainer(
        model,
        nn.MSELoss(),
        optimizer="sgd",
        lr=0.05,
        clip_grad_norm=None,
        max_epochs=100,
        patience=3,
        callbacks=[recorder],
        progress=False,
    )
    history = trainer.fit(train, val)

    val_losses = [row["val_loss"] for row in history]
    best = min(range(len(val_losses)), key=val_losses.__getitem__)
    assert 2 < best + 1 < 60  # it improved for a while...
    assert len(history) == best + 1 + 3  # ...then stopped after `patience` worse epochs
    assert all(v > val_losses[best] for v in val_losses[best + 1 :])
    assert torch.equal(model.weight, recorder.weights[best]["weight"])
    assert not torch.equal(model.weight, recorder.weights[-1]["weight"])
    assert abs(model.weight.item() - 1.0) < 0.1


def test_early_stopping_min_delta_counts_small_gains_as_no_gain():
    x = torch.linspace(0.5, 1.5, 16).unsqueeze(1)
    trainer = Trainer(
        nn.Linear(1, 1, bias=False),
        nn.MSELoss(),
        optimizer="sgd",
        lr=1e-4,
        max_epochs=50,
        patience=2,
        min_delta=1.0,
        progress=False,
    )
    history = trainer.fit([(x, 2 * x)], [(x, x)])
    assert len(history) == 3  # the first epoch sets the best; the next two gain less than 1.0


def test_early_stopping_needs_validation_data():
    trainer = Trainer(nn.Linear(1, 1), nn.MSELoss(), patience=2, progress=False)
    with pytest.raises(ConfigError, match="needs val_data"):
        trainer.fit(line_batches())


def test_nan_loss_names_epoch_step_and_loss():
    batches = line_batches()
    batches[2] = (batches[2][0], torch.full_like(batches[2][1], float("nan")))
    trainer = Trainer(nn.Linear(1, 1), nn.MSELoss(), max_epochs=3, progress=False)
    with pytest.raises(TrainingError, match=r"the loss is nan at epoch 1, step 3 \(batch 3\)"):
        trainer.fit(batches)


def test_inf_loss_in_a_later_epoch_names_that_epoch_and_the_global_step():
    calls = []

    def compute_loss(model, batch):
        calls.append(1)
        loss = nn.functional.mse_loss(model(batch[0]), batch[1])
        return loss * float("inf") if len(calls) == 6 else loss

    trainer = Trainer(nn.Linear(1, 1), compute_loss=compute_loss, max_epochs=3, progress=False)
    with pytest.raises(TrainingError, match=r"the loss is inf at epoch 2, step 6 \(batch 2\)"):
        trainer.fit(line_batches())


class SqrtWeight(nn.Module):
    """pred = sqrt(w) * x with w = 0: a finite loss whose gradient is infinite."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return torch.sqrt(self.w) * x


def test_non_finite_gradient_is_reported_as_a_gradient_error():
    trainer = Trainer(SqrtWeight(), nn.MSELoss(), max_epochs=1, progress=False)
    with pytest.raises(TrainingError, match=r"the gradient norm is (inf|nan) at epoch 1, step 1 .*loss was finite"):
        trainer.fit(line_batches())
    assert trainer.model.w.item() == 0.0  # no step was taken with the bad gradient


def test_compute_loss_hook_handles_other_batch_shapes():
    x = torch.linspace(-1, 1, 32).unsqueeze(1)
    batches = [{"inputs": x[i : i + 8], "target": 3 * x[i : i + 8]} for i in range(0, 32, 8)]

    def compute_loss(model, batch):
        return nn.functional.mse_loss(model(batch["inputs"]), batch["target"])

    trainer = Trainer(nn.Linear(1, 1), compute_loss=compute_loss, lr=0.1, max_epochs=30, seed=0, progress=False)
    history = trainer.fit(batches)
    assert history[-1]["train_loss"] < 0.01 * history[0]["train_loss"]


def test_fit_accepts_a_dataset_and_batches_it():
    x = torch.linspace(-1, 1, 20).unsqueeze(1)
    trainer = Trainer(nn.Linear(1, 1), nn.MSELoss(), batch_size=8, max_epochs=2, seed=0, progress=False)
    trainer.fit(TensorDataset(x, 3 * x))
    assert trainer.steps_per_epoch == 3 and trainer.global_step == 6


def test_seed_makes_shuffling_and_dropout_repeatable():
    x = torch.linspace(-1, 1, 24).unsqueeze(1)

    def run():
        seed_everything(1)
        model = nn.Sequential(nn.Linear(1, 8), nn.Dropout(0.3), nn.Linear(8, 1))
        loader = DataLoader(TensorDataset(x, x**2), batch_size=5, shuffle=True)
        Trainer(model, nn.MSELoss(), max_epochs=2, seed=7, progress=False).fit(loader)
        return model.state_dict()

    first, second = run(), run()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_metrics_log_is_written_as_csv_and_json(tmp_path):
    trainer = Trainer(nn.Linear(1, 1), nn.MSELoss(), max_epochs=3, log_dir=tmp_path / "logs", progress=False)
    history = trainer.fit(line_batches())
    rows = list(csv.DictReader((tmp_path / "logs" / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert [float(r["train_loss"]) for r in rows] == pytest.approx([h["train_loss"] for h in history], rel=1e-12)
    assert [r["val_loss"] for r in rows] == ["", "", ""]  # no validation set
    logged = json.loads((tmp_path / "logs" / "metrics.json").read_text())
    assert logged == [{**h, "val_loss": None} for h in history]
    assert not list((tmp_path / "logs").glob(".*"))  # atomic writes leave no temp files


@pytest.fixture
def not_a_terminal(monkeypatch):
    """Standard error is captured (no tty) and no variable tells rich otherwise."""
    for name in ("TTY_COMPATIBLE", "FORCE_COLOR", "FORCE_TERMINAL"):
        monkeypatch.delenv(name, raising=False)


EPOCH_LINE = r"epoch (\d+)/3  train_loss \d+\.\d{4}  val_loss \d+\.\d{4}  \d+\.\d s"


def test_progress_prints_one_plain_line_per_epoch_when_not_on_a_terminal(capsys, not_a_terminal):
    history = Trainer(nn.Linear(1, 1), nn.MSELoss(), max_epochs=3, progress=True).fit(line_batches(), line_batches())
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert [int(re.fullmatch(EPOCH_LINE, line).group(1)) for line in lines] == [1, 2, 3]
    assert lines[1].startswith(
        f"epoch 2/3  train_loss {history[1]['train_loss']:.4f}  val_loss {history[1]['val_loss']:.4f}  "
    )


def test_progress_label_comes_first_and_no_validation_no_val_loss(capsys, not_a_terminal):
    Trainer(nn.Linear(1, 1), nn.MSELoss(), max_epochs=2, progress="member 2/5").fit(line_batches())
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"member 2/5  epoch 2/2  train_loss \d+\.\d{4}  \d+\.\d s", lines[1])


def test_progress_false_is_silent(capfd, not_a_terminal):
    Trainer(nn.Linear(1, 1), nn.MSELoss(), max_epochs=2, progress=False).fit(line_batches(), line_batches())
    assert capfd.readouterr() == ("", "")
    with pytest.raises(ConfigError, match="progress must be True, False or a label"):
        Trainer(nn.Linear(1, 1), nn.MSELoss(), progress=None)


def test_job_progress_is_on_only_on_a_terminal_unless_forced(not_a_terminal, monkeypatch):
    assert job_progress(None) is False  # captured stderr: quiet
    assert job_progress(True) is True and job_progress(False) is False
    assert job_progress(True, member=2, members=3) == "member 3/3"
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # what rich reads as a terminal
    assert job_progress(None, member=0, members=2) == "member 1/2"


def test_format_epoch_is_the_documented_line():
    logs = {"epoch": 3, "train_loss": 0.12341, "val_loss": 0.23449, "seconds": 1.234}
    assert format_epoch(logs, 30) == "epoch 3/30  train_loss 0.1234  val_loss 0.2345  1.2 s"
    without_val = format_epoch({**logs, "val_loss": None}, 30, "member 1/3")
    assert without_val == "member 1/3  epoch 3/30  train_loss 0.1234  1.2 s"


def test_progress_bar_draws_the_whole_fit_on_a_terminal():
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=140)
    trainer = Trainer(
        nn.Linear(1, 1),
        nn.MSELoss(),
        max_epochs=2,
        progress=False,
        callbacks=[ProgressBar(console, label="member 1/2")],
    )
    trainer.fit(line_batches(), line_batches())
    text = buffer.getvalue()
    assert "member 1/2  epoch 1/2" in text and "member 1/2  epoch 2/2" in text
    assert "train_loss" in text and "val_loss" in text and "eta" in text


def test_progress_bar_draws_nothing_when_not_on_a_terminal():
    buffer = io.StringIO()
    trainer = Trainer(
        nn.Linear(1, 1),
        nn.MSELoss(),
        max_epochs=2,
        progress=False,
        callbacks=[ProgressBar(Console(file=buffer, force_terminal=False))],
    )
    trainer.fit(line_batches())
    assert buffer.getvalue() == ""


@pytest.mark.parametrize(
    "options, message",
    [
        ({"optimizer": "adm"}, "optimizer must be one of .* got 'adm'"),
        ({"lr": 0}, "lr must be a finite number > 0.0, got 0"),
        ({"clip_grad_norm": -1.0}, r"clip_grad_norm .* \(None disables it\), got -1.0"),
        ({"max_epochs": 0}, "max_epochs must be an integer >= 1, got 0"),
        ({"schedule": "step"}, "schedule must be one of .* got 'step'"),
        ({"optimizer": "adam", "momentum": 0.9}, "momentum applies to 'sgd' and 'rmsprop' only"),
        ({"tbptt_steps": 4, "compute_loss": lambda m, b: 0}, "compute_loss cannot be combined"),
    ],
)
def test_bad_options_are_rejected_with_the_value(options, message):
    with pytest.raises(ConfigError, match=message):
        Trainer(nn.Linear(1, 1), nn.MSELoss(), progress=False, **options)


def test_one_shot_iterators_and_bad_batches_are_rejected():
    trainer = Trainer(nn.Linear(1, 1), nn.MSELoss(), max_epochs=2, progress=False)
    with pytest.raises(ConfigError, match="re-iterable each epoch .* one-shot iterator"):
        trainer.fit(b for b in line_batches())
    with pytest.raises(ConfigError, match=r"train_data batch 1: expected a tuple \(inputs..., target\), got a Tensor"):
        trainer.fit([torch.zeros(4, 1)])


@pytest.mark.parametrize("name, cls", [("adam", "Adam"), ("adamw", "AdamW"), ("rmsprop", "RMSprop"), ("sgd", "SGD")])
def test_optimisers_by_name_get_lr_and_weight_decay(name, cls):
    momentum = 0.5 if name in ("sgd", "rmsprop") else 0.0
    trainer = Trainer(
        nn.Linear(1, 1), nn.MSELoss(), optimizer=name, lr=0.03, weight_decay=0.01, momentum=momentum, progress=False
    )
    group = trainer.optimizer.param_groups[0]
    assert type(trainer.optimizer).__name__ == cls
    assert (group["lr"], group["weight_decay"], group.get("momentum", 0.0)) == (0.03, 0.01, momentum)
    assert math.isfinite(trainer.fit(line_batches())[-1]["train_loss"])


def test_early_stopping_never_counts_a_nan_as_the_best():
    class FakeTrainer:
        model = nn.Linear(1, 1)
        stop_training = False

    trainer, stopper = FakeTrainer(), EarlyStopping(patience=2)
    for epoch, value in enumerate([float("nan"), 0.5, float("nan"), float("nan")], start=1):
        stopper.on_epoch_end(trainer, {"epoch": epoch, "val_loss": value})
    assert (stopper.best, stopper.best_epoch, stopper.wait, trainer.stop_training) == (0.5, 2, 2, True)


def test_trainer_config_round_trips_and_rejects_unknown_options():
    config = TrainerConfig(optimizer="sgd", lr=0.1, momentum=0.9, schedule="plateau", schedule_options={"factor": 0.5})
    assert TrainerConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ConfigError, match=r"unknown Trainer options \['lr_decay'\]"):
        TrainerConfig.from_dict({"lr_decay": 0.1})
