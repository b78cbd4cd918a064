"""Saved model folders checked against a schema before anything is built from them.

A model folder's JSON is read back into the same frozen dataclasses that wrote it;
`from_saved` checks every field's type against the dataclass's annotations first,
then lets the dataclass check ranges (its ``__post_init__``), so that a hand-edited
``config.json`` gives one message naming the file and the field, never a
``TypeError`` deep inside a network.

`check_shapes` compares the tensors a network *would* have with those stored, by
building the network on PyTorch's ``meta`` device (shapes, no memory): a folder
whose ``metadata.json`` claims ``hidden_size`` 5000 beside 72 KB of weights is
refused before a gigabyte is allocated.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Net:
...     hidden_size: int
...     quantiles: tuple[float, ...] = (0.5,)
>>> from_saved(Net, {"hidden_size": 4, "quantiles": [0.1, 0.9]}, "metadata.json: net")
Net(hidden_size=4, quantiles=(0.1, 0.9))
>>> from_saved(Net, {"hidden_size": "4"}, "metadata.json: net")
Traceback (most recent call last):
lstmkit.errors.CheckpointError: metadata.json: net.hidden_size must be an integer, got '4'
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import torch

from lstmkit.errors import CheckpointError, LstmkitError

__all__ = ["from_saved", "check_value", "check_shapes", "first_line"]

T = TypeVar("T")

_NAMES = {int: "an integer", float: "a number", bool: "true or false", str: "a string", dict: "an object"}


def first_line(error: BaseException) -> str:
    """The first line of an error's message (PyTorch's state-dict errors run to many lines)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_value(value: Any, annotation: Any, where: str) -> Any:
    """``value`` read from JSON as ``annotation`` says (lists become tuples where a tuple is asked).

    Args:
        value: the JSON value.
        annotation: a type: ``int``, ``float``, ``bool``, ``str``, ``None``, ``Any``,
            ``dict``/``list``/``tuple`` (parametrised or not), unions, `typing.Literal`,
            or a dataclass (read with `from_saved`).
        where: the file and field, for the message.

    Returns:
        The value, converted where JSON cannot say it (tuples, dataclasses).

    Raises:
        CheckpointError: the value does not have that type; the message names ``where``.
    """
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        return value
    if annotation is None or annotation is type(None):
        if value is not None:
            raise CheckpointError(f"{where} must be null, got {_show(value)}")
        return None
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in args:
            try:
                return check_value(value, option, where)
            except CheckpointError as e:
                errors.append(e)
        wanted = " or ".join(_describe(a) for a in args)
        raise CheckpointError(f"{where} must be {wanted}, got {_show(value)}")
    if origin is typing.Literal:
        if value not in args:
            raise CheckpointError(f"{where} must be one of {list(args)}, got {_show(value)}")
        return value
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return from_saved(annotation, value, where)
    if annotation in (tuple, list) or origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise CheckpointError(f"{where} must be a list, got {_show(value)}")
        if args and not (origin is tuple and len(args) == 2 and args[1] is Ellipsis) and origin is tuple:
            if len(value) != len(args):
                raise CheckpointError(f"{where} must be a list of {len(args)}, got {len(value)} items")
            items = [check_value(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True))]
        elif args:
            items = [check_value(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
        else:
            items = list(value)
        return tuple(items) if (annotation is tuple or origin is tuple) else items
    if annotation is dict or origin is dict:
        if not isinstance(value, dict):
            raise CheckpointError(f"{where} must be an object, got {_show(value)}")
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise CheckpointError(f"{where} must be true or false, got {_show(value)}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CheckpointError(f"{where} must be an integer, got {_show(value)}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise CheckpointError(f"{where} must be a finite number, got {_show(value)}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise CheckpointError(f"{where} must be a string, got {_show(value)}")
        return value
    raise TypeError(f"check_value cannot check {annotation!r} (at {where})")


def _allows_none(annotation: Any) -> bool:
    return annotation is Any or annotation is None or type(None) in typing.get_args(annotation)


def _describe(annotation: Any) -> str:
    if annotation is None or annotation is type(None):
        return "null"
    origin = typing.get_origin(annotation) or annotation
    if origin in (list, tuple):
        return "a list"
    if dataclasses.is_dataclass(origin):
        return "an object"
    return _NAMES.get(origin, getattr(origin, "__name__", str(origin)))


def from_saved(cls: type[T], value: Any, where: str, *, defaults: Mapping[str, Any] | None = None) -> T:
    """Rebuild the frozen dataclass ``cls`` from a JSON object, every field checked.

    Args:
        cls: the dataclass (its annotations are the schema; its ``__post_init__`` the ranges).
        value: the JSON object read from the folder.
        where: the file and the object's place in it, e.g. ``"metadata.json: fitted.net"``.
        defaults: values for fields older folders lack (added before checking).

    A ``null`` for a field that cannot be ``None`` but has a default reads as that
    default (folders saved before the field was required wrote ``null``).

    Returns:
        ``cls(**fields)``.

    Raises:
        CheckpointError: not an object, an unknown or missing field, a wrong type, or a
            value the dataclass refuses; one line naming ``where`` and the field.
    """
    if not isinstance(value, dict):
        raise CheckpointError(f"{where} must be an object, got {_show(value)}")
    value = {**(defaults or {}), **value}
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise CheckpointError(f"{where}: unknown field(s) {unknown}")
    missing = [
        name
        for name, f in fields.items()
        if name not in value and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise CheckpointError(f"{where}: missing field(s) {missing}")
    checked = {}
    for name, v in value.items():
        if v is None and not _allows_none(hints[name]) and fields[name].default is not dataclasses.MISSING:
            continue  # folders from before a field became required wrote null for its default
        checked[name] = check_value(v, hints[name], f"{where}.{name}")
    try:
        return cls(**checked)
    except (LstmkitError, ValueError, TypeError) as e:
        raise CheckpointError(f"{where}: {first_line(e)}") from None


def check_shapes(build: Callable[[], torch.nn.Module], state: Mapping[str, torch.Tensor], where: str) -> None:
    """Refuse ``state`` unless it has exactly the tensors, shapes and dtypes ``build()`` makes.

    ``build`` runs on the ``meta`` device, so a network of any claimed size costs nothing.

    Args:
        build: makes the network the folder describes.
        state: the stored tensors (a state dict).
        where: the folder, for the message.

    Raises:
        CheckpointError: a tensor missing, unexpected, or of another shape or dtype than
            the configuration implies; the message names it.
    """
    try:
        with torch.device("meta"):
            expected = build().state_dict()
    except (LstmkitError, ValueError, TypeError, RuntimeError) as e:
        raise CheckpointError(f"{where}: the saved network cannot be built: {first_line(e)}") from None
    missing = sorted(set(expected) - set(state))
    if missing:
        raise CheckpointError(f"{where}: weights.safetensors lacks tensor(s) {missing[:3]} the configuration needs")
    extra = sorted(set(state) - set(expected))
    if extra:
        raise CheckpointError(
            f"{where}: weights.safetensors holds tensor(s) {extra[:3]} the configuration has no place for"
        )
    for name, meta in expected.items():
        stored = state[name]
        if tuple(stored.shape) != tuple(meta.shape):
            raise CheckpointError(
                f"{where}: tensor {name!r} has shape {list(stored.shape)} in weights.safetensors, "
                f"but the configuration implies {list(meta.shape)}"
            )
        if stored.dtype != meta.dtype:
            raise CheckpointError(
                f"{where}: tensor {name!r} has dtype {stored.dtype} in weights.safetensors, the network {meta.dtype}"
            )
