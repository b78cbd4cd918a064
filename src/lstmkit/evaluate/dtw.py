"""1-nearest-neighbour DTW, the reference classifier of the UCR/UEA archive.

Dynamic time warping with squared Euclidean step costs; several channels are warped
together (*dependent* DTW, DTW_D, as the UEA archive reports it). Each series is
z-normalised per channel over its real steps first (the archive's convention), and
the warping is constrained to a Sakoe-Chiba band of ``r`` steps around the diagonal.
`dtw_1nn` chooses ``r`` as the UCR archive does: the window, in whole percent of the
training length from 0% to 100%, with the best leave-one-out 1-NN accuracy on the
training set (the smallest on ties).

The dynamic programme runs along anti-diagonals (every cell of one anti-diagonal
depends only on the two before it), vectorised over all pairs of series at once;
`dtw_reference` is the plain double loop it is tested against.

>>> a = np.array([[0.0], [1.0], [2.0], [1.0], [1.0]])  # (time, channels)
>>> b = np.array([[0.0], [1.0], [1.0], [2.0], [1.0]])  # the peak one step later
>>> float(dtw_reference(a, b)), float(dtw_reference(a, b, window=0))
(0.0, 2.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["dtw_1nn", "dtw_distances", "dtw_reference", "znormalise", "DTW1NN"]


def znormalise(X: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Each series standardised per channel over its real steps (constant channels become 0); padding is 0.

    Shape:
        X: ``(N, T, F)``; lengths: ``(N,)``; returns ``(N, T, F)`` float64.
    """
    X = np.asarray(X, dtype=np.float64)
    N, T, _ = X.shape  # series, time, channels
    real = (np.arange(T)[None, :] < np.asarray(lengths)[:, None])[:, :, None]  # (N, T, 1)
    n = np.maximum(np.asarray(lengths, dtype=np.float64), 1.0)[:, None, None]
    mean = np.where(real, X, 0.0).sum(axis=1, keepdims=True) / n
    std = np.sqrt((np.where(real, X - mean, 0.0) ** 2).sum(axis=1, keepdims=True) / n)
    return np.where(real, (X - mean) / np.where(std > 1e-8, std, 1.0), 0.0)


