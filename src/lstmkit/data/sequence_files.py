"""Sequence files: ``.npz``, the UCR/UEA archive's ``.ts``, and long tables, read into a `SequenceSet`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lstmkit.data.io import read_table
from lstmkit.data.sequence_arrays import (
    SequenceSet,
    from_arrays,
    from_long_frame,
    pad_sequences,
)
from lstmkit.errors import ConfigError, DataError

__all__ = ["SEQUENCE_EXTENSIONS", "read_npz", "read_ts", "read_sequences"]


SEQUENCE_EXTENSIONS = (".csv", ".tsv", ".parquet", ".pq", ".npz", ".ts")


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
        raise DataError(
            f"{path}: cannot read the arrays without unpickling ({e}); save labels and ids as "
            "strings or numbers, not Python objects"
        ) from e
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npz file: {e}") from e
    if "X" not in arrays:
        raise DataError(
            f"{path}: no array named 'X'; found {sorted(arrays)} (expected X (N, T, F), y, optional lengths)"
        )
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
    _check_utf8(path)
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
        raise DataError(
            f"{path}: line {lines[first]} has {len(cases[first])} dimensions, line {lines[0]} has {len(cases[0])}"
        )
    if "dimensions" in header and int(header["dimensions"]) != len(cases[0]):
        raise DataError(f"{path}: @dimensions says {header['dimensions']}, the cases have {len(cases[0])}")
    sequences = []
    for case, number in zip(cases, lines):
        length = {len(d) for d in case}
        if len(length) > 1:
            raise DataError(
                f"{path}: line {number}: the dimensions of one case have different lengths "
                f"{[len(d) for d in case]}; expected the same number of steps in each"
            )
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
        raise DataError(
            f"{path}: line {number}: missing value at step {t} of dimension {d} (0-based); only "
            "trailing steps missing in every dimension are read as padding, fill the others first"
        )
    return case[:end]


def _check_ts_header(header: dict[str, str], path: Path) -> None:
    if _ts_bool(header.get("timestamps", "false"), "timeStamps", path):
        raise DataError(
            f"{path}: @timeStamps true (values given as (time, value) pairs) is not read by lstmkit; "
            "export the series without timestamps"
        )
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
            raise DataError(
                f"{path}: line {number}: class label {label!r} is not among the @classLabel labels {label_spec[1:]}"
            )
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


def _check_utf8(path: Path) -> None:
    """A `DataError` naming the byte where ``path`` stops being UTF-8 text (a binary file, say)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            try:
                decoder.decode(chunk)
                offset += len(chunk)
            except UnicodeDecodeError as e:
                raise DataError(f"{path}: not UTF-8 text (byte {offset + e.start}); a .ts file is text") from None
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise DataError(f"{path}: not UTF-8 text (it ends inside a character); a .ts file is text") from None


def read_sequences(
    path: str | os.PathLike,
    *,
    id_col: str | None = None,
    label_col: str | None = None,
    time_col: str | None = None,
    feature_cols: Sequence[str] | None = None,
) -> SequenceSet:
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
        raise DataError(
            f"{path}: unsupported file type {path.suffix!r}; expected one of {', '.join(SEQUENCE_EXTENSIONS)}"
        )
    frame = read_table(path)
    if id_col is None:
        raise ConfigError(
            f"{path}: a long table needs id_col (--id-col): the column naming each sequence; "
            f"columns found: {list(frame.columns)}"
        )
    if label_col is not None and label_col not in frame.columns:
        raise DataError(f"{path}: label column {label_col!r} not found; columns found: {list(frame.columns)}")
    return from_long_frame(frame, id_col=id_col, label_col=label_col, time_col=time_col, feature_cols=feature_cols)


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    return path
