"""Saved models and training checkpoints: a directory of safetensors and JSON.

A model directory holds::

    weights.safetensors   the model's tensors (names as in its state_dict)
    config.json           how to rebuild it (the caller's dict)
    metadata.json         lstmkit and torch versions, data fingerprint, metrics, ...
    manifest.json         size and sha256 of every other file

A training checkpoint is a model directory plus ``training_state.safetensors``
(optimiser, scheduler, RNG and callback tensors) and ``training_state.json``
(everything else in those states, epoch, step, history).

Writing is atomic for the whole directory: every file is written under a
temporary sibling directory, which is then swapped in, so a crash mid-save leaves
the previous directory intact. Saves and loads of one directory lock it
(`lstmkit.utils.locks`): two saves take turns, and a load never reads a save's
files halfway. Loading never unpickles: safetensors and JSON only;
a missing, truncated or corrupt file raises `CheckpointError` naming the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
import signal
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import safetensors.torch
import torch
from torch import Tensor, nn

import lstmkit
from lstmkit.errors import CheckpointError
from lstmkit.train.state import merge_tensors, split_tensors
from lstmkit.utils.locks import folder_lock

__all__ = [
    "Checkpoint",
    "fingerprint",
    "save_model_dir",
    "load_model_dir",
    "save_checkpoint",
    "load_checkpoint",
    "check_trainer_state",
    "WEIGHTS_FILE",
    "CONFIG_FILE",
    "METADATA_FILE",
    "MANIFEST_FILE",
    "STATE_TENSORS_FILE",
    "STATE_JSON_FILE",
]

WEIGHTS_FILE = "weights.safetensors"
CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
MANIFEST_FILE = "manifest.json"
STATE_TENSORS_FILE = "training_state.safetensors"
STATE_JSON_FILE = "training_state.json"
FORMAT = "lstmkit-model-dir"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Checkpoint:
    """Everything `load_checkpoint` read from a checkpoint directory.

    Attributes:
        path: The directory read.
        state_dict: The model's tensors.
        training_state: Optimiser, scheduler, RNG, callback states, epoch, step, history
            (``None`` for a plain model directory).
        config: The configuration dict saved with it.
        metadata: Versions, data fingerprint, metrics, epoch/step.
    """

    path: Path
    state_dict: dict[str, Tensor]
    training_state: dict[str, Any] | None
    config: dict[str, Any]
    metadata: dict[str, Any]


# ----------------------------------------------------------------------------- fingerprint


def fingerprint(obj: Any) -> str:
    """A sha256 hex digest of data: its bytes, shape and dtype.

    Arrays and tensors with the same dtype, shape and values give the same
    fingerprint (so a NumPy array and the tensor made from it agree). DataFrames
    hash column names, dtypes, index and values; lists, tuples and dicts hash their
    items in order (dicts by sorted key).

    Args:
        obj: A ``torch.Tensor``, ``np.ndarray``, ``pd.DataFrame``, ``pd.Series``,
            ``pd.Index``, scalar, string, bytes, or a list/tuple/dict of these.

    Returns:
        64 hex characters.

    Raises:
        TypeError: ``obj`` (or an item of it) has a type that cannot be fingerprinted.

    >>> fingerprint(np.arange(3, dtype=np.float32)) == fingerprint(torch.arange(3.0))
    True
    >>> fingerprint(np.arange(3.0)) == fingerprint(np.arange(3.0).reshape(3, 1))
    False
    """
    digest = hashlib.sha256()
    _feed(digest, obj, "obj")
    return digest.hexdigest()


def _feed(digest: Any, obj: Any, where: str) -> None:
    def tag(text: str) -> None:
        digest.update(text.encode("utf-8") + b"\x00")

    if isinstance(obj, Tensor):
        t = obj.detach().cpu().contiguous()
        tag(f"array|{str(t.dtype).removeprefix('torch.')}|{tuple(t.shape)}")
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(obj, np.ndarray):
        if obj.dtype == object:
            tag(f"objects|{obj.shape}")
            for item in obj.reshape(-1):
                tag(repr(item))
        else:
            a = np.ascontiguousarray(obj, dtype=obj.dtype.newbyteorder("="))
            tag(f"array|{a.dtype.name}|{a.shape}")
            digest.update(a.tobytes())
    elif isinstance(obj, pd.DataFrame):
        tag(f"DataFrame|{obj.shape}")
        _feed(digest, obj.index, f"{where}.index")
        for name in obj.columns:
            tag(f"column|{name!r}|{obj[name].dtype}")
            _feed(digest, obj[name].to_numpy(), f"{where}[{name!r}]")
    elif isinstance(obj, pd.Series):
        tag(f"Series|{obj.name!r}|{obj.dtype}")
        _feed(digest, obj.index, f"{where}.index")
        _feed(digest, obj.to_numpy(), where)
    elif isinstance(obj, pd.Index):
        tag(f"Index|{obj.dtype}")
        _feed(digest, obj.to_numpy(), where)
    elif isinstance(obj, (list, tuple)):
        tag(f"{type(obj).__name__}|{len(obj)}")
        for i, item in enumerate(obj):
            _feed(digest, item, f"{where}[{i}]")
    elif isinstance(obj, dict):
        tag(f"dict|{len(obj)}")
        for key in sorted(obj, key=repr):
            tag(repr(key))
            _feed(digest, obj[key], f"{where}[{key!r}]")
    elif obj is None or isinstance(obj, (bool, int, float, str, bytes, np.generic)):
        tag(f"scalar|{type(obj).__name__}|{obj!r}")
    else:
        raise TypeError(
            f"fingerprint() cannot hash {where} of type {type(obj).__name__}: expected a tensor, "
            "NumPy array, pandas DataFrame/Series/Index, scalar, string, or a list/tuple/dict of these"
        )


# ----------------------------------------------------------------------------- saving


def save_model_dir(
    path: str | os.PathLike,
    model_or_state_dict: nn.Module | dict[str, Tensor],
    config: dict[str, Any],
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Save a fitted model as a directory: safetensors weights plus JSON, atomically.

    Args:
        path: The directory to create or replace. An existing directory is only
            replaced if it is itself an lstmkit model directory.
        model_or_state_dict: A module (a DistributedDataParallel wrapper is unwrapped)
            or its ``state_dict``.
        config: JSON-serialisable description of how to rebuild the model.
        metadata: Extra JSON-serialisable facts (metrics, data fingerprint, ...);
            ``lstmkit_version``, ``torch_version`` and ``created`` are added.
            JSON has no ``inf``/``nan``: non-finite floats are written as ``null``.

    Returns:
        The directory written.

    Raises:
        CheckpointError: ``path`` exists and is not an lstmkit model directory.
        TypeError: ``config``/``metadata`` hold a value JSON cannot represent, or the
            state dict holds a non-tensor.

    >>> import tempfile
    >>> d = save_model_dir(Path(tempfile.mkdtemp()) / "m", nn.Linear(2, 1), {"in": 2})
    >>> state, config, meta = load_model_dir(d)
    >>> sorted(state), config, meta["lstmkit_version"] == lstmkit.__version__
    (['bias', 'weight'], {'in': 2}, True)
    """
    return _save_dir(path, model_or_state_dict, None, config, metadata)


