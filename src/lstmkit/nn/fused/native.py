"""The C++ time loops of `lstm_sequence`, compiled once on first use.

``lstm_sequence.cpp`` runs the loops of ``lstm_sequence.py`` with each step's
elementwise work (norms, activations, peepholes, cell update, zoneout, and their
derivatives) fused into one SIMD pass per row around the recurrent product. The
Python loops issue 7-25 operators per step, which at small sizes (32 sequences of 64
units) cost more than the product itself; fused, the variants run at 0.85-1.7x of
``torch.nn.LSTM``'s oneDNN kernel instead of 1.0-3.0x (``bench/variants.py``).

It is built with `torch.utils.cpp_extension.load` (a C++ compiler and ``ninja`` are
needed: ``pip install lstmkit[native]`` brings ninja) for the CPU's widest vector unit
that torch uses, into torch's extension cache (``$TORCH_EXTENSIONS_DIR``, by default
``~/.cache/torch_extensions``): about 35 s once — a line on stderr says so when the
compile starts and how long it took — then a second or two per process. ``make native``
(which ``make test`` runs) builds it ahead (``python -m lstmkit.nn.fused.build``).

When it cannot be built — no compiler, no ninja, a failed build — or when the
environment sets ``LSTMKIT_NATIVE=0``, `load` returns None (with one warning giving the
reason, for a failed build) and the Python loops run: same results, slower at small sizes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sys
import time
import warnings
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType

import torch

__all__ = ["load", "available", "ready", "disabled"]

SOURCE = Path(__file__).with_name("lstm_sequence.cpp")

# ATen's SIMD types (Vectorized) take their width from these, as in torch's own build;
# the widest the CPU runs (torch's own choice) is used, scalar code otherwise
_VECTOR_FLAGS = {
    "AVX512": [
        "-mavx512f",
        "-mavx512bw",
        "-mavx512vl",
        "-mavx512dq",
        "-mfma",
        "-DCPU_CAPABILITY=AVX512",
        "-DCPU_CAPABILITY_AVX512",
    ],
    "AVX2": ["-mavx2", "-mfma", "-mf16c", "-DCPU_CAPABILITY=AVX2", "-DCPU_CAPABILITY_AVX2"],
}


def disabled() -> bool:
    """Whether the environment turned the compiled loops off (``LSTMKIT_NATIVE=0``)."""
    return os.environ.get("LSTMKIT_NATIVE", "1").strip().lower() in ("0", "false", "no", "off")


def _ninja_dir() -> str | None:
    """Where a ``ninja`` binary is: on PATH (``""``), in the ``ninja`` package, or nowhere (None)."""
    if shutil.which("ninja") is not None:
        return ""
    try:
        import ninja
    except ImportError:
        return None
    return ninja.BIN_DIR


@contextlib.contextmanager
def _ninja_on_path(directory: str) -> Iterator[None]:
    """torch runs ``ninja`` from PATH: for the build only, put the package's binary there.

    The process's PATH is restored afterwards: importing or using lstmkit leaves the
    environment as it found it.
    """
    if not directory:
        yield
        return
    previous = os.environ.get("PATH")
    os.environ["PATH"] = os.pathsep.join([directory, previous or ""])
    try:
        yield
    finally:
        if previous is None:
            del os.environ["PATH"]
        else:
            os.environ["PATH"] = previous


def _built(name: str) -> bool:
    """Whether torch's extension cache already holds the build ``name``."""
    try:
        from torch.utils.cpp_extension import _get_build_directory

        return any(Path(_get_build_directory(name, verbose=False)).glob(f"{name}*.so"))
    except Exception:  # noqa: BLE001 - a private helper of torch: when it changes, say nothing
        return True


def _build_name() -> str:
    """The module's name: a build belongs to one source, one set of flags and one torch (the cache is shared)."""
    flags = _VECTOR_FLAGS.get(torch.backends.cpu.get_cpu_capability(), [])
    stamp = " ".join([torch.__version__, *flags]).encode()
    return f"lstmkit_lstm_sequence_{hashlib.sha256(SOURCE.read_bytes() + stamp).hexdigest()[:12]}"


@cache
def load() -> ModuleType | None:
    """The compiled module (``forward``, ``backward``), or None when it cannot be had.

    The module name carries a hash of the source, the flags and torch's version, so
    an edited source or another torch gets its own build rather than an old one.
    """
    if disabled():
        return None
    compiler = os.environ.get("CXX", "c++")
    ninja_dir = _ninja_dir()
    if shutil.which(compiler) is None or ninja_dir is None:
        return None  # no compiler or no ninja (an optional extra): the Python loops, silently
    try:
        from torch.utils import cpp_extension

        capability = torch.backends.cpu.get_cpu_capability()
        flags = _VECTOR_FLAGS.get(capability, [])
        name = _build_name()
        fresh = not _built(name)
        if fresh:
            print(
                f"lstmkit: compiling the C++ LSTM loops for {capability or 'this CPU'} (once, about 35 s; "
                "LSTMKIT_NATIVE=0 skips it and runs the Python loops)...",
                file=sys.stderr,
                flush=True,
            )
        started = time.perf_counter()
        with _ninja_on_path(ninja_dir):
            module = cpp_extension.load(name=name, sources=[str(SOURCE)], extra_cflags=["-O2", *flags], verbose=False)
        if fresh:
            print(
                f"lstmkit: C++ LSTM loops built in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True
            )
        return module
    except Exception as error:  # noqa: BLE001 - any build failure means: use the Python loops
        warnings.warn(
            f"lstmkit: could not build the C++ LSTM loops ({type(error).__name__}: {str(error).strip()[:300]}); "
            "the Python loops run instead (same results, slower at small sizes). "
            "Set LSTMKIT_NATIVE=0 to skip the attempt.",
            RuntimeWarning,
            stacklevel=2,
        )
        return None


def available() -> bool:
    """Whether the compiled loops are in use (building them if needed)."""
    return load() is not None


def ready() -> bool:
    """Whether the compiled loops can be used without a build: loaded already, or built
    in torch's extension cache (``make native``) and not turned off."""
    if disabled() or shutil.which(os.environ.get("CXX", "c++")) is None or _ninja_dir() is None:
        return False
    if load.cache_info().currsize:  # load() ran: its answer is cached, asking again builds nothing
        return load() is not None
    return _built(_build_name())
