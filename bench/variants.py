"""Time the LSTM variants against vanilla `torch.nn.LSTM` in the same run and print the ratios.

For each shape (batch, time, input, hidden) it times a training step (forward +
backward, train mode) of `lstmkit.nn.LSTM` with one variant switched on — peepholes,
layer normalisation, recurrent dropout, zoneout — and of plain ``torch.nn.LSTM`` (torch's
fused kernels) on the same input. Runs interleave (torch, peephole, layer norm, ...,
torch, ...) so drifts in machine load hit all alike; each figure is the median over
repeats. ``--reference`` adds the readable per-step driver for comparison.

    python bench/variants.py [--repeats 21] [--threads 1] [--clock wall|cpu] [--device cpu|cuda] [--reference]

A ratio of 2.00 means twice the time of vanilla torch.nn.LSTM. The goal on CPU is at
most 2x at (32, 50, 16, 64) and 1.5x at (64, 100, 32, 128).

The variants run lstmkit's ``sequence`` path: one matrix product and one fused
elementwise pass per step with the C++ loops (`lstmkit.nn.fused.native`; built by
``make native``), or 7-25 small operators per step with the Python loops when they are
not built (``LSTMKIT_NATIVE=0`` forces those; the header line says which ran). torch's
CPU LSTM is oneDNN's fused RNN kernel. On a machine whose cores are busy with other
work, OpenMP's spinning worker threads can stall small ops; there ``--threads 1`` (or
``OMP_WAIT_POLICY=PASSIVE``) gives the stable, representative figure, and ``--clock cpu``
(the process's CPU time, with one thread) leaves out the time the process waited for a core.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from lstmkit.nn import LSTM
from lstmkit.nn.fused import native

SHAPES = [(32, 50, 16, 64), (64, 100, 32, 128)]
GOALS = {(32, 50, 16, 64): 2.0, (64, 100, 32, 128): 1.5}
VARIANTS = {
    "peephole": {"peephole": True},
    "layer_norm": {"layer_norm": True},
    "recurrent_dropout": {"recurrent_dropout": 0.25},
    "zoneout": {"zoneout": 0.1},
}


def _timer(device: str, clock: str):
    now = time.process_time if clock == "cpu" else time.perf_counter

    def timed(fn) -> float:
        if device == "cuda":
            torch.cuda.synchronize()
        start = now()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        return now() - start

    return timed


def bench_shape(
    shape, repeats: int, device: str, reference: bool, clock: str = "wall"
) -> tuple[dict[str, float], dict[str, str]]:
    B, T, I, H = shape  # batch, time, input, hidden
    torch.manual_seed(0)
    models = {"torch.nn.LSTM": torch.nn.LSTM(I, H, batch_first=True).to(device)}
    variants = dict(VARIANTS)
    if reference:
        variants["zoneout (reference)"] = {"zoneout": 0.1, "backend": "reference"}
    for name, options in variants.items():
        models[name] = LSTM(I, H, **options).to(device).train()
    paths = {name: m.execution_path() for name, m in models.items() if isinstance(m, LSTM)}
    x = torch.randn(B, T, I, device=device)
    timed = _timer(device, clock)

    def train_step(model):
        out, _ = model(x.detach().requires_grad_())
        out.sum().backward()

    for _ in range(3):  # warm-up: allocator, oneDNN primitives, cuDNN plans
        for model in models.values():
            train_step(model)
    times = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            times[name].append(timed(lambda model=model: train_step(model)))
    return {name: statistics.median(v) for name, v in times.items()}, paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--reference", action="store_true", help="also time the per-step reference driver")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall time, or the process's CPU time (use with --threads 1 on a busy machine)",
    )
    args = parser.parse_args()
    if args.clock == "cpu" and args.device == "cuda":
        parser.error("--clock cpu measures the host only; use the wall clock on cuda")
    if args.threads:
        torch.set_num_threads(args.threads)
    loops = "C++" if args.device == "cpu" and native.available() else "Python"
    print(
        f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, "
        f"forward+backward, {args.clock} clock, median of {args.repeats}, {loops} loops"
    )
    header = f"{'(B, T, I, H)':>20} {'variant':>22} {'path':>10} {'ms':>9} {'torch ms':>9} {'ratio':>6} {'goal':>5}"
    print(header)
    print("-" * len(header))
    for shape in SHAPES:
        result, paths = bench_shape(shape, args.repeats, args.device, args.reference, args.clock)
        base = result["torch.nn.LSTM"]
        for name, seconds in result.items():
            if name == "torch.nn.LSTM":
                continue
            print(
                f"{str(shape):>20} {name:>22} {paths[name]:>10} {seconds * 1e3:9.2f} {base * 1e3:9.2f} "
                f"{seconds / base:6.2f} {GOALS[shape]:5.1f}"
            )


if __name__ == "__main__":
    main()
