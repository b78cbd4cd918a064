"""Layer options: gradients by finite differences, the dropout family, init, and bad input."""

import pytest
import torch

from lstmkit.nn import GRU, LSTM, RNN

GRADCHECK_CASES = [
    (LSTM, {}),
    (LSTM, {"num_layers": 2, "bidirectional": True}),
    (LSTM, {"proj_size": 2}),
    (LSTM, {"go_backwards": True}),
    (LSTM, {"bidirectional": True, "merge_mode": "mul"}),
    (LSTM, {"recurrent_dropout": 0.3}),
    (LSTM, {"zoneout": 0.3}),
    (LSTM, {"num_layers": 2, "dropout": 0.3}),
    (GRU, {"bidirectional": True}),
    (GRU, {"reset_after": False}),
    (GRU, {"recurrent_dropout": 0.3, "zoneout": 0.2}),
    (RNN, {"num_layers": 2}),
    (RNN, {"nonlinearity": "relu", "zoneout": 0.2}),
    # the variants
    (LSTM, {"peephole": True, "bidirectional": True}),
    (LSTM, {"layer_norm": True, "num_layers": 2}),
    (LSTM, {"peephole": True, "layer_norm": True, "zoneout": 0.3, "recurrent_dropout": 0.3, "go_backwards": True}),
    (LSTM, {"input_forget": True, "clip": 0.8, "bidirectional": True}),
    (LSTM, {"activations": ("hard_sigmoid", "softsign", ("scaled_tanh", 1.5, 0.7)), "proj_size": 2}),
    (GRU, {"clip": 0.8, "activations": [("leaky_relu", 0.3), "elu"], "bidirectional": True}),
    (RNN, {"activations": ["softsign"], "clip": 1.5}),
]


def _randomise_variant_parameters(layer):
    with torch.no_grad():  # peepholes start at 0 and layer-norm gains at 1: move them
        for name, p in layer.named_parameters():
            if name.startswith(("weight_ch", "ln_bias")):
                p.uniform_(-0.8, 0.8)
            elif name.startswith("ln_weight"):
                p.uniform_(0.5, 1.5)
    return layer


