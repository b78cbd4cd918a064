"""Labelled numeric sequences for classification: files -> padded arrays with lengths.

Three inputs, one result (a `SequenceSet`):

* a **long table** (CSV/TSV/Parquet, or a DataFrame): one row per time step, an id
  column naming the sequence, an optional time column that orders the steps, feature
  columns, and a label column that is constant within each id (`from_long_frame`);
* a **``.npz``** file with ``X`` ``(N, T, F)`` (or ``(N, T)``), ``y`` ``(N,)`` and
  optional ``lengths`` ``(N,)`` and ``ids`` (`read_npz`);
* a **``.ts``** file of the UCR/UEA archive, as shipped by sktime (`read_ts`).

Sequences of unequal length are padded with zeros at the end and their real lengths
kept, so models mask the padding; nothing is truncated. Trailing steps that are
missing in every channel (NaN, or ``?`` in ``.ts``) are read as padding; a missing
value inside a sequence is an error that says where it is.

Also here: `pad_sequences` (a list of ``(T_i, F)`` arrays to one padded array),
`length_buckets` (batches of similar lengths, to waste little time on padding) and the
per-channel scaling of padded arrays (`fit_channel_scaler`, `scale_channels`).

>>> import pandas as pd
>>> frame = pd.DataFrame({"id": ["a", "a", "a", "b", "b"], "t": [2, 1, 3, 1, 2],
...                       "x": [20.0, 10.0, 30.0, 1.0, 2.0], "label": ["up"] * 3 + ["down"] * 2})
>>> s = from_long_frame(frame, id_col="id", label_col="label", time_col="t")
>>> s.X[:, :, 0].tolist(), s.lengths.tolist(), s.y.tolist(), s.ids.tolist()
([[10.0, 20.0, 30.0], [1.0, 2.0, 0.0]], [3, 2], ['up', 'down'], ['a', 'b'])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from lstmkit.data.io import read_table
from lstmkit.data.scaling import StandardScaler, scaler_from_dict
from lstmkit.errors import ConfigError, DataError

__all__ = [
    "SequenceSet",
    "SEQUENCE_EXTENSIONS",
    "from_arrays",
    "from_long_frame",
    "read_npz",
    "read_ts",
    "read_sequences",
    "pad_sequences",
    "length_buckets",
    "PaddedBatches",
    "fit_channel_scaler",
    "scale_channels",
]

SEQUENCE_EXTENSIONS = (".csv", ".tsv", ".parquet", ".pq", ".npz", ".ts")


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

    def subset(self, index) -> SequenceSet:
        """The sequences at ``index`` (an index array or a boolean mask), same padding."""
        return SequenceSet(self.X[index], self.lengths[index], None if self.y is None else self.y[index],
                           self.ids[index], self.channels, self.source)


# ---- from arrays ---------------------------------------------------------------------


def from_arrays(X, y=None, lengths=None, ids=None, *, channels: Sequence[str] | None = None,
                source: str = "<arrays>") -> SequenceSet:
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


def pad_sequences(sequences: Sequence, pad_value: float = 0.0, *, source: str = "<arrays>") -> tuple[np.ndarray, np.ndarray]:
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
    arrays = []
    for i, seq in enumerate(sequences):
        a = np.asarray(seq, dtype=np.float64)
        if a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[0] == 0:
            raise DataError(f"{source}: sequence {i} (0-based) must be (T,) or (T, F) with T >= 1, got shape {a.shape}")
        if arrays and a.shape[1] != arrays[0].shape[1]:
            raise DataError(f"{source}: sequence {i} (0-based) has {a.shape[1]} channels, sequence 0 has {arrays[0].shape[1]}")
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
        raise DataError(f"{source}: lengths must be {N} integers (one per sequence), got shape {arr.shape} "
                        f"of dtype {arr.dtype}")
    bad = np.flatnonzero((arr < 1) | (arr > T))
    if len(bad):
        raise DataError(f"{source}: lengths must be in [1, {T}] (the padded length); sequence {int(bad[0])} "
                        f"(0-based) has length {int(arr[bad[0]])}")
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


# ---- long tables ---------------------------------------------------------------------


def from_long_frame(frame: pd.DataFrame, *, id_col: str, label_col: str | None = None,
                    time_col: str | None = None, feature_cols: Sequence[str] | None = None) -> SequenceSet:
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
        raise DataError(f"{source}: no feature columns left besides {roles}; a sequence needs at least one value column")
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
                raise DataError(f"{source}: id {_plain(key)!r} has time {_plain(sorted_times[repeated[0]])!r} twice "
                                f"(data rows {sorted(rows[repeated[0]:repeated[0] + 2].tolist())}, 0-based)")
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
            raise DataError(f"{source}: feature column {col!r} must be numeric, found {frame[col].iloc[row]!r} "
                            f"at data row {row} (0-based); name the feature columns explicitly if it is not a feature")
    values = frame[columns].to_numpy(dtype=np.float64)
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        row, col = (int(v) for v in bad[0])
        raise DataError(f"{source}: column {columns[col]!r} is {values[row, col]} at data row {row} (0-based); "
                        f"{len(bad)} non-finite value(s) in the feature columns")
    return values


def _check_constant_labels(frame: pd.DataFrame, id_col: str, label_col: str, source: str) -> None:
    n_labels = frame.groupby(id_col, sort=False)[label_col].nunique()
    mixed = n_labels[n_labels > 1]
    if len(mixed):
        shown = "; ".join(
            f"id {_plain(k)!r}: {sorted(map(str, frame.loc[frame[id_col] == k, label_col].unique()))}"
            for k in mixed.index[:5]
        )
        raise DataError(f"{source}: the label column {label_col!r} must be constant within each id, but "
                        f"{len(mixed)} id(s) have mixed labels ({shown})")


# ---- files ---------------------------------------------------------------------------


def read_npz(path: str | os.PathLike) -> SequenceSet:
    """Read ``X`` (and ``y``, ``lengths``, ``ids`` if present) from a ``.npz`` file.

    Object arrays are refused (they would need unpickling): save labels as strings or
    integers, e.g. ``np.savez(path, X=X, y=np.array(labels, dtype=str))``.

    Args:
        path: the ``.npz`` file.

    Returns:
        A `SequenceSet`; see `from_arrays` for the checks.
    """
    path = _existing(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    except ValueError as e:
        raise DataError(f"{path}: cannot read the arrays without unpickling ({e}); save labels and ids as "
                        "strings or numbers, not Python objects") from e
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npz file: {e}") from e
    if "X" not in arrays:
        raise DataError(f"{path}: no array named 'X'; found {sorted(arrays)} (expected X (N, T, F), y, optional lengths)")
    return from_arrays(arrays["X"], arrays.get("y"), arrays.get("lengths"), arrays.get("ids"), source=str(path))


def read_ts(path: str | os.PathLike) -> SequenceSet:
    """Read a ``.ts`` file of the UCR/UEA time-series classification archive.

    The format (sktime's `load_from_tsfile`): ``#`` comment lines, ``@`` header lines
    (``@problemName``, ``@univariate``, ``@dimensions``, ``@equalLength``,
    ``@seriesLength``, ``@classLabel true l1 l2 ...``, ``@missing``, ``@timeStamps``),
    then ``@data`` and one case per line: the dimensions separated by ``:``, values by
    ``,``, ``?`` for a missing value, and the class label last. Cases may differ in
    length (padded here); the dimensions of one case may not.

    Args:
        path: the ``.ts`` file.

    Returns:
        A `SequenceSet` with string labels (``None`` without ``@classLabel true``),
        ids ``0..N-1`` and channels ``dim_0, dim_1, ...``.

    Raises:
        DataError: a malformed header or case line (naming the line), a label not in
            ``@classLabel``, dimensions of one case with different lengths.
    """
    path = _existing(path)
    header: dict[str, str] = {}
    cases, labels, lines = [], [], []
    in_data = False
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                if not line.startswith("@"):
                    raise DataError(f"{path}: line {number}: expected a @tag header line or @data, got {line[:40]!r}")
                tag, _, value = line[1:].partition(" ")
                tag = tag.lower()
                if tag == "data":
                    in_data = True
                    _check_ts_header(header, path)
                else:
                    header[tag] = value.strip()
                continue
            dims, label = _parse_ts_case(line, header, path, number)
            cases.append(dims)
            labels.append(label)
            lines.append(number)
    if not in_data:
        raise DataError(f"{path}: no @data line; not a .ts file")
    if not cases:
        raise DataError(f"{path}: no cases after @data")
    n_dims = {len(c) for c in cases}
    if len(n_dims) > 1:
        first = next(i for i, c in enumerate(cases) if len(c) != len(cases[0]))
        raise DataError(f"{path}: line {lines[first]} has {len(cases[first])} dimensions, line {lines[0]} has {len(cases[0])}")
    if "dimensions" in header and int(header["dimensions"]) != len(cases[0]):
        raise DataError(f"{path}: @dimensions says {header['dimensions']}, the cases have {len(cases[0])}")
    sequences = []
    for case, number in zip(cases, lines):
        length = {len(d) for d in case}
        if len(length) > 1:
            raise DataError(f"{path}: line {number}: the dimensions of one case have different lengths "
                            f"{[len(d) for d in case]}; expected the same number of steps in each")
        sequences.append(_ts_trim(np.stack(case, axis=1), path, number))  # (T_i, F)
    X, lengths = pad_sequences(sequences, source=str(path))
    channels = tuple(f"dim_{i}" for i in range(X.shape[2]))
    has_labels = _ts_bool(header.get("classlabel", "false").split()[0], "classLabel", path)
    return from_arrays(X, labels if has_labels else None, lengths, channels=channels, source=str(path))


def _ts_trim(case: np.ndarray, path: Path, number: int) -> np.ndarray:
    """Drop trailing steps missing in every dimension (padding); refuse any other gap."""
    present = ~np.isnan(case).all(axis=1)
    if not present.any():
        raise DataError(f"{path}: line {number}: the case has no values (all '?')")
    end = len(present) - int(np.argmax(present[::-1]))
    gaps = np.argwhere(~np.isfinite(case[:end]))
    if len(gaps):
        t, d = (int(v) for v in gaps[0])
        raise DataError(f"{path}: line {number}: missing value at step {t} of dimension {d} (0-based); only "
                        "trailing steps missing in every dimension are read as padding, fill the others first")
    return case[:end]


def _check_ts_header(header: dict[str, str], path: Path) -> None:
    if _ts_bool(header.get("timestamps", "false"), "timeStamps", path):
        raise DataError(f"{path}: @timeStamps true (values given as (time, value) pairs) is not read by lstmkit; "
                        "export the series without timestamps")
    label_spec = header.get("classlabel", "false").split()
    if not label_spec:
        raise DataError(f"{path}: @classLabel needs 'true <labels>' or 'false'")
    if _ts_bool(label_spec[0], "classLabel", path) and len(label_spec) < 2:
        raise DataError(f"{path}: @classLabel true must list the class labels, got {header['classlabel']!r}")


def _ts_bool(value: str, tag: str, path: Path) -> bool:
    if value.lower() not in ("true", "false"):
        raise DataError(f"{path}: @{tag} must be true or false, got {value!r}")
    return value.lower() == "true"


def _parse_ts_case(line: str, header: dict[str, str], path: Path, number: int):
    label_spec = header.get("classlabel", "false").split()
    has_label = label_spec[0].lower() == "true"
    fields = line.split(":")
    label = None
    if has_label:
        if len(fields) < 2:
            raise DataError(f"{path}: line {number}: expected values then ':label', found no ':'")
        label = fields.pop().strip()
        if label not in label_spec[1:]:
            raise DataError(f"{path}: line {number}: class label {label!r} is not among the @classLabel labels "
                            f"{label_spec[1:]}")
    dims = []
    for d, field in enumerate(fields):
        values = []
        for v in field.split(","):
            v = v.strip()
            if v == "?" or v.lower() == "nan":
                values.append(np.nan)
                continue
            try:
                values.append(float(v))
            except ValueError:
                raise DataError(f"{path}: line {number}, dimension {d}: {v[:20]!r} is not a number") from None
        dims.append(np.array(values, dtype=np.float64))
    return dims, label


def read_sequences(path: str | os.PathLike, *, id_col: str | None = None, label_col: str | None = None,
                   time_col: str | None = None, feature_cols: Sequence[str] | None = None) -> SequenceSet:
    """Read labelled sequences from a ``.ts``, ``.npz`` or long CSV/TSV/Parquet file.

    Args:
        path: the file; its extension picks the reader.
        id_col: for tables, the sequence id column (required).
        label_col: for tables, the label column (``None``: unlabelled, e.g. a test file).
        time_col: for tables, the column ordering the steps within an id.
        feature_cols: for tables, the value columns (default: all the others).

    Returns:
        A `SequenceSet`.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".ts":
        return read_ts(path)
    if ext == ".npz":
        return read_npz(path)
    if ext not in SEQUENCE_EXTENSIONS:
        raise DataError(f"{path}: unsupported file type {path.suffix!r}; expected one of {', '.join(SEQUENCE_EXTENSIONS)}")
    frame = read_table(path)
    if id_col is None:
        raise ConfigError(f"{path}: a long table needs id_col (--id-col): the column naming each sequence; "
                          f"columns found: {list(frame.columns)}")
    if label_col is not None and label_col not in frame.columns:
        raise DataError(f"{path}: label column {label_col!r} not found; columns found: {list(frame.columns)}")
    return from_long_frame(frame, id_col=id_col, label_col=label_col, time_col=time_col, feature_cols=feature_cols)


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    return path


# ---- batching ------------------------------------------------------------------------


def length_buckets(lengths, batch_size: int, *, shuffle: bool = True, seed: int = 0) -> list[np.ndarray]:
    """Batches of sequences of similar length: little padding, little wasted compute.

    Sequences are sorted by length (ties broken at random when shuffling), cut into
    batches of ``batch_size``, and the batches are shuffled, so every epoch mixes
    short and long batches while each batch stays homogeneous.

    Args:
        lengths: ``(N,)`` sequence lengths.
        batch_size: sequences per batch (the last may be smaller).
        shuffle: randomise ties and the batch order.
        seed: the random seed (pass the epoch in, for a new order per epoch).

    Returns:
        A list of index arrays that together cover ``0..N-1`` once.

    >>> [b.tolist() for b in length_buckets([5, 1, 4, 2], 2, shuffle=False)]
    [[1, 3], [2, 0]]
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
    lengths = np.asarray(lengths)
    rng = np.random.default_rng(seed)
    tie_break = rng.random(len(lengths)) if shuffle else np.arange(len(lengths))
    order = np.lexsort((tie_break, lengths))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


class PaddedBatches:
    """Re-iterable batches ``(x, lengths[, y])`` of similar-length sequences, as tensors.

    Each pass draws a new `length_buckets` order (seeded by ``seed`` and the pass
    number, so runs repeat) and trims each batch to its longest sequence. Give it to
    `lstmkit.train.Trainer.fit` as training or validation data.

    Args:
        X: padded inputs: ``(N, T, F)`` float values or ``(N, T)`` int64 token ids.
        lengths: ``(N,)`` real lengths.
        y: ``(N,)`` integer class codes, or ``None`` for prediction.
        batch_size: sequences per batch.
        shuffle: a new random order each pass (training); ``False`` keeps a fixed
            length-sorted order (validation, prediction).
        seed: the random seed of the first pass.

    Shape:
        Yields x ``(B, T_b, ...)``, lengths ``(B,)`` int64 and y ``(B,)`` int64, with
        ``T_b`` the longest length in the batch.

    >>> batches = PaddedBatches(np.arange(8).reshape(4, 2), np.array([2, 1, 2, 1]), batch_size=2, shuffle=False)
    >>> [(x.tolist(), n.tolist()) for x, n in batches]
    [([[2], [6]], [1, 1]), ([[0, 1], [4, 5]], [2, 2])]
    >>> batches.order()[:2].tolist()  # the rows behind the batches, in the order yielded
    [1, 3]
    """

    def __init__(self, X: np.ndarray, lengths: np.ndarray, y: np.ndarray | None = None, *, batch_size: int = 32,
                 shuffle: bool = True, seed: int = 0):
        self.X, self.lengths = X, np.asarray(lengths, dtype=np.int64)
        self.y = None if y is None else np.asarray(y, dtype=np.int64)
        if len(self.lengths) != len(X) or (self.y is not None and len(self.y) != len(X)):
            raise DataError(f"X, lengths and y must have one row per sequence; got {len(X)}, {len(self.lengths)}, "
                            f"{None if self.y is None else len(self.y)}")
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self._passes = 0
        length_buckets(self.lengths, batch_size, shuffle=False)  # checks batch_size early

    def __len__(self) -> int:
        return -(-len(self.lengths) // self.batch_size)

    def _batches(self, seed: int) -> list[np.ndarray]:
        return length_buckets(self.lengths, self.batch_size, shuffle=self.shuffle, seed=seed)

    def order(self) -> np.ndarray:
        """Row numbers in the order the next pass yields them (only stable without shuffle)."""
        return np.concatenate(self._batches(self.seed + self._passes))

    def __iter__(self):
        batches = self._batches(self.seed + self._passes)
        self._passes += 1
        for rows in batches:
            T = int(self.lengths[rows].max())
            x = torch.from_numpy(np.ascontiguousarray(self.X[rows, :T]))
            n = torch.from_numpy(self.lengths[rows])
            yield (x, n) if self.y is None else (x, n, torch.from_numpy(self.y[rows]))


# ---- per-channel scaling -------------------------------------------------------------


def fit_channel_scaler(X: np.ndarray, lengths: np.ndarray, channels: Sequence[str]) -> StandardScaler:
    """Mean and standard deviation of each channel over the real (unpadded) steps.

    Fit on the training sequences only. The result is a `lstmkit.data.StandardScaler`
    (saved with ``to_dict``); apply it with `scale_channels`.

    Shape:
        X: ``(N, T, F)``; lengths: ``(N,)``.

    >>> X = np.array([[[1.0], [3.0]], [[5.0], [0.0]]])
    >>> s = fit_channel_scaler(X, np.array([2, 1]), ["v"])
    >>> s.center.tolist(), s.scale.round(3).tolist()
    ([[3.0]], [[1.633]])
    """
    valid = np.arange(X.shape[1])[None, :] < np.asarray(lengths)[:, None]
    steps = pd.DataFrame(X[valid].astype(np.float64), columns=list(channels))  # (real steps, F)
    return StandardScaler().fit(steps, list(channels))


def scale_channels(scaler: StandardScaler | dict, X: np.ndarray, lengths: np.ndarray,
                   channels: Sequence[str]) -> np.ndarray:
    """``(x - mean) / std`` per channel on the real steps; padded steps stay zero.

    Args:
        scaler: from `fit_channel_scaler`, or its ``to_dict()``.
        X, lengths: padded sequences and their lengths.
        channels: the channel names, in the order of ``X``'s last axis.

    Shape:
        X: ``(N, T, F)`` -> ``(N, T, F)`` float32.
    """
    if isinstance(scaler, dict):
        scaler = scaler_from_dict(scaler)
    scaled = scaler.transform_array(X, list(channels), axis=-1)
    valid = np.arange(X.shape[1])[None, :] < np.asarray(lengths)[:, None]
    return np.where(valid[:, :, None], scaled, 0.0).astype(np.float32)
