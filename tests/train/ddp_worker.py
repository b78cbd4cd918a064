"""A tiny data-parallel fit, run by test_distributed.py under ``torchrun --nproc_per_node 2``.

Each rank trains the same model on its half of every global batch, two ways:

* ``list``: a list of half-batches, shared rank-strided (rank r takes batches r, r + 2, ...);
* ``dataset``: a ``TensorDataset``, shared by the Trainer's ``DistributedSampler``.

Rank 0 saves each final model with its history; the test compares them with a
single-process fit on the whole global batches (`reference_batches`).

Usage: python -m torch.distributed.run --standalone --nproc_per_node 2 ddp_worker.py OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import TensorDataset

from lstmkit.nn import LSTM
from lstmkit.train import Trainer, init_distributed, save_model_dir, seed_everything, shutdown_distributed

SEED = 0
EPOCHS = 3
OPTIONS = {"optimizer": "adam", "lr": 0.05, "max_epochs": EPOCHS, "seed": SEED, "progress": False}


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = LSTM(2, 4)
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        out, _ = self.lstm(x)  # (B, T, H)
        return self.head(out[:, -1])


def make_model() -> Model:
    seed_everything(123)
    return Model()


def make_data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    x = torch.randn(16, 5, 2, generator=g)
    y = x[:, :, 0].sum(dim=1, keepdim=True) * 0.3
    x_val = torch.randn(16, 5, 2, generator=g)
    y_val = x_val[:, :, 0].sum(dim=1, keepdim=True) * 0.3
    return x, y, x_val, y_val


def global_batches() -> tuple[list, list]:
    """Two global training batches of 8, and validation batches of uneven sizes (6, 6, 4)."""
    x, y, xv, yv = make_data()
    train = [(x[:8], y[:8]), (x[8:], y[8:])]
    val = [(xv[:6], yv[:6]), (xv[6:12], yv[6:12]), (xv[12:], yv[12:])]
    return train, val


def half_batches() -> list:
    """Each global batch cut in two: rank 0 takes the first halves, rank 1 the second."""
    train, _ = global_batches()
    return [half for x, y in train for half in ((x[:4], y[:4]), (x[4:], y[4:]))]


class SamplerOrder:
    """The global batches a ``DistributedSampler`` (2 ranks, 4 per rank, shuffled) forms, per epoch.

    The sampler permutes with seed + epoch and deals indices alternately to the
    ranks, so ranks' j-th batches together hold positions 8j..8j+7 of the permutation.
    """

    def __init__(self):
        self.x, self.y, _, _ = make_data()
        self.epoch = 0

    def __len__(self) -> int:
        return 2

    def __iter__(self):
        perm = torch.randperm(16, generator=torch.Generator().manual_seed(SEED + self.epoch))
        self.epoch += 1
        for j in range(2):
            idx = perm[8 * j : 8 * j + 8]
            yield self.x[idx], self.y[idx]


def main(out: Path) -> None:
    torch.set_num_threads(1)
    ctx = init_distributed(backend="gloo")  # two ranks on the CPU, even where a GPU exists
    assert ctx is not None and ctx.world_size == 2, ctx
    rank = ctx.rank

    _, val = global_batches()
    model = make_model()
    trainer = Trainer(
        model, nn.MSELoss(), log_dir=out / f"logs_rank{rank}", checkpoint_dir=out / f"ckpt_rank{rank}", **OPTIONS
    )
    history = trainer.fit(half_batches(), val)
    if trainer.is_main:
        save_model_dir(out / "list", model, {}, {"history": history, "steps": trainer.global_step})

    x, y, xv, yv = make_data()
    model = make_model()
    trainer = Trainer(model, nn.MSELoss(), batch_size=4, **OPTIONS)
    history = trainer.fit(TensorDataset(x, y), TensorDataset(xv, yv))
    if trainer.is_main:
        save_model_dir(out / "dataset", model, {}, {"history": history, "steps": trainer.global_step})
    shutdown_distributed()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
