"""Truncated BPTT: chunks, state carried and detached, one step per chunk, stateful streams."""

import pytest
import torch
from torch import nn

from lstmkit.errors import ConfigError
from lstmkit.nn import LSTM
from lstmkit.train import Callback, Trainer, seed_everything


def recurrence(a, b, x, h):
    """h_t = a * h_{t-1} + b * x_t, the prediction at every step is h_t."""
    outs = []
    for t in range(x.shape[1]):
        h = a * h + b * x[:, t]
        outs.append(h)
    return torch.stack(outs, dim=1), h


class LinearRecurrence(nn.Module):
    """A one-number RNN whose gradient through ``a`` depends on how far back it flows."""

    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(0.9))
        self.b = nn.Parameter(torch.tensor(0.5))
        self.calls = []

    def forward(self, x, state=None):
        B, T, _ = x.shape  # batch, time, features
        h = torch.zeros(B, 1) if state is None else state
        pred, h = recurrence(self.a, self.b, x, h)
        self.calls.append({"state_in": state, "state_out": h.detach().clone(), "steps": T})
        return pred, h


class StepRecorder(Callback):
    def __init__(self):
        self.steps = []

    def on_before_optimizer_step(self, trainer, logs):
        model = trainer.model
        self.steps.append(
            {
                **logs,
                "a": model.a.detach().clone(),
                "b": model.b.detach().clone(),
                "grad_a": model.a.grad.clone(),
                "grad_b": model.b.grad.clone(),
            }
        )


def sequence(B=2, T=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, T, 1, generator=g), torch.randn(B, T, 1, generator=g)


def test_state_is_carried_between_chunks_and_gradient_stops_at_the_boundary():
    x, y = sequence()
    model, record = LinearRecurrence(), StepRecorder()
    trainer = Trainer(
        model,
        nn.MSELoss(),
        optimizer="sgd",
        lr=0.1,
        clip_grad_norm=None,
        tbptt_steps=3,
        max_epochs=1,
        callbacks=[record],
        progress=False,
    )
    trainer.fit([(x, y)])

    assert [c["steps"] for c in model.calls] == [3, 3]
    assert len(record.steps) == 2 and trainer.global_step == 2  # one optimiser step per chunk
    assert model.calls[0]["state_in"] is None
    carried = model.calls[1]["state_in"]
    assert torch.equal(carried, model.calls[0]["state_out"])  # chunk 2 starts where chunk 1 ended
    assert not carried.requires_grad  # ...detached

    # the gradient of chunk 2 is that of its own loss with the incoming state held constant
    second = record.steps[1]
    a = second["a"].clone().requires_grad_()
    b = second["b"].clone().requires_grad_()
    pred, _ = recurrence(a, b, x[:, 3:], carried)
    expected = torch.autograd.grad(nn.functional.mse_loss(pred, y[:, 3:]), (a, b))
    torch.testing.assert_close((second["grad_a"], second["grad_b"]), expected, rtol=1e-6, atol=1e-7)

    # full backpropagation through time would give another gradient: the test can tell them apart
    full, _ = recurrence(a, b, x, torch.zeros(2, 1))
    undetached = torch.autograd.grad(nn.functional.mse_loss(full[:, 3:], y[:, 3:]), (a, b))
    assert abs(float(undetached[0] - expected[0])) > 1e-3


def test_epoch_loss_weights_chunks_by_their_length():
    x, y = sequence(T=5)
    record = StepRecorder()
    trainer = Trainer(
        LinearRecurrence(),
        nn.MSELoss(),
        optimizer="sgd",
        lr=0.01,
        tbptt_steps=2,
        max_epochs=1,
        callbacks=[record],
        progress=False,
    )
    history = trainer.fit([(x, y)])
    losses = [s["loss"] for s in record.steps]  # chunks of 2, 2 and 1 steps
    assert [s["chunk"] for s in record.steps] == [1, 2, 3]
    assert history[0]["train_loss"] == pytest.approx((2 * losses[0] + 2 * losses[1] + losses[2]) / 5, rel=1e-12)


