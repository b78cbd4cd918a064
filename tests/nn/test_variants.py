"""The LSTM variants and the ONNX options, one equation at a time, against formulas by hand."""

import math

import pytest
import torch

from lstmkit.nn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from lstmkit.nn.activations import ACTIVATION_NAMES, Activation, activation


def _sigmoid(v):
    return 1 / (1 + torch.exp(-v))


def _by_hand_gates(cell, x, h):
    """The four pre-activations (torch order i, f, g, o) written with plain matrix products."""
    W_i, W_f, W_g, W_o = cell.weight_ih.chunk(4)
    U_i, U_f, U_g, U_o = cell.weight_hh.chunk(4)
    b = cell.bias_ih + cell.bias_hh
    b_i, b_f, b_g, b_o = b.chunk(4)
    return (
        x @ W_i.T + h @ U_i.T + b_i,
        x @ W_f.T + h @ U_f.T + b_f,
        x @ W_g.T + h @ U_g.T + b_g,
        x @ W_o.T + h @ U_o.T + b_o,
    )


def test_peephole_cell_equations():
    torch.manual_seed(0)
    cell = LSTMCell(3, 4, peephole=True)
    with torch.no_grad():
        cell.weight_ch.uniform_(-1, 1)
    x, h, c = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
    a_i, a_f, a_g, a_o = _by_hand_gates(cell, x, h)
    w_ci, w_cf, w_co = cell.weight_ch.detach().chunk(3)
    i = _sigmoid(a_i + w_ci * c)  # the input and forget gates see the old cell state
    f = _sigmoid(a_f + w_cf * c)
    c_new = f * c + i * torch.tanh(a_g)
    o = _sigmoid(a_o + w_co * c_new)  # the output gate sees the new one
    _, (h_out, c_out) = cell(x, (h, c))
    torch.testing.assert_close(c_out, c_new)
    torch.testing.assert_close(h_out, o * torch.tanh(c_new))


def test_peephole_golden_values_with_constant_weights():
    # every weight and peephole 0.1, biases 0: a = 0.1 * (sum x + sum h) = 0.45 for every gate
    cell = LSTMCell(2, 3, peephole=True)
    with torch.no_grad():
        for p in cell.parameters():
            p.fill_(0.1)
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
    _, (h, c) = cell(torch.tensor([[1.0, 2.0]]), (torch.full((1, 3), 0.5), torch.ones(1, 3)))
    sig = lambda v: 1 / (1 + math.exp(-v))
    i = f = sig(0.45 + 0.1 * 1.0)
    c_expected = f * 1.0 + i * math.tanh(0.45)
    h_expected = sig(0.45 + 0.1 * c_expected) * math.tanh(c_expected)
    # by hand: sigmoid(0.55) = 0.634136, tanh(0.45) = 0.421899, c = 0.634136 * 1.421899
    assert round(c_expected, 5) == 0.90168 and round(h_expected, 5) == 0.45311
    torch.testing.assert_close(c, torch.full((1, 3), c_expected))
    torch.testing.assert_close(h, torch.full((1, 3), h_expected))


def _layer_norm_by_hand(v, gain, bias=None, eps=1e-5):
    mean = v.mean(-1, keepdim=True)
    var = ((v - mean) ** 2).mean(-1, keepdim=True)  # biased variance, as in Ba et al.
    out = (v - mean) / torch.sqrt(var + eps) * gain
    return out if bias is None else out + bias


def test_layer_norm_cell_equations():
    torch.manual_seed(1)
    cell = LSTMCell(3, 4, layer_norm=True)
    with torch.no_grad():
        for p in (cell.ln_weight_ih, cell.ln_weight_hh, cell.ln_weight_c):
            p.uniform_(0.5, 1.5)
        cell.ln_bias_c.uniform_(-0.5, 0.5)
    x, h, c = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
    with torch.no_grad():
        a = (
            _layer_norm_by_hand(x @ cell.weight_ih.T, cell.ln_weight_ih)
            + cell.bias_ih
            + _layer_norm_by_hand(h @ cell.weight_hh.T, cell.ln_weight_hh)
            + cell.bias_hh
        )
        a_i, a_f, a_g, a_o = a.chunk(4, dim=-1)
        c_new = _sigmoid(a_f) * c + _sigmoid(a_i) * torch.tanh(a_g)
        h_new = _sigmoid(a_o) * torch.tanh(_layer_norm_by_hand(c_new, cell.ln_weight_c, cell.ln_bias_c))
        _, (h_out, c_out) = cell(x, (h, c))
    torch.testing.assert_close(c_out, c_new)  # the carried cell state is not normalised
    torch.testing.assert_close(h_out, h_new)


