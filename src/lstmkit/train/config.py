"""`TrainerConfig`: the options that describe a training run, checked up front and saved as JSON."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from lstmkit.errors import ConfigError
from lstmkit.train.optim import OPTIMIZERS, SCHEDULES

__all__ = ["TrainerConfig"]


@dataclasses.dataclass(frozen=True)
class TrainerConfig:
    """The Trainer's options that describe the training itself (saved in checkpoints).

    See `Trainer` for what each option means. Values are checked on creation.

    >>> TrainerConfig(optimizer="sgd", lr=0.1, momentum=0.9).max_epochs
    10
    """

    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.0
    schedule: str | None = None
    schedule_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    clip_grad_norm: float | None = 1.0
    max_epochs: int = 10
    patience: int | None = None
    min_delta: float = 0.0
    restore_best: bool = True
    seed: int | None = None
    tbptt_steps: int | None = None
    carry_state: bool = False
    batch_size: int = 32
    steps_per_epoch: int | None = None

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.schedule is not None and self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule must be one of {SCHEDULES} or None, got {self.schedule!r}")
        if not isinstance(self.schedule_options, dict):
            raise ConfigError(f"schedule_options must be a dict, got {type(self.schedule_options).__name__}")
        _check_number("lr", self.lr, low=0.0, low_open=True)
        _check_number("weight_decay", self.weight_decay, low=0.0)
        _check_number("momentum", self.momentum, low=0.0)
        _check_number("min_delta", self.min_delta, low=0.0)
        if self.clip_grad_norm is not None:
            _check_number("clip_grad_norm", self.clip_grad_norm, low=0.0, low_open=True, none_hint=True)
        _check_int("max_epochs", self.max_epochs, minimum=1)
        _check_int("batch_size", self.batch_size, minimum=1)
        for name in ("patience", "seed"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), minimum=0)
        for name in ("tbptt_steps", "steps_per_epoch"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), minimum=1)
        for name in ("restore_best", "carry_state"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be True or False, got {getattr(self, name)!r}")

    def to_dict(self) -> dict[str, Any]:
        """The options as a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, options: dict[str, Any]) -> TrainerConfig:
        """Build from a dict such as `to_dict` made; unknown keys are an error.

        Raises:
            ConfigError: An unknown option or a bad value.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(f"unknown Trainer options {unknown}; known: {sorted(known)}")
        return cls(**options)


def _check_number(name: str, value: Any, low: float, low_open: bool = False, none_hint: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low)
    if not ok:
        bound = f"> {low}" if low_open else f">= {low}"
        hint = " (None disables it)" if none_hint else ""
        raise ConfigError(f"{name} must be a finite number {bound}{hint}, got {value!r}")


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
