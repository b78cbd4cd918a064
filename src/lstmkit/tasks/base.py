"""The contract every job keeps, so that six jobs feel like one tool.

A job (`Forecaster`, `SequenceClassifier`, `TextClassifier`, `LanguageModel`,
`Translator`, `AnomalyDetector`) is an estimator in scikit-learn's sense:

* its constructor keywords are the fields of one frozen configuration dataclass, a
  `JobConfig`: the defaults live there once, for the Python API and the CLI alike,
  and the configuration is saved with the model as JSON;
* ``get_params()`` / ``set_params()`` read and replace those fields, so
  ``sklearn.base.clone``, ``GridSearchCV`` and ``cross_val_score`` work, and
  ``repr`` shows the fields that differ from their defaults;
* ``fit(...)`` returns the estimator; ``score(...)`` is a greater-is-better figure;
* ``device="auto"|"cpu"|"cuda"|"cuda:N"`` says where it trains and predicts;
* ``fit(data, init_from=folder_or_job)`` fine-tunes: training starts from the saved
  weights, and the saved model's fitted preprocessing (scalers, log transform,
  lookback, vocabularies, classes, ensemble size) is kept as it is, so that the
  weights keep meaning what they learnt; only the training options (epochs,
  learning rate, batch size, seed, ...) come from this configuration. A detector's
  threshold is set anew from the new training data;
* ``fit(data, checkpoints=folder)`` saves a training checkpoint per ensemble member
  into ``folder`` after every epoch and, when the folder already holds some,
  continues from them: a fit interrupted (Ctrl-C, SIGTERM, kill -9) and run again
  with the same data, configuration and folder ends with the same model, bit for
  bit, as one never interrupted (`trainer_checkpoints`);
* ``save(folder)`` writes one folder format (safetensors weights, JSON
  configuration, fitted state, versions, data fingerprint and metrics) and
  ``Job.load(folder, device=None)`` reads it back; `load` reads any of them and
  returns the right job.

>>> from lstmkit.tasks import Forecaster
>>> Forecaster(horizon=6, ensemble=1)
Forecaster(horizon=6, ensemble=1)
>>> Forecaster(horizon=6).set_params(lookback=24).get_params()["lookback"]
24
"""

from __future__ import annotations

import abc
import dataclasses
import difflib
import importlib
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch

from lstmkit.errors import CheckpointError, ConfigError
from lstmkit.models.recurrent import CellOptions
from lstmkit.train.checkpoint import load_model_dir
from lstmkit.train.devices import resolve_device
from lstmkit.utils.checks import MAX_ENSEMBLE
from lstmkit.utils.schema import check_shapes, from_saved

__all__ = [
    "JobConfig",
    "CellFields",
    "Estimator",
    "JOBS",
    "TRAINING_PARAMS",
    "load",
    "ensemble_state",
    "ensemble_members",
    "trainer_checkpoints",
]

# parameters that only steer training: fine-tuning takes them from the new configuration
TRAINING_PARAMS = frozenset(
    {
        "max_epochs",
        "max_steps",
        "patience",
        "lr",
        "lr_patience",
        "schedule",
        "weight_decay",
        "batch_size",
        "clip_grad_norm",
        "val_fraction",
        "time_budget",
        "max_windows",
        "teacher_forcing",
        "teacher_forcing_final",
        "augment_scale",
        "seed",
        "device",
        "beam",
        "length_penalty",
        "quantile",
        "false_alarm_rate",
        "fill",
    }
)

C = TypeVar("C", bound="JobConfig")
M = TypeVar("M", bound=torch.nn.Module)

# the job saved in a folder ("task" in its metadata.json) -> the class that loads it
JOBS = {
    "forecaster": "lstmkit.tasks.forecasting:Forecaster",
    "sequence_classifier": "lstmkit.tasks.sequence_classifier:SequenceClassifier",
    "text_classifier": "lstmkit.tasks.text_classifier:TextClassifier",
    "language_model": "lstmkit.tasks.language_model:LanguageModel",
    "translator": "lstmkit.tasks.translation:Translator",
    "anomaly": "lstmkit.tasks.anomaly:AnomalyDetector",
}


