"""Learning-rate schedules: the rate at every step or epoch, against the formula or torch itself."""

import math

import pytest
import torch
from torch import nn

from lstmkit.errors import ConfigError
from lstmkit.train import Callback, Trainer


class LrAtEachStep(Callback):
    def __init__(self):
        self.lrs = []

    def on_before_optimizer_step(self, trainer, logs):
        self.lrs.append(trainer.lr)


def batches(n_batches=4, size=4):
    x = torch.linspace(-1, 1, n_batches * size).unsqueeze(1)
    return [(x[i : i + size], 2 * x[i : i + size]) for i in range(0, n_batches * size, size)]


def test_cosine_anneals_per_batch_over_all_epochs():
    record = LrAtEachStep()
    trainer = Trainer(
        nn.Linear(1, 1),
        nn.MSELoss(),
        optimizer="sgd",
        lr=0.1,
        schedule="cosine",
        max_epochs=3,
        callbacks=[record],
        progress=False,
    )
    history = trainer.fit(batches())
    total = 3 * 4
    expected = [0.1 * (1 + math.cos(math.pi * s / total)) / 2 for s in range(total)]
    assert record.lrs == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert [row["lr"] for row in history] == pytest.approx([expected[0], expected[4], expected[8]])
    assert trainer.lr == pytest.approx(0.0, abs=1e-12)  # annealed all the way down at the end


def test_cosine_eta_min_through_schedule_options():
    trainer = Trainer(
        nn.Linear(1, 1),
        nn.MSELoss(),
        optimizer="sgd",
        lr=0.1,
        schedule="cosine",
        schedule_options={"eta_min": 0.01},
        max_epochs=2,
        progress=False,
    )
    trainer.fit(batches())
    assert trainer.lr == pytest.approx(0.01)


def test_onecycle_matches_torch_over_every_batch_of_the_fit():
    record = LrAtEachStep()
    trainer = Trainer(
        nn.Linear(1, 1),
        nn.MSELoss(),
        optimizer="adam",
        lr=0.2,
        schedule="onecycle",
        max_epochs=3,
        callbacks=[record],
        progress=False,
    )
    trainer.fit(batches())

    reference = torch.optim.Adam(nn.Linear(1, 1).parameters(), lr=0.2)
    schedule = torch.optim.lr_scheduler.OneCycleLR(reference, max_lr=0.2, total_steps=12)
    expected = []
    for _ in range(12):
        expected.append(reference.param_groups[0]["lr"])
        reference.step()
        schedule.step()
    assert record.lrs == pytest.approx(expected, rel=1e-12)
    assert record.lrs[0] == pytest.approx(0.2 / 25)  # warm-up starts at max_lr / div_factor
    assert max(record.lrs) > 0.9 * 0.2 and record.lrs[-1] < 1e-4


def test_plateau_cuts_the_rate_when_validation_stalls():
    # lr = 1e-6: the loss moves far less than the plateau's relative threshold (1e-4)
    data = batches()
    trainer = Trainer(
        nn.Linear(1, 1),
        nn.MSELoss(),
        optimizer="adam",
        lr=1e-6,
        schedule="plateau",
        schedule_options={"factor": 0.5, "patience": 1},
        max_epochs=6,
        progress=False,
    )
    history = trainer.fit(data, data)
    # epoch 1 sets the best; epochs 2, 3 stall -> cut after 3; then 4, 5 stall -> cut after 5
    assert [row["lr"] for row in history] == pytest.approx([1e-6, 1e-6, 1e-6, 5e-7, 5e-7, 2.5e-7], rel=1e-12)


def test_plateau_without_validation_watches_the_training_loss():
    # the training loss keeps falling fast: no cut
    trainer = Trainer(
        nn.Linear(1, 1),
        nn.MSELoss(),
        optimizer="sgd",
        lr=0.05,
        schedule="plateau",
        schedule_options={"patience": 0},
        max_epochs=4,
        progress=False,
    )
    history = trainer.fit(batches())
    assert [row["lr"] for row in history] == [0.05] * 4


def test_per_batch_schedules_need_a_length():
    class Stream:
        def __iter__(self):
            return iter(batches())

    trainer = Trainer(nn.Linear(1, 1), nn.MSELoss(), schedule="cosine", progress=False)
    with pytest.raises(ConfigError, match="has no len\\(\\); pass steps_per_epoch="):
        trainer.fit(Stream())
    trainer = Trainer(
        nn.Linear(1, 1),
        nn.MSELoss(),
        optimizer="sgd",
        lr=0.1,
        schedule="cosine",
        steps_per_epoch=4,
        max_epochs=2,
        progress=False,
    )
    trainer.fit(Stream())
    assert trainer.lr == pytest.approx(0.0, abs=1e-12)


def test_unknown_schedule_options_are_a_config_error():
    trainer = Trainer(nn.Linear(1, 1), nn.MSELoss(), schedule="cosine", schedule_options={"gamma": 0.5}, progress=False)
    with pytest.raises(ConfigError, match="schedule_options .*gamma.* not accepted by the 'cosine' schedule"):
        trainer.fit(batches())
