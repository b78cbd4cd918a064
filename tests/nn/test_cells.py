"""Cells: the equations against torch's cells and against numbers worked out by hand."""

import math

import pytest
import torch

from lstmkit.nn import GRUCell, LSTMCell, RNNCell


def _copy(dst, src):
    dst.load_state_dict(src.state_dict())
    return dst


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_cell_matches_torch(bias):
    torch.manual_seed(0)
    ref = torch.nn.LSTMCell(3, 5, bias=bias)
    cell = _copy(LSTMCell(3, 5, bias=bias), ref)
    x, h, c = torch.randn(4, 3), torch.randn(4, 5), torch.randn(4, 5)
    h_ref, c_ref = ref(x, (h, c))
    out, (h_new, c_new) = cell(x, (h, c))
    torch.testing.assert_close(h_new, h_ref)
    torch.testing.assert_close(c_new, c_ref)
    torch.testing.assert_close(out, h_new)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_cell_equations(reset_after):
    torch.manual_seed(1)
    ref = torch.nn.GRUCell(3, 4)
    cell = _copy(GRUCell(3, 4, reset_after=reset_after), ref)
    x, h = torch.randn(2, 3), torch.randn(2, 4)
    out, _ = cell(x, h)
    if reset_after:  # PyTorch's formulation
        torch.testing.assert_close(out, ref(x, h))
    else:  # original Cho et al.: the reset gate multiplies h before W_hn
        W_ir, W_iz, W_in = cell.weight_ih.chunk(3)
        W_hr, W_hz, W_hn = cell.weight_hh.chunk(3)
        b_ir, b_iz, b_in = cell.bias_ih.chunk(3)
        b_hr, b_hz, b_hn = cell.bias_hh.chunk(3)
        r = torch.sigmoid(x @ W_ir.T + b_ir + h @ W_hr.T + b_hr)
        z = torch.sigmoid(x @ W_iz.T + b_iz + h @ W_hz.T + b_hz)
        n = torch.tanh(x @ W_in.T + b_in + (r * h) @ W_hn.T + b_hn)
        torch.testing.assert_close(out, (1 - z) * n + z * h)
        assert not torch.allclose(out, ref(x, h))


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_matches_torch(nonlinearity):
    torch.manual_seed(2)
    ref = torch.nn.RNNCell(3, 4, nonlinearity=nonlinearity)
    cell = _copy(RNNCell(3, 4, nonlinearity=nonlinearity), ref)
    x, h = torch.randn(2, 3), torch.randn(2, 4)
    torch.testing.assert_close(cell(x, h)[0], ref(x, h))


def test_lstm_cell_golden_values_with_constant_weights():
    # every weight 0.1, every bias 0: all four pre-activations equal a = 0.1 * (sum x + sum h)
    cell = LSTMCell(2, 3)
    with torch.no_grad():
        for p in cell.parameters():
            p.fill_(0.1)
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
    x = torch.tensor([[1.0, 2.0]])
    h0 = torch.tensor([[0.5, 0.5, 0.5]])
    c0 = torch.tensor([[1.0, 1.0, 1.0]])
    _, (h, c) = cell(x, (h0, c0))
    a = 0.1 * (3.0 + 1.5)
    sig = 1 / (1 + math.exp(-a))
    c_expected = sig * 1.0 + sig * math.tanh(a)
    h_expected = sig * math.tanh(c_expected)
    torch.testing.assert_close(c, torch.full((1, 3), c_expected))
    torch.testing.assert_close(h, torch.full((1, 3), h_expected))
    # the same numbers written down: sigmoid(0.45) = 0.610639, tanh(0.45) = 0.421899
    assert round(c[0, 0].item(), 5) == 0.86827
    assert round(h[0, 0].item(), 5) == 0.42775


def test_lstm_cell_projection():
    torch.manual_seed(3)
    cell = LSTMCell(3, 6, proj_size=2)
    x = torch.randn(4, 3)
    out, (h, c) = cell(x)
    assert h.shape == (4, 2) and c.shape == (4, 6)
    # h is the projection of o * tanh(c)
    i, f, g, o = (x @ cell.weight_ih.T + cell.bias_ih + cell.bias_hh).chunk(4, dim=-1)
    c_expected = torch.sigmoid(i) * torch.tanh(g)
    torch.testing.assert_close(c, c_expected)
    torch.testing.assert_close(h, (torch.sigmoid(o) * torch.tanh(c_expected)) @ cell.weight_hr.T)


@pytest.mark.parametrize("make", [lambda: LSTMCell(3, 4), lambda: GRUCell(3, 4), lambda: RNNCell(3, 4)])
def test_cell_gradcheck(make):
    torch.manual_seed(4)
    cell = make().double()
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: cell(x)[0], (x,))


def test_cell_rejects_wrong_input_shape():
    with pytest.raises(ValueError, match=r"expects input of shape \(batch, 3\), got \(2, 4\)"):
        LSTMCell(3, 4)(torch.zeros(2, 4))
    with pytest.raises(ValueError, match="hidden_size must be a positive integer, got 0"):
        GRUCell(3, 0)
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"):
        RNNCell(3, 4, nonlinearity="sigmoid")
