"""Text for language models and pairs for sequence-to-sequence, from files or bundled.

* `read_corpus`: one UTF-8 text file as one string (a language model reads the
  corpus as a single stream).
* `bundled_corpus`: the public-domain text shipped with lstmkit (the Book of Genesis,
  King James Version; see ``datasets/README.md``) and where it came from.
* `read_pairs`: source/target pairs from a TSV (tab-separated lines, as parallel
  corpora are usually distributed; a header is optional) or a CSV with a header.
* `split_tail`: cut a text into a head and a held-out tail at a line or word boundary.

Tokenisers, the ``"symbol"`` level for music and other symbolic sequences included,
live in `lstmkit.data.text`.

>>> text, source = bundled_corpus()
>>> text[:55], source.startswith("The Book of Genesis")
('In the beginning God created the heaven and the earth.\\n', True)
>>> head, tail = split_tail("one two three four five six seven eight nine ten", 0.2)
>>> head, tail
('one two three four five six seven ', 'eight nine ten')
"""

from __future__ import annotations

import csv
import io
import os
from importlib import resources
from pathlib import Path

from lstmkit.errors import ConfigError, DataError

__all__ = [
    "read_corpus",
    "bundled_corpus",
    "BUNDLED_CORPUS_SOURCE",
    "read_pairs",
    "split_tail",
]

BUNDLED_CORPUS_FILE = "genesis_kjv.txt"
BUNDLED_CORPUS_SOURCE = (
    "The Book of Genesis, King James Version (1611), public domain; one verse per line, "
    "from Debian's bible-kjv-text 4.38 (see lstmkit/data/datasets/README.md)"
)


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise DataError(
            f"{path}: not UTF-8 text (byte {e.start}, line {line}, cannot be decoded); save it as UTF-8"
        ) from None


def read_corpus(path: str | os.PathLike) -> str:
    """Read a UTF-8 text file as one string (newlines kept, a BOM dropped).

    Raises:
        DataError: a missing file, a folder, a file that is not UTF-8, or one with
            no text at all (empty or only whitespace).
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: not a file; expected a UTF-8 text file")
    text = _decode(path.read_bytes(), path).removeprefix("\ufeff")
    if not text.strip():
        raise DataError(f"{path}: the corpus is empty (no text, only whitespace); give a file with text in it")
    return text


def bundled_corpus() -> tuple[str, str]:
    """The bundled public-domain corpus and a line saying what and from where it is.

    Returns:
        ``(text, source)``: about 197,000 characters (38,000 words, 1,533 verses).
    """
    text = resources.files("lstmkit.data.datasets").joinpath(BUNDLED_CORPUS_FILE).read_text(encoding="utf-8")
    return text, BUNDLED_CORPUS_SOURCE


def split_tail(text: str, fraction: float) -> tuple[str, str]:
    """Cut ``text`` into a head and the last ``fraction`` of it, at a line or word boundary.

    The cut moves back to just after the nearest newline (or, failing that, space)
    before the exact position, so no word is split between the two parts.

    Args:
        text: the corpus.
        fraction: share of the characters for the tail, in (0, 1).

    Returns:
        ``(head, tail)`` with ``head + tail == text``.
    """
    if not 0 < fraction < 1:
        raise ConfigError(f"the held-out fraction must be in (0, 1), got {fraction!r}")
    cut = int(len(text) * (1 - fraction))
    for separator in ("\n", " "):
        at = text.rfind(separator, 0, cut + 1)
        if at > 0:
            cut = at + 1
            break
    return text[:cut], text[cut:]


# ---- pairs ---------------------------------------------------------------------------


def read_pairs(
    path: str | os.PathLike, *, source_col: str | None = None, target_col: str | None = None
) -> list[tuple[str, str]]:
    """Read (source, target) text pairs from a TSV/TXT or CSV file.

    * ``.tsv`` / ``.txt``: one pair per line, fields separated by tabs; the first two
      fields are source and target (later ones, such as attributions, are ignored).
      A first line holding ``source_col`` and ``target_col`` (default ``source`` and
      ``target``) is a header and picks the columns.
    * ``.csv``: a header line is required; the columns are ``source_col`` and
      ``target_col``, by default ``source`` and ``target`` when present, else the
      first two columns.

    Blank lines are skipped; surrounding whitespace is stripped from each text.

    Args:
        path: the file.
        source_col, target_col: the column names, for files with a header.

    Returns:
        The pairs, in file order.

    Raises:
        DataError: a missing or non-UTF-8 file, an unsupported extension, a line
            with fewer than two fields or an empty text (naming the line), missing
            columns, or no pairs at all.

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pairs.tsv"
    >>> _ = path.write_text("Go.\\tVa !\\nHi.\\tSalut !\\tCC-BY 2.0\\n", encoding="utf-8")
    >>> read_pairs(path)
    [('Go.', 'Va !'), ('Hi.', 'Salut !')]
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in (".tsv", ".txt", ".csv"):
        raise DataError(f"{path}: unsupported file type {path.suffix!r} for pairs; expected .tsv, .txt or .csv")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    text = _decode(path.read_bytes(), path).removeprefix("\ufeff")
    rows = list(
        csv.reader(
            io.StringIO(text),
            delimiter="," if ext == ".csv" else "\t",
            quoting=csv.QUOTE_MINIMAL if ext == ".csv" else csv.QUOTE_NONE,
        )
    )
    numbered = [(number, row) for number, row in enumerate(rows, start=1) if any(f.strip() for f in row)]
    if not numbered:
        raise DataError(f"{path}: the file holds no pairs (it is empty)")
    wanted = (source_col or "source", target_col or "target")
    first = [f.strip() for f in numbered[0][1]]
    columns = (0, 1)
    if ext == ".csv" or all(w in first for w in wanted):
        if all(w in first for w in wanted):
            columns = (first.index(wanted[0]), first.index(wanted[1]))
        elif source_col or target_col:
            raise DataError(
                f"{path}: column(s) {[w for w in wanted if w not in first]} not found; header found: {first}"
            )
        numbered = numbered[1:]
    elif source_col or target_col:
        raise DataError(f"{path}: no header line with columns {list(wanted)}; the first line is {first}")
    pairs = []
    for number, row in numbered:
        if len(row) <= max(columns):
            raise DataError(
                f"{path}: line {number} has {len(row)} field(s); expected a source and a target "
                f"separated by {'a comma' if ext == '.csv' else 'a tab'}"
            )
        source, target = row[columns[0]].strip(), row[columns[1]].strip()
        if not source or not target:
            side = "source" if not source else "target"
            raise DataError(f"{path}: line {number} has an empty {side} text")
        pairs.append((source, target))
    if not pairs:
        raise DataError(f"{path}: the file holds a header but no pairs")
    return pairs