def dtw_reference(a: np.ndarray, b: np.ndarray, window: int | None = None) -> float:
    """DTW distance of two series by the textbook double loop (the reference for `dtw_distances`).

    Args:
        a, b: ``(n, F)`` and ``(m, F)`` series.
        window: Sakoe-Chiba band half-width in steps (at least ``|n - m|`` is used); ``None``: no band.

    Returns:
        The minimal sum of squared step distances over warping paths.
    """
    n, m = len(a), len(b)
    r = max(n, m) if window is None else max(window, abs(n - m))
    D = np.full((n + 1, m + 1), np.inf)
    D[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(max(1, i - r), min(m, i + r) + 1):
            cost = float(((a[i - 1] - b[j - 1]) ** 2).sum())
            D[i, j] = cost + min(D[i - 1, j - 1], D[i - 1, j], D[i, j - 1])
    return float(D[n, m])


def _pair_distances(
    a: np.ndarray, len_a: np.ndarray, b: np.ndarray, len_b: np.ndarray, window: int | None
) -> np.ndarray:
    """DTW distances of the pairs ``(a[p], b[p])``, all at once along the anti-diagonals.

    ``diag[p, i]`` holds cell ``D[i, d - i]`` of anti-diagonal ``d``: it depends on
    ``D[i-1, j-1]`` (two diagonals back, index ``i - 1``), ``D[i-1, j]`` (one back,
    ``i - 1``) and ``D[i, j-1]`` (one back, ``i``).

    Shape:
        a: ``(P, Ta, F)``; b: ``(P, Tb, F)``; len_a, len_b: ``(P,)``; returns ``(P,)``.
    """
    P, Ta, _ = a.shape  # pairs, time, channels
    Tb = b.shape[1]
    r = np.maximum(max(Ta, Tb) if window is None else window, np.abs(len_a - len_b))  # (P,)
    rows = np.arange(Ta + 1)  # DP row index i: 0 .. Ta
    two_back = np.full((P, Ta + 1), np.inf)
    two_back[:, 0] = 0.0  # diagonal 0: D[0, 0]
    one_back = np.full((P, Ta + 1), np.inf)  # diagonal 1: D[0, 1], D[1, 0]
    result = np.full(P, np.inf)
    target = len_a + len_b
    widest = int(r.max())
    for d in range(2, Ta + Tb + 1):
        cols = d - rows  # DP column j of each row on this diagonal
        # only the cells within the widest band: |i - j| = |2i - d| <= widest
        inside = (rows >= 1) & (cols >= 1) & (cols <= Tb) & (np.abs(2 * rows - d) <= widest)  # (Ta + 1,)
        i_idx, j_idx = rows[inside] - 1, cols[inside] - 1  # 0-based steps of a and b
        current = np.full((P, Ta + 1), np.inf)
        if len(i_idx):
            cost = ((a[:, i_idx] - b[:, j_idx]) ** 2).sum(axis=2)  # (P, cells)
            previous = np.minimum(np.minimum(two_back[:, i_idx], one_back[:, i_idx]), one_back[:, i_idx + 1])
            in_band = np.abs(i_idx - j_idx)[None, :] <= r[:, None]
            current[:, rows[inside]] = np.where(in_band, cost + previous, np.inf)
        done = target == d
        if done.any():
            result[done] = current[done, len_a[done]]
        two_back, one_back = one_back, current
    return result


def dtw_distances(
    A: np.ndarray,
    len_a: np.ndarray,
    B: np.ndarray,
    len_b: np.ndarray,
    window: int | None = None,
    max_cells: int = 4_000_000,
) -> np.ndarray:
    """Dependent-DTW distances between every series of ``A`` and every series of ``B``.

    Args:
        A, B: padded series (not normalised here); len_a, len_b: their real lengths.
        window: Sakoe-Chiba band half-width in steps (widened to ``|n - m|`` for a pair of
            unequal lengths, so that a path exists); ``None``: unconstrained.
        max_cells: pairs are processed in chunks of about this many ``(pair, step)`` cells.

    Shape:
        A: ``(M, Ta, F)``; B: ``(N, Tb, F)``; returns ``(M, N)``.
    """
    A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
    len_a, len_b = np.asarray(len_a, dtype=np.int64), np.asarray(len_b, dtype=np.int64)
    M, N = len(A), len(B)
    pa, pb = np.repeat(np.arange(M), N), np.tile(np.arange(N), M)  # every (test, train) pair
    out = np.empty(M * N)
    chunk = max(1, max_cells // max(A.shape[1] * A.shape[2], 1))
    for s in range(0, M * N, chunk):
        ia, ib = pa[s : s + chunk], pb[s : s + chunk]
        out[s : s + chunk] = _pair_distances(A[ia], len_a[ia], B[ib], len_b[ib], window)
    return out.reshape(M, N)


def _loo_window(X: np.ndarray, lengths: np.ndarray, codes: np.ndarray) -> tuple[int, float]:
    """The band (steps) of the best leave-one-out 1-NN accuracy over 0%, 1%, ..., 100% of the length."""
    longest = int(lengths.max())
    candidates = sorted({int(np.floor(p / 100 * longest)) for p in range(101)})
    upper = np.triu_indices(len(X), k=1)  # distances are symmetric: each pair once
    full = _loo_distances(X, lengths, upper, None)
    best_r, best_acc = 0, -1.0
    for r in candidates:
        D = _loo_distances(X, lengths, upper, r)
        acc = float((codes[D.argmin(axis=1)] == codes).mean())
        if acc > best_acc:  # strictly better: the smallest window wins ties
            best_r, best_acc = r, acc
        if np.allclose(D, full, rtol=1e-12, atol=0.0):
            break  # a wider band cannot lower a distance below the unconstrained one
    return best_r, best_acc


def _loo_distances(X: np.ndarray, lengths: np.ndarray, upper: tuple, window: int | None) -> np.ndarray:
    """Training-to-training distances with ``inf`` on the diagonal (each series left out of its own neighbours)."""
    i, j = upper
    chunk = max(1, 4_000_000 // max(X.shape[1] * X.shape[2], 1))
    values = np.concatenate(
        [
            _pair_distances(
                X[i[s : s + chunk]], lengths[i[s : s + chunk]], X[j[s : s + chunk]], lengths[j[s : s + chunk]], window
            )
            for s in range(0, len(i), chunk)
        ]
    )
    D = np.full((len(X), len(X)), np.inf)
    D[i, j] = D[j, i] = values
    return D


@dataclass(frozen=True)
class DTW1NN:
    """What `dtw_1nn` chose and predicted.

    Attributes:
        predicted: ``(M,)`` labels of the test series.
        window: the band half-width in steps (``None``: unconstrained).
        window_percent: ``window`` as a share of the longest training series, in percent.
        loo_accuracy: the leave-one-out training accuracy of that window (``None`` when not searched).
    """

    predicted: np.ndarray
    window: int | None
    window_percent: float | None
    loo_accuracy: float | None


def dtw_1nn(
    X_train: np.ndarray,
    len_train: np.ndarray,
    y_train: Sequence,
    X_test: np.ndarray,
    len_test: np.ndarray,
    window: str | int | None = "loo",
    normalise: bool = True,
) -> DTW1NN:
    """1-NN dependent-DTW classification (fitted on the training series only).

    Args:
        X_train, len_train, y_train: padded training series, their lengths and labels.
        X_test, len_test: padded test series and their lengths.
        window: ``"loo"`` (default): the Sakoe-Chiba band chosen by leave-one-out on the
            training set, as the UCR archive's "DTW (learned window)"; an int: that band in
            steps; ``None``: unconstrained ("full-window") DTW.
        normalise: z-normalise each series per channel first (the archive's convention).

    Shape:
        X_train: ``(N, T, F)``; X_test: ``(M, T', F)``; returns predictions ``(M,)``.

    >>> X = np.array([[0, 1, 2, 3], [3, 2, 1, 0], [0, 1, 3, 3], [3, 3, 1, 0]], float)[:, :, None]
    >>> fit = dtw_1nn(X, [4] * 4, ["up", "down"] * 2, X[:2] + 0.1, [4, 4])
    >>> fit.predicted.tolist(), fit.window
    (['up', 'down'], 0)
    """
    len_train, len_test = np.asarray(len_train, dtype=np.int64), np.asarray(len_test, dtype=np.int64)
    if normalise:
        X_train, X_test = znormalise(X_train, len_train), znormalise(X_test, len_test)
    labels = np.asarray(y_train, dtype=object)
    _, codes = np.unique(labels.astype(str), return_inverse=True)
    loo: float | None = None
    r: int | None
    if window == "loo":
        r, loo = _loo_window(np.asarray(X_train, dtype=np.float64), len_train, codes)
    elif window is None or isinstance(window, (int, np.integer)) and not isinstance(window, bool) and window >= 0:
        r = None if window is None else int(window)
    else:
        raise ValueError(f"window must be 'loo', a number of steps >= 0 or None, got {window!r}")
    D = dtw_distances(X_test, len_test, X_train, len_train, window=r)
    percent = None if r is None else round(100 * r / int(len_train.max()), 1)
    return DTW1NN(labels[D.argmin(axis=1)], r, percent, loo)