@pytest.mark.parametrize("backend", ["reference", "auto"])
@pytest.mark.parametrize("cls,options", GRADCHECK_CASES)
def test_gradcheck_float64(cls, options, backend):
    torch.manual_seed(0)
    layer = _randomise_variant_parameters(cls(2, 3, backend=backend, **options).double())
    if backend == "auto" and layer.execution_path() == "reference":
        pytest.skip("these options run on the reference driver")
    x = torch.randn(3, 4, 2, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([4, 2, 3])

    def run(x):
        torch.manual_seed(1)  # the same dropout and zoneout masks at every evaluation
        out, state = layer(x, lengths=lengths)
        return out, *(state if isinstance(state, tuple) else (state,))

    assert torch.autograd.gradcheck(run, (x,))


@pytest.mark.parametrize(
    "options",
    [
        {"proj_size": 2, "zoneout": 0.2, "backend": "reference"},
        {"peephole": True, "layer_norm": True, "zoneout": 0.2, "recurrent_dropout": 0.2, "backend": "reference"},
        {"peephole": True, "layer_norm": True, "zoneout": 0.2, "recurrent_dropout": 0.2, "backend": "sequence"},
        {"input_forget": True, "clip": 0.9, "activations": ("sigmoid", "softsign", "tanh"), "backend": "reference"},
    ],
)
def test_gradcheck_reaches_every_parameter_and_the_initial_state(options):
    torch.manual_seed(2)
    layer = _randomise_variant_parameters(LSTM(2, 3, bidirectional=True, **options).double())
    params = list(layer.parameters())
    x = torch.randn(2, 3, 2, dtype=torch.float64)
    h0 = torch.randn(2, 2, layer.output_size, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(2, 2, 3, dtype=torch.float64, requires_grad=True)

    def run(h0, c0, *weights):
        torch.manual_seed(3)
        swapped = dict(zip([n for n, _ in layer.named_parameters()], weights))
        out, (h, c) = torch.func.functional_call(layer, swapped, (x, (h0, c0)))
        return out, h, c

    assert torch.autograd.gradcheck(run, (h0, c0, *[p.detach().requires_grad_() for p in params]))


def test_dropout_rules():
    torch.manual_seed(4)
    x = torch.randn(3, 6, 2)
    for options in ({"num_layers": 2, "dropout": 0.5}, {"recurrent_dropout": 0.5}, {"zoneout": 0.5}):
        layer = LSTM(2, 8, **options)
        layer.eval()  # evaluation is deterministic
        torch.testing.assert_close(layer(x)[0], layer(x)[0])
        layer.train()  # training with p > 0 varies from call to call
        assert not torch.allclose(layer(x)[0], layer(x)[0]), options
    plain = LSTM(2, 8, num_layers=2, dropout=0.0, recurrent_dropout=0.0, zoneout=0.0)
    plain.train()  # p = 0 is deterministic even in training
    torch.testing.assert_close(plain(x)[0], plain(x)[0])


def test_recurrent_dropout_mask_is_the_same_at_every_step():
    torch.manual_seed(5)
    layer = LSTM(2, 16, recurrent_dropout=0.5, backend="reference")  # it records the driver's steps
    layer.train()
    entering = []  # the hidden state as the step sees it, after the mask
    original = layer._step

    def recording(sfx):
        step = original(sfx)

        def wrapped(gx, state):
            entering.append(state[0].detach().clone())
            return step(gx, state)

        return wrapped

    layer._step = recording
    out, _ = layer(torch.randn(3, 6, 2))
    masks = [entering[t] / out[:, t - 1].detach() for t in range(1, 6)]  # h_in = mask * h_{t-1}
    for mask in masks[1:]:
        torch.testing.assert_close(mask, masks[0])
    values = set(masks[0].flatten().round(decimals=4).tolist())
    assert values == {0.0, 2.0}  # dropped, or kept and scaled by 1 / (1 - p)


def test_zoneout_in_evaluation_is_the_expectation():
    torch.manual_seed(6)
    zoned = RNN(2, 4, zoneout=0.25).eval()
    x = torch.randn(1, 2, 2)
    out, _ = zoned(x)
    plain = RNN(2, 4)
    plain.load_state_dict(zoned.state_dict())
    h1 = plain(x[:, :1])[0][:, 0]
    torch.testing.assert_close(out[:, 0], 0.75 * h1)  # h_0 = 0: 0.25 * 0 + 0.75 * h1
    h2_new = plain(x[:, 1:], out[:, 0].unsqueeze(0))[0][:, 0]
    torch.testing.assert_close(out[:, 1], 0.25 * out[:, 0] + 0.75 * h2_new)


def test_orthogonal_init_and_forget_bias():
    torch.manual_seed(7)
    layer = LSTM(3, 5, num_layers=2)
    for block in layer.weight_hh_l1.chunk(4):
        torch.testing.assert_close(block @ block.T, torch.eye(5), atol=1e-5, rtol=0)
    total = layer.bias_ih_l0 + layer.bias_hh_l0
    torch.testing.assert_close(total[5:10], torch.ones(5))  # forget gate
    assert total[:5].abs().sum() == 0 and total[10:].abs().sum() == 0
    bound = 1 / 5**0.5
    torch_init = LSTM(3, 5, init="torch")
    assert all(p.abs().max() <= bound for p in torch_init.parameters())
    assert LSTM(3, 5, forget_bias=0.0).bias_ih_l0.abs().sum() == 0


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: LSTM(0, 4), "input_size must be a positive integer, got 0"),
        (lambda: LSTM(3, 4, dropout=1.0), r"dropout must be a number in \[0, 1\), got 1.0"),
        (lambda: LSTM(3, 4, recurrent_dropout=-0.1), r"recurrent_dropout must be a number in \[0, 1\), got -0.1"),
        (lambda: LSTM(3, 4, proj_size=4), r"proj_size must be an integer in \[0, hidden_size=4\), got 4"),
        (lambda: LSTM(3, 4, merge_mode="max"), "merge_mode must be one of .* got 'max'"),
        (lambda: LSTM(3, 4, backend="cuda"), "backend must be one of .* got 'cuda'"),
        (lambda: LSTM(3, 4, init="he"), "init must be one of .* got 'he'"),
        (lambda: LSTM(3, 4, bidirectional=True, go_backwards=True), "go_backwards=True has no meaning"),
        (lambda: RNN(3, 4, nonlinearity="gelu"), "nonlinearity must be 'tanh' or 'relu', got 'gelu'"),
    ],
)
def test_bad_options_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_say_what_was_expected_and_found():
    layer = LSTM(3, 4, num_layers=2)
    x = torch.randn(2, 5, 3)
    with pytest.raises(ValueError, match=r"expects a 3-D input \(batch, time, features\), got shape \(5, 3\)"):
        layer(torch.randn(5, 3))
    with pytest.raises(ValueError, match=r"expects 3 input features \(last dim\), got 7"):
        layer(torch.randn(2, 5, 7))
    with pytest.raises(ValueError, match="sequence of length 0"):
        layer(torch.randn(2, 0, 3))
    with pytest.raises(TypeError, match="input dtype torch.float64 does not match the layer's parameters"):
        layer(x.double())
    with pytest.raises(ValueError, match="input is on meta but the layer's parameters are on cpu"):
        layer(torch.empty(2, 5, 3, device="meta"))
    with pytest.raises(TypeError, match="expects a torch.Tensor input, got list"):
        layer([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"h_0 must have shape \(2, 2, 4\) .* got \(1, 2, 4\)"):
        layer(x, (torch.zeros(1, 2, 4), torch.zeros(2, 2, 4)))
    with pytest.raises(TypeError, match=r"state must be a tuple \(h_0, c_0\)"):
        layer(x, torch.zeros(2, 2, 4))
    with pytest.raises(ValueError, match=r"lengths must have shape \(2,\) .* got \(3,\)"):
        layer(x, lengths=[5, 5, 5])
    with pytest.raises(ValueError, match=r"lengths must be in \[1, 5\] .* got \[0\]"):
        layer(x, lengths=[5, 0])
    with pytest.raises(ValueError, match=r"lengths must be in \[1, 5\] .* got \[6\]"):
        layer(x, lengths=[6, 1])
    with pytest.raises(TypeError, match="lengths must hold integers"):
        layer(x, lengths=[2.5, 1.0])
    with pytest.raises(ValueError, match="time, batch, features"):
        LSTM(3, 4, batch_first=False)(torch.randn(4, 3))
