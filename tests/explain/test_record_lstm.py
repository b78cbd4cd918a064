"""`record_lstm` replays the layer step by step: its h and c are the layer's, at every step."""

import pytest
import torch

from lstmkit.explain import GATES, record_lstm
from lstmkit.nn import LSTM

LENGTHS = [6, 4, 1]

LAYERS = {
    "plain": {},
    "stacked-bidirectional": {"num_layers": 2, "bidirectional": True},
    "bidirectional-sum": {"bidirectional": True, "merge_mode": "sum"},
    "projected": {"num_layers": 2, "proj_size": 2},
    "go_backwards": {"go_backwards": True},
    "time-major": {"batch_first": False},
    "peephole": {"peephole": True},
    "layer_norm-clip-cifg": {"layer_norm": True, "clip": 2.0, "input_forget": True},
    "activations": {"activations": ("hardsigmoid", "tanh", "softsign")},
}


def _layer(**options):
    torch.manual_seed(0)
    return LSTM(3, 4, init="torch", **options).eval()  # torch init: non-zero biases and peepholes


def _input(layer):
    torch.manual_seed(1)
    x = torch.randn(len(LENGTHS), 6, 3)
    return x if layer.batch_first else x.transpose(0, 1)


@pytest.mark.parametrize("options", LAYERS.values(), ids=LAYERS.keys())
@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "padded"])
def test_recorded_states_are_the_layers(options, lengths):
    layer = _layer(**options)
    x = _input(layer)
    out, (h_n, c_n) = layer(x, lengths=lengths)
    rec = record_lstm(layer, x, lengths=lengths)
    torch.testing.assert_close(rec.output, out, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(rec.final_state[0], h_n, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(rec.final_state[1], c_n, atol=1e-6, rtol=1e-5)
    # the top layer's recorded hidden state is the layer's output at every step and direction
    if layer.merge_mode == "concat":
        top = torch.cat(list(rec.hidden[-1]), dim=-1)  # (B, T, D * H_out)
        torch.testing.assert_close(top, out if layer.batch_first else out.transpose(0, 1), atol=1e-6, rtol=1e-5)


def test_every_step_matches_the_fused_layer_run_step_by_step():
    """Run the fused layer one step at a time, carrying its state: c_t and h_t at every t."""
    layer = _layer(num_layers=2)
    assert layer.execution_path() == "fused"
    x = _input(layer)
    rec = record_lstm(layer, x)
    state = None
    for t in range(x.shape[1]):
        _, state = layer(x[:, t : t + 1], state)
        h, c = state  # (L, B, H)
        torch.testing.assert_close(rec.hidden[:, 0, :, t], h, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(rec.cell[:, 0, :, t], c, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize(
    "options", [{}, {"peephole": True}, {"bidirectional": True}], ids=["plain", "peephole", "bidirectional"]
)
def test_gates_obey_the_cell_equations(options):
    layer = _layer(**options)
    x = _input(layer)
    rec = record_lstm(layer, x)
    for name in ("input_gate", "forget_gate", "output_gate"):
        values = getattr(rec, name)
        assert values.min() >= 0 and values.max() <= 1, name
    assert rec.candidate.abs().max() <= 1
    # c_t = f ⊙ c_{t-1} + i ⊙ g  and  h_t = o ⊙ tanh(c_t), step order per direction
    for d in range(layer.num_directions):
        order = range(x.shape[1]) if d == 0 else reversed(range(x.shape[1]))
        c_prev = torch.zeros(x.shape[0], layer.hidden_size)
        for t in order:
            i, f, g, o = (
                getattr(rec, n)[0, d, :, t] for n in ("input_gate", "forget_gate", "candidate", "output_gate")
            )
            c = f * c_prev + i * g
            torch.testing.assert_close(rec.cell[0, d, :, t], c)
            torch.testing.assert_close(rec.hidden[0, d, :, t], o * torch.tanh(c))
            c_prev = c


def test_padded_steps_record_zeros_and_get_trims_them():
    layer = _layer()
    rec = record_lstm(layer, _input(layer), lengths=LENGTHS)
    for name in GATES:
        assert getattr(rec, name)[0, 0, 1, 4:].abs().max() == 0, name
        assert tuple(rec.get(name, sample=1).shape) == (4, 4)


def test_recording_changes_nothing():
    layer = _layer(peephole=True, stateful=True)
    x = _input(layer)
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    out, _ = layer(x)
    layer.reset_state()
    rec = record_lstm(layer, x)
    assert layer._state is None  # the carried state is the layer's business
    for k, v in layer.state_dict().items():
        assert torch.equal(v, before[k]), k
    out_after, _ = layer(x)
    assert torch.equal(out, out_after)
    torch.testing.assert_close(rec.output, out, atol=1e-6, rtol=1e-5)
    assert not rec.output.requires_grad


def test_initial_state_is_used():
    layer = _layer(num_layers=2)
    x = _input(layer)
    torch.manual_seed(2)
    state = (torch.randn(2, 3, 4), torch.randn(2, 3, 4))
    out, (h, c) = layer(x, state)
    rec = record_lstm(layer, x, state=state)
    torch.testing.assert_close(rec.output, out, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(rec.final_state[1], c, atol=1e-6, rtol=1e-5)


def test_unsupported_options_are_named():
    with pytest.raises(ValueError, match="zoneout"):
        record_lstm(LSTM(3, 4, zoneout=0.1).eval(), torch.randn(1, 2, 3))
    with pytest.raises(ValueError, match="dropout"):
        record_lstm(LSTM(3, 4, num_layers=2, dropout=0.5).train(), torch.randn(1, 2, 3))
    with pytest.raises(TypeError, match="lstmkit.nn.LSTM"):
        record_lstm(torch.nn.LSTM(3, 4), torch.randn(1, 2, 3))
    with pytest.raises(ValueError, match="input features"):
        record_lstm(LSTM(3, 4), torch.randn(1, 2, 5))
    rec = record_lstm(LSTM(3, 4), torch.randn(1, 2, 3))
    with pytest.raises(ValueError, match="name must be one of"):
        rec.get("memory")
    with pytest.raises(ValueError, match="layer must be in"):
        rec.get("cell", layer=1)
