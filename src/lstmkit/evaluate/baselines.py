"""Baseline forecasts a model has to beat: naive, seasonal naive, drift, ETS and Theta.

All share one signature, ``f(history, horizon) -> forecast``, with ``history`` the
series up to the forecast origin (time on axis 0). The simple ones also forecast
each column of a 2-D history.

* `naive`: the last value, repeated.
* `seasonal_naive`: the value one season (``m`` steps) earlier.
* `drift`: the line through the first and last values, extended.
* `auto_ets`, `auto_theta`: statsforecast's ``AutoETS`` / ``AutoTheta`` (optional
  dependency ``statsforecast``).
* `ets_statsmodels`, `theta_statsmodels`: the same ideas with statsmodels
  (optional extra ``lstmkit[data]``): exponential smoothing chosen by AICc among a
  few additive/multiplicative forms, and the Theta method.

`baseline_methods` gathers what is installed into a ``{name: f}`` dict for
`lstmkit.evaluate.backtest`.

>>> naive([1.0, 2.0, 3.0], 2), drift([1.0, 2.0, 3.0], 2)
(array([3., 3.]), array([4., 5.]))
>>> seasonal_naive([1.0, 2.0, 3.0, 10.0, 20.0, 30.0], 4, m=3)
array([10., 20., 30., 10.])
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from functools import partial

import numpy as np
from numpy.typing import ArrayLike

from lstmkit.errors import ConfigError, DataError

__all__ = [
    "naive",
    "seasonal_naive",
    "drift",
    "auto_ets",
    "auto_theta",
    "ets_statsmodels",
    "theta_statsmodels",
    "has_statsforecast",
    "has_statsmodels",
    "baseline_methods",
]

Method = Callable[[np.ndarray, int], np.ndarray]


def _history(history, horizon: int, min_length: int = 1, univariate: bool = False) -> np.ndarray:
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ConfigError(f"horizon must be a positive integer, got {horizon!r}")
    y = np.asarray(history, dtype=np.float64)
    if y.ndim not in (1, 2) or (univariate and y.ndim != 1):
        raise DataError(f"history must be {'1-D' if univariate else '1-D or 2-D (time, columns)'}, got shape {y.shape}")
    if len(y) < min_length:
        raise DataError(f"history has {len(y)} values; this forecast needs at least {min_length}")
    bad = np.argwhere(~np.isfinite(y))
    if len(bad):
        raise DataError(f"history is {y[tuple(bad[0])]} at index {tuple(int(i) for i in bad[0])}")
    return y


def naive(history: ArrayLike, horizon: int) -> np.ndarray:
    """The last observed value for every step ahead.

    Shape:
        history: (T,) or (T, C) -> Returns (H,) or (H, C)

    >>> naive([4.0, 7.0], 3)
    array([7., 7., 7.])
    """
    y = _history(history, horizon)
    return np.repeat(y[-1:], horizon, axis=0)


def seasonal_naive(history: ArrayLike, horizon: int, m: int) -> np.ndarray:
    """The value one season earlier: ``f[h] = y[T - m + (h mod m)]`` (h = 0 .. H-1).

    Args:
        history: at least ``m`` values.
        horizon: steps ahead ``H``.
        m: seasonal period (``m = 1`` is `naive`).

    Shape:
        history: (T,) or (T, C) -> Returns (H,) or (H, C)

    >>> seasonal_naive([1.0, 2.0, 5.0, 6.0], 3, m=2)
    array([5., 6., 5.])
    """
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise ConfigError(f"seasonal period m must be a positive integer, got {m!r}")
    y = _history(history, horizon, min_length=m)
    last_season = y[len(y) - m :]
    return last_season[np.arange(horizon) % m]


def drift(history: ArrayLike, horizon: int) -> np.ndarray:
    """The last value plus ``h`` times the average step ``(y[T-1] - y[0]) / (T - 1)``.

    With a single value, the average step is 0 (the naive forecast).

    Shape:
        history: (T,) or (T, C) -> Returns (H,) or (H, C)

    >>> drift([1.0, 4.0], 2)
    array([ 7., 10.])
    """
    y = _history(history, horizon)
    slope = (y[-1] - y[0]) / (len(y) - 1) if len(y) > 1 else np.zeros_like(y[0])
    steps = np.arange(1, horizon + 1, dtype=np.float64).reshape((horizon,) + (1,) * (y.ndim - 1))
    return y[-1] + steps * slope


def has_statsforecast() -> bool:
    """Whether the optional ``statsforecast`` package can be imported."""
    return importlib.util.find_spec("statsforecast") is not None


def has_statsmodels() -> bool:
    """Whether the optional ``statsmodels`` package (extra ``lstmkit[data]``) can be imported."""
    return importlib.util.find_spec("statsmodels") is not None


def _need(package: str, available: bool, install: str) -> None:
    if not available:
        raise ImportError(f"this baseline needs the optional package {package!r}: pip install {install}")


def auto_ets(history: ArrayLike, horizon: int, m: int = 1) -> np.ndarray:
    """statsforecast's ``AutoETS(season_length=m)`` point forecast.

    Shape:
        history: (T,) -> Returns (H,)

    Raises:
        ImportError: statsforecast is not installed.
    """
    _need("statsforecast", has_statsforecast(), "statsforecast")
    from statsforecast.models import AutoETS

    y = _history(history, horizon, min_length=2, univariate=True)
    return np.asarray(AutoETS(season_length=m).forecast(y=y, h=horizon)["mean"], dtype=np.float64)


def auto_theta(history: ArrayLike, horizon: int, m: int = 1) -> np.ndarray:
    """statsforecast's ``AutoTheta(season_length=m)`` point forecast.

    Shape:
        history: (T,) -> Returns (H,)

    Raises:
        ImportError: statsforecast is not installed.
    """
    _need("statsforecast", has_statsforecast(), "statsforecast")
    from statsforecast.models import AutoTheta

    y = _history(history, horizon, min_length=2, univariate=True)
    return np.asarray(AutoTheta(season_length=m).forecast(y=y, h=horizon)["mean"], dtype=np.float64)


def ets_statsmodels(history: ArrayLike, horizon: int, m: int = 1) -> np.ndarray:
    """Exponential smoothing (statsmodels ``ExponentialSmoothing``), form chosen by AICc.

    Candidates: no trend or an additive damped trend, times no season, an additive
    season or (for positive series) a multiplicative one. Seasons are only tried
    with ``m > 1`` and at least two full seasons plus two values of history. Up to
    six fits: about half a second for 120 monthly values. A constant history is
    forecast as that constant.

    Shape:
        history: (T,) with T >= 3 -> Returns (H,)

    Raises:
        ImportError: statsmodels is not installed (``pip install lstmkit[data]``).

    >>> ets_statsmodels([10.0, 12.0, 11.0, 13.0, 12.0, 14.0], 2).shape
    (2,)
    """
    _need("statsmodels", has_statsmodels(), "'lstmkit[data]'")
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    y = _history(history, horizon, min_length=3, univariate=True)
    if np.ptp(y) == 0:
        return np.full(horizon, y[-1])  # a constant series: statsmodels' likelihood degenerates
    seasonal: list[str | None] = [None]
    if m > 1 and len(y) >= 2 * m + 2:
        seasonal += ["add", "mul"] if np.all(y > 0) else ["add"]
    # statsmodels' heuristic start values are ~3x faster than estimating them; it needs 10 values
    # and two full seasons. One choice for all candidates keeps their AICc comparable.
    init = "heuristic" if len(y) >= max(10, 2 * m) else "estimated"
    best, best_aicc = None, np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short series
        for season in seasonal:
            for trend in (None, "add"):
                model = ExponentialSmoothing(
                    y,
                    trend=trend,
                    damped_trend=trend is not None,
                    seasonal=season,
                    seasonal_periods=m if season else None,
                    initialization_method=init,
                )
                fit = model.fit()
                aicc = fit.aicc if np.isfinite(fit.aicc) else np.inf
                if best is None or aicc < best_aicc:
                    best, best_aicc = fit, aicc
    assert best is not None  # the first candidate always becomes the best so far
    return np.asarray(best.forecast(horizon), dtype=np.float64)


def theta_statsmodels(history: ArrayLike, horizon: int, m: int = 1) -> np.ndarray:
    """The Theta method (statsmodels ``ThetaModel``), deseasonalised when ``m > 1``
    and there are at least two full seasons; a constant history gives that constant.

    Shape:
        history: (T,) with T >= 3 -> Returns (H,)

    Raises:
        ImportError: statsmodels is not installed (``pip install lstmkit[data]``).

    >>> theta_statsmodels([10.0, 12.0, 11.0, 13.0, 12.0, 14.0], 2).shape
    (2,)
    """
    _need("statsmodels", has_statsmodels(), "'lstmkit[data]'")
    from statsmodels.tsa.forecasting.theta import ThetaModel

    y = _history(history, horizon, min_length=3, univariate=True)
    if np.ptp(y) == 0:
        return np.full(horizon, y[-1])  # a constant series: statsmodels' likelihood degenerates
    deseasonalize = m > 1 and len(y) >= 2 * m
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ThetaModel(y, period=m if deseasonalize else 1, deseasonalize=deseasonalize).fit()
        return np.asarray(fit.forecast(horizon), dtype=np.float64)


def baseline_methods(m: int = 1, statistical: bool = True) -> dict[str, Method]:
    """The installed baselines as ``{name: f(history, horizon)}``, simplest first.

    Always ``naive``, ``seasonal_naive`` (when ``m > 1``) and ``drift``. With
    ``statistical``: ``AutoETS`` and ``AutoTheta`` from statsforecast when it is
    installed, otherwise ``ETS (statsmodels)`` and ``Theta (statsmodels)`` when
    statsmodels is, otherwise nothing more.

    Args:
        m: seasonal period for the seasonal methods.
        statistical: include the fitted statistical models (slower).

    >>> list(baseline_methods(m=12, statistical=False))
    ['naive', 'seasonal_naive', 'drift']
    """
    methods: dict[str, Method] = {"naive": naive}
    if m > 1:
        methods["seasonal_naive"] = partial(seasonal_naive, m=m)
    methods["drift"] = drift
    if statistical and has_statsforecast():
        methods["AutoETS"] = partial(auto_ets, m=m)
        methods["AutoTheta"] = partial(auto_theta, m=m)
    elif statistical and has_statsmodels():
        methods["ETS (statsmodels)"] = partial(ets_statsmodels, m=m)
        methods["Theta (statsmodels)"] = partial(theta_statsmodels, m=m)
    return methods
