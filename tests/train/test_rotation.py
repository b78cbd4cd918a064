"""RotatingBatches: bounded epochs that rotate through every row, reproducibly."""

import math

import pytest
import torch
from torch import nn

from lstmkit.errors import ConfigError
from lstmkit.train import RotatingBatches, Trainer


def _rows(batches, epoch):
    batches.set_epoch(epoch)
    return [int(v) for b in batches for v in b[0]]


def test_every_row_once_per_pass_with_bounded_epochs():
    N, k = 23, 5  # 23 rows, 5 per epoch: a pass of all rows every 4.6 epochs
    batches = RotatingBatches([torch.arange(N), torch.arange(N) * 10], batch_size=2, per_epoch=k, seed=3)
    assert len(batches) == 3  # ceil(5 / 2) batches per epoch, every epoch
    run = []
    for epoch in range(2 * N // k + 1):
        rows = _rows(batches, epoch)
        assert len(rows) == k
        run += rows
    # the epochs concatenated are two whole permutations of the rows, then the start of a third
    assert sorted(run[:N]) == list(range(N))
    assert sorted(run[N : 2 * N]) == list(range(N))
    assert run[:N] != run[N : 2 * N]  # each pass reshuffled
    batches.set_epoch(0)
    x, y = next(iter(batches))
    assert torch.equal(y, x * 10)  # rows stay aligned across the tensors


def test_epoch_rows_depend_only_on_seed_and_epoch():
    x = torch.arange(50)
    a = RotatingBatches([x], batch_size=8, per_epoch=16, seed=1)
    b = RotatingBatches([x], batch_size=8, per_epoch=16, seed=1)
    torch.manual_seed(123)  # the global generator plays no part
    assert _rows(a, 7) == _rows(b, 7)  # straight to epoch 7: a resumed fit continues alike
    assert _rows(a, 0) == [int(v) for v in torch.randperm(50, generator=torch.Generator().manual_seed(1_000_003))][:16]
    assert _rows(a, 0) != _rows(RotatingBatches([x], batch_size=8, per_epoch=16, seed=2), 0)
    assert _rows(a, 0) != _rows(a, 1)


def test_per_epoch_above_the_rows_is_a_reshuffle_of_all():
    batches = RotatingBatches([torch.arange(6)], batch_size=4, per_epoch=100, seed=0)
    assert len(batches) == math.ceil(6 / 4)
    assert sorted(_rows(batches, 0)) == sorted(_rows(batches, 1)) == list(range(6))


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ConfigError, match=r"same number of rows.*\[3, 4\]"):
        RotatingBatches([torch.zeros(3), torch.zeros(4)], batch_size=2, per_epoch=2)
    with pytest.raises(ConfigError, match="per_epoch must be a positive integer, got 0"):
        RotatingBatches([torch.zeros(3)], batch_size=2, per_epoch=0)
    with pytest.raises(ConfigError, match="no rows"):
        RotatingBatches([torch.zeros(0)], batch_size=2, per_epoch=2)


class _Recorder(nn.Module):
    """A linear model that records the inputs it trains on."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)
        self.seen: list[int] = []

    def forward(self, x):
        if self.training:
            self.seen += [int(v) for v in x[:, 0]]
        return self.linear(x)


def test_the_trainer_moves_the_batches_to_the_next_slice_each_epoch():
    x = torch.arange(12.0).unsqueeze(1)
    batches = RotatingBatches([x, 2 * x], batch_size=2, per_epoch=4, seed=0)
    model = _Recorder()
    Trainer(model, nn.MSELoss(), max_epochs=3, progress=False, distributed=False).fit(batches)
    expected = [v for epoch in range(3) for v in _rows(batches, epoch)]
    assert model.seen == expected
    assert sorted(model.seen) == list(range(12))  # 3 epochs of 4: all 12 rows, each once


def test_plain_lists_of_batches_still_train():
    x = torch.arange(4.0).unsqueeze(1)
    history = Trainer(nn.Linear(1, 1), nn.MSELoss(), max_epochs=2, progress=False, distributed=False).fit([(x, x)])
    assert len(history) == 2  # a list (unhashable, no set_epoch) is left alone
