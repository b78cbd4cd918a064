"""Integrated Gradients: completeness (attributions add up to f(x) - f(baseline))."""

import pytest
import torch

from lstmkit.explain import captum_available, classifier_attributions, forecast_attributions, integrated_gradients
from lstmkit.models import ClassifierNet, ClassifierNetConfig, ForecastNet, ForecastNetConfig

BACKENDS = [
    "builtin",
    pytest.param(
        "captum", marks=pytest.mark.skipif(not captum_available(), reason="captum is not installed (optional extra)")
    ),
]


def _forecaster():
    torch.manual_seed(0)
    net = ForecastNet(ForecastNetConfig(n_past=1, n_future=1, horizon=3, hidden_size=6)).double().eval()
    past = torch.randn(2, 7, 3, dtype=torch.float64)
    future = torch.randn(2, 3, 1, dtype=torch.float64)
    return net, past, future


def _classifier():
    torch.manual_seed(0)
    config = ClassifierNetConfig(n_classes=3, n_features=2, hidden_size=5, num_layers=2, dropout=0.1)
    net = ClassifierNet(config).double().eval()
    x = torch.randn(3, 6, 2, dtype=torch.float64)
    return net, x, torch.tensor([6, 4, 2])


def test_exact_for_a_quadratic():
    # the trapezoid rule integrates the linear gradient of a quadratic exactly
    w = torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64)
    x = torch.tensor([[1.0, 3.0, -2.0]], dtype=torch.float64)
    ig = integrated_gradients(lambda v: (v**2) @ w, x, n_steps=2, backend="builtin")
    torch.testing.assert_close(ig, x**2 * w)


@pytest.mark.parametrize("backend", BACKENDS)
def test_forecaster_completeness(backend):
    net, past, future = _forecaster()
    ig = forecast_attributions(net, past, future, step=2, quantile=0, n_steps=32, backend=backend)
    assert ig.shape == past.shape
    with torch.no_grad():
        gap = net(past, future)[:, 2, 0, 0] - net(torch.zeros_like(past), future)[:, 2, 0, 0]
    torch.testing.assert_close(ig.sum(dim=(1, 2)), gap, atol=1e-5, rtol=1e-3)
    assert ig.abs().sum() > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_classifier_completeness_and_padding(backend):
    net, x, lengths = _classifier()
    ig = classifier_attributions(net, x, lengths, n_steps=32, backend=backend)
    with torch.no_grad():
        target = net(x, lengths).argmax(-1, keepdim=True)
        gap = (net(x, lengths) - net(torch.zeros_like(x), lengths)).gather(1, target).squeeze(1)
    torch.testing.assert_close(ig.sum(dim=(1, 2)), gap, atol=1e-5, rtol=1e-3)
    # steps past a sequence's end are never read: no attribution
    assert ig[1, 4:].abs().max() == 0 and ig[2, 2:].abs().max() == 0


@pytest.mark.skipif(not captum_available(), reason="captum is not installed (optional extra)")
def test_captum_and_builtin_agree():
    net, x, lengths = _classifier()
    a = classifier_attributions(net, x, lengths, target=1, n_steps=48, backend="builtin")
    b = classifier_attributions(net, x, lengths, target=torch.tensor([1, 1, 1]), n_steps=48, backend="captum")
    torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-2)


def test_arguments_are_checked():
    net, x, lengths = _classifier()
    with pytest.raises(ValueError, match="training mode"):
        classifier_attributions(net.train(), x, lengths)
    net.eval()
    with pytest.raises(ValueError, match="target must be class indices"):
        classifier_attributions(net, x, lengths, target=3)
    with pytest.raises(ValueError, match="n_steps"):
        integrated_gradients(lambda v: v.sum(1), x[:, :, 0], n_steps=1)
    with pytest.raises(ValueError, match="one scalar per sample"):
        integrated_gradients(lambda v: v, x, backend="builtin")
    with pytest.raises(ValueError, match="backend"):
        integrated_gradients(lambda v: v.sum(1), x[:, :, 0], backend="shap")
    fnet, past, future = _forecaster()
    with pytest.raises(ValueError, match="step must be in"):
        forecast_attributions(fnet, past, future, step=3)
    tokens = ClassifierNet(ClassifierNetConfig(n_classes=2, vocab_size=10, hidden_size=4)).eval()
    with pytest.raises(ValueError, match="token ids"):
        classifier_attributions(tokens, torch.randn(1, 3, 4))
