"""What each job's saved state must satisfy beyond its types, checked at load.

`lstmkit.utils.schema` checks that every field of a model folder has the type its
dataclass declares and that the stored tensors have the shapes the configuration
implies. The functions here check how the fields fit together (the network's
horizon is the configuration's, the stored tail is long enough for the lookback,
the seasonal period fits in it, ...), so that a hand-edited folder is refused at
load with one message naming the file and the field, not later by an ``IndexError``
inside a forecast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from lstmkit.errors import CheckpointError, LstmkitError
from lstmkit.utils.schema import first_line

__all__ = [
    "check_forecaster",
    "check_scaler",
    "check_tokenizer",
    "check_vocab",
    "check_ids",
    "check_classes",
    "check_prepared",
    "check_detector_fitted",
    "count_in",
    "MAX_SEQUENCE_LENGTH",
    "NET_DEFAULTS",
]

# the longest sequence a saved model may claim to read or write (tokens or steps)
MAX_SEQUENCE_LENGTH = 100_000
# classifier network fields that folders saved before they existed lack
NET_DEFAULTS = {"conv_channels": [], "conv_kernels": [8, 5, 3]}


def count_in(value: Any, low: int, high: int, where: str) -> int:
    """``value`` if it is an integer in ``[low, high]``, else a `CheckpointError` naming ``where``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CheckpointError(f"{where} must be an integer from {low} to {high}, got {value!r}")
    return value


def check_forecaster(config: Any, fitted: Any, net: Any, where: str) -> None:
    """A `Forecaster`'s configuration, fitted state and network configuration agree.

    Args:
        config: the `ForecasterConfig` read from ``config.json``.
        fitted: its fitted state (``metadata.json: fitted``), types already checked.
        net: the `ForecastNetConfig` read from ``fitted.net``.
        where: the folder, for messages.

    Raises:
        CheckpointError: the first disagreement, naming the field.
    """
    meta = f"{where}/metadata.json: fitted"
    pairs = [
        ("horizon", net.horizon, config.horizon),
        ("quantiles", tuple(net.quantiles), tuple(config.quantiles)),
        ("n_targets", net.n_targets, len(config.targets)),
        ("n_past", net.n_past, len(config.past_covariates)),
        ("n_future", net.n_future, len(config.future_covariates) + len(fitted.calendar_columns)),
        ("strategy", net.strategy, config.strategy),
    ]
    for name, saved, configured in pairs:
        if saved != configured:
            raise CheckpointError(
                f"{meta}.net.{name} is {saved!r} but config.json implies {configured!r}; the folder was edited"
            )
    lookback = count_in(fitted.lookback, 1, 10**6, f"{meta}.lookback")
    count_in(fitted.m, 1, lookback, f"{meta}.m (the seasonal period, at most the lookback)")
    count_in(fitted.members, 1, 100, f"{meta}.members")
    if fitted.base not in ("last", "drift", "seasonal"):
        raise CheckpointError(f"{meta}.base must be 'last', 'drift' or 'seasonal', got {fitted.base!r}")
    if fitted.freq is not None:
        import pandas as pd

        try:
            pd.tseries.frequencies.to_offset(fitted.freq)
        except (ValueError, TypeError) as e:
            raise CheckpointError(f"{meta}.freq {fitted.freq!r} is not a pandas frequency ({first_line(e)})") from None
    if fitted.step is not None and not (math.isfinite(fitted.step) and fitted.step > 0):
        raise CheckpointError(f"{meta}.step must be a positive number, got {fitted.step!r}")
    _check_tail(config, fitted, lookback, f"{meta}.tail")
    check_scaler(fitted.scaler, list(config.targets), f"{meta}.scaler")


def _check_tail(config: Any, fitted: Any, lookback: int, where: str) -> None:
    needed = [*config.targets, *config.past_covariates, *config.future_covariates]
    needed += [c for c in (config.time_col, config.id_col) if c]
    missing = [c for c in needed if c not in fitted.tail]
    if missing:
        raise CheckpointError(f"{where} lacks column(s) {missing}")
    lengths = set()
    for col, stored in fitted.tail.items():
        if not isinstance(stored, dict) or len(stored) != 1 or next(iter(stored)) not in ("values", "datetime"):
            raise CheckpointError(f"{where}.{col} must be an object with one list, 'values' or 'datetime'")
        kind, values = next(iter(stored.items()))
        if not isinstance(values, list):
            raise CheckpointError(f"{where}.{col}.{kind} must be a list, got {type(values).__name__}")
        lengths.add(len(values))
        if kind == "datetime":
            _check_dates(values, f"{where}.{col}.datetime")
        elif col != config.id_col:
            bad = [v for v in values if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)]
            if bad:
                raise CheckpointError(f"{where}.{col}.values must be finite numbers, found {bad[0]!r}")
    if len(lengths) != 1 or min(lengths) < lookback:
        raise CheckpointError(f"{where}: every column needs the same number of rows, at least lookback={lookback}")


