"""Metrics against values computed by hand."""

import numpy as np
import pytest

from lstmkit.errors import DataError
from lstmkit.evaluate import coverage, mae, mase, mase_scale, pinball_loss, rmse, smape


def test_mae_rmse_by_hand():
    y, f = [1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 5.0, 0.0]  # errors -1, 0, -2, 4
    assert mae(y, f) == pytest.approx(7 / 4)
    assert rmse(y, f) == pytest.approx(np.sqrt(21 / 4))


def test_smape_by_hand_on_0_200_scale():
    # terms: 10/210, 0/0 -> 0, 50/50 = 1
    assert smape([100.0, 0.0, 50.0], [110.0, 0.0, 0.0]) == pytest.approx(200 * (10 / 210 + 0 + 1) / 3)
    assert smape([1.0, -1.0], [-1.0, 1.0]) == pytest.approx(200.0)  # the worst case
    assert smape([3.0], [3.0]) == 0.0


def test_mase_seasonal_scale_by_hand():
    train = [1.0, 3.0, 2.0, 5.0, 4.0, 6.0]
    # m = 2: |2-1|, |5-3|, |4-2|, |6-5| -> 1.5; m = 1: 2, 1, 3, 1, 2 -> 1.8
    assert float(mase_scale(train, m=2)) == pytest.approx(1.5)
    assert float(mase_scale(train, m=1)) == pytest.approx(1.8)
    y, f = [7.0, 8.0], [6.0, 10.0]  # mae 1.5
    assert mase(y, f, train, m=2) == pytest.approx(1.0)
    assert mase(y, f, train, m=1) == pytest.approx(1.5 / 1.8)


def test_mase_falls_back_to_m1_when_training_part_is_short():
    train = [1.0, 4.0, 2.0]  # 3 rows <= m = 12: naive scale |3| + |2| -> 2.5
    assert mase([3.0], [8.0], train, m=12) == pytest.approx(5 / 2.5)


def test_mase_columns_scaled_separately():
    train = np.array([[0.0, 0.0], [1.0, 10.0], [2.0, 20.0]])  # naive scales 1 and 10
    y, f = np.array([[3.0, 30.0]]), np.array([[4.0, 40.0]])  # errors 1 and 10
    assert mase(y, f, train) == pytest.approx(1.0)


def test_mase_constant_training_part_is_nan():
    assert np.isnan(mase([1.0], [2.0], [5.0, 5.0, 5.0]))


def test_coverage_counts_bounds_as_inside():
    assert coverage([1.0, 2.0, 3.0, 4.0], [1.0, 0.0, 3.5, 0.0], [2.0, 1.9, 4.0, 4.0]) == pytest.approx(0.5)


def test_pinball_by_hand():
    assert pinball_loss([10.0, 10.0], [8.0, 12.0], 0.9) == pytest.approx((0.9 * 2 + 0.1 * 2) / 2)
    # several quantiles on a trailing axis
    y = [10.0, 20.0]
    f = [[9.0, 11.0], [25.0, 26.0]]  # q = 0.1, 0.9
    terms = [0.1 * 1, 0.1 * 1, 0.9 * 5, 0.1 * 6]
    assert pinball_loss(y, f, [0.1, 0.9]) == pytest.approx(np.mean(terms))


def test_pinball_at_median_is_half_mae():
    rng = np.random.default_rng(1)
    y, f = rng.normal(size=20), rng.normal(size=20)
    assert pinball_loss(y, f, 0.5) == pytest.approx(mae(y, f) / 2)


def test_metric_errors_name_the_problem():
    with pytest.raises(DataError, match=r"y_pred has shape \(2,\), expected the shape of y_true \(3,\)"):
        mae([1, 2, 3], [1, 2])
    with pytest.raises(DataError, match=r"y_true is nan at index \(1,\)"):
        rmse([1, np.nan], [1, 2])
    with pytest.raises(DataError, match="lower bound 3.0 is above upper bound 1.0 at index \\(0,\\)"):
        coverage([2.0], [3.0], [1.0])
    with pytest.raises(DataError, match="quantiles must be in \\(0, 1\\)"):
        pinball_loss([1.0], [1.0], 1.5)
    with pytest.raises(DataError, match=r"y_pred has shape \(2,\), expected \(2, 2\)"):
        pinball_loss([1.0, 2.0], [1.0, 2.0], [0.1, 0.9])
    with pytest.raises(DataError, match="y_train has 1 row"):
        mase([1.0], [1.0], [1.0])
