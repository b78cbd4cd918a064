"""Which time steps and input features an output owes its value to: Integrated Gradients.

Integrated Gradients (Sundararajan et al. 2017) averages the gradient of one output
along the straight path from a baseline ``x'`` (zeros by default) to the input ``x``
and multiplies by ``x - x'``::

    IG_j(x) = (x_j - x'_j) * ∫_0^1 ∂f(x' + α (x - x')) / ∂x_j dα

The builtin backend sums the integral with the trapezoid rule over ``n_steps``
points, so the attributions add up to ``f(x) - f(x')`` (the completeness axiom) up
to the quadrature error. The captum backend (``pip install captum``) uses captum's
Gauss-Legendre rule: captum's own ``"riemann_trapezoid"`` weighs the steps by
``1/n`` instead of ``1/(n-1)`` (captum 0.9, ``approximation_methods.step_sizes``),
which shrinks every attribution by ``(n-1)/n`` and breaks completeness.

Gradients with respect to the input go through the LSTM's backward pass: on a GPU,
cuDNN computes it only in training mode, so attribute on the CPU (or with a layer
built with ``backend="sequence"``/``"reference"``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from lstmkit.models.classifier import ClassifierNet
from lstmkit.models.forecaster import ForecastNet

__all__ = [
    "integrated_gradients",
    "forecast_attributions",
    "classifier_attributions",
    "captum_available",
    "IG_BACKENDS",
]

IG_BACKENDS = ("auto", "captum", "builtin")


def captum_available() -> bool:
    """Whether captum can be imported (the optional ``explain`` extra)."""
    try:
        import captum.attr  # noqa: F401  (imported to see whether it can be)
    except ImportError:
        return False
    return True


def integrated_gradients(
    forward: Callable[..., Tensor],
    x: Tensor,
    *,
    baseline: Tensor | None = None,
    n_steps: int = 50,
    extra_args: Sequence = (),
    backend: str = "auto",
) -> Tensor:
    """Integrated Gradients of a scalar-per-sample function over ``n_steps`` points on the path.

    Args:
        forward: ``forward(x, *extra_args) -> (N,)``, one scalar per sample (select the
            output to explain inside it). It is called on ``n_steps`` copies of the
            batch at once.
        x: the inputs to attribute to.
        baseline: the reference input ``x'``, same shape as ``x``; None for zeros.
        n_steps: points on the path, at least 2.
        extra_args: further arguments of ``forward``; tensors whose first dimension is
            the batch are repeated for every point (like captum's
            ``additional_forward_args``), anything else is passed as is.
        backend: ``"captum"`` (Gauss-Legendre), ``"builtin"`` (trapezoid), or
            ``"auto"`` (captum when installed).

    Shape:
        x, baseline, returned attributions: ``(B, *)``, e.g. ``(B, T, F)``.

    Returns:
        The attributions, shaped like ``x``; their sum over all but the batch dimension
        approximates ``forward(x) - forward(baseline)``.

    >>> w = torch.tensor([2.0, -1.0])
    >>> ig = integrated_gradients(lambda x: (x ** 2 @ w), torch.tensor([[1.0, 3.0]]), backend="builtin")
    >>> [round(v, 3) for v in ig[0].tolist()]  # exact for a quadratic: x_j^2 w_j
    [2.0, -9.0]
    """
    if backend not in IG_BACKENDS:
        raise ValueError(f"backend must be one of {IG_BACKENDS}, got {backend!r}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 2:
        raise ValueError(f"n_steps must be an integer >= 2, got {n_steps!r}")
    if not isinstance(x, Tensor) or not x.dtype.is_floating_point or x.dim() < 1:
        raise ValueError(f"x must be a floating-point tensor with a batch dimension, got {x!r:.80}")
    baseline = torch.zeros_like(x) if baseline is None else baseline
    if baseline.shape != x.shape:
        raise ValueError(f"baseline must have the shape of x {tuple(x.shape)}, got {tuple(baseline.shape)}")
    extra_args = tuple(extra_args)
    B = x.shape[0]  # batch
    with torch.no_grad():
        out = forward(x, *extra_args)
    if out.shape not in ((B,), (B, 1)):
        raise ValueError(
            f"forward must return one scalar per sample, shape ({B},), got {tuple(out.shape)}; "
            "select the output to explain inside it"
        )
    if backend == "captum" or (backend == "auto" and captum_available()):
        from captum.attr import IntegratedGradients

        return (
            IntegratedGradients(lambda *a: forward(*a).reshape(-1))
            .attribute(
                x,
                baselines=baseline,
                additional_forward_args=extra_args or None,
                n_steps=n_steps,
                method="gausslegendre",
            )
            .detach()
        )
    return _builtin(forward, x, baseline, n_steps, extra_args)


def _builtin(forward, x: Tensor, baseline: Tensor, n_steps: int, extra_args: tuple) -> Tensor:
    B = x.shape[0]  # batch
    alphas = torch.linspace(0.0, 1.0, n_steps, dtype=x.dtype, device=x.device)
    weights = torch.full((n_steps,), 1.0 / (n_steps - 1), dtype=x.dtype, device=x.device)
    weights[[0, -1]] /= 2  # trapezoid: the end points count half
    shape = (n_steps,) + (1,) * x.dim()
    # step-major: the whole batch at alpha_0, then at alpha_1, ... (captum's layout)
    path = (baseline + alphas.view(shape) * (x - baseline)).reshape(n_steps * B, *x.shape[1:])
    path.requires_grad_(True)
    extra = tuple(_tile(a, B, n_steps) for a in extra_args)
    with torch.enable_grad():
        out = forward(path, *extra).reshape(-1)
        (grads,) = torch.autograd.grad(out.sum(), path)
    mean_grad = (grads.view(n_steps, *x.shape) * weights.view(shape)).sum(0)
    return ((x - baseline) * mean_grad).detach()


def _tile(arg, B: int, n_steps: int):
    """A per-sample tensor argument, once for every point on the path; anything else as is."""
    if isinstance(arg, Tensor) and arg.dim() and arg.shape[0] == B:
        return arg.repeat(n_steps, *([1] * (arg.dim() - 1)))
    return arg


def _check_eval(net: nn.Module) -> None:
    if net.training:
        raise ValueError(
            f"{type(net).__name__} is in training mode (dropout makes attributions random); call .eval() first"
        )


def forecast_attributions(
    net: ForecastNet,
    past: Tensor,
    future: Tensor | None = None,
    *,
    step: int = 0,
    target: int = 0,
    quantile: int | None = None,
    n_steps: int = 50,
    backend: str = "auto",
) -> Tensor:
    """Integrated Gradients of one forecast value over the lookback window.

    Explains ``net(past, future)[:, step, target, quantile]``; future covariates are
    held fixed (they are inputs, not attributed).

    Args:
        net: a `ForecastNet` in eval mode.
        past: the lookback window, as the net takes it.
        future: future covariates, as the net takes it, or None.
        step: the horizon step explained, in ``[0, horizon)``.
        target: the target series explained, in ``[0, n_targets)``.
        quantile: index of the quantile explained; None for the point forecast.
        n_steps, backend: see `integrated_gradients`.

    Shape:
        past: ``(B, L, n_inputs)``; returns ``(B, L, n_inputs)``.

    >>> from lstmkit.models import ForecastNetConfig
    >>> net = ForecastNet(ForecastNetConfig(horizon=2, hidden_size=4)).eval()
    >>> tuple(forecast_attributions(net, torch.randn(3, 8, 1), step=1, n_steps=4).shape)
    (3, 8, 1)
    """
    _check_eval(net)
    c = net.config
    for name, value, size in (("step", step, c.horizon), ("target", target, c.n_targets)):
        if not 0 <= value < size:
            raise ValueError(f"{name} must be in [0, {size}), got {value}")
    q = c.point_index if quantile is None else quantile
    if not 0 <= q < len(c.quantiles):
        raise ValueError(f"quantile must be an index in [0, {len(c.quantiles)}) into {c.quantiles}, got {quantile}")
    forward = lambda p, *f: net(p, *f)[:, step, target, q]
    return integrated_gradients(
        forward, past, n_steps=n_steps, extra_args=() if future is None else (future,), backend=backend
    )


def classifier_attributions(
    net: ClassifierNet,
    x: Tensor,
    lengths: Tensor | None = None,
    *,
    target: int | Tensor | None = None,
    n_steps: int = 50,
    backend: str = "auto",
) -> Tensor:
    """Integrated Gradients of one class logit over the time steps and features of ``x``.

    Steps past a sequence's length get zero attribution: the net does not read them.

    Args:
        net: a `ClassifierNet` on numeric input (``n_features > 0``), in eval mode.
        x: the sequences, as the net takes them.
        lengths: real lengths, as the net takes them, or None.
        target: the class explained: an index for every sample, a ``(B,)`` tensor of
            indices, or None for each sample's predicted class.
        n_steps, backend: see `integrated_gradients`.

    Shape:
        x: ``(B, T, n_features)``; returns ``(B, T, n_features)``.

    >>> from lstmkit.models import ClassifierNetConfig
    >>> net = ClassifierNet(ClassifierNetConfig(n_classes=3, n_features=2, hidden_size=4)).eval()
    >>> tuple(classifier_attributions(net, torch.randn(2, 5, 2), n_steps=4).shape)
    (2, 5, 2)
    """
    _check_eval(net)
    c = net.config
    if c.vocab_size:
        raise ValueError(
            "classifier_attributions explains numeric inputs (n_features > 0); this ClassifierNet reads "
            f"token ids (vocab_size={c.vocab_size}), which have no gradient"
        )
    B = x.shape[0]  # batch
    if target is None:
        with torch.no_grad():
            target = net(x, lengths).argmax(-1)
    target = torch.as_tensor(target, device=x.device).long()
    target = target.expand(B) if target.dim() == 0 else target
    if target.shape != (B,) or not bool(((0 <= target) & (target < c.n_classes)).all()):
        raise ValueError(
            f"target must be class indices in [0, {c.n_classes}), one for all or one per sample ({B}), "
            f"got {target.tolist()}"
        )
    if lengths is None:
        lengths = torch.full((B,), x.shape[1], dtype=torch.int64)
    lengths = torch.as_tensor(lengths)

    def forward(inputs: Tensor, lengths: Tensor, target: Tensor) -> Tensor:
        return net(inputs, lengths).gather(1, target.view(-1, 1).to(inputs.device)).squeeze(1)

    return integrated_gradients(forward, x, n_steps=n_steps, extra_args=(lengths, target), backend=backend)
