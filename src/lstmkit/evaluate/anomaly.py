"""Anomaly detection: point-wise and event-wise metrics, a rolling z-score baseline,
and reproducible injection of labelled anomalies into a real series.

Definitions (labels and flags are 0/1 per time step):

* **point-wise**: precision, recall and F1 over time steps.
* **event-wise**: an *event* is a run of consecutive anomalous labels. Recall is the
  share of events with at least one flagged step inside. Precision is the share of
  *alarms* (runs of consecutive flags) that touch at least one labelled step. F1 is
  their harmonic mean. A detector that flags one point per event scores 1.0 here,
  however short its flags are.

Undefined ratios (no flags, no labels) are 0.0, so a silent detector scores 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from lstmkit.data.synthetic import (
    inject_anomalies,  # a data generator; kept importable from here
)

__all__ = [
    "runs",
    "point_metrics",
    "event_metrics",
    "anomaly_metrics",
    "rolling_zscore",
    "zscore_flags",
    "robust_residual_score",
    "rolling_robust_scores",
    "inject_anomalies",
]

MAD_TO_STD = 1.4826  # the MAD of a normal distribution times this is its standard deviation
MIN_SCALE = 1e-6  # a flat past (MAD 0) counts as this scale


def _binary(a, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per time step), got shape {a.shape}")
    if a.dtype != bool and not np.isin(a, (0, 1)).all():
        raise ValueError(f"{name} must hold 0/1 or booleans, found {sorted(set(np.unique(a)) - {0, 1})[:5]}")
    return a.astype(bool)


def _check(labels, flags) -> tuple[np.ndarray, np.ndarray]:
    y, p = _binary(labels, "labels"), _binary(flags, "flags")
    if len(y) != len(p):
        raise ValueError(f"labels and flags must have the same length, got {len(y)} and {len(p)}")
    return y, p


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else 0.0


def _f1(precision: float, recall: float) -> float:
    return _ratio(2 * precision * recall, precision + recall)


def runs(mask: ArrayLike) -> list[tuple[int, int]]:
    """``(start, stop)`` of every run of consecutive True values (``stop`` exclusive).

    >>> runs([0, 1, 1, 0, 1])
    [(1, 3), (4, 5)]
    """
    m = np.asarray(mask, dtype=bool).astype(np.int8)
    edges = np.diff(np.concatenate([[0], m, [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def point_metrics(labels: ArrayLike, flags: ArrayLike) -> dict[str, float]:
    """Precision, recall and F1 over time steps.

    >>> point_metrics([0, 1, 1, 0], [0, 1, 0, 1])
    {'precision': 0.5, 'recall': 0.5, 'f1': 0.5}
    """
    y, p = _check(labels, flags)
    tp = float((y & p).sum())
    precision, recall = _ratio(tp, p.sum()), _ratio(tp, y.sum())
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def event_metrics(labels: ArrayLike, flags: ArrayLike) -> dict[str, float]:
    """Event-wise precision, recall and F1 (see the module docstring).

    >>> event_metrics([0, 1, 1, 0, 0, 1], [0, 0, 1, 0, 1, 0])
    {'precision': 0.5, 'recall': 0.5, 'f1': 0.5}
    """
    y, p = _check(labels, flags)
    events, alarms = runs(y), runs(p)
    detected = sum(bool(p[a:b].any()) for a, b in events)
    true_alarms = sum(bool(y[a:b].any()) for a, b in alarms)
    precision, recall = _ratio(true_alarms, len(alarms)), _ratio(detected, len(events))
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def anomaly_metrics(labels: ArrayLike, flags: ArrayLike) -> dict[str, float]:
    """Point and event metrics in one flat dict: ``point_precision``, ..., ``event_f1``."""
    out = {f"point_{k}": v for k, v in point_metrics(labels, flags).items()}
    out.update({f"event_{k}": v for k, v in event_metrics(labels, flags).items()})
    return out


def rolling_zscore(values: ArrayLike, window: int = 24) -> np.ndarray:
    """Baseline score: ``|x_t - mean| / std`` of the ``window`` steps before ``t``.

    Causal (only the past is used). With several columns, the largest ``|z|``.
    The first ``window`` steps have no score (NaN); a flat past (std 0) counts as std 1e-8.

    Args:
        values: ``(T,)`` or ``(T, F)``.
        window: past steps in the mean and standard deviation.

    Returns:
        ``(T,)`` scores.

    >>> rolling_zscore([1.0, 3.0, 1.0, 3.0, 12.0], window=4).round(2).tolist()
    [nan, nan, nan, nan, 10.0]
    """
    if isinstance(window, bool) or not isinstance(window, int) or window < 2:
        raise ValueError(f"window must be an integer >= 2, got {window!r}")
    x = np.asarray(values, dtype=float)
    x = x[:, None] if x.ndim == 1 else x
    T = len(x)
    scores = np.full(T, np.nan)
    if T <= window:
        return scores
    # windows of the `window` steps before each t >= window: (T - window, window, F)
    past = np.lib.stride_tricks.sliding_window_view(x, window, axis=0)[: T - window].transpose(0, 2, 1)
    mean, std = past.mean(axis=1), np.maximum(past.std(axis=1), 1e-8)
    scores[window:] = (np.abs(x[window:] - mean) / std).max(axis=1)
    return scores


def zscore_flags(values: ArrayLike, n_train: int, window: int, level: float) -> np.ndarray:
    """The rolling z-score baseline's flags: `rolling_zscore` above its ``level`` quantile on the training rows.

    Args:
        values: ``(T,)`` or ``(T, F)``; the first ``n_train`` rows are the training part.
        n_train: training rows: the only rows the threshold sees.
        window: the z-score's window.
        level: the quantile of the training scores used as threshold (0.995, say).

    Returns:
        ``(T,)`` booleans (steps without a score are never flagged).
    """
    z = rolling_zscore(values, window=window)
    return np.nan_to_num(z, nan=-np.inf) > np.nanquantile(z[:n_train], level)


def robust_residual_score(past: np.ndarray, residual: np.ndarray) -> float:
    """How unusual ``residual`` is next to ``past`` residuals: the largest robust ``|z|`` over features.

    ``|r - median(past)| / (1.4826 * MAD(past))`` per feature, where MAD is the median
    absolute deviation from the median (1.4826 MAD is the standard deviation of normal
    residuals, and a few outliers in ``past`` barely move it); a MAD of 0 counts as 1e-6.

    Args:
        past: ``(n, F)`` earlier residuals.
        residual: ``(F,)`` the residual to score.

    Returns:
        The score (0 or more).

    >>> robust_residual_score(np.array([[0.0], [1.0], [-1.0], [0.5], [-0.5]]), np.array([3.0]))
    4.046...
    """
    median = np.median(past, axis=0)  # (F,)
    scale = np.maximum(MAD_TO_STD * np.median(np.abs(past - median), axis=0), MIN_SCALE)
    return float((np.abs(residual - median) / scale).max())


def rolling_robust_scores(residuals: ArrayLike, window: int, min_periods: int) -> np.ndarray:
    """`robust_residual_score` of each step against the up to ``window`` scored steps before it.

    Causal: step ``t`` is compared with residuals before ``t`` only, so a stream scored
    step by step gives the same numbers. Steps whose residual is NaN (no forecast yet)
    are skipped; a step with fewer than ``min_periods`` earlier residuals scores NaN.

    Args:
        residuals: ``(T,)`` or ``(T, F)`` signed errors (forecast minus actual, say),
            NaN rows for steps without one; NaN rows come first.
        window: the most earlier residuals in the median and MAD.
        min_periods: the fewest earlier residuals that give a score.

    Returns:
        ``(T,)`` scores.

    >>> r = np.array([np.nan, 0.1, -0.1, 0.2, -0.2, 0.0, 2.0])
    >>> rolling_robust_scores(r, window=4, min_periods=3).round(2).tolist()
    [nan, nan, nan, nan, 2.02, 0.0, 13.83]
    """
    if isinstance(window, bool) or not isinstance(window, int) or window < 2:
        raise ValueError(f"window must be an integer >= 2, got {window!r}")
    if isinstance(min_periods, bool) or not isinstance(min_periods, int) or not 1 <= min_periods <= window:
        raise ValueError(f"min_periods must be an integer in [1, window={window}], got {min_periods!r}")
    r = np.asarray(residuals, dtype=float)
    r = r[:, None] if r.ndim == 1 else r  # (T, F)
    T = len(r)
    scores = np.full(T, np.nan)
    first = int(np.argmax(~np.isnan(r).any(axis=1))) if T and not np.isnan(r).all() else T
    if np.isnan(r[first:]).any():
        raise ValueError("residuals may be NaN only in leading rows")
    for t in range(first + min_periods, min(first + window, T)):  # warming up: fewer than `window` earlier
        scores[t] = robust_residual_score(r[first:t], r[t])
    start = first + window
    if T > start:
        past = np.lib.stride_tricks.sliding_window_view(r[first:], window, axis=0)[
            : T - start
        ]  # (T - start, F, window)
        median = np.median(past, axis=2)  # (T - start, F)
        mad = np.median(np.abs(past - median[..., None]), axis=2)
        scale = np.maximum(MAD_TO_STD * mad, MIN_SCALE)
        scores[start:] = (np.abs(r[start:] - median) / scale).max(axis=1)
    return scores
