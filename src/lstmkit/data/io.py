"""Read user tables (CSV, TSV, Parquet) and validate them as time series.

`read_table` turns a file into a DataFrame or raises a `DataError` that names the
file (and, for a malformed CSV, the line). `validate_series` (from
`lstmkit.data.validation`, re-exported here) turns that frame into a clean series.

Line numbers in `read_table` messages are the file's physical lines (the header is
line 1); row numbers in `validate_series` messages are 0-based data rows (row 0 is
the first row under the header, line 2 of a plain CSV).

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "sales.csv"
>>> _ = path.write_text("date,y\\n2024-01-01,1\\n2024-01-02,2\\n2024-01-03,4\\n")
>>> vs = validate_series(read_table(path), "y", time_col="date")
>>> vs.frame["y"].tolist(), vs.freq
([1.0, 2.0, 4.0], 'D')
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

from lstmkit.data.validation import (
    FILL_METHODS,
    ValidatedSeries,
    check_series_length,
    validate_series,
)
from lstmkit.errors import DataError

__all__ = [
    "read_table",
    "SUPPORTED_EXTENSIONS",
    "validate_series",
    "check_series_length",
    "ValidatedSeries",
    "FILL_METHODS",
]

# extension -> field separator (None: a binary columnar format)
SUPPORTED_EXTENSIONS = {".csv": ",", ".tsv": "\t", ".parquet": None, ".pq": None}


def read_table(path: str | os.PathLike, *, sep: str | None = None) -> pd.DataFrame:
    """Read a CSV/TSV or Parquet file into a DataFrame, checking its shape on the way.

    A CSV must have a header line and the same number of fields on every line
    (blank lines are skipped). The file name is kept in ``df.attrs["source"]`` so
    that `validate_series` can name it.

    Args:
        path: a ``.csv``, ``.tsv``, ``.parquet`` or ``.pq`` file.
        sep: field separator for CSV/TSV; default ``","`` for ``.csv``, tab for ``.tsv``.

    Shape:
        Returns (data rows, header fields)

    Returns:
        The table, with pandas' type inference (numbers, strings; dates stay strings).

    Raises:
        DataError: missing, empty or unreadable file, unsupported extension, a
            header-only file, repeated column names, or a CSV line with too many
            or too few fields (naming the line).

    >>> import pathlib, tempfile
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "bad.csv"
    >>> _ = bad.write_text("a,b\\n1,2\\n3\\n")
    >>> read_table(bad)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lstmkit.errors.DataError: .../bad.csv: line 3 has 1 field, expected 2 like the header on line 1 ...
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        supported = ", ".join(SUPPORTED_EXTENSIONS)
        raise DataError(f"{path}: unsupported file type {path.suffix!r}; expected one of {supported}")
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: is a directory, expected a file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty (0 bytes)")
    default_sep = SUPPORTED_EXTENSIONS[ext]
    if default_sep is None:
        df = _read_parquet(path)
    else:
        df = _read_csv(path, sep or default_sep)
    if len(df) == 0:
        columns = ", ".join(map(repr, df.columns))
        raise DataError(f"{path}: the file has a header ({columns}) but no data rows")
    df.attrs["source"] = str(path)
    return df


def _read_csv(path: Path, sep: str) -> pd.DataFrame:
    _scan_csv(path, sep)
    try:
        return pd.read_csv(path, sep=sep, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: could not parse the file as {_kind(sep)}: {e}") from e


def _kind(sep: str) -> str:
    return "TSV" if sep == "\t" else f"CSV (separator {sep!r})"


def _scan_csv(path: Path, sep: str) -> None:
    """Check the header and every line's field count; pandas pads short lines with NaN silently."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f, delimiter=sep)
            header, header_line, data_row = None, 0, 0
            for fields in reader:
                if not fields:
                    continue  # blank line: pandas skips it too
                if header is None:
                    header, header_line = fields, reader.line_num
                    _check_header(path, header, header_line)
                    continue
                if len(fields) != len(header):
                    plural = "" if len(fields) == 1 else "s"
                    raise DataError(
                        f"{path}: line {reader.line_num} has {len(fields)} field{plural}, expected "
                        f"{len(header)} like the header on line {header_line} (data row {data_row}, 0-based)"
                    )
                data_row += 1
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text (byte {e.start} cannot be decoded); save it as UTF-8") from e
    except csv.Error as e:
        raise DataError(f"{path}: could not parse the file as {_kind(sep)}: {e}") from e
    if header is None:
        raise DataError(f"{path}: the file has only blank lines; expected a header line")


def _check_header(path: Path, header: list[str], line: int) -> None:
    names = [header[0].lstrip("\ufeff"), *header[1:]]  # a UTF-8 byte-order mark is not part of the name
    for i, name in enumerate(names):
        if name in names[:i]:
            first = names.index(name)
            raise DataError(
                f"{path}: column name {name!r} appears twice in the header on line {line} "
                f"(fields {first + 1} and {i + 1}); column names must be unique"
            )


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as e:  # pyarrow raises ArrowInvalid, OSError, ... for a corrupt file
        raise DataError(f"{path}: could not read the file as Parquet: {type(e).__name__}: {e}") from e
