"""Advisory locks on model folders, so that concurrent saves and loads never meet halfway.

A save holds an exclusive lock while it writes and swaps the folder in; a load holds
a shared lock while it reads the files. So two processes saving to one folder take
turns (the second waits, at most ``timeout`` seconds, then fails with a message), and
a load never sees the moment between the two renames of a save, nor files from two
different saves (which it would report, falsely, as corrupt).

The lock is ``fcntl.flock`` on a small file beside the folder, ``.<name>.lock``; the
kernel releases it when the process dies, so a crash never leaves a folder locked.
The file itself stays (removing it would race with the next process to open it).
On a system without ``fcntl`` (Windows) the lock does nothing.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from lstmkit.errors import CheckpointError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; saves stay atomic, only not serialised
    fcntl = None  # type: ignore[assignment]

__all__ = ["folder_lock", "lock_file", "LOCK_TIMEOUT"]

LOCK_TIMEOUT = 120.0  # seconds a save or load waits for another one on the same folder


def lock_file(folder: Path) -> Path:
    """The lock file of ``folder``: ``.<name>.lock`` beside it."""
    return folder.parent / f".{folder.name}.lock"


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, *, shared: bool, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock of ``folder`` for the ``with`` block.

    Args:
        folder: the model folder (it need not exist yet; its parent must, for a save).
        shared: ``True`` for a load (many at once), ``False`` for a save (alone).
        timeout: seconds to wait for the others before giving up (default `LOCK_TIMEOUT`).

    Raises:
        CheckpointError: the lock was not free within ``timeout`` seconds.

    A load where the lock file cannot be made (a read-only place, no parent folder)
    goes ahead without it: nobody can be saving there either.
    """
    folder = Path(folder)
    fd = _open(lock_file(folder), create=not shared)
    if fd is None or fcntl is None:
        yield
        return
    try:
        mode = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB
        timeout = LOCK_TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, mode)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    doing = "saving to" if shared else "using"
                    raise CheckpointError(
                        f"{folder} is locked: another process is {doing} it (waited {timeout:g} s); "
                        f"try again when it has finished"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _open(path: Path, create: bool) -> int | None:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        if create:
            raise
    try:
        return os.open(path, os.O_RDONLY)  # a shared lock needs only read access
    except OSError:
        return None
