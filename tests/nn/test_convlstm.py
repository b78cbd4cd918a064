"""ConvLSTM: the cell by hand, the layer against the cell stepped by hand, 1x1 kernels against LSTM."""

import pytest
import torch
import torch.nn.functional as F

from lstmkit.nn import LSTM, ConvLSTM2d, ConvLSTMCell2d


def _randomise(module):
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "weight_ch" in name or name.endswith("bias"):
                p.uniform_(-0.5, 0.5)
    return module


@pytest.mark.parametrize("peephole", [False, True])
def test_cell_equations_gate_by_gate(peephole):
    torch.manual_seed(0)
    cell = _randomise(ConvLSTMCell2d(2, 3, kernel_size=(3, 1), peephole=peephole, frame_size=(5, 4)))
    x, h, c = torch.randn(2, 2, 5, 4), torch.randn(2, 3, 5, 4), torch.randn(2, 3, 5, 4)
    Wx, Wh, b = cell.weight_ih.chunk(4), cell.weight_hh.chunk(4), cell.bias.chunk(4)
    conv = lambda k: F.conv2d(x, Wx[k], b[k], padding=(1, 0)) + F.conv2d(h, Wh[k], padding=(1, 0))
    a_i, a_f, a_g, a_o = (conv(k) for k in range(4))
    with torch.no_grad():
        if peephole:  # one weight per unit: Hadamard products with the cell state
            a_i, a_f = a_i + cell.weight_ch[0] * c, a_f + cell.weight_ch[1] * c
        c_new = torch.sigmoid(a_f) * c + torch.sigmoid(a_i) * torch.tanh(a_g)
        if peephole:
            a_o = a_o + cell.weight_ch[2] * c_new
        h_new = torch.sigmoid(a_o) * torch.tanh(c_new)
        out, (h_out, c_out) = cell(x, (h, c))
    torch.testing.assert_close(c_out, c_new)
    torch.testing.assert_close(h_out, h_new)


def test_one_by_one_kernels_are_an_lstm_at_every_pixel():
    torch.manual_seed(1)
    conv = ConvLSTM2d(3, 4, kernel_size=1)
    lstm = LSTM(3, 4, backend="reference")
    cell = conv.cells[0]
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(cell.weight_ih[:, :, 0, 0])
        lstm.weight_hh_l0.copy_(cell.weight_hh[:, :, 0, 0])
        lstm.bias_ih_l0.copy_(cell.bias)
        lstm.bias_hh_l0.zero_()
    x = torch.randn(2, 6, 3, 2, 2)  # (B, T, C, H, W)
    out, (h, c) = conv(x, lengths=[6, 4])
    pixels = x.permute(0, 3, 4, 1, 2).reshape(8, 6, 3)  # every pixel its own sequence
    ref, (h_ref, c_ref) = lstm(pixels, lengths=[6] * 4 + [4] * 4)
    torch.testing.assert_close(out.permute(0, 3, 4, 1, 2).reshape(8, 6, 4), ref)
    torch.testing.assert_close(h[0].permute(0, 2, 3, 1).reshape(8, 4), h_ref[0])
    torch.testing.assert_close(c[0].permute(0, 2, 3, 1).reshape(8, 4), c_ref[0])


def _step_by_hand(layer, x, lengths, state):
    """Each sample alone, each frame by hand with the layer's cells."""
    B, T = x.shape[:2]
    D = layer.num_directions
    layer_input, finals = x, []
    for k in range(layer.num_layers):
        out = torch.zeros(B, T, D * layer.hidden_channels, *x.shape[-2:])
        for d in range(D):
            cell = layer.cells[k * D + d]
            h_all, c_all = [], []
            for b in range(B):
                s = (state[0][k * D + d, b : b + 1], state[1][k * D + d, b : b + 1])
                steps = range(int(lengths[b]) - 1, -1, -1) if d == 1 else range(int(lengths[b]))
                for t in steps:
                    y, s = cell(layer_input[b : b + 1, t], s)
                    out[b, t, d * layer.hidden_channels : (d + 1) * layer.hidden_channels] = y[0]
                h_all.append(s[0])
                c_all.append(s[1])
            finals.append((torch.cat(h_all), torch.cat(c_all)))
        layer_input = out
    return layer_input, tuple(torch.stack(parts) for parts in zip(*finals))


