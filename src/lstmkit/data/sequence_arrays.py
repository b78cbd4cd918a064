"""`SequenceSet`: labelled numeric sequences as padded arrays with their lengths, from arrays or long tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from lstmkit.errors import DataError

__all__ = ["SequenceSet", "from_arrays", "pad_sequences", "from_long_frame"]


@dataclass(frozen=True)
class SequenceSet:
    """Sequences padded to one length, with their real lengths, labels and ids.

    Attributes:
        X: the values, float32, zero after each sequence's end.
        lengths: real number of steps of each sequence, in ``[1, T]``.
        y: one label per sequence (Python str/int/float), or ``None`` when unlabelled.
        ids: one id per sequence: the id column's values, or ``0..N-1``.
        channels: the feature names, one per channel.
        source: where the data came from (a file name), for messages.

    Shape:
        X: ``(N, T, F)``; lengths, y, ids: ``(N,)``.
    """

    X: np.ndarray
    lengths: np.ndarray
    y: np.ndarray | None
    ids: np.ndarray
    channels: tuple[str, ...]
    source: str = "<arrays>"

    def __len__(self) -> int:
        return len(self.X)

    @property
    def equal_length(self) -> bool:
        """Whether every sequence fills all ``T`` steps."""
        return bool((self.lengths == self.X.shape[1]).all())

    def subset(self, index: np.ndarray) -> SequenceSet:
        """The sequences at ``index`` (an index array or a boolean mask), same padding."""
        return SequenceSet(
            self.X[index],
            self.lengths[index],
            None if self.y is None else self.y[index],
            self.ids[index],
            self.channels,
            self.source,
        )


def from_arrays(
    X: ArrayLike | Sequence[ArrayLike],
    y: ArrayLike | None = None,
    lengths: ArrayLike | None = None,
    ids: ArrayLike | None = None,
    *,
    channels: Sequence[str] | None = None,
    source: str = "<arrays>",
) -> SequenceSet:
    """Check arrays (or a list of variable-length arrays) and make a `SequenceSet`.

    Args:
        X: an array ``(N, T)`` or ``(N, T, F)``, or a list of ``N`` arrays ``(T_i,)``
            or ``(T_i, F)`` of different lengths (padded here).
        y: ``N`` labels, or ``None``.
        lengths: real lengths ``(N,)`` for a padded ``X``; by default trailing steps
            that are NaN in every channel count as padding.
        ids: ``N`` ids; default ``0..N-1``.
        channels: feature names; default ``x0, x1, ...``.
        source: the data's origin, used in error messages.

    Shape:
        Returns ``X`` ``(N, T, F)`` float32, ``lengths`` ``(N,)`` int64.

    Raises:
        DataError: wrong shapes, lengths outside ``[1, T]``, missing or infinite values
            inside a sequence (named by sequence, step and channel), missing labels.

    >>> s = from_arrays([[1.0, 2.0, 3.0], [4.0]], y=["x", "y"])
    >>> s.X.shape, s.lengths.tolist(), s.channels
    ((2, 3, 1), [3, 1], ('x0',))
    >>> from_arrays(np.array([[1.0, np.nan, 2.0]])).X  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lstmkit.errors.DataError: <arrays>: sequence 0 (0-based) has a missing value (NaN) at step 1, channel 'x0' ...
    """
    if isinstance(X, (list, tuple)):
        if lengths is not None:
            raise DataError(f"{source}: lengths are taken from a list of sequences; do not pass lengths= too")
        X, lengths = pad_sequences(X, pad_value=np.nan, source=source)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 2:
        X = X[:, :, None]
    if X.ndim != 3:
        raise DataError(f"{source}: X must have shape (N, T) or (N, T, F), got {X.shape}")
    N, T, F = X.shape  # sequences, steps, channels
    if N == 0 or T == 0 or F == 0:
        raise DataError(f"{source}: X has an empty dimension: shape {X.shape}")
    channels = tuple(channels) if channels is not None else tuple(f"x{i}" for i in range(F))
    if len(channels) != F:
        raise DataError(f"{source}: {len(channels)} channel names for {F} channels")
    if lengths is None:
        lengths = _trailing_lengths(X)
        if (lengths == 0).any():
            raise DataError(f"{source}: sequence {int(np.argmin(lengths))} (0-based) has no values (all missing)")
    else:
        lengths = _check_lengths(lengths, N, T, source)
    X = _check_values(X, lengths, channels, source)
    return SequenceSet(X, lengths, _check_labels(y, N, source), _check_ids(ids, N, source), channels, source)


def pad_sequences(
    sequences: Sequence, pad_value: float = 0.0, *, source: str = "<arrays>"
) -> tuple[np.ndarray, np.ndarray]:
    """Pad ``N`` arrays of different lengths at the end into one array.

    Args:
        sequences: ``N`` arrays ``(T_i,)`` or ``(T_i, F)``, ``T_i >= 1``, same ``F``.
        pad_value: the value of the padded steps.
        source: the data's origin, used in error messages.

    Shape:
        Returns ``(N, max T_i, F)`` float64 and lengths ``(N,)`` int64.

    >>> X, lengths = pad_sequences([np.ones((2, 2)), np.ones((1, 2))])
    >>> X[:, :, 0].tolist(), lengths.tolist()
    ([[1.0, 1.0], [1.0, 0.0]], [2, 1])
    """
    arrays: list[np.ndarray] = []
    for i, seq in enumerate(sequences):
        a = np.asarray(seq, dtype=np.float64)
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[0] == 0:
            raise DataError(f"{source}: sequence {i} (0-based) must be (T,) or (T, F) with T >= 1, got shape {a.shape}")
        if arrays and a.shape[1] != arrays[0].shape[1]:
            raise DataError(
                f"{source}: sequence {i} (0-based) has {a.shape[1]} channels, sequence 0 has {arrays[0].shape[1]}"
            )
        arrays.append(a)
    if not arrays:
        raise DataError(f"{source}: no sequences")
    lengths = np.array([len(a) for a in arrays], dtype=np.int64)
    X = np.full((len(arrays), int(lengths.max()), arrays[0].shape[1]), pad_value, dtype=np.float64)
    for i, a in enumerate(arrays):
        X[i, : len(a)] = a
    return X, lengths


def _trailing_lengths(X: np.ndarray) -> np.ndarray:
    """Steps up to the last one with any value present: trailing all-NaN steps are padding."""
    present = ~np.isnan(X).all(axis=2)  # (N, T)
    T = X.shape[1]
    last = T - np.argmax(present[:, ::-1], axis=1)
    return np.where(present.any(axis=1), last, 0).astype(np.int64)


def _check_lengths(lengths, N: int, T: int, source: str) -> np.ndarray:
    arr = np.asarray(lengths)
    if arr.shape != (N,) or not np.issubdtype(arr.dtype, np.integer):
        raise DataError(
            f"{source}: lengths must be {N} integers (one per sequence), got shape {arr.shape} of dtype {arr.dtype}"
        )
    bad = np.flatnonzero((arr < 1) | (arr > T))
    if len(bad):
        raise DataError(
            f"{source}: lengths must be in [1, {T}] (the padded length); sequence {int(bad[0])} "
            f"(0-based) has length {int(arr[bad[0]])}"
        )
    return arr.astype(np.int64)


def _check_values(X: np.ndarray, lengths: np.ndarray, channels: tuple[str, ...], source: str) -> np.ndarray:
    valid = np.arange(X.shape[1])[None, :] < lengths[:, None]  # (N, T)
    bad = np.argwhere(~np.isfinite(X) & valid[:, :, None])
    if len(bad):
        n, t, f = (int(v) for v in bad[0])
        what = "a missing value (NaN)" if np.isnan(X[n, t, f]) else f"an infinite value ({X[n, t, f]})"
        raise DataError(
            f"{source}: sequence {n} (0-based) has {what} at step {t}, channel {channels[f]!r} "
            f"({len(bad)} such value(s) in all); fill or drop them first, only trailing steps missing "
            "in every channel are read as padding"
        )
    out = np.where(valid[:, :, None], X, 0.0).astype(np.float32)
    return out


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _check_labels(y, N: int, source: str) -> np.ndarray | None:
    if y is None:
        return None
    labels = np.empty(N, dtype=object)
    values = list(y.tolist() if hasattr(y, "tolist") else y)
    if len(values) != N:
        raise DataError(f"{source}: {len(values)} labels for {N} sequences; expected one label per sequence")
    missing = [i for i, v in enumerate(values) if v is None or (isinstance(v, float) and np.isnan(v))]
    if missing:
        raise DataError(f"{source}: sequence(s) {missing[:5]} (0-based) have no label")
    labels[:] = [_plain(v) for v in values]
    return labels


def _check_ids(ids, N: int, source: str) -> np.ndarray:
    out = np.empty(N, dtype=object)
    if ids is None:
        out[:] = list(range(N))
        return out
    values = list(ids.tolist() if hasattr(ids, "tolist") else ids)
    if len(values) != N:
        raise DataError(f"{source}: {len(values)} ids for {N} sequences")
    out[:] = [_plain(v) for v in values]
    return out


def from_long_frame(
    frame: pd.DataFrame,
    *,
    id_col: str,
    label_col: str | None = None,
    time_col: str | None = None,
    feature_cols: Sequence[str] | None = None,
) -> SequenceSet:
    """One sequence per id from a long table (one row per time step).

    Args:
        frame: the table; ``frame.attrs["source"]`` (set by `read_table`) names it in errors.
        id_col: the column naming each sequence; sequences keep the order in which
            their ids first appear.
        label_col: the class column, constant within an id; ``None`` for unlabelled data.
        time_col: orders the steps of each sequence (numbers or dates); without it the
            row order is the time order. Repeated times within an id are an error.
        feature_cols: the numeric channels; default every other column.

    Returns:
        A `SequenceSet` with ``ids`` the values of ``id_col``.

    Raises:
        DataError: a missing column, a non-numeric feature, a missing value (naming row
            and column), an id whose rows carry different labels, repeated times.
    """
    source = frame.attrs.get("source", "<frame>")
    roles = [c for c in (id_col, label_col, time_col) if c is not None]
    if feature_cols is None:
        feature_cols = [c for c in frame.columns if c not in roles]
    feature_cols = list(feature_cols)
    missing = [c for c in roles + feature_cols if c not in frame.columns]
    if missing:
        raise DataError(f"{source}: column(s) {missing} not found; columns found: {list(frame.columns)}")
    if not feature_cols:
        raise DataError(
            f"{source}: no feature columns left besides {roles}; a sequence needs at least one value column"
        )
    frame = frame.reset_index(drop=True)
    for col in [id_col] + ([label_col] if label_col else []):
        empty = np.flatnonzero(frame[col].isna().to_numpy())
        if len(empty):
            raise DataError(f"{source}: column {col!r} is empty at data row(s) {empty[:5].tolist()} (0-based)")
    values = _numeric_columns(frame, feature_cols, source)  # (rows, F)
    groups = frame.groupby(id_col, sort=False).indices  # id -> row numbers, in first-appearance order
    if label_col:
        _check_constant_labels(frame, id_col, label_col, source)
    sequences, ids, labels = [], [], []
    for key, rows in groups.items():
        if time_col:
            times = frame[time_col].to_numpy()[rows]
            order = np.argsort(times, kind="stable")
            rows = rows[order]
            sorted_times = times[order]
            repeated = np.flatnonzero(sorted_times[1:] == sorted_times[:-1])
            if len(repeated):
                raise DataError(
                    f"{source}: id {_plain(key)!r} has time {_plain(sorted_times[repeated[0]])!r} twice "
                    f"(data rows {sorted(rows[repeated[0] : repeated[0] + 2].tolist())}, 0-based)"
                )
        sequences.append(values[rows])
        ids.append(_plain(key))
        if label_col:
            labels.append(frame[label_col].iloc[rows[0]])
    X, lengths = pad_sequences(sequences, source=source)
    return from_arrays(X, labels if label_col else None, lengths, ids, channels=feature_cols, source=source)


def _numeric_columns(frame: pd.DataFrame, columns: list[str], source: str) -> np.ndarray:
    for col in columns:
        if not (pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col])):
            converted = pd.to_numeric(frame[col], errors="coerce")
            bad = np.flatnonzero(converted.isna().to_numpy() & frame[col].notna().to_numpy())
            row = int(bad[0]) if len(bad) else 0
            raise DataError(
                f"{source}: feature column {col!r} must be numeric, found {frame[col].iloc[row]!r} "
                f"at data row {row} (0-based); name the feature columns explicitly if it is not a feature"
            )
    values = frame[columns].to_numpy(dtype=np.float64)
    nonfinite = np.argwhere(~np.isfinite(values))
    if len(nonfinite):
        row, j = (int(v) for v in nonfinite[0])
        raise DataError(
            f"{source}: column {columns[j]!r} is {values[row, j]} at data row {row} (0-based); "
            f"{len(nonfinite)} non-finite value(s) in the feature columns"
        )
    return values


def _check_constant_labels(frame: pd.DataFrame, id_col: str, label_col: str, source: str) -> None:
    n_labels = frame.groupby(id_col, sort=False)[label_col].nunique()
    mixed = n_labels[n_labels > 1]
    if len(mixed):
        shown = "; ".join(
            f"id {_plain(k)!r}: {sorted(map(str, frame.loc[frame[id_col] == k, label_col].unique()))}"
            for k in mixed.index[:5]
        )
        raise DataError(
            f"{source}: the label column {label_col!r} must be constant within each id, but "
            f"{len(mixed)} id(s) have mixed labels ({shown})"
        )