class JobConfig:
    """What every job's frozen configuration dataclass shares: JSON in and out.

    Tuples are written as JSON lists and read back as tuples; a saved key this
    version does not know is an error that names it.
    """

    # set by @dataclass on every subclass; declared so that the dataclass helpers accept a JobConfig
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-able dict (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls: type[C], d: dict[str, Any], where: str | None = None) -> C:
        """Rebuild from `to_dict`'s output, every field's type and range checked.

        Args:
            d: the saved fields.
            where: the file and place, for messages (default: "the saved {cls} configuration").

        Raises:
            CheckpointError: an unknown or missing field, a wrong type or a value out of range.
        """
        return from_saved(cls, d, where or f"the saved {cls.__name__}")


@dataclass(frozen=True)
class CellFields:
    """The recurrent cell of a job's network, as flat configuration fields every job shares.

    Args:
        cell: ``"lstm"`` (default), ``"gru"`` or ``"rnn"``.
        peephole, layer_norm, coupled_gates, proj_size: the LSTM variants (LSTM only):
            peephole connections, layer-normalised gates and cell, the forget gate tied
            to the input gate (``f = 1 - i``), a projection of ``h`` to ``proj_size`` units.
        zoneout: share of state units that keep their previous value in training (any cell).
        recurrent_dropout: variational dropout on the recurrent state in training (any cell).

    See `lstmkit.models.CellOptions`, which these build, for the references.
    """

    cell: str = "lstm"
    peephole: bool = False
    layer_norm: bool = False
    coupled_gates: bool = False
    proj_size: int = 0
    zoneout: float = 0.0
    recurrent_dropout: float = 0.0

    def cell_options(self, *, recurrent_dropout: bool = True) -> CellOptions:
        """The `CellOptions` the job's network is built with (checked: a bad value is a `ConfigError`).

        Args:
            recurrent_dropout: include ``recurrent_dropout`` (a network that has its own
                field for it takes it there instead).
        """
        options = CellOptions(
            cell=self.cell,
            peephole=self.peephole,
            layer_norm=self.layer_norm,
            coupled_gates=self.coupled_gates,
            proj_size=self.proj_size,
            zoneout=self.zoneout,
            recurrent_dropout=self.recurrent_dropout if recurrent_dropout else 0.0,
        )
        hidden_size = getattr(self, "hidden_size", None)
        if hidden_size is not None:
            options.check_hidden_size(hidden_size)
        return options


