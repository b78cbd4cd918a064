"""Time `lstmkit.nn.LSTM` against `torch.nn.LSTM` in the same run and print the ratios.

For each shape (batch, time, input, hidden) it times inference (no grad) and a
forward + backward pass, for lstmkit's ``auto`` backend (torch's fused kernels) and
its ``reference`` per-step driver, against ``torch.nn.LSTM`` with the same weights.
Runs interleave (torch, auto, reference, torch, ...) so drifts in machine load hit
all three alike; the figure is the median over repeats.

    python bench/layers.py [--repeats 15] [--device cpu|cuda] [--threads N]

A ratio of 1.00 means as fast as torch; the goal for ``auto`` is at most 1.05.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from lstmkit.nn import LSTM

SHAPES = [(32, 50, 16, 64), (64, 100, 32, 128), (64, 100, 128, 256)]


def _timer(device: str):
    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    def timed(fn) -> float:
        sync()
        start = time.perf_counter()
        fn()
        sync()
        return time.perf_counter() - start

    return timed


def bench_shape(shape, repeats: int, device: str) -> dict[str, dict[str, float]]:
    B, T, I, H = shape  # batch, time, input, hidden
    torch.manual_seed(0)
    reference_torch = torch.nn.LSTM(I, H, batch_first=True).to(device)
    models = {"torch": reference_torch}
    for backend in ("auto", "reference"):
        model = LSTM(I, H, backend=backend).to(device)
        model.load_state_dict(reference_torch.state_dict())
        models[backend] = model
    x = torch.randn(B, T, I, device=device)
    timed = _timer(device)

    def inference(model):
        with torch.no_grad():
            model(x)

    def train_step(model):
        xg = x.detach().requires_grad_()
        out, _ = model(xg)
        out.sum().backward()

    times = {name: {"inference": [], "fwd+bwd": []} for name in models}
    for _ in range(2):  # warm-up: allocator, oneDNN primitives, cuDNN plans
        for model in models.values():
            inference(model)
            train_step(model)
    for _ in range(repeats):
        for name, model in models.items():
            times[name]["inference"].append(timed(lambda model=model: inference(model)))
            times[name]["fwd+bwd"].append(timed(lambda model=model: train_step(model)))
    return {name: {k: statistics.median(v) for k, v in d.items()} for name, d in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, median of {args.repeats}"
    )
    header = (
        f"{'(B, T, I, H)':>20} {'pass':>10} {'torch ms':>9} {'auto ms':>9} {'auto/torch':>10} "
        f"{'ref ms':>9} {'ref/torch':>9}"
    )
    print(header)
    print("-" * len(header))
    for shape in SHAPES:
        result = bench_shape(shape, args.repeats, args.device)
        for kind in ("inference", "fwd+bwd"):
            t, a, r = (result[n][kind] * 1e3 for n in ("torch", "auto", "reference"))
            print(f"{str(shape):>20} {kind:>10} {t:9.2f} {a:9.2f} {a / t:10.2f} {r:9.2f} {r / t:9.2f}")


if __name__ == "__main__":
    main()