def test_layer_norm_makes_the_step_invariant_to_the_scale_of_the_weights():
    torch.manual_seed(2)
    cell = LSTMCell(3, 4, layer_norm=True, bias=False)
    x, state = torch.randn(2, 3), (torch.randn(2, 4), torch.randn(2, 4))
    _, (h1, c1) = cell(x, state)
    with torch.no_grad():  # (scales >= 1, so LN's epsilon stays negligible)
        cell.weight_ih.mul_(10.0)
        cell.weight_hh.mul_(3.0)
    _, (h2, c2) = cell(x, state)
    torch.testing.assert_close(h1, h2, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(c1, c2, atol=1e-4, rtol=1e-4)


def test_coupled_input_and_forget_gates():
    torch.manual_seed(3)
    cell = LSTMCell(3, 4, input_forget=True)
    x, h, c = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
    a_i, _, a_g, a_o = _by_hand_gates(cell, x, h)
    i = _sigmoid(a_i)
    c_new = (1 - i) * c + i * torch.tanh(a_g)  # f = 1 - i
    _, (h_out, c_out) = cell(x, (h, c))
    torch.testing.assert_close(c_out, c_new)
    torch.testing.assert_close(h_out, _sigmoid(a_o) * torch.tanh(c_new))
    h_out.sum().backward()  # the forget gate's rows are unused
    assert cell.weight_ih.grad[4:8].abs().sum() == 0 and cell.weight_hh.grad[4:8].abs().sum() == 0


def test_clip_bounds_every_pre_activation():
    torch.manual_seed(4)
    cell = LSTMCell(3, 4, clip=0.5, peephole=True)
    with torch.no_grad():
        cell.weight_ch.uniform_(-1, 1)
    x, h, c = 5 * torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
    a_i, a_f, a_g, a_o = _by_hand_gates(cell, x, h)
    w_ci, w_cf, w_co = cell.weight_ch.detach().chunk(3)
    clip = lambda v: v.clamp(-0.5, 0.5)  # after the peephole, before the activation (ONNX)
    i, f = _sigmoid(clip(a_i + w_ci * c)), _sigmoid(clip(a_f + w_cf * c))
    c_new = f * c + i * torch.tanh(clip(a_g))
    h_new = _sigmoid(clip(a_o + w_co * c_new)) * torch.tanh(c_new)  # the cell state itself is not clipped
    _, (h_out, c_out) = cell(x, (h, c))
    torch.testing.assert_close(c_out, c_new)
    torch.testing.assert_close(h_out, h_new)
    assert (a_g.abs() > 0.5).any()  # the clip did bite


ACTIVATION_FORMULAS = {
    "Sigmoid": lambda v, a, b: 1 / (1 + torch.exp(-v)),
    "Tanh": lambda v, a, b: torch.tanh(v),
    "Relu": lambda v, a, b: torch.clamp(v, min=0),
    "Affine": lambda v, a, b: a * v + b,
    "LeakyRelu": lambda v, a, b: torch.where(v >= 0, v, a * v),
    "ThresholdedRelu": lambda v, a, b: torch.where(v >= a, v, 0 * v),
    "ScaledTanh": lambda v, a, b: a * torch.tanh(b * v),
    "HardSigmoid": lambda v, a, b: torch.clamp(a * v + b, 0, 1),
    "Elu": lambda v, a, b: torch.where(v >= 0, v, a * (torch.exp(v) - 1)),
    "Softsign": lambda v, a, b: v / (1 + v.abs()),
    "Softplus": lambda v, a, b: torch.log(1 + torch.exp(v)),
}


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_each_activation_matches_the_onnx_formula(name):
    v = torch.linspace(-3, 3, 13, dtype=torch.float64)
    act = activation(name, 0.7, 0.4)
    expected = ACTIVATION_FORMULAS[name](v, act.alpha, act.beta)
    torch.testing.assert_close(act(v), expected)


def test_activation_names_defaults_and_errors():
    assert activation("leaky_relu") == activation("LeakyRelu") == Activation("LeakyRelu", 0.01)
    assert activation("hardsigmoid") == Activation("HardSigmoid", 0.2, 0.5)
    assert activation(("scaled_tanh", 2.0)) == Activation("ScaledTanh", 2.0, 1.0)
    assert activation("tanh", alpha=3.0) == Activation("Tanh")  # tanh takes no alpha
    with pytest.raises(ValueError, match="unknown activation 'gelu'; expected one of Sigmoid, Tanh"):
        activation("gelu")
    with pytest.raises(
        ValueError, match=r"activations must list 3 functions \(Sigmoid, Tanh, Tanh by default\), got 2"
    ):
        LSTMCell(3, 4, activations=("sigmoid", "tanh"))
    with pytest.raises(ValueError, match="activations must be a sequence of 2 activations, got 'tanh'"):
        GRU(3, 4, activations="tanh")


def test_lstm_cell_with_custom_activations():
    torch.manual_seed(5)
    f_act, g_act, h_act = activation("hard_sigmoid"), activation("softsign"), activation(("scaled_tanh", 1.5, 0.7))
    cell = LSTMCell(3, 4, activations=(f_act, g_act, h_act))
    x, h, c = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
    a_i, a_f, a_g, a_o = _by_hand_gates(cell, x, h)
    hs = lambda v: torch.clamp(0.2 * v + 0.5, 0, 1)
    c_new = hs(a_f) * c + hs(a_i) * (a_g / (1 + a_g.abs()))
    h_new = hs(a_o) * 1.5 * torch.tanh(0.7 * c_new)
    _, (h_out, c_out) = cell(x, (h, c))
    torch.testing.assert_close(c_out, c_new)
    torch.testing.assert_close(h_out, h_new)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_cell_with_clip_and_activations(reset_after):
    torch.manual_seed(6)
    cell = GRUCell(3, 4, reset_after=reset_after, clip=0.4, activations=[("leaky_relu", 0.3), "softsign"])
    x, h = 3 * torch.randn(2, 3), torch.randn(2, 4)
    W_r, W_z, W_n = cell.weight_ih.chunk(3)
    U_r, U_z, U_n = cell.weight_hh.chunk(3)
    b_ir, b_iz, b_in = cell.bias_ih.chunk(3)
    b_hr, b_hz, b_hn = cell.bias_hh.chunk(3)
    clip = lambda v: v.clamp(-0.4, 0.4)
    f = lambda v: torch.where(v >= 0, v, 0.3 * v)
    g = lambda v: v / (1 + v.abs())
    r = f(clip(x @ W_r.T + b_ir + h @ U_r.T + b_hr))
    z = f(clip(x @ W_z.T + b_iz + h @ U_z.T + b_hz))
    if reset_after:
        n = g(clip(x @ W_n.T + b_in + r * (h @ U_n.T + b_hn)))
    else:
        n = g(clip(x @ W_n.T + b_in + (r * h) @ U_n.T + b_hn))
    torch.testing.assert_close(cell(x, h)[0], (1 - z) * n + z * h)


def test_rnn_cell_with_clip_and_activation():
    torch.manual_seed(7)
    cell = RNNCell(3, 4, clip=0.3, activations=[("affine", 2.0, 0.1)])
    x, h = 3 * torch.randn(2, 3), torch.randn(2, 4)
    pre = (x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh).clamp(-0.3, 0.3)
    torch.testing.assert_close(cell(x, h)[0], 2.0 * pre + 0.1)
    assert RNNCell(3, 4, activations=["relu"]).nonlinearity == "relu"  # the fused kernels run it
    with pytest.raises(ValueError, match="give either nonlinearity='relu' or activations"):
        RNNCell(3, 4, nonlinearity="relu", activations=["elu"])


@pytest.mark.parametrize(
    "make",
    [
        lambda: LSTMCell(3, 4, peephole=True),
        lambda: LSTMCell(3, 4, layer_norm=True),
        lambda: LSTMCell(3, 4, peephole=True, layer_norm=True, proj_size=2),
        lambda: LSTMCell(3, 4, input_forget=True, clip=0.7),
        lambda: LSTMCell(3, 4, activations=("hard_sigmoid", ("leaky_relu", 0.2), "softsign")),
        lambda: GRUCell(3, 4, clip=0.7, activations=["sigmoid", "elu"]),
        lambda: RNNCell(3, 4, activations=["softplus"]),
    ],
)
def test_variant_cell_gradcheck(make):
    torch.manual_seed(8)
    cell = make().double()
    with torch.no_grad():
        for name, p in cell.named_parameters():
            if name.startswith(("weight_ch", "ln_")):
                p.uniform_(0.5, 1.5)
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    state = tuple(
        torch.randn(2, n, dtype=torch.float64, requires_grad=True)
        for n in ((getattr(cell, "proj_size", 0) or 4, 4) if isinstance(cell, LSTMCell) else (4,))
    )

    def run(x, *state):
        out, new = cell(x, state if len(state) > 1 else state[0])
        return (out, *new) if isinstance(new, tuple) else (out,)

    assert torch.autograd.gradcheck(run, (x, *state))


def test_variants_pick_a_backend_that_can_run_them():
    assert LSTM(3, 4, peephole=True).execution_path() == "sequence"
    assert LSTM(3, 4, layer_norm=True, num_layers=2, bidirectional=True).execution_path() == "sequence"
    assert LSTM(3, 4, zoneout=0.1, recurrent_dropout=0.2).execution_path() == "sequence"
    assert LSTM(3, 4, peephole=True, proj_size=2).execution_path() == "reference"
    assert LSTM(3, 4, input_forget=True).execution_path() == "reference"
    assert GRU(3, 4, clip=1.0).execution_path() == "reference"
    assert RNN(3, 4, activations=["relu"]).execution_path() == "fused"
    for make, match in [
        (lambda: LSTM(3, 4, peephole=True, backend="fused"), "backend='fused' cannot run peephole"),
        (lambda: LSTM(3, 4, layer_norm=True, clip=1.0, backend="fused"), "backend='fused' cannot run layer_norm, clip"),
        (lambda: LSTM(3, 4, activations=("sigmoid", "relu", "tanh"), backend="fused"), "cannot run activations"),
        (lambda: LSTM(3, 4, input_forget=True, backend="sequence"), "backend='sequence' cannot run input_forget"),
        (lambda: LSTM(3, 4, peephole=True, proj_size=2, backend="sequence"), "backend='sequence' cannot run proj_size"),
        (lambda: GRU(3, 4, backend="sequence"), r"backend='sequence' cannot run GRU \(LSTM only\)"),
        (lambda: GRU(3, 4, clip=2.0, backend="fused"), "backend='fused' cannot run clip"),
        (lambda: LSTM(3, 4, clip=0), "clip must be None or a positive finite number, got 0"),
        (lambda: GRU(3, 4, clip=-1.0), "clip must be None or a positive finite number, got -1.0"),
    ]:
        with pytest.raises(ValueError, match=match):
            make()


def test_variant_parameters_are_named_like_torch_and_initialised_neutrally():
    layer = LSTM(3, 4, num_layers=2, bidirectional=True, peephole=True, layer_norm=True)
    names = dict(layer.named_parameters())
    assert names["weight_ch_l1_reverse"].shape == (12,)
    assert names["ln_weight_hh_l0"].shape == (16,) and names["ln_bias_c_l1"].shape == (4,)
    assert all(names[n].abs().sum() == 0 for n in names if n.startswith(("weight_ch", "ln_bias")))
    assert all((names[n] == 1).all() for n in names if n.startswith("ln_weight"))
    # the torch-named parameters still load into torch.nn.LSTM
    ref = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    ref.load_state_dict({k: v for k, v in layer.state_dict().items() if not k.startswith(("weight_ch", "ln_"))})
    # peepholes at zero are a plain LSTM
    plain = LSTM(3, 4, peephole=True, backend="reference")
    vanilla = torch.nn.LSTM(3, 4, batch_first=True)
    vanilla.load_state_dict({k: v for k, v in plain.state_dict().items() if not k.startswith("weight_ch")})
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(plain(x)[0], vanilla(x)[0])
    assert "peephole=True" in repr(layer) and "layer_norm=True" in repr(layer)
