"""Nested training state as JSON plus a flat dict of tensors, and back.

Optimiser and scheduler state dicts, RNG states and callback states are trees of
dicts, lists, tuples, numbers, strings and tensors. A checkpoint keeps the tensors
in safetensors and everything else in JSON; `split_tensors` takes a tree apart into
those two pieces and `merge_tensors` puts it back together, exactly: tuples stay
tuples, integer dict keys stay integers, ``inf`` stays ``inf``.

Encoding of the JSON side (plain values are written as themselves):

* tensor -> ``{"__tensor__": key}`` (the key in the tensor dict)
* tuple -> ``{"__tuple__": [...]}``
* dict with a non-string key (or a key starting ``__``) -> ``{"__dict__": [[k, v], ...]}``
* ``inf`` / ``-inf`` / ``nan`` -> ``{"__float__": "inf"}``, so the JSON stays standard
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["split_tensors", "merge_tensors"]


def split_tensors(tree: Any, prefix: str = "") -> tuple[Any, dict[str, Tensor]]:
    """Separate the tensors of a nested state from its JSON-serialisable rest.

    Args:
        tree: Nested dicts, lists and tuples of tensors, numbers, strings, booleans,
            ``None`` and NumPy scalars.
        prefix: Prepended to every tensor key (e.g. ``"optimizer."``).

    Returns:
        ``(json_tree, tensors)``: ``json_tree`` can go through ``json.dumps(...,
        allow_nan=False)``; ``tensors`` maps dotted paths to detached CPU copies.

    Raises:
        TypeError: A value is of a type that cannot be saved; the message gives its path.

    >>> tree, tensors = split_tensors({"step": 3, "betas": (0.9, 0.999), "m": torch.ones(2)})
    >>> tree["m"], list(tensors)
    ({'__tensor__': 'm'}, ['m'])
    >>> merge_tensors(tree, tensors)["betas"]
    (0.9, 0.999)
    """
    tensors: dict[str, Tensor] = {}
    return _encode(tree, prefix.rstrip("."), tensors), tensors


def merge_tensors(tree: Any, tensors: dict[str, Tensor]) -> Any:
    """Inverse of `split_tensors`: rebuild the nested state.

    Args:
        tree: The JSON side produced by `split_tensors` (after a JSON round trip).
        tensors: The tensor side, as loaded from safetensors.

    Returns:
        The original nested state.

    Raises:
        KeyError: ``tree`` names a tensor that ``tensors`` does not hold.
    """
    if isinstance(tree, list):
        return [merge_tensors(v, tensors) for v in tree]
    if not isinstance(tree, dict):
        return tree
    if "__tensor__" in tree:
        key = tree["__tensor__"]
        if key not in tensors:
            raise KeyError(f"tensor {key!r} is referenced by the JSON state but missing from the tensors")
        return tensors[key]
    if "__tuple__" in tree:
        return tuple(merge_tensors(v, tensors) for v in tree["__tuple__"])
    if "__dict__" in tree:
        return {_hashable(merge_tensors(k, tensors)): merge_tensors(v, tensors) for k, v in tree["__dict__"]}
    if "__float__" in tree:
        return float(tree["__float__"])
    return {k: merge_tensors(v, tensors) for k, v in tree.items()}


def _hashable(key: Any) -> Any:
    # a list can only come back where a tuple went in (JSON has no tuples)
    return tuple(key) if isinstance(key, list) else key


def _encode(value: Any, path: str, tensors: dict[str, Tensor]) -> Any:
    if isinstance(value, Tensor):
        key = path or "tensor"
        while key in tensors:  # a dict key containing "." could collide with a nested path
            key += "_"
        # a copy on the CPU: safetensors refuses tensors that share memory (tied weights)
        tensors[key] = value.detach().to("cpu", copy=True).contiguous()
        return {"__tensor__": key}
    if isinstance(value, np.ndarray):
        return _encode(torch.from_numpy(np.ascontiguousarray(value)), path, tensors)
    if isinstance(value, np.generic):
        return _encode(value.item(), path, tensors)
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, _join(path, i), tensors) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, _join(path, i), tensors) for i, v in enumerate(value)]
    if isinstance(value, dict):
        plain = all(isinstance(k, str) and not k.startswith("__") for k in value)
        if plain:
            return {k: _encode(v, _join(path, k), tensors) for k, v in value.items()}
        return {"__dict__": [[_encode(k, path, {}), _encode(v, _join(path, k), tensors)] for k, v in value.items()]}
    raise TypeError(
        f"cannot save a {type(value).__name__} at {path or 'the top level'}: expected tensors, "
        "numbers, strings, booleans, None, and dicts/lists/tuples of these"
    )


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)
