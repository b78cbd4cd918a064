"""Build the C++ LSTM loops now and say where they stand: ``python -m lstmkit.nn.fused.build``.

`lstmkit.nn.fused.native` builds them on first use anyway; running this first (as
``make test`` does) moves the one-off compile (about 25 s) out of the first model call.
Exits 0 either way: without a compiler the Python loops run, with the same results.
"""

from __future__ import annotations

from lstmkit.nn.fused.native import disabled, load


def main() -> None:
    module = load()
    if module is not None:
        print(f"lstmkit C++ LSTM loops: ready ({module.__file__})")
    elif disabled():
        print("lstmkit C++ LSTM loops: disabled by LSTMKIT_NATIVE; the Python loops will run")
    else:
        print(
            "lstmkit C++ LSTM loops: not available (no C++ compiler, or the build failed: see the warning); "
            "the Python loops will run"
        )


if __name__ == "__main__":
    main()
