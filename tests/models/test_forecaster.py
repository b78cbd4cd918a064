"""ForecastNet: head layout, the recursive strategy, the quantile loss."""

import pytest
import torch

from lstmkit.models import ForecastNet, ForecastNetConfig, quantile_loss


def test_pinball_loss_by_hand():
    pred = torch.tensor([[1.0, 2.0, 3.0]])
    target = torch.tensor([2.5])
    q = torch.tensor([0.1, 0.5, 0.9])
    # errors 1.5, 0.5, -0.5 -> 0.1*1.5, 0.5*0.5, 0.1*0.5
    expected = (0.15 + 0.25 + 0.05) / 3
    assert quantile_loss(pred, target, q).item() == pytest.approx(expected)


def test_direct_head_uses_future_covariates():
    torch.manual_seed(0)
    net = ForecastNet(ForecastNetConfig(n_future=2, horizon=3, hidden_size=8))
    past = torch.randn(4, 10, 3)
    future = torch.randn(4, 3, 2)
    out = net(past, future)
    assert out.shape == (4, 3, 1, 3)
    changed = future.clone()
    changed[:, 2] += 1.0
    assert not torch.allclose(net(past, changed), out)
    with pytest.raises(ValueError, match=r"future covariates of shape \(4, 3, 2\), got None"):
        net(past)


def test_recursive_teacher_forcing_equals_free_running_on_its_own_medians():
    torch.manual_seed(1)
    config = ForecastNetConfig(n_future=1, horizon=5, hidden_size=8, strategy="recursive")
    net = ForecastNet(config)
    past, future = torch.randn(3, 7, 2), torch.randn(3, 5, 1)
    net.eval()
    free = net(past, future)
    net.train()  # no dropout here, so training mode only switches on teacher forcing
    forced = net(past, future, teacher=free[..., config.point_index])
    torch.testing.assert_close(forced, free, atol=1e-6, rtol=1e-5)


def test_config_checks():
    with pytest.raises(ValueError, match="recursive strategy needs every input in the future"):
        ForecastNetConfig(n_past=1, strategy="recursive")
    with pytest.raises(ValueError, match="quantiles must be distinct, ascending"):
        ForecastNetConfig(quantiles=(0.9, 0.1))
    assert ForecastNetConfig(quantiles=(0.05, 0.5, 0.95)).point_index == 1


def test_direct_net_learns_a_sine():
    torch.manual_seed(2)
    t = torch.arange(400.0)
    series = torch.sin(2 * torch.pi * t / 20)
    L, H = 30, 5
    idx = torch.arange(0, 400 - L - H)
    past = torch.stack([series[i : i + L] for i in idx]).unsqueeze(-1)
    target = torch.stack([series[i + L : i + L + H] for i in idx]).unsqueeze(-1)
    net = ForecastNet(ForecastNetConfig(horizon=H, hidden_size=16, quantiles=(0.5,)))
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(150):
        opt.zero_grad()
        loss = quantile_loss(net(past), target, net.quantile_levels)
        loss.backward()
        opt.step()
    assert loss.item() < 0.05  # the naive forecast's mean |error| here is about 0.6
