"""`LSTMAutoencoder`: shapes, the reversed decoding stepped by hand, and that it learns."""

import pytest
import torch

from lstmkit.models import LSTMAutoencoder, LSTMAutoencoderConfig


def test_shape_and_bad_config():
    net = LSTMAutoencoder(LSTMAutoencoderConfig(n_features=3, hidden_size=5))
    B, W, F = 2, 7, 3  # batch, window, features
    assert net(torch.randn(B, W, F)).shape == (B, W, F)
    with pytest.raises(ValueError, match="expects 3 features, got 2"):
        net(torch.randn(B, W, 2))
    with pytest.raises(ValueError, match="hidden_size must be a positive integer, got 0"):
        LSTMAutoencoderConfig(hidden_size=0)


def test_decoder_stepped_by_hand_reconstructs_newest_step_first():
    torch.manual_seed(0)
    net = LSTMAutoencoder(LSTMAutoencoderConfig(n_features=2, hidden_size=4))
    x = torch.randn(3, 5, 2)
    _, state = net.encoder(x)
    step = torch.zeros(3, 1, 2)
    by_hand = []
    for _ in range(5):
        out, state = net.decoder(step, state)
        step = net.head(out)
        by_hand.append(step[:, 0])
    out = net(x)
    for k, expected in enumerate(by_hand):  # decoded step k reconstructs time step W - 1 - k
        torch.testing.assert_close(out[:, 4 - k], expected)


def test_output_depends_on_input_only_through_the_encoder_state():
    torch.manual_seed(0)
    net = LSTMAutoencoder(LSTMAutoencoderConfig(n_features=1, hidden_size=4))
    x = torch.randn(2, 6, 1, dtype=torch.float64, requires_grad=True)
    net = net.double()
    net(x).sum().backward()
    assert x.grad.abs().min() > 0  # every input step reaches the reconstruction
    assert torch.autograd.gradcheck(lambda t: net(t), (x.detach().requires_grad_(),))


def test_learns_to_reconstruct_sine_windows():
    torch.manual_seed(0)
    t = torch.arange(200.0)
    series = torch.sin(t / 4)
    x = series.unfold(0, 8, 4).unsqueeze(-1)  # (N, 8, 1)
    net = LSTMAutoencoder(LSTMAutoencoderConfig(n_features=1, hidden_size=16))
    opt = torch.optim.Adam(net.parameters(), lr=2e-2)
    first = None
    for _ in range(60):
        loss = ((net(x) - x) ** 2).mean()
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.2 * first
