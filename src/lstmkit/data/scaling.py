"""Per-series scalers, fitted on the training part only, saved as plain JSON-able dicts.

Every scaler here is affine: ``scaled = (x - center) / scale``, with one
``(center, scale)`` pair per (series, column). They differ only in the statistics:

* `StandardScaler`: mean and standard deviation (ddof 0);
* `RobustScaler`: median and inter-quartile range (q75 - q25), for series with outliers;
* `MinMaxScaler`: minimum and range (max - min), mapping the training span to [0, 1].

A column that is constant in the training part gets ``scale = 1`` (shifted, not
blown up). Fit on the training frame only: statistics of the validation or test
part would leak into the model (see `lstmkit.data.splits`).

>>> import pandas as pd
>>> train = pd.DataFrame({"id": ["a", "a", "b", "b"], "y": [1.0, 3.0, 10.0, 30.0]})
>>> s = StandardScaler().fit(train, ["y"], id_col="id")
>>> s.transform(train)["y"].tolist()
[-1.0, 1.0, -1.0, 1.0]
>>> scaler_from_dict(s.to_dict()).inverse_transform_array([[0.0], [0.0]], ["y"], series=["a", "b"]).tolist()
[[2.0], [20.0]]
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from lstmkit.errors import ConfigError, DataError

__all__ = ["SeriesScaler", "StandardScaler", "RobustScaler", "MinMaxScaler", "scaler_from_dict", "SCALERS"]

_GLOBAL = None  # the one key when there is no id column


class SeriesScaler(abc.ABC):
    """Shared machinery: per-series fit, transform and inverse of ``(x - center) / scale``.

    Subclasses say which statistics to use (`_statistics`). After `fit`:

    Attributes:
        columns: the fitted columns, in order.
        id_col: series-id column, or ``None`` (one set of statistics).
        ids: the series ids seen in fit.
        center, scale: arrays (n_ids, n_columns).
    """

    kind: str  # name in to_dict()

    def __init__(self) -> None:
        self.columns: list[str] = []
        self.id_col: str | None = None
        self.ids: list = []
        self.center = np.zeros((0, 0))
        self.scale = np.ones((0, 0))

    @staticmethod
    @abc.abstractmethod
    def _statistics(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(center, scale)`` per column of ``values`` (rows, columns); scale may be 0."""

    @property
    def is_fitted(self) -> bool:
        return bool(self.columns)

    def fit(self, frame: pd.DataFrame, columns: Sequence[str], id_col: str | None = None) -> Self:
        """Learn ``(center, scale)`` per series and column from the training frame.

        Args:
            frame: training rows only.
            columns: numeric columns to scale (targets and covariates).
            id_col: series-id column; ``None`` fits one set for the whole frame.

        Shape:
            frame: (rows, ...) -> center, scale: (n_series, len(columns))

        Returns:
            ``self``.
        """
        columns = [columns] if isinstance(columns, str) else list(columns)
        if not columns:
            raise ConfigError("columns must name at least one column to scale")
        _require(frame, columns + ([id_col] if id_col else []))
        values = _numbers(frame, columns)
        groups = [(_GLOBAL, np.arange(len(frame)))] if id_col is None else _groups(frame, id_col)
        stats = []
        for key, rows in groups:
            if len(rows) == 0:
                continue
            center, scale = self._statistics(values[rows])
            stats.append((key, center, np.where(scale > 0, scale, 1.0)))  # constant column: shift only
        if not stats:
            raise DataError("cannot fit a scaler on a frame with no rows")
        self.columns, self.id_col = columns, id_col
        self.ids = [_plain(k) for k, _, _ in stats]
        self.center = np.stack([c for _, c, _ in stats]).astype(np.float64)
        self.scale = np.stack([s for _, _, s in stats]).astype(np.float64)
        return self

    def fit_transform(self, frame: pd.DataFrame, columns: Sequence[str], id_col: str | None = None) -> pd.DataFrame:
        """`fit` then `transform` the same frame."""
        return self.fit(frame, columns, id_col).transform(frame)

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``frame`` with the fitted columns scaled, each row by its series' statistics."""
        return self._apply(frame, inverse=False)

    def inverse_transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``frame`` with the fitted columns mapped back to the original units."""
        return self._apply(frame, inverse=True)

    def transform_array(
        self, values: ArrayLike, columns: Sequence[str], series: ArrayLike | None = None, axis: int = -1
    ) -> np.ndarray:
        """Scale an array whose ``axis`` runs over ``columns`` and whose first axis over windows.

        Args:
            values: e.g. windows' ``target`` (N, H, n_targets).
            columns: the fitted columns along ``axis``, in order (a subset is fine).
            series: (N,) series id of each row of ``values`` (the windows' ``series``);
                ``None`` for a scaler fitted without id column.
            axis: the axis holding the columns.

        Shape:
            values: (N, ..., C, ...) -> same shape
        """
        return self._apply_array(values, columns, series, axis, inverse=False)

    def inverse_transform_array(
        self, values: ArrayLike, columns: Sequence[str], series: ArrayLike | None = None, axis: int = -1
    ) -> np.ndarray:
        """Map a scaled array (model outputs, quantiles) back to original units; see `transform_array`.

        Shape:
            values: (N, ..., C, ...) -> same shape, float64
        """
        return self._apply_array(values, columns, series, axis, inverse=True)

    def to_dict(self) -> dict:
        """A JSON-able description; `scaler_from_dict` rebuilds the scaler from it."""
        self._check_fitted()
        return {
            "kind": self.kind,
            "columns": list(self.columns),
            "id_col": self.id_col,
            "ids": list(self.ids),
            "center": self.center.tolist(),
            "scale": self.scale.tolist(),
        }

    @classmethod
    def from_dict(cls, state: dict) -> SeriesScaler:
        """Rebuild a scaler saved with `to_dict`."""
        try:
            scaler = cls()
            scaler.columns = list(state["columns"])
            scaler.id_col = state["id_col"]
            scaler.ids = list(state["ids"])
            scaler.center = np.asarray(state["center"], dtype=np.float64)
            scaler.scale = np.asarray(state["scale"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(f"not a saved {cls.__name__}: {type(e).__name__}: {e}") from e
        if scaler.center.shape != (len(scaler.ids), len(scaler.columns)) or scaler.scale.shape != scaler.center.shape:
            raise DataError(
                f"saved scaler is inconsistent: {len(scaler.ids)} ids x {len(scaler.columns)} columns, "
                f"center {scaler.center.shape}, scale {scaler.scale.shape}"
            )
        return scaler

    # --- internals ----------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise ConfigError(f"{type(self).__name__} is not fitted; call fit(train_frame, columns) first")

    def _codes(self, keys) -> np.ndarray:
        """Row of ``center``/``scale`` for each series key; unknown ids are an error."""
        if self.id_col is None:
            return np.zeros(len(keys), dtype=np.int64)
        codes = pd.Index(self.ids).get_indexer(pd.Index(keys, dtype=object))
        if (codes < 0).any():
            unknown = pd.unique(np.asarray(keys, dtype=object)[codes < 0])[:5].tolist()
            raise DataError(
                f"series {unknown} of {self.id_col!r} were not in the training frame the scaler was fitted "
                f"on (fitted ids: {self.ids[:10]}{' ...' if len(self.ids) > 10 else ''})"
            )
        return codes

    def _apply(self, frame: pd.DataFrame, inverse: bool) -> pd.DataFrame:
        self._check_fitted()
        _require(frame, self.columns + ([self.id_col] if self.id_col else []))
        keys = frame[self.id_col].to_numpy() if self.id_col else np.zeros(len(frame))
        codes = self._codes(keys)
        values = _numbers(frame, self.columns)  # (rows, C)
        center, scale = self.center[codes], self.scale[codes]
        out = frame.copy()
        out[self.columns] = values * scale + center if inverse else (values - center) / scale
        return out

    def _apply_array(self, values, columns, series, axis: int, inverse: bool) -> np.ndarray:
        self._check_fitted()
        columns = [columns] if isinstance(columns, str) else list(columns)
        missing = [c for c in columns if c not in self.columns]
        if missing:
            raise DataError(f"columns {missing} were not fitted; the scaler knows {self.columns}")
        values = np.asarray(values, dtype=np.float64)
        moved = np.moveaxis(values, axis, -1)  # (N, ..., C)
        if moved.shape[-1] != len(columns):
            raise DataError(
                f"values have {moved.shape[-1]} entries along axis {axis}, expected one per column {columns}"
            )
        if self.id_col is not None and series is None:
            raise DataError(f"the scaler is per series ({self.id_col!r}): pass series=, one id per row of values")
        codes = self._codes(np.asarray(series, dtype=object) if self.id_col else np.zeros(len(moved)))
        if len(codes) != len(moved):
            raise DataError(f"series has {len(codes)} ids, values has {len(moved)} rows along axis 0")
        cols = [self.columns.index(c) for c in columns]
        shape = (len(moved),) + (1,) * (moved.ndim - 2) + (len(cols),)  # broadcast over middle axes
        index = np.ix_(codes, np.asarray(cols, dtype=np.intp))
        center = self.center[index].reshape(shape)
        scale = self.scale[index].reshape(shape)
        out = moved * scale + center if inverse else (moved - center) / scale
        return np.moveaxis(out, -1, axis)


class StandardScaler(SeriesScaler):
    """``(x - mean) / std`` per series and column (std with ddof 0; 1 if constant).

    >>> import pandas as pd
    >>> StandardScaler().fit(pd.DataFrame({"y": [0.0, 2.0, 4.0]}), ["y"]).scale.round(4).tolist()
    [[1.633]]
    """

    kind = "standard"

    @staticmethod
    def _statistics(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return values.mean(axis=0), values.std(axis=0)


class RobustScaler(SeriesScaler):
    """``(x - median) / IQR`` per series and column (IQR = q75 - q25; 1 if zero).

    >>> import pandas as pd
    >>> s = RobustScaler().fit(pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0, 100.0]}), ["y"])
    >>> s.center.tolist(), s.scale.tolist()
    ([[3.0]], [[2.0]])
    """

    kind = "robust"

    @staticmethod
    def _statistics(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q25, q50, q75 = np.percentile(values, [25, 50, 75], axis=0)
        return q50, q75 - q25


class MinMaxScaler(SeriesScaler):
    """``(x - min) / (max - min)`` per series and column: the training span becomes [0, 1].

    >>> import pandas as pd
    >>> MinMaxScaler().fit_transform(pd.DataFrame({"y": [2.0, 4.0, 6.0]}), ["y"])["y"].tolist()
    [0.0, 0.5, 1.0]
    """

    kind = "minmax"

    @staticmethod
    def _statistics(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        low = values.min(axis=0)
        return low, values.max(axis=0) - low


SCALERS: dict[str, type[SeriesScaler]] = {c.kind: c for c in (StandardScaler, RobustScaler, MinMaxScaler)}


def scaler_from_dict(state: dict) -> SeriesScaler:
    """Rebuild any scaler from its `SeriesScaler.to_dict` output (its ``kind`` picks the class).

    >>> import json, pandas as pd
    >>> s = MinMaxScaler().fit(pd.DataFrame({"y": [0.0, 5.0]}), "y")
    >>> scaler_from_dict(json.loads(json.dumps(s.to_dict()))).transform(pd.DataFrame({"y": [2.5]}))["y"].tolist()
    [0.5]
    """
    kind = state.get("kind") if isinstance(state, dict) else None
    if kind not in SCALERS:
        raise DataError(f"unknown scaler kind {kind!r}; expected one of {list(SCALERS)}")
    return SCALERS[kind].from_dict(state)


def _require(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = ", ".join(map(repr, frame.columns))
        raise DataError(f"missing column(s) {', '.join(map(repr, missing))} for the scaler; columns found: {found}")


def _numbers(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    try:
        values = frame[columns].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise DataError(f"scaler columns {columns} must be numeric ({e}); run validate_series first") from e
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        row, col = bad[0]
        raise DataError(f"column {columns[col]!r} is {values[row, col]} at row {row} (0-based row of the frame)")
    return values


def _groups(frame: pd.DataFrame, id_col: str):
    return list(frame.groupby(id_col, sort=False, dropna=False, observed=True).indices.items())


def _plain(value):
    """JSON-able ids: NumPy scalars as Python ones."""
    return value.item() if isinstance(value, np.generic) else value
