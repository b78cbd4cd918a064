"""Strong non-neural classifiers to report next to the LSTM, fitted on the training part only.

* `text_ngram_baseline`: TF-IDF of character 1-5-grams (within word boundaries) and a
  logistic regression, the usual strong baseline for short texts and single words;
* `rocket_baseline`: ROCKET (Dempster et al. 2020) for numeric sequences: thousands of
  random dilated convolution kernels, each giving two features (the proportion of
  positive values and the maximum) over a series' real steps, then a ridge classifier
  with its penalty chosen by leave-one-out cross-validation. Unequal lengths are handled
  by masking the padding.

Both need scikit-learn.

>>> texts = ["good film", "great film", "bad film", "awful film"] * 5
>>> labels = ["pos", "pos", "neg", "neg"] * 5
>>> text_ngram_baseline(texts, labels, ["great stuff", "awful stuff"]).tolist()
['pos', 'neg']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["text_ngram_baseline", "rocket_baseline", "rocket_features"]

KERNEL_LENGTHS = (7, 9, 11)


def text_ngram_baseline(train_texts: Sequence[str], train_labels: Sequence, test_texts: Sequence[str]) -> np.ndarray:
    """Labels predicted by char 1-5-gram TF-IDF + logistic regression (fitted on the training texts only)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), sublinear_tf=True),
        LogisticRegression(C=10.0, max_iter=2000),
    )
    model.fit(list(train_texts), np.asarray(train_labels, dtype=object))
    return np.asarray(model.predict(list(test_texts)), dtype=object)


def rocket_features(
    X: np.ndarray, lengths: np.ndarray, n_kernels: int = 2000, seed: int = 0, *, max_length: int | None = None
) -> np.ndarray:
    """ROCKET's features of padded sequences: for each random kernel, PPV and max over the real steps.

    Args:
        X: padded sequences; lengths: their real lengths.
        n_kernels: random kernels (two features each).
        seed: draws the kernels; the same seed gives the same kernels.
        max_length: the length the dilations are drawn for (the training set's longest).

    Shape:
        X: ``(N, T, F)``; lengths: ``(N,)``; returns ``(N, 2 * n_kernels)``.
    """
    N, T, C = X.shape  # sequences, time, channels
    lengths = np.asarray(lengths, dtype=np.int64)
    x = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).transpose(1, 2)  # (N, C, T)
    steps = torch.arange(T)[None, :]
    valid = (steps < torch.from_numpy(lengths)[:, None]).unsqueeze(1)  # (N, 1, T)
    # each series standardised over its real steps, per channel (ROCKET's normalisation)
    n = torch.from_numpy(lengths).clamp(min=1).float().view(N, 1, 1)
    mean = (x * valid).sum(-1, keepdim=True) / n
    std = (((x - mean) * valid) ** 2).sum(-1, keepdim=True).div(n).sqrt().clamp(min=1e-8)
    x = ((x - mean) / std) * valid
    rng = np.random.default_rng(seed)
    longest = max_length or int(lengths.max())
    # room for the widest kernel on the shortest padded array (the extra steps are masked padding)
    room = max(longest, max(KERNEL_LENGTHS)) - T
    if room > 0:
        x = F.pad(x, (0, room))
    features = np.empty((N, 2 * n_kernels), dtype=np.float32)
    with torch.no_grad():
        for k in range(n_kernels):
            size = int(rng.choice(KERNEL_LENGTHS))
            weights = rng.normal(size=(C, size))
            weights -= weights.mean()
            bias = float(rng.uniform(-1, 1))
            top = np.log2(max((longest - 1) / (size - 1), 1.0))
            dilation = int(2 ** rng.uniform(0, top))
            padding = (size - 1) * dilation // 2 if rng.integers(2) else 0
            w = torch.from_numpy(weights.astype(np.float32)).unsqueeze(0)  # (1, C, size)
            out = F.conv1d(x, w, torch.tensor([bias]), padding=padding, dilation=dilation)[:, 0]  # (N, T_out)
            # an output position is real when the window it reads ends inside the series
            span = torch.from_numpy(lengths)[:, None] + 2 * padding - dilation * (size - 1)  # (N, 1)
            real = torch.arange(out.shape[1])[None, :] < span.clamp(min=1)
            count = real.sum(1).clamp(min=1)
            features[:, 2 * k] = (((out > 0) & real).sum(1) / count).numpy()
            features[:, 2 * k + 1] = out.masked_fill(~real, float("-inf")).amax(1).clamp(min=-1e6).numpy()
    return features


def rocket_baseline(
    X_train: np.ndarray,
    len_train: np.ndarray,
    y_train: Sequence,
    X_test: np.ndarray,
    len_test: np.ndarray,
    n_kernels: int = 2000,
    seed: int = 0,
) -> np.ndarray:
    """Labels predicted by ROCKET features and a ridge classifier (fitted on the training sequences only).

    Shape:
        X_train: ``(N, T, F)``; X_test: ``(M, T', F)``; returns ``(M,)``.
    """
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    longest = int(np.max(len_train))
    train = rocket_features(X_train, len_train, n_kernels, seed, max_length=longest)
    test = rocket_features(X_test, len_test, n_kernels, seed, max_length=longest)
    model = make_pipeline(StandardScaler(), RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
    model.fit(train, np.asarray(y_train, dtype=object))
    return np.asarray(model.predict(test), dtype=object)