class Estimator(abc.ABC):
    """Configuration, parameters, repr and device for a job; see the module docstring.

    A subclass sets ``task`` (the name saved in a model folder) and ``config_class``
    (its `JobConfig` dataclass), calls ``super().__init__(config, **params)`` and
    implements ``fit``, ``score``, ``save`` and ``load``.
    """

    task: ClassVar[str]
    config_class: ClassVar[type[JobConfig]]
    _estimator_type: ClassVar[str | None] = None

    def __init__(self, config: Any = None, **params: Any):
        self.config = self._make_config(config, params)

    @classmethod
    def _make_config(cls, config: Any, params: dict[str, Any]) -> Any:
        name = cls.config_class.__name__
        if config is not None:
            if params:
                raise ConfigError(f"give either a {name} or keyword parameters, not both")
            if not isinstance(config, cls.config_class):
                raise ConfigError(f"{cls.__name__} takes a {name}, got {type(config).__name__}")
            return config
        cls._check_names(params)
        return cls.config_class(**params)

    @classmethod
    def _param_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls.config_class)]

    @classmethod
    def _check_names(cls, params: dict[str, Any]) -> None:
        names = cls._param_names()
        unknown = sorted(set(params) - set(names))
        if unknown:
            close = {u: difflib.get_close_matches(u, names, n=1) for u in unknown}
            hints = "".join(f" (did you mean {m[0]!r} for {u!r}?)" for u, m in close.items() if m)
            raise ConfigError(f"{cls.__name__}: unknown parameter(s) {unknown}{hints}; the parameters are {names}")

    # ---- what a subclass provides ----------------------------------------------------

    @classmethod
    @abc.abstractmethod
    def load(cls, path: str | os.PathLike, device: str | None = None) -> Estimator:
        """Read a job written by its ``save``."""

    @abc.abstractmethod
    def _require_fitted(self) -> object:
        """The fitted state, or a `ConfigError` that says to call ``fit`` first."""

    # ---- scikit-learn's estimator protocol ------------------------------------------

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The configuration's fields, as given to the constructor (``deep`` changes nothing: no sub-estimators)."""
        return {name: getattr(self.config, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Estimator:
        """Replace configuration fields (checked as in the constructor); returns ``self``.

        A fitted model keeps its weights until the next ``fit``.
        """
        if params:
            self._check_names(params)
            self.config = dataclasses.replace(self.config, **params)
        return self

    def __repr__(self) -> str:
        changed = []
        for f in dataclasses.fields(self.config_class):
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            value = getattr(self.config, f.name)
            if value != default:
                changed.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self):
        """Tags for scikit-learn's model selection (imported only when scikit-learn asks)."""
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        classifier = self._estimator_type == "classifier"
        return Tags(
            estimator_type=self._estimator_type,
            target_tags=TargetTags(required=classifier),
            classifier_tags=ClassifierTags() if classifier else None,
            input_tags=InputTags(two_d_array=True, three_d_array=True, string=True, allow_nan=True),
            non_deterministic=True,
        )

    # ---- fine-tuning -----------------------------------------------------------------

    def _warm_start(self, init_from: Any) -> Any:
        """The fitted job to fine-tune from (a model folder or a fitted job), or ``None``.

        Parameters that shape the network or the preprocessing come from the saved
        model; where this configuration asks for something else, a warning names them.
        """
        if init_from is None:
            return None
        source = (
            init_from if isinstance(init_from, Estimator) else type(self).load(init_from, device=self.config.device)
        )
        if type(source) is not type(self):
            raise ConfigError(f"init_from: a {type(source).__name__} cannot start a {type(self).__name__}")
        source._require_fitted()
        saved = source.get_params()
        differs = sorted(n for n, v in self.get_params().items() if n not in TRAINING_PARAMS and saved[n] != v)
        if differs:
            shown = ", ".join(f"{n}={saved[n]!r}" for n in differs)
            warnings.warn(
                f"init_from: fine-tuning keeps the saved model's network and preprocessing ({shown}); "
                f"this configuration's {differs} are not used",
                stacklevel=3,
            )
        return source

    @staticmethod
    def _copy_weights(net: torch.nn.Module, source: torch.nn.Module) -> None:
        """Start ``net`` from ``source``'s weights (fine-tuning)."""
        try:
            net.load_state_dict(source.state_dict())
        except RuntimeError as e:
            first = str(e).strip().splitlines()[0]
            raise ConfigError(
                f"init_from: the saved network does not match the one this job builds ({first})"
            ) from None

    # ---- where and what ---------------------------------------------------------

    @property
    def device_(self) -> torch.device:
        """The `torch.device` the configured ``device`` means on this machine."""
        return resolve_device(self.config.device)

    def resolved_config(self) -> dict[str, Any]:
        """The configuration with every automatic value (``None``, ``"auto"``) replaced by what was used.

        Before ``fit`` (or for a job with nothing automatic) this is `get_params`
        with the device resolved; a job adds what its last ``fit`` chose.
        """
        params = self.get_params()
        params["device"] = str(self.device_)
        return params


def trainer_checkpoints(
    checkpoints: str | os.PathLike | None, member: int | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The checkpoint keywords of one training run under a job's ``checkpoints`` folder.

    Returns ``(trainer_options, fit_options)``: the ``Trainer``'s ``checkpoint_dir``
    (``member-<k>`` for ensemble member ``k``, else ``trainer``) and, when a checkpoint
    is already there, ``Trainer.fit``'s ``resume_from``. Both are empty for ``None``.

    >>> trainer_checkpoints(None)
    ({}, {})
    >>> trainer_checkpoints("ckpt", member=2)[0]["checkpoint_dir"].name
    'member-2'
    """
    if checkpoints is None:
        return {}, {}
    root = Path(checkpoints)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"checkpoints={str(root)!r} is a file; give a folder to keep training checkpoints in")
    folder = root / (f"member-{member}" if member is not None else "trainer")
    return {"checkpoint_dir": folder}, ({"resume_from": folder} if folder.is_dir() else {})


def ensemble_state(nets: Sequence[torch.nn.Module]) -> dict[str, torch.Tensor]:
    """An ensemble's weights as one state dict on the CPU: member ``k``'s names start ``member{k}.``."""
    return {f"member{k}.{name}": t.detach().cpu() for k, net in enumerate(nets) for name, t in net.state_dict().items()}


def ensemble_members(
    state: dict[str, torch.Tensor], count: int, build: Callable[[], M], device: torch.device, where: str = "the folder"
) -> list[M]:
    """Rebuild ``count`` members with ``build()`` from `ensemble_state`'s dict, on ``device``, in eval mode.

    The count and every member's tensors are checked against what ``build`` makes (on
    the ``meta`` device, costing no memory) before any network is built; a mismatch is
    a `CheckpointError` naming ``where`` and the tensor.
    """
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_ENSEMBLE:
        raise CheckpointError(f"{where}: the ensemble must have 1 to {MAX_ENSEMBLE} members, got {count!r}")
    stored = {name.split(".", 1)[0] for name in state}
    expected = {f"member{k}" for k in range(count)}
    if stored != expected:
        raise CheckpointError(
            f"{where}: metadata.json says {count} member(s), weights.safetensors holds {len(stored)} "
            f"({sorted(stored)[:3]}...)"
        )
    for k in range(count):
        prefix = f"member{k}."
        check_shapes(build, {n[len(prefix) :]: t for n, t in state.items() if n.startswith(prefix)}, where)
    nets = []
    for k in range(count):
        net, prefix = build(), f"member{k}."
        net.load_state_dict({n[len(prefix) :]: t for n, t in state.items() if n.startswith(prefix)})
        nets.append(net.to(device).eval())
    return nets


def load(path: str | os.PathLike, device: str | None = None) -> Estimator:
    """Load any job saved by its ``save``: the folder says which job it is.

    Args:
        path: a model folder written by a job's ``save`` (or the CLI's ``--model-dir``).
        device: where to put the networks (``"auto"``, ``"cpu"``, ``"cuda"``, ...);
            ``None`` keeps the saved setting when this machine has it, else "auto".

    Returns:
        The fitted job: a `Forecaster`, `SequenceClassifier`, `TextClassifier`,
        `LanguageModel`, `Translator` or `AnomalyDetector`.

    Raises:
        CheckpointError: the folder is not an lstmkit model, is corrupt, or holds a
            job this version does not know.
    """
    if not Path(path).is_dir():
        raise CheckpointError(f"{path}: no such model folder")
    _, _, metadata = load_model_dir(path)
    task = metadata.get("task")
    if not isinstance(task, str) or task not in JOBS:
        raise CheckpointError(
            f"{path}: the folder holds no lstmkit job (its metadata.json says task {task!r}; known: {sorted(JOBS)})"
        )
    module, name = JOBS[task].split(":")
    return getattr(importlib.import_module(module), name).load(path, device=device)


def placed(config: Any, device: str | None) -> Any:
    """``config`` with the device a loaded model goes to: ``device`` when given; else the saved
    one when this machine has it, else ``"auto"`` (a model saved on a GPU loads on a laptop)."""
    if device is None:
        try:
            resolve_device(config.device)
            return config
        except ConfigError:
            device = "auto"
    resolve_device(device)  # a clear error now for a device this machine lacks
    return dataclasses.replace(config, device=device)
