"""The ``sequence`` fast path (hand-written backward) against the readable reference driver."""

import pytest
import torch

from lstmkit.nn import LSTM
from lstmkit.nn.fused import lstm_sequence

SEQUENCE_CASES = [
    {},
    {"peephole": True},
    {"layer_norm": True},
    {"recurrent_dropout": 0.4},
    {"zoneout": 0.3},
    {"peephole": True, "layer_norm": True, "zoneout": 0.3, "recurrent_dropout": 0.3},
    {"peephole": True, "num_layers": 2, "bidirectional": True, "merge_mode": "sum"},
    {"layer_norm": True, "zoneout": 0.2, "go_backwards": True, "bias": False},
    {"peephole": True, "batch_first": False, "num_layers": 2, "dropout": 0.3},
]


def _randomise(layer):
    with torch.no_grad():  # peepholes start at 0 and layer-norm gains at 1: move them
        for name, p in layer.named_parameters():
            if name.startswith(("weight_ch", "ln_bias")):
                p.uniform_(-0.8, 0.8)
            elif name.startswith("ln_weight"):
                p.uniform_(0.5, 1.5)
    return layer


def _run(layer, x, state, lengths):
    """Outputs, final state and the gradient of a loss touching all of them, for every input."""
    xi = x.clone().requires_grad_()
    si = [s.clone().requires_grad_() for s in state]
    torch.manual_seed(11)  # the same dropout and zoneout draws for both backends
    out, (h, c) = layer(xi, tuple(si), lengths=lengths)
    loss = (out * torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)).sum() + 2 * h.sum() + 3 * c.sum()
    loss.backward()
    return [out, h, c, xi.grad, *(s.grad for s in si), *(p.grad for p in layer.parameters())]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("with_lengths", [True, False])
@pytest.mark.parametrize("options", SEQUENCE_CASES)
def test_sequence_equals_reference_outputs_states_and_every_gradient(options, with_lengths, training):
    torch.manual_seed(0)
    fast = _randomise(LSTM(3, 4, backend="sequence", init="torch", **options)).double().train(training)
    reference = LSTM(3, 4, backend="reference", **options).double().train(training)
    reference.load_state_dict(fast.state_dict())
    assert fast.execution_path() == "sequence" and reference.execution_path() == "reference"
    B, T = 4, 5
    x = torch.randn(B, T, 3, dtype=torch.float64)
    if not fast.batch_first:
        x = x.transpose(0, 1)
    rows = fast.num_layers * fast.num_directions
    state = [torch.randn(rows, B, 4, dtype=torch.float64) for _ in range(2)]
    lengths = torch.tensor([5, 2, 4, 1]) if with_lengths else None
    got, want = _run(fast, x, state, lengths), _run(reference, x, state, lengths)
    assert len(got) == len(want)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-9)


def test_sequence_function_gradcheck_every_input():
    torch.manual_seed(1)
    T, B, I, H = 4, 3, 2, 2
    dt = torch.float64
    lengths = torch.tensor([2, 4, 3])
    leaf = lambda *shape: torch.randn(*shape, dtype=dt, requires_grad=True)
    gain = lambda n: torch.rand(n, dtype=dt).add(0.5).requires_grad_()
    x, h0, c0, w_ih, w_hh, bias, w_ch = (
        leaf(T, B, I),
        leaf(B, H),
        leaf(B, H),
        leaf(4 * H, I),
        leaf(4 * H, H),
        leaf(4 * H),
        leaf(3 * H),
    )
    ln_ih, ln_hh, ln_cw, ln_cb = gain(4 * H), gain(4 * H), gain(H), leaf(H)
    recurrent_mask = torch.bernoulli(torch.full((B, H), 0.7, dtype=dt)) / 0.7
    masks = tuple(torch.rand(B, T, H) < 0.3 for _ in range(2))

    def run(x, h0, c0, w_ih, w_hh, bias, w_ch, ln_ih, ln_hh, ln_cw, ln_cb):
        out, (h, c) = lstm_sequence(
            x,
            h0,
            c0,
            w_ih,
            w_hh,
            bias,
            lengths,
            ln_ih=ln_ih,
            w_ch=w_ch,
            ln_hh=ln_hh,
            ln_c=(ln_cw, ln_cb),
            recurrent_mask=recurrent_mask,
            zoneout=0.3,
            zoneout_masks=masks,
        )
        return out, h, c

    assert torch.autograd.gradcheck(run, (x, h0, c0, w_ih, w_hh, bias, w_ch, ln_ih, ln_hh, ln_cw, ln_cb))

    def run_plain(x, h0, c0, w_hh):  # the fastest path: no lengths, no masks; and zoneout's expectation
        out, (h, c) = lstm_sequence(x, h0, c0, w_ih.detach(), w_hh)
        out_z, (h_z, c_z) = lstm_sequence(x, h0, c0, w_ih.detach(), w_hh, zoneout=0.25)
        return out, h, c, out_z, h_z, c_z

    assert torch.autograd.gradcheck(run_plain, (x, h0, c0, w_hh))


def test_sequence_inference_without_grad_and_padding():
    torch.manual_seed(2)
    layer = LSTM(3, 4, peephole=True, layer_norm=True, zoneout=0.1).eval()
    assert layer.execution_path() == "sequence"
    reference = LSTM(3, 4, peephole=True, layer_norm=True, zoneout=0.1, backend="reference").eval()
    reference.load_state_dict(_randomise(layer).state_dict())
    x = torch.randn(3, 6, 3)
    with torch.no_grad():
        out, (h, c) = layer(x, lengths=[6, 1, 3])
        out_ref, (h_ref, c_ref) = reference(x, lengths=[6, 1, 3])
    torch.testing.assert_close(out, out_ref)
    torch.testing.assert_close(h, h_ref)
    torch.testing.assert_close(c, c_ref)
    assert out[1, 1:].abs().sum() == 0 and out[2, 3:].abs().sum() == 0  # padded steps output zeros
    torch.testing.assert_close(h[0, 1], out[1, 0])  # the state at the last real step


def test_stateful_sequence_layer_carries_state():
    torch.manual_seed(3)
    layer = LSTM(3, 4, layer_norm=True, stateful=True)
    plain = LSTM(3, 4, layer_norm=True, backend="reference")
    plain.load_state_dict(_randomise(layer).state_dict())
    x = torch.randn(2, 7, 3)
    whole, (h_whole, _) = plain(x)
    first, _ = layer(x[:, :4])
    second, (h, _) = layer(x[:, 4:])
    torch.testing.assert_close(torch.cat([first, second], 1), whole)
    torch.testing.assert_close(h, h_whole)


def test_sequence_path_under_autocast_runs_the_recurrence_in_float32():
    torch.manual_seed(4)
    layer = _randomise(LSTM(3, 4, peephole=True, layer_norm=True))
    x = torch.randn(2, 5, 3, requires_grad=True)
    expected, _ = layer(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, (h, c) = layer(x)
    assert out.dtype == torch.float32 and h.dtype == torch.float32
    torch.testing.assert_close(out, expected, atol=0, rtol=0)  # the same float32 computation
    out.sum().backward()
    assert layer.weight_ch_l0.grad is not None
