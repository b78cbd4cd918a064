"""Shared set-up for the training tests."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_cpu_thread(monkeypatch):
    """Run each test on the CPU with one intra-op thread.

    The tests pin numbers computed on the CPU (bit-for-bit resume among them), and
    the Trainer would pick a GPU where one is present. One thread: on a busy
    two-core machine tiny LSTM kernels spend far longer synchronising threads than
    computing (0.2 s against 0.5 ms a step).
    """
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
