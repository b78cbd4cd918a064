"""Forecast accuracy metrics: point (MAE, RMSE, sMAPE, MASE) and probabilistic (coverage, pinball).

Every function takes array-likes of the same shape (any shape: a horizon, a batch
of windows, several targets), averages over all entries and returns a Python float.
Missing or infinite values are an error, not silently skipped.

Definitions, with errors ``e = y - f`` over ``n`` entries:

* ``mae   = mean |e|``
* ``rmse  = sqrt(mean e^2)``
* ``smape = 200 * mean |e| / (|y| + |f|)``, on a **0-200 scale** (100 is as bad as
  forecasting 0 everywhere or as being off by the whole value); a term with
  ``y = f = 0`` counts 0.
* ``mase  = mean |e| / s``, with ``s = mean |y_t - y_{t-m}|`` the in-sample MAE of the
  seasonal-naive forecast on the *training* part (``m = 1``: the naive forecast). If
  the training part has ``m`` rows or fewer, ``m = 1`` is used instead. Below 1 beats
  the in-sample seasonal naive. ``NaN`` when ``s = 0`` (a constant training part).
* ``coverage = mean [lower <= y <= upper]``: the share of values inside an interval,
  in [0, 1]; compare with the nominal level (0.8 for a 10%-90% interval).
* ``pinball(q) = mean max(q e, (q - 1) e)`` with ``e = y - f_q``, averaged over the
  quantiles too; at ``q = 0.5`` it is ``mae / 2``.

>>> mae([1, 2, 3], [2, 2, 5]), rmse([0, 0], [3, 4]), smape([1, 0], [3, 0])
(1.0, 3.5355339059327378, 50.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from lstmkit.errors import DataError

__all__ = ["mae", "rmse", "smape", "mase", "mase_scale", "coverage", "pinball_loss"]


def _arrays(**named) -> list[np.ndarray]:
    """Float arrays of one shape, finite and non-empty; errors name the argument."""
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in named.items()}
    (first, a0), *rest = arrays.items()
    for name, a in rest:
        if a.shape != a0.shape:
            raise DataError(f"{name} has shape {a.shape}, expected the shape of {first} {a0.shape}")
    for name, a in arrays.items():
        if a.size == 0:
            raise DataError(f"{name} is empty")
        bad = np.argwhere(~np.isfinite(a))
        if len(bad):
            raise DataError(f"{name} is {a[tuple(bad[0])]} at index {tuple(int(i) for i in bad[0])}")
    return list(arrays.values())


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error.

    Shape:
        y_true, y_pred: any, the same.

    >>> mae([1.0, 2.0], [1.5, 1.0])
    0.75
    """
    y, f = _arrays(y_true=y_true, y_pred=y_pred)
    return float(np.mean(np.abs(y - f)))


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error.

    Shape:
        y_true, y_pred: any, the same.

    >>> rmse([1.0, 2.0], [2.0, 4.0])
    1.5811388300841898
    """
    y, f = _arrays(y_true=y_true, y_pred=y_pred)
    return float(np.sqrt(np.mean((y - f) ** 2)))


def smape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Symmetric mean absolute percentage error, 0-200 scale (see the module docstring).

    Shape:
        y_true, y_pred: any, the same.

    >>> smape([100.0], [110.0])  # 200 * 10 / 210
    9.523809523809524
    """
    y, f = _arrays(y_true=y_true, y_pred=y_pred)
    denom = np.abs(y) + np.abs(f)
    terms = np.divide(np.abs(y - f), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(200.0 * np.mean(terms))


def mase_scale(y_train: ArrayLike, m: int = 1) -> np.ndarray:
    """In-sample MAE of the seasonal-naive forecast, per column: ``mean |y_t - y_{t-m}|``.

    Falls back to ``m = 1`` when the training part has ``m`` rows or fewer.

    Args:
        y_train: the training part, time on axis 0.
        m: seasonal period.

    Shape:
        y_train: (T,) or (T, C) -> Returns () or (C,)

    >>> float(mase_scale([1.0, 3.0, 2.0, 5.0], m=2))  # |2-1|, |5-3| -> 1.5
    1.5
    >>> float(mase_scale([1.0, 3.0], m=12))  # too short for m = 12: naive, |3-1|
    2.0
    """
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise DataError(f"seasonal period m must be a positive integer, got {m!r}")
    (y,) = _arrays(y_train=y_train)
    if len(y) < 2:
        raise DataError(f"y_train has {len(y)} row(s); MASE needs at least 2 to scale by the naive error")
    if len(y) <= m:
        m = 1
    return np.mean(np.abs(y[m:] - y[:-m]), axis=0)


def mase(y_true: ArrayLike, y_pred: ArrayLike, y_train: ArrayLike, m: int = 1) -> float:
    """Mean absolute scaled error (see the module docstring for the scale and its fallback).

    Args:
        y_true, y_pred: actuals and forecasts of the test part, time on axis 0.
        y_train: the series before the forecast origin, same trailing shape.
        m: seasonal period of the scale (12 for monthly data, 1 for naive).

    Shape:
        y_true, y_pred: (H,) or (H, C); y_train: (T,) or (T, C), each column scaled
        by its own training part.

    Returns:
        The MASE; ``nan`` when a column's training part is constant.

    >>> mase([3.0, 5.0], [4.0, 4.0], y_train=[1.0, 2.0, 3.0])  # mae 1 / naive mae 1
    1.0
    """
    y, f = _arrays(y_true=y_true, y_pred=y_pred)
    scale = mase_scale(y_train, m)
    if np.shape(scale) != y.shape[1:]:
        raise DataError(f"y_train has trailing shape {np.shape(scale)}, expected {y.shape[1:]} like y_true")
    if np.any(scale == 0):
        return float("nan")  # a constant training part: scaled error undefined
    return float(np.mean(np.abs(y - f) / scale))


def coverage(y_true: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of actual values inside ``[lower, upper]`` (bounds included), in [0, 1].

    Shape:
        y_true, lower, upper: any, the same.

    >>> coverage([1.0, 5.0, 3.0, 2.0], lower=[0.0, 0.0, 3.0, 2.5], upper=[2.0, 4.0, 3.0, 4.0])
    0.5
    """
    y, lo, hi = _arrays(y_true=y_true, lower=lower, upper=upper)
    crossed = np.argwhere(lo > hi)
    if len(crossed):
        i = tuple(int(j) for j in crossed[0])
        raise DataError(f"lower bound {lo[i]} is above upper bound {hi[i]} at index {i}")
    return float(np.mean((lo <= y) & (y <= hi)))


def pinball_loss(y_true: ArrayLike, y_pred: ArrayLike, quantiles: float | Sequence[float]) -> float:
    """Quantile (pinball) loss, averaged over entries and quantiles.

    Args:
        y_true: actual values.
        y_pred: quantile forecasts; with a list of ``Q`` quantiles, a trailing axis
            of size ``Q`` in the same order.
        quantiles: one level in (0, 1), or a sequence of them.

    Shape:
        y_true: (...); y_pred: (...) for one quantile or (..., Q) for Q of them.

    >>> pinball_loss([10.0], [8.0], 0.9)  # under-forecast by 2: 0.9 * 2
    1.8
    >>> round(pinball_loss([10.0, 10.0], [[8.0, 12.0], [10.0, 10.0]], [0.1, 0.9]), 12)  # (0.2 + 0.2 + 0 + 0) / 4
    0.1
    """
    single = np.ndim(quantiles) == 0
    q = np.atleast_1d(np.asarray(quantiles, dtype=np.float64))
    if q.size == 0 or np.any((q <= 0) | (q >= 1)) or not np.all(np.isfinite(q)):
        raise DataError(f"quantiles must be in (0, 1), got {quantiles!r}")
    y = np.asarray(y_true, dtype=np.float64)
    f = np.asarray(y_pred, dtype=np.float64)
    if single:
        f = f[..., None]
    if f.shape != y.shape + (q.size,):
        expected = y.shape if single else y.shape + (q.size,)
        raise DataError(f"y_pred has shape {np.shape(y_pred)}, expected {expected} for quantiles {quantiles!r}")
    y, f = _arrays(y_true=np.broadcast_to(y[..., None], f.shape), y_pred=f)
    e = y - f
    return float(np.mean(np.maximum(q * e, (q - 1) * e)))
