"""Per-channel standardisation of padded sequence arrays (padding stays zero)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lstmkit.data.scaling import StandardScaler, scaler_from_dict

__all__ = ["fit_channel_scaler", "scale_channels"]


def fit_channel_scaler(X: np.ndarray, lengths: np.ndarray, channels: Sequence[str]) -> StandardScaler:
    """Mean and standard deviation of each channel over the real (unpadded) steps.

    Fit on the training sequences only. The result is a `lstmkit.data.StandardScaler`
    (saved with ``to_dict``); apply it with `scale_channels`.

    Shape:
        X: ``(N, T, F)``; lengths: ``(N,)``.

    >>> X = np.array([[[1.0], [3.0]], [[5.0], [0.0]]])
    >>> s = fit_channel_scaler(X, np.array([2, 1]), ["v"])
    >>> s.center.tolist(), s.scale.round(3).tolist()
    ([[3.0]], [[1.633]])
    """
    valid = np.arange(X.shape[1])[None, :] < np.asarray(lengths)[:, None]
    steps = pd.DataFrame(X[valid].astype(np.float64), columns=list(channels))  # (real steps, F)
    return StandardScaler().fit(steps, list(channels))


def scale_channels(
    scaler: StandardScaler | dict, X: np.ndarray, lengths: np.ndarray, channels: Sequence[str]
) -> np.ndarray:
    """``(x - mean) / std`` per channel on the real steps; padded steps stay zero.

    Args:
        scaler: from `fit_channel_scaler`, or its ``to_dict()``.
        X, lengths: padded sequences and their lengths.
        channels: the channel names, in the order of ``X``'s last axis.

    Shape:
        X: ``(N, T, F)`` -> ``(N, T, F)`` float32.
    """
    fitted = scaler_from_dict(scaler) if isinstance(scaler, dict) else scaler
    scaled = fitted.transform_array(X, list(channels), axis=-1)
    valid = np.arange(X.shape[1])[None, :] < np.asarray(lengths)[:, None]
    return np.where(valid[:, :, None], scaled, 0.0).astype(np.float32)
