"""Bundled classification data (sources and licences in ``README.md`` beside this file).

* ``load_language_words()``: 9,000 words, 3,000 each of English, Dutch and Spanish,
  sampled from Debian's word lists; columns ``word``, ``language``. The text example
  of ``lstmkit classify`` (language identification of single words).
* ``load_ucr(name, split)``: three small sets of the UCR/UEA time-series
  classification archive, as shipped by sktime, read with `lstmkit.data.sequences.read_ts`:

  ================  =====  ====  ======  =====  =======
  name              train  test  length  chan.  classes
  ================  =====  ====  ======  =====  =======
  ItalyPowerDemand     67  1029      24      1        2
  ArrowHead            36   175     251      1        3
  BasicMotions         40    40     100      6        4
  ================  =====  ====  ======  =====  =======

>>> words = load_language_words()
>>> words.shape, words["language"].value_counts().to_dict()
((9000, 2), {'english': 3000, 'spanish': 3000, 'dutch': 3000})
>>> train = load_ucr("ItalyPowerDemand", "train")
>>> train.X.shape, sorted(set(train.y))
((67, 24, 1), ['1', '2'])
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from lstmkit.data.sequences import SequenceSet, read_ts
from lstmkit.errors import DataError

__all__ = ["load_language_words", "load_ucr", "ucr_path", "UCR_DATASETS", "LANGUAGE_WORDS_FILE"]

UCR_DATASETS = ("ItalyPowerDemand", "ArrowHead", "BasicMotions")
LANGUAGE_WORDS_FILE = "language_words.csv"


def _bundled(name: str) -> Path:
    path = Path(str(resources.files(__package__).joinpath(name)))
    if not path.is_file():
        raise DataError(f"bundled file {name!r} is missing from {path.parent}; reinstall lstmkit")
    return path


def load_language_words() -> pd.DataFrame:
    """The bundled language-identification words.

    Returns:
        A frame with columns ``word`` (lowercase, 3 to 20 letters) and ``language``
        (``"english"``, ``"dutch"`` or ``"spanish"``), 9,000 rows in a shuffled order.
        ``df.attrs["source"]`` is the file's path.
    """
    path = _bundled(LANGUAGE_WORDS_FILE)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    frame.attrs["source"] = str(path)
    return frame


def ucr_path(name: str, split: str) -> Path:
    """Path of a bundled ``.ts`` file, e.g. ``ucr_path("ArrowHead", "test")``.

    >>> ucr_path("ArrowHead", "test").name
    'ArrowHead_TEST.ts'
    """
    if name not in UCR_DATASETS:
        raise DataError(f"unknown UCR/UEA dataset {name!r}; bundled: {', '.join(UCR_DATASETS)}")
    if split.lower() not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', got {split!r}")
    return _bundled(f"{name}_{split.upper()}.ts")


def load_ucr(name: str, split: str) -> SequenceSet:
    """A bundled UCR/UEA dataset's train or test split.

    Args:
        name: one of `UCR_DATASETS`.
        split: ``"train"`` or ``"test"`` (the archive's own split).

    Returns:
        A `lstmkit.data.sequences.SequenceSet` with string labels.
    """
    return read_ts(ucr_path(name, split))
