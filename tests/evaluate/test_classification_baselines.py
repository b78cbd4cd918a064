"""The non-neural baselines the classify report shows: they learn, and only from the training part."""

import numpy as np
import pytest

from lstmkit.data.datasets.classification import load_ucr
from lstmkit.evaluate.classification_baselines import rocket_baseline, rocket_features, text_ngram_baseline


def test_rocket_learns_a_bundled_ucr_set():
    train, test = load_ucr("ItalyPowerDemand", "train"), load_ucr("ItalyPowerDemand", "test")
    predicted = rocket_baseline(train.X, train.lengths, train.y, test.X, test.lengths, n_kernels=300)
    assert (predicted == test.y).mean() > 0.9  # published ROCKET: 0.97; chance: 0.5


def test_rocket_features_ignore_the_padding_and_repeat_with_the_seed():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 30, 2))
    padded = np.concatenate([x, np.zeros((1, 20, 2))], axis=1)  # the same series, padded to 50 steps
    a = rocket_features(x, np.array([30]), n_kernels=50, seed=3, max_length=30)
    b = rocket_features(padded, np.array([30]), n_kernels=50, seed=3, max_length=30)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    c = rocket_features(x, np.array([30]), n_kernels=50, seed=4, max_length=30)
    assert not np.allclose(a, c)


def test_rocket_handles_unequal_lengths_and_a_test_sequence_longer_than_any_training_one():
    rng = np.random.default_rng(1)
    lengths = rng.integers(20, 40, size=24)
    X = np.zeros((24, 40, 1))
    y = np.array(["sine", "noise"] * 12, dtype=object)
    for i, n in enumerate(lengths):
        t = np.arange(n)
        X[i, :n, 0] = np.sin(t / 2.0) if y[i] == "sine" else rng.normal(size=n)
    long = np.sin(np.arange(60) / 2.0)[None, :, None]
    assert rocket_baseline(X, lengths, y, long, np.array([60]), n_kernels=200).tolist() == ["sine"]


@pytest.mark.parametrize("word, language", [("wasser", "german"), ("water", "english")])
def test_the_char_ngram_baseline_reads_word_shapes(word, language):
    words = ["wasserfall", "strasse", "wasser", "fluss", "watering", "waterfall", "street", "river"]
    labels = ["german"] * 4 + ["english"] * 4
    assert text_ngram_baseline(words * 3, labels * 3, [word]).tolist() == [language]


def test_rocket_reads_sequences_shorter_than_its_kernels():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(10, 5, 1))
    y = np.array(["a", "b"] * 5, dtype=object)
    X[y == "a"] += 3.0
    assert rocket_baseline(X, np.full(10, 5), y, X[:2], np.array([5, 5]), n_kernels=100).tolist() == ["a", "b"]