def load_model_dir(path: str | os.PathLike) -> tuple[dict[str, Tensor], dict[str, Any], dict[str, Any]]:
    """Load a directory written by `save_model_dir` (or a training checkpoint).

    Args:
        path: The model directory.

    Returns:
        ``(state_dict, config, metadata)``; tensors are on the CPU.

    Raises:
        CheckpointError: The directory or one of its files is missing, truncated or
            corrupt; the message names the file and what is wrong with it.
    """
    ckpt = _load_dir(path, with_training_state=False)
    return ckpt.state_dict, ckpt.config, ckpt.metadata


def save_checkpoint(
    path: str | os.PathLike,
    model_or_state_dict: nn.Module | dict[str, Tensor],
    training_state: dict[str, Any],
    config: dict[str, Any],
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Save a training checkpoint: a model directory plus the training state.

    Args:
        path: The checkpoint directory to create or replace (atomically).
        model_or_state_dict: The model or its ``state_dict``.
        training_state: Nested dicts/lists/tuples of tensors and plain values
            (optimiser and scheduler state dicts, RNG states, ...): tensors go to
            ``training_state.safetensors``, the rest to ``training_state.json``.
        config: JSON-serialisable configuration (e.g. the trainer's options).
        metadata: Extra JSON-serialisable facts; versions and time are added.

    Returns:
        The directory written.

    Raises:
        CheckpointError: ``path`` exists and is not an lstmkit model directory.
        TypeError: A value cannot be represented in JSON or safetensors.

    >>> import tempfile
    >>> opt = torch.optim.Adam(nn.Linear(2, 1).parameters())
    >>> d = Path(tempfile.mkdtemp()) / "ckpt"
    >>> _ = save_checkpoint(d, nn.Linear(2, 1), {"optimizer": opt.state_dict()}, {})
    >>> load_checkpoint(d).training_state["optimizer"]["param_groups"][0]["betas"]
    (0.9, 0.999)
    """
    return _save_dir(path, model_or_state_dict, training_state, config, metadata)


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Load a training checkpoint written by `save_checkpoint`.

    Args:
        path: The checkpoint directory.

    Returns:
        A `Checkpoint`; all tensors are on the CPU.

    Raises:
        CheckpointError: The directory or one of its files is missing, truncated or
            corrupt, or it is a plain model directory without training state.
    """
    return _load_dir(path, with_training_state=True)


def _save_dir(path, model_or_state_dict, training_state, config, metadata) -> Path:
    path = Path(path)
    state_dict = _state_dict_of(model_or_state_dict)
    meta = {
        **_jsonable(metadata or {}, "metadata"),
        "lstmkit_version": lstmkit.__version__,
        "torch_version": torch.__version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    files = {
        WEIGHTS_FILE: safetensors.torch.save(state_dict),
        CONFIG_FILE: _dumps(_jsonable(config, "config")),
        METADATA_FILE: _dumps(meta),
    }
    if training_state is not None:
        tree, tensors = split_tensors(training_state)
        files[STATE_TENSORS_FILE] = safetensors.torch.save(tensors)
        files[STATE_JSON_FILE] = _dumps(tree)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "files": {
            name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()} for name, data in files.items()
        },
    }
    files[MANIFEST_FILE] = _dumps(manifest)
    _write_dir_atomically(path, files)
    return path


def _state_dict_of(model_or_state_dict) -> dict[str, Tensor]:
    if isinstance(model_or_state_dict, nn.parallel.DistributedDataParallel):
        model_or_state_dict = model_or_state_dict.module
    if isinstance(model_or_state_dict, nn.Module):
        model_or_state_dict = model_or_state_dict.state_dict()
    if not isinstance(model_or_state_dict, dict):
        raise TypeError(f"expected an nn.Module or a state_dict, got {type(model_or_state_dict).__name__}")
    out = {}
    for name, value in model_or_state_dict.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"state_dict entry {name!r} is a {type(value).__name__}; only tensors can be saved")
        # copies: safetensors refuses tensors that share memory (tied weights)
        out[name] = value.detach().to("cpu", copy=True).contiguous()
    return out


