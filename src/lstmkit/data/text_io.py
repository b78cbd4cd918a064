"""Labelled texts from files: a table with text and label columns, or a folder per class.

Readers return a `TextSet`: the texts, their labels (or ``None``) and ids that say
where each text came from. Texts are returned as they are; empty ones are kept (a
task decides whether to skip or warn), and an empty table cell is an empty text.

Layouts understood by `read_texts`:

* a **CSV/TSV/Parquet** table, ``text_col`` (and ``label_col``) naming the columns;
  ids are the 0-based data rows;
* a **folder of folders**: each sub-folder is a class, each file in it one text
  (``neg/0001.txt``, ``pos/0002.txt``, as in the IMDB reviews); ids are the relative paths;
* a **folder of ``.txt`` files**: each file is a class (its name without ``.txt``),
  each non-empty line one text; ids are ``file:line``;
* a single **``.txt``** file: one unlabelled text per non-empty line (for prediction).

>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "english.txt").write_text("house\\nwater\\n", encoding="utf-8")
>>> _ = (root / "dutch.txt").write_text("huis\\n\\nwater\\n", encoding="utf-8")
>>> ts = read_texts(root)
>>> ts.texts, ts.y.tolist()
(['huis', 'water', 'house', 'water'], ['dutch', 'dutch', 'english', 'english'])
>>> ts.ids.tolist()
['dutch.txt:1', 'dutch.txt:3', 'english.txt:1', 'english.txt:2']
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstmkit.data.io import SUPPORTED_EXTENSIONS, read_table
from lstmkit.errors import ConfigError, DataError

__all__ = ["TextSet", "read_texts", "texts_from_frame"]


@dataclass(frozen=True)
class TextSet:
    """Texts with their labels and where each came from.

    Attributes:
        texts: the texts (possibly empty strings).
        y: one label per text, or ``None`` when unlabelled.
        ids: one id per text (row number, relative path or ``file:line``).
        source: the file or folder read, for messages.
    """

    texts: list[str]
    y: np.ndarray | None
    ids: np.ndarray
    source: str = "<texts>"

    def __len__(self) -> int:
        return len(self.texts)


def _objects(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = [v.item() if isinstance(v, np.generic) else v for v in values]
    return out


def texts_from_frame(
    frame: pd.DataFrame, text_col: str, label_col: str | None = None, id_col: str | None = None
) -> TextSet:
    """Take the text (and label, and id) columns of a table.

    Args:
        frame: the table; ``frame.attrs["source"]`` names it in errors.
        text_col: the text column; empty cells become empty texts, numbers become strings.
        label_col: the label column, or ``None``.
        id_col: a column of ids; default the 0-based row numbers.

    Raises:
        DataError: a missing column, or an empty label cell (naming the rows).

    >>> texts_from_frame(pd.DataFrame({"t": ["a b", None], "c": [1, 2]}), "t", "c").texts
    ['a b', '']
    """
    source = frame.attrs.get("source", "<frame>")
    wanted = [c for c in (text_col, label_col, id_col) if c is not None]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise DataError(f"{source}: column(s) {missing} not found; columns found: {list(frame.columns)}")
    texts = ["" if pd.isna(t) else str(t) for t in frame[text_col].tolist()]
    labels = None
    if label_col is not None:
        empty = np.flatnonzero(frame[label_col].isna().to_numpy())
        if len(empty):
            raise DataError(
                f"{source}: the label column {label_col!r} is empty at data row(s) "
                f"{empty[:5].tolist()} (0-based){' and more' if len(empty) > 5 else ''}"
            )
        labels = _objects(frame[label_col].tolist())
    ids = _objects(frame[id_col].tolist() if id_col else list(range(len(frame))))
    return TextSet(texts, labels, ids, str(source))


def read_texts(
    path: str | os.PathLike, *, text_col: str | None = None, label_col: str | None = None, id_col: str | None = None
) -> TextSet:
    """Read labelled (or unlabelled) texts from a table, a folder or a ``.txt`` file.

    Args:
        path: a CSV/TSV/Parquet file, a folder, or a ``.txt`` file (see the module docstring).
        text_col: for tables, the text column (required).
        label_col: for tables, the label column; ``None`` reads unlabelled texts.
        id_col: for tables, an id column (default: row numbers).

    Returns:
        A `TextSet`.

    Raises:
        DataError: a missing file or column, an unreadable file, a folder without texts.
        ConfigError: a table without ``text_col``.
    """
    path = Path(path)
    if path.is_dir():
        return _read_folder(path)
    if path.suffix.lower() == ".txt":
        if not path.is_file():
            raise DataError(f"{path}: no such file")
        texts, ids = _lines(path)
        return TextSet(texts, None, _objects(ids), str(path))
    if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise DataError(
            f"{path}: unsupported file type {path.suffix!r} for texts; expected a table "
            f"({', '.join(SUPPORTED_EXTENSIONS)}), a .txt file or a folder"
        )
    frame = read_table(path)
    if text_col is None:
        raise ConfigError(f"{path}: name the text column (--text-col); columns found: {list(frame.columns)}")
    return texts_from_frame(frame, text_col, label_col, id_col)


def _read_text_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text (byte {e.start} cannot be decoded); save it as UTF-8") from e


def _lines(path: Path) -> tuple[list[str], list[str]]:
    texts, ids = [], []
    for number, line in enumerate(_read_text_file(path).splitlines(), start=1):
        if line.strip():
            texts.append(line.strip())
            ids.append(f"{path.name}:{number}")
    return texts, ids


def _visible(paths) -> list[Path]:
    return sorted(p for p in paths if not p.name.startswith("."))


def _read_folder(root: Path) -> TextSet:
    folders = [p for p in _visible(root.iterdir()) if p.is_dir()]
    texts, labels, ids = [], [], []
    if folders:
        for folder in folders:
            for file in (p for p in _visible(folder.rglob("*")) if p.is_file()):
                texts.append(_read_text_file(file).strip())
                labels.append(folder.name)
                ids.append(str(file.relative_to(root)))
    else:
        for file in (p for p in _visible(root.iterdir()) if p.is_file() and p.suffix.lower() == ".txt"):
            lines, line_ids = _lines(file)
            texts += lines
            labels += [file.stem] * len(lines)
            ids += line_ids
    if not texts:
        raise DataError(
            f"{root}: no texts found; expected one sub-folder per class holding text files, "
            "or one <class>.txt file per class with one text per line"
        )
    return TextSet(texts, _objects(labels), _objects(ids), str(root))