def _check_dates(values: Sequence[Any], where: str) -> None:
    import pandas as pd

    if not all(isinstance(v, str) for v in values):
        raise CheckpointError(f"{where} must be a list of date strings")
    try:
        pd.to_datetime(pd.Series(values), format="%Y-%m-%dT%H:%M:%S.%f")
    except (ValueError, TypeError, OverflowError) as e:
        raise CheckpointError(f"{where}: {first_line(e)}") from None


def check_scaler(state: Any, columns: list[str], where: str) -> Any:
    """The scaler a folder stores, rebuilt; it must scale at least ``columns``.

    Returns:
        The `SeriesScaler`.

    Raises:
        CheckpointError: an unknown kind, a missing column, or numbers that are not finite
            (a scale of 0 included).
    """
    from lstmkit.data import scaler_from_dict

    try:
        scaler = scaler_from_dict(state)
    except (LstmkitError, KeyError, TypeError, ValueError, IndexError) as e:
        raise CheckpointError(f"{where}: {first_line(e)}") from None
    import numpy as np

    names = list(scaler.columns)
    if not all(isinstance(c, str) for c in names):
        raise CheckpointError(f"{where}.columns must be a list of column names, got {names!r}")
    missing = [c for c in columns if c not in names]
    if missing:
        raise CheckpointError(f"{where} does not scale column(s) {missing}")
    shape = (len(list(state.get("ids") or [None])), len(names))
    for name in ("center", "scale"):
        try:
            array = np.asarray(state.get(name), dtype=np.float64)
        except (ValueError, TypeError):
            raise CheckpointError(f"{where}.{name} must be lists of numbers") from None
        if array.shape != shape:
            raise CheckpointError(f"{where}.{name} must be {shape[0]} list(s) of {shape[1]} numbers (series x columns)")
        if not np.isfinite(array).all() or (name == "scale" and (array <= 0).any()):
            raise CheckpointError(
                f"{where}.{name} holds a value that is not finite{' and positive' * (name == 'scale')}"
            )
    return scaler


def check_tokenizer(state: Any, where: str) -> Any:
    """The tokeniser a folder stores, rebuilt (any error in it becomes a `CheckpointError` naming ``where``)."""
    from lstmkit.data.text import tokenizer_from_dict

    try:
        return tokenizer_from_dict(state)
    except (LstmkitError, KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
        raise CheckpointError(f"{where}: {first_line(e)}") from None


def check_vocab(tokenizer_size: int, net_size: int, where: str) -> None:
    """The tokeniser has as many ids as the network's embedding has rows."""
    if tokenizer_size != net_size:
        raise CheckpointError(f"{where} is {net_size} but the saved tokeniser has {tokenizer_size} ids")


def check_ids(ids: Any, vocab_size: int, where: str) -> None:
    """``ids`` is a list of token ids below ``vocab_size``."""
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 <= i < vocab_size for i in ids
    ):
        raise CheckpointError(f"{where} must be a list of token ids from 0 to {vocab_size - 1}")


def check_classes(classes: list, n_classes: int, where: str) -> None:
    """One distinct label (a string or a number) per output of the network."""
    if len(classes) != n_classes or len(classes) < 2:
        raise CheckpointError(f"{where} has {len(classes)} labels; the network has {n_classes} outputs (at least 2)")
    if not all(isinstance(c, str | int | float) and not isinstance(c, bool) for c in classes):
        raise CheckpointError(f"{where} must be a list of labels (strings or numbers)")
    if len(set(classes)) != len(classes):
        raise CheckpointError(f"{where} repeats a label")


def check_prepared(prepared: Any, net: Any, where: str) -> None:
    """A classifier's fitted preprocessing fits its network: the tokeniser's ids (texts),
    or one channel and scaler column per input feature (sequences)."""
    if hasattr(prepared, "vocab_size"):
        check_vocab(prepared.vocab_size, net.vocab_size, f"{where}.tokenizer (the network's vocab_size)")
        return
    channels = prepared.get("channels")
    if not isinstance(channels, list) or len(channels) != net.n_features:
        raise CheckpointError(f"{where}.channels must list the network's {net.n_features} input channel(s)")
    if prepared.get("scaler") is not None:
        check_scaler(prepared["scaler"], [], f"{where}.scaler")
        if len(prepared["scaler"]["columns"]) != net.n_features:
            raise CheckpointError(f"{where}.scaler must scale the network's {net.n_features} channel(s)")
    length = prepared.get("max_length")
    if length is not None:
        count_in(length, 1, MAX_SEQUENCE_LENGTH, f"{where}.max_length")


def check_detector_fitted(fitted: Any, n_targets: int, where: str) -> dict:
    """An anomaly detector's fitted facts: ``n_features`` (one per target) and a finite ``threshold``."""
    if not isinstance(fitted, dict):
        raise CheckpointError(f"{where} must be an object, got {fitted!r}")
    count_in(fitted.get("n_features"), n_targets, n_targets, f"{where}.n_features (one per target)")
    threshold = fitted.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not math.isfinite(threshold):
        raise CheckpointError(f"{where}.threshold must be a finite number, got {threshold!r}")
    return dict(fitted)