def _jsonable(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{where} is a {type(value).__name__}, which JSON cannot represent")


def _dumps(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, allow_nan=False) + "\n").encode("utf-8")


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_dir_atomically(path: Path, files: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(path, shared=False):  # one save at a time; loads wait until it is swapped in
        _write_locked(path, files)


def _write_locked(path: Path, files: dict[str, bytes]) -> None:
    if path.exists() and not (path / MANIFEST_FILE).is_file() and (not path.is_dir() or any(path.iterdir())):
        raise CheckpointError(
            f"refusing to replace {path}: it exists and is not an lstmkit model directory "
            f"(no {MANIFEST_FILE}); choose a new path or remove it"
        )
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        for name, data in files.items():
            _write_file(tmp / name, data)
        _fsync_dir(tmp)
        with _signals_deferred():  # Ctrl-C or SIGTERM lands after the two renames, not between them
            _swap_in(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for the block; one that came meanwhile is delivered at its end."""
    deferred = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, deferred)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


STALE_SECONDS = 3600  # a temporary folder this old belongs to no save still running


def _swap_in(new: Path, path: Path) -> None:
    # Two renames: the old directory steps aside, the new one takes its name. Between
    # them only the backup exists, and `_resolve` finds it there. Backups are named by
    # the time they were made, so the newest is the last in name order.
    old = None
    if path.exists():
        old = path.parent / f".{path.name}.old-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        os.rename(path, old)
    os.rename(new, path)
    _fsync_dir(path.parent)
    _clean_leftovers(path)


def _clean_leftovers(path: Path) -> None:
    """After a complete save: the backups of ``path``, and temporary folders of saves long dead."""
    for leftover in path.parent.glob(f".{path.name}.old-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in path.parent.glob(f".{path.name}.tmp-*"):
        try:
            if time.time() - leftover.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)
        except FileNotFoundError:  # another save finished with it meanwhile
            pass


# ----------------------------------------------------------------------------- loading


def _resolve(path: Path) -> Path:
    if path.is_dir():
        return path
    backups = sorted(path.parent.glob(f".{path.name}.old-*")) if path.parent.is_dir() else []
    complete = [b for b in backups if (b / MANIFEST_FILE).is_file()]
    if complete:  # the newest complete copy: backups are named by the time they were made
        warnings.warn(
            f"{path} is missing (a save was interrupted); loading the newest previous copy {complete[-1]}",
            stacklevel=3,
        )
        return complete[-1]
    if path.exists():
        raise CheckpointError(f"{path} is a file; expected a model or checkpoint directory")
    raise CheckpointError(f"{path} does not exist; expected a model or checkpoint directory")


def _load_dir(path: str | os.PathLike, with_training_state: bool) -> Checkpoint:
    with folder_lock(Path(path), shared=True):  # never between a save's two renames, nor amid its files
        return _load_locked(Path(path), with_training_state)


def _load_locked(path: Path, with_training_state: bool) -> Checkpoint:
    path = _resolve(path)
    manifest = _read_json(path / MANIFEST_FILE)
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or not isinstance(manifest.get("files"), dict)
    ):
        found = manifest.get("format") if isinstance(manifest, dict) else manifest
        raise CheckpointError(f"{path / MANIFEST_FILE}: not an lstmkit manifest (format {found!r})")
    version = manifest.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise CheckpointError(f"{path / MANIFEST_FILE}: format_version must be a whole number, got {version!r}")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path / MANIFEST_FILE}: format version {manifest['format_version']} is newer than this lstmkit "
            f"({lstmkit.__version__}) reads (up to {FORMAT_VERSION}); upgrade lstmkit"
        )
    wanted = [WEIGHTS_FILE, CONFIG_FILE, METADATA_FILE]
    if with_training_state:
        wanted += [STATE_TENSORS_FILE, STATE_JSON_FILE]
    data = {name: _read_verified(path, name, manifest["files"]) for name in wanted}
    training_state = None
    if with_training_state:
        tensors = _parse_safetensors(path / STATE_TENSORS_FILE, data[STATE_TENSORS_FILE])
        tree = _parse_json(path / STATE_JSON_FILE, data[STATE_JSON_FILE])
        try:
            training_state = merge_tensors(tree, tensors)
        except KeyError as e:
            raise CheckpointError(f"{path / STATE_JSON_FILE}: {e.args[0]}") from None
    return Checkpoint(
        path=path,
        state_dict=_checked_weights(path / WEIGHTS_FILE, _parse_safetensors(path / WEIGHTS_FILE, data[WEIGHTS_FILE])),
        training_state=training_state,
        config=_json_object(path / CONFIG_FILE, data[CONFIG_FILE]),
        metadata=_json_object(path / METADATA_FILE, data[METADATA_FILE]),
    )


# the keys of a Trainer's training state and the type each value must have
_STATE_KINDS: dict[str, tuple[type, ...]] = {
    "epoch": (int,),
    "global_step": (int,),
    "history": (list,),
    "optimizer": (dict,),
    "scheduler": (dict, type(None)),
    "rng": (dict,),
    "data_generators": (list,),
    "callbacks": (dict,),
}


_JSON_NAMES = {int: "a whole number", list: "a list", dict: "an object", type(None): "null"}


def check_trainer_state(file: Path, state: Any) -> None:
    """The training state a Trainer can resume from: each key of the right type, counts consistent.

    A hand-edited or crafted file is refused here, naming the field, rather than failing
    deep inside the optimiser or silently training for a different number of epochs.
    """
    if not isinstance(state, dict):
        raise CheckpointError(f"{file} must hold a JSON object, found a {type(state).__name__}")
    for key, kinds in _STATE_KINDS.items():
        if key not in state:
            raise CheckpointError(f"{file}: the field {key!r} is missing")
        value = state[key]
        if isinstance(value, bool) or not isinstance(value, kinds):
            wanted = " or ".join(_JSON_NAMES[k] for k in kinds)
            raise CheckpointError(f"{file}: {key!r} must be {wanted}, found {value!r:.60}")
    for key in ("epoch", "global_step"):
        if state[key] < 0:
            raise CheckpointError(f"{file}: {key!r} must be >= 0, found {state[key]}")
    history = state["history"]
    if len(history) != state["epoch"] or not all(isinstance(row, dict) for row in history):
        raise CheckpointError(
            f"{file}: 'history' must hold one object per finished epoch ({state['epoch']}), "
            f"found {len(history)} entries"
        )
    optimizer = state["optimizer"]
    if not isinstance(optimizer.get("param_groups"), list) or not isinstance(optimizer.get("state"), dict):
        raise CheckpointError(f"{file}: 'optimizer' must hold 'state' (an object) and 'param_groups' (a list)")
    rng = state["rng"]
    if not isinstance(rng.get("torch"), Tensor) or not isinstance(rng.get("numpy"), dict) or "python" not in rng:
        raise CheckpointError(f"{file}: 'rng' must hold the 'python', 'numpy' and 'torch' generator states")


def _json_object(file: Path, data: bytes) -> dict[str, Any]:
    value = _parse_json(file, data)
    if not isinstance(value, dict):
        raise CheckpointError(f"{file} must hold a JSON object, found a {type(value).__name__}")
    return value


def _read_verified(path: Path, name: str, listed: dict[str, Any]) -> bytes:
    file = path / name
    if name not in listed:
        kind = "a training checkpoint" if name.startswith("training_state") else "a model directory"
        raise CheckpointError(f"{path / MANIFEST_FILE} does not list {name}; {path} is not {kind}")
    if file.is_symlink():
        raise CheckpointError(f"{file} is a symbolic link; a model folder holds its own files (links are not followed)")
    if not file.is_file():
        raise CheckpointError(f"{file} is missing")
    expected = listed[name]
    size = expected.get("bytes") if isinstance(expected, dict) else None
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise CheckpointError(
            f"{path / MANIFEST_FILE}: the size of {name} must be a whole number of bytes, got {size!r}"
        )
    found = file.stat().st_size  # before reading: a huge file is refused without loading it
    if found != size:
        raise CheckpointError(f"{file} is truncated or altered: expected {size} bytes, found {found}")
    data = file.read_bytes()
    if hashlib.sha256(data).hexdigest() != expected.get("sha256"):
        raise CheckpointError(f"{file} is corrupt: its sha256 does not match {MANIFEST_FILE}")
    return data


def _read_json(file: Path) -> dict[str, Any]:
    if not file.is_file():
        raise CheckpointError(f"{file} is missing; {file.parent} is not an lstmkit model directory")
    return _parse_json(file, file.read_bytes())


def _parse_json(file: Path, data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{file} is not valid JSON: {e}") from None


def _checked_weights(file: Path, state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Weights a model can run on: finite floats; integers only as batch-norm step counters
    and as non-negative token ids (a name ending ``.ids``: the text an n-gram counted)."""
    for name, tensor in state.items():
        if tensor.is_floating_point():
            if not bool(torch.isfinite(tensor).all()):
                raise CheckpointError(f"{file}: tensor {name!r} holds NaN or infinite values; the model cannot run")
        elif name.endswith(".ids") and tensor.dtype in (torch.int16, torch.int32, torch.int64):
            if tensor.numel() and int(tensor.min()) < 0:
                raise CheckpointError(f"{file}: tensor {name!r} holds negative token ids")
        elif not (name.endswith("num_batches_tracked") and tensor.dtype == torch.int64):
            raise CheckpointError(f"{file}: tensor {name!r} has dtype {tensor.dtype}; weights are floating point")
    return state


def _parse_safetensors(file: Path, data: bytes) -> dict[str, Tensor]:
    try:
        return safetensors.torch.load(data)
    except Exception as e:  # safetensors raises its own error types for bad headers
        raise CheckpointError(f"{file} is not a valid safetensors file: {e}") from None
