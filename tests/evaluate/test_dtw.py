"""1-NN DTW: the vectorised programme equals the textbook loop, and the archive's figures are reproduced."""

import numpy as np
import pytest

from lstmkit.data.datasets.classification import load_ucr
from lstmkit.evaluate.dtw import dtw_1nn, dtw_distances, dtw_reference, znormalise


@pytest.mark.parametrize("window", [None, 0, 1, 3])
def test_vectorised_distances_equal_the_double_loop_for_unequal_lengths(window):
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(3, 9, 2)), rng.normal(size=(4, 7, 2))
    len_a, len_b = np.array([9, 5, 7]), np.array([7, 3, 6, 2])
    expected = [[dtw_reference(A[i, : len_a[i]], B[j, : len_b[j]], window) for j in range(4)] for i in range(3)]
    np.testing.assert_allclose(dtw_distances(A, len_a, B, len_b, window=window), expected, rtol=1e-12)
    # chunks of pairs give the same numbers
    np.testing.assert_allclose(dtw_distances(A, len_a, B, len_b, window=window, max_cells=1), expected, rtol=1e-12)


def test_a_band_of_zero_is_the_euclidean_distance_and_warping_finds_a_shifted_bump():
    a = np.zeros((1, 12, 1))
    a[0, 3:5, 0] = 1.0
    b = np.roll(a, 4, axis=1)
    assert dtw_distances(a, [12], b, [12], window=0)[0, 0] == pytest.approx(((a - b) ** 2).sum())
    assert dtw_distances(a, [12], b, [12], window=None)[0, 0] == 0.0


def test_znormalise_uses_the_real_steps_only():
    X = np.array([[[1.0], [3.0], [99.0]]])
    np.testing.assert_allclose(znormalise(X, np.array([2]))[0, :, 0], [-1.0, 1.0, 0.0])


@pytest.mark.slow
def test_the_archive_figures_on_italy_power_demand():
    """UCR archive (2018) 1-NN DTW on ItalyPowerDemand: 0.950 unconstrained, 0.955 with the learned window (0%)."""
    train, test = load_ucr("ItalyPowerDemand", "train"), load_ucr("ItalyPowerDemand", "test")
    full = dtw_1nn(train.X, train.lengths, train.y, test.X, test.lengths, window=None)
    learned = dtw_1nn(train.X, train.lengths, train.y, test.X, test.lengths)
    assert round(float((full.predicted == test.y).mean()), 3) == 0.950
    assert learned.window == 0 and round(float((learned.predicted == test.y).mean()), 3) == 0.955


def test_bad_windows_are_refused():
    X = np.zeros((2, 3, 1))
    with pytest.raises(ValueError, match="window must be"):
        dtw_1nn(X, [3, 3], ["a", "b"], X, [3, 3], window=-1)