@pytest.mark.parametrize(
    "options",
    [
        {"num_layers": 2},
        {"bidirectional": True, "peephole": True, "frame_size": (4, 3)},
        {"num_layers": 2, "bidirectional": True, "kernel_size": (1, 3)},
    ],
)
def test_layer_equals_cells_stepped_by_hand(options):
    torch.manual_seed(2)
    layer = _randomise(ConvLSTM2d(2, 3, **{"kernel_size": 3, **options}))
    rows = layer.num_layers * layer.num_directions
    x = torch.randn(3, 4, 2, 4, 3)
    state = (torch.randn(rows, 3, 3, 4, 3), torch.randn(rows, 3, 3, 4, 3))
    lengths = torch.tensor([4, 1, 3])
    with torch.no_grad():
        expected, (h_ref, c_ref) = _step_by_hand(layer, x, lengths, state)
        out, (h, c) = layer(x, state, lengths=lengths)
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(h, h_ref, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(c, c_ref, atol=1e-6, rtol=1e-5)
    assert out[1, 1:].abs().sum() == 0  # padded frames output zeros


def test_time_major_layout_and_returned_state_continue_the_sequence():
    torch.manual_seed(3)
    layer = ConvLSTM2d(1, 2, batch_first=False)
    x = torch.randn(6, 2, 1, 3, 3)  # (T, B, C, H, W)
    whole, (h_whole, _) = layer(x)
    first, state = layer(x[:3])
    second, (h, _) = layer(x[3:], state)
    torch.testing.assert_close(torch.cat([first, second]), whole)
    torch.testing.assert_close(h, h_whole)


def test_convlstm_gradcheck():
    torch.manual_seed(4)
    layer = _randomise(ConvLSTM2d(1, 2, kernel_size=3, bidirectional=True, peephole=True, frame_size=(3, 3))).double()
    x = torch.randn(2, 3, 1, 3, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 2, 2, 3, 3, dtype=torch.float64, requires_grad=True)

    def run(x, h0):
        out, (h, c) = layer(x, (h0, torch.zeros_like(h0)), lengths=[3, 2])
        return out, h, c

    assert torch.autograd.gradcheck(run, (x, h0))


def test_convlstm_errors_say_what_was_expected():
    with pytest.raises(ValueError, match="peephole=True needs frame_size"):
        ConvLSTM2d(1, 2, peephole=True)
    with pytest.raises(ValueError, match="kernel_size must be a positive integer or a pair of them, got 0"):
        ConvLSTM2d(1, 2, kernel_size=0)
    layer = ConvLSTM2d(2, 3, peephole=True, frame_size=(4, 4))
    with pytest.raises(
        ValueError, match=r"expects a 5-D input \(batch, time, channels, height, width\), got shape \(2, 4, 4\)"
    ):
        layer(torch.randn(2, 4, 4))
    with pytest.raises(ValueError, match=r"x must have 2 channels, got shape \(1, 3, 1, 4, 4\)"):
        layer(torch.randn(1, 3, 1, 4, 4))
    with pytest.raises(ValueError, match=r"x frames must be \(4, 4\) \(the peepholes' frame_size\), got \(5, 4\)"):
        layer(torch.randn(1, 3, 2, 5, 4))
    with pytest.raises(ValueError, match=r"lengths must be in \[1, 3\] .* got \[4\]"):
        layer(torch.randn(1, 3, 2, 4, 4), lengths=[4])
    with pytest.raises(ValueError, match=r"state must be \(h_0, c_0\), each of shape \(1, 1, 3, 4, 4\)"):
        layer(torch.randn(1, 3, 2, 4, 4), (torch.zeros(1, 1, 3, 4, 4),))
