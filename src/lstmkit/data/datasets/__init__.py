"""Small real datasets shipped with lstmkit (sources and licences in ``README.md`` beside this file).

* ``air_passengers``: monthly international airline passengers (thousands),
  1949-01 .. 1960-12, 144 rows, columns ``month``, ``passengers``; freq ``MS``, m = 12.
* ``sunspots``: monthly mean sunspot number, 1749-01 .. 1983-12, 2,820 rows,
  columns ``month``, ``sunspots``; freq ``MS``, m = 12.

>>> df = load("air_passengers")
>>> df.shape, str(df["month"].iloc[0].date()), float(df["passengers"].iloc[-1])
((144, 2), '1949-01-01', 432.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import pandas as pd

from lstmkit.errors import DataError

__all__ = ["load", "list_datasets", "dataset_info", "DatasetInfo"]


@dataclass(frozen=True)
class DatasetInfo:
    """What a bundled dataset holds: its file, columns and frequency."""

    name: str
    file: str
    time_col: str
    target: str
    freq: str
    seasonal_period: int
    description: str


_DATASETS = {
    "air_passengers": DatasetInfo(
        "air_passengers",
        "air_passengers.csv",
        "month",
        "passengers",
        "MS",
        12,
        "Monthly totals of international airline passengers (thousands), 1949-01 .. 1960-12 (Box & Jenkins series G).",
    ),
    "sunspots": DatasetInfo(
        "sunspots",
        "sunspots.csv",
        "month",
        "sunspots",
        "MS",
        12,
        "Monthly mean relative sunspot numbers, 1749-01 .. 1983-12 (Zurich, then Tokyo observatories).",
    ),
}


def list_datasets() -> list[str]:
    """Names accepted by `load`, sorted.

    >>> list_datasets()
    ['air_passengers', 'sunspots']
    """
    return sorted(_DATASETS)


def dataset_info(name: str) -> DatasetInfo:
    """Columns, frequency and seasonal period of a bundled dataset.

    >>> dataset_info("sunspots").target
    'sunspots'
    """
    if name not in _DATASETS:
        raise DataError(f"unknown dataset {name!r}; available: {', '.join(list_datasets())}")
    return _DATASETS[name]


def load(name: str) -> pd.DataFrame:
    """Load a bundled dataset as a DataFrame.

    Args:
        name: one of `list_datasets`.

    Shape:
        Returns (rows, 2): the time column (datetime64, first day of the month) and the value.

    Returns:
        Columns ``[info.time_col, info.target]`` (see `dataset_info`).

    >>> load("sunspots").iloc[[0, -1]].to_dict("list")["sunspots"]
    [58.0, 33.4]
    """
    info = dataset_info(name)
    with resources.files(__package__).joinpath(info.file).open("r", encoding="utf-8") as f:
        df = pd.read_csv(f)
    df[info.time_col] = pd.to_datetime(df[info.time_col], format="%Y-%m")
    df[info.target] = df[info.target].astype("float64")
    df.attrs["source"] = f"lstmkit dataset {name!r}"
    return df