def test_carry_state_links_batches_and_resets_each_epoch():
    x, y = sequence(T=8)
    stream = [(x[:, :4], y[:, :4]), (x[:, 4:], y[:, 4:])]  # consecutive pieces of one stream
    model = LinearRecurrence()
    Trainer(
        model, nn.MSELoss(), optimizer="sgd", lr=0.01, tbptt_steps=2, carry_state=True, max_epochs=2, progress=False
    ).fit(stream)
    calls = model.calls
    assert len(calls) == 8  # 2 epochs x 2 batches x 2 chunks
    for epoch_start in (0, 4):
        assert calls[epoch_start]["state_in"] is None  # a new epoch starts afresh
        for i in range(epoch_start + 1, epoch_start + 4):  # across chunks and across batches
            assert torch.equal(calls[i]["state_in"], calls[i - 1]["state_out"])
            assert not calls[i]["state_in"].requires_grad


def test_without_carry_state_each_batch_starts_afresh():
    x, y = sequence(T=8)
    model = LinearRecurrence()
    Trainer(model, nn.MSELoss(), tbptt_steps=4, max_epochs=1, progress=False).fit(
        [(x[:, :4], y[:, :4]), (x[:, 4:], y[:, 4:])]
    )
    assert [c["state_in"] is None for c in model.calls] == [True, True]


def test_evaluation_with_carried_state_equals_running_the_whole_stream():
    x, y = sequence(T=9)
    stream = [(x[:, :3], y[:, :3]), (x[:, 3:6], y[:, 3:6]), (x[:, 6:], y[:, 6:])]
    model = LinearRecurrence()
    trainer = Trainer(model, nn.MSELoss(), tbptt_steps=2, carry_state=True, progress=False)
    with torch.no_grad():
        pred, _ = recurrence(model.a, model.b, x, torch.zeros(2, 1))
        expected = float(nn.functional.mse_loss(pred, y))
    assert trainer.evaluate(stream) == pytest.approx(expected, rel=1e-6)


def test_carry_state_needs_equal_batch_sizes_and_sequence_batches():
    x, y = sequence(B=3, T=4)
    trainer = Trainer(LinearRecurrence(), nn.MSELoss(), tbptt_steps=2, carry_state=True, progress=False)
    with pytest.raises(
        ConfigError, match="batch 2: carry_state=True needs every batch to have the same batch size; got 1"
    ):
        trainer.fit([(x[:2], y[:2]), (x[2:], y[2:])])
    with pytest.raises(ConfigError, match=r"batch 1: x of shape \(B, T, ...\) and y aligned in time"):
        trainer.fit([(x, y[:, 0])])
    with pytest.raises(ConfigError, match="need batches \\(x, y\\) of two tensors, got a tuple of 3"):
        trainer.fit([(x, x, y)])


class NextValue(nn.Module):
    """An LSTM language-model-like regressor: predicts the next value at every step."""

    def __init__(self):
        super().__init__()
        self.lstm = LSTM(1, 16)
        self.head = nn.Linear(16, 1)

    def forward(self, x, state=None):
        out, state = self.lstm(x, state)  # out: (B, T, H); state: (h, c)
        return self.head(out), state


def test_a_stateful_lstm_learns_a_long_stream_in_chunks():
    seed_everything(0)
    t = torch.arange(0, 4 * 64 + 1, dtype=torch.float32)
    wave = torch.sin(0.3 * t).reshape(-1)
    series = torch.stack([wave[i * 64 : i * 64 + 65] for i in range(4)]).unsqueeze(-1)  # (4, 65, 1)
    x, y = series[:, :-1], series[:, 1:]
    stream = [(x[:, :32], y[:, :32]), (x[:, 32:], y[:, 32:])]
    trainer = Trainer(
        NextValue(), nn.MSELoss(), lr=0.02, tbptt_steps=8, carry_state=True, max_epochs=12, seed=0, progress=False
    )
    history = trainer.fit(stream)
    assert trainer.global_step == 12 * 2 * 4
    assert history[-1]["train_loss"] < 0.1 * history[0]["train_loss"]
