"""Data parallel: sharding rules, and a 2-process torchrun fit equal to a single-process one."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lstmkit.errors import ConfigError
from lstmkit.train import ShardedBatches, Trainer, distributed_loader, load_model_dir
from lstmkit.train.distributed import all_reduce_sum, env_ranks

WORKER = Path(__file__).with_name("ddp_worker.py")


def load_worker():
    spec = importlib.util.spec_from_file_location("ddp_worker", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sharded_batches_deal_batches_round_robin_with_equal_counts():
    batches = list(range(7))
    shards = [list(ShardedBatches(batches, rank, 3)) for rank in range(3)]
    assert shards == [[0, 3], [1, 4], [2, 5]]  # the last, incomplete group (6) is dropped
    assert [len(ShardedBatches(batches, r, 3)) for r in range(3)] == [2, 2, 2]
    keep = [list(ShardedBatches(batches, r, 3, drop_tail=False)) for r in range(3)]
    assert keep == [[0, 3, 6], [1, 4], [2, 5]]
    assert [len(ShardedBatches(batches, r, 3, drop_tail=False)) for r in range(3)] == [3, 2, 2]
    with pytest.raises(ConfigError, match=r"rank must be in \[0, 3\), got 3"):
        ShardedBatches(batches, 3, 3)


def test_environment_detection():
    assert env_ranks({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}) == (3, 4, 1)
    assert env_ranks({"PATH": "/bin"}) is None
    with pytest.raises(ConfigError, match="RANK=4, WORLD_SIZE=4"):
        env_ranks({"RANK": "4", "WORLD_SIZE": "4", "LOCAL_RANK": "0"})
    with pytest.raises(ConfigError, match="WORLD_SIZE must be an integer, got 'two'"):
        env_ranks({"RANK": "0", "WORLD_SIZE": "two"})


def test_single_process_helpers_are_identities():
    assert all_reduce_sum([1.0, 2.5], None) == [1.0, 2.5]
    loader = distributed_loader(TensorDataset(torch.arange(10.0)), 4, None, shuffle=False)
    assert [b[0].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


@pytest.mark.parametrize("shuffle", [True, False])
def test_tensor_dataset_loader_draws_the_batches_a_plain_data_loader_draws(shuffle):
    data = TensorDataset(torch.randn(23, 3, 2), torch.arange(23))
    torch.manual_seed(7)
    expected = list(DataLoader(data, batch_size=5, shuffle=shuffle))
    torch.manual_seed(7)
    loader = distributed_loader(data, 5, None, shuffle=shuffle)  # indexes whole batches at once
    got = list(loader)
    assert len(loader) == len(got) == len(expected) == 5
    for mine, plain in zip(got, expected):
        assert all(torch.equal(a, b) for a, b in zip(mine, plain))


@pytest.mark.slow
def test_two_process_ddp_fit_equals_single_process_fit_on_the_global_batches(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_PORT")}
    env.update(OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(WORKER),
        str(tmp_path),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    worker = load_worker()
    train, val = worker.global_batches()
    references = {"list": train, "dataset": worker.SamplerOrder()}
    for name, batches in references.items():
        model = worker.make_model()
        trainer = Trainer(model, nn.MSELoss(), distributed=False, **worker.OPTIONS)
        history = trainer.fit(batches, val)
        state, _, meta = load_model_dir(tmp_path / name)
        assert meta["steps"] == trainer.global_step == 2 * worker.EPOCHS  # one step per global batch
        for key, value in model.state_dict().items():
            torch.testing.assert_close(state[key], value, rtol=1e-5, atol=1e-5, msg=f"{name}: {key}")
        for ddp_row, row in zip(meta["history"], history, strict=True):
            assert ddp_row["train_loss"] == pytest.approx(row["train_loss"], rel=1e-5)  # averaged over ranks
            assert ddp_row["val_loss"] == pytest.approx(row["val_loss"], rel=1e-5)
        assert not torch.equal(state["head.weight"], worker.make_model().state_dict()["head.weight"])  # it trained

    # only rank 0 writes logs and checkpoints
    assert (tmp_path / "logs_rank0" / "metrics.csv").is_file()
    assert (tmp_path / "ckpt_rank0" / "weights.safetensors").is_file()
    assert not (tmp_path / "logs_rank1").exists() and not (tmp_path / "ckpt_rank1").exists()
    checkpointed, _, _ = load_model_dir(tmp_path / "ckpt_rank0")
    final, _, _ = load_model_dir(tmp_path / "list")
    assert all(torch.equal(checkpointed[k], final[k]) for k in final)
