"""Layers: against the cell stepped by hand, against torch.nn, and fused against reference."""

import itertools

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstmkit.nn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

LAYERS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}
TORCH = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


def _as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def _cell_for(layer, sfx):
    """A cell holding the layer's weights (and variant options) for one layer and direction."""
    in_size = getattr(layer, "weight_ih" + sfx).shape[1]
    common = {"clip": layer.clip, "activations": layer.activations}
    if isinstance(layer, LSTM):
        cell = LSTMCell(
            in_size,
            layer.hidden_size,
            layer.bias,
            proj_size=layer.proj_size,
            peephole=layer.peephole,
            layer_norm=layer.layer_norm,
            input_forget=layer.input_forget,
            **common,
        )
    elif isinstance(layer, GRU):
        cell = GRUCell(in_size, layer.hidden_size, layer.bias, reset_after=layer.reset_after, **common)
    else:
        cell = RNNCell(in_size, layer.hidden_size, layer.bias, nonlinearity=layer.nonlinearity, **common)
    cell.load_state_dict({k[: -len(sfx)]: v for k, v in layer.state_dict().items() if k.endswith(sfx)})
    return cell.to(getattr(layer, "weight_ih" + sfx).dtype)


def _step_by_hand(layer, x, lengths, state=None):
    """Each sample alone, each step by hand with the cells: no masks, no batching tricks.

    ``state`` is the layer's initial state (a tuple of ``(layers * directions, B, size)``) or None.
    """
    B, T, _ = x.shape
    D = layer.num_directions
    outputs = torch.zeros(B, T, D * layer.output_size, dtype=x.dtype)
    finals = []
    layer_input = x
    for layer_idx in range(layer.num_layers):
        next_input = torch.zeros(B, T, D * layer.output_size, dtype=x.dtype)
        for direction in range(D):
            sfx = f"_l{layer_idx}" + ("_reverse" if direction else "")
            cell = _cell_for(layer, sfx)
            backwards = (direction == 1) != layer.go_backwards
            final = []
            row = layer_idx * D + direction
            for b in range(B):
                n = int(lengths[b])
                sample_state = None if state is None else tuple(s[row, b : b + 1] for s in state)
                sample_state = sample_state if sample_state is None or len(sample_state) > 1 else sample_state[0]
                steps = range(n - 1, -1, -1) if backwards else range(n)
                for t in steps:
                    out, sample_state = cell(layer_input[b : b + 1, t], sample_state)
                    next_input[b, t, direction * layer.output_size : (direction + 1) * layer.output_size] = out[0]
                final.append(_as_tuple(sample_state))
            finals.append(tuple(torch.cat(parts) for parts in zip(*final)))
        layer_input = next_input
    outputs = layer_input
    return outputs, tuple(torch.stack(parts) for parts in zip(*finals))


CASES = [
    ("lstm", {}),
    ("lstm", {"num_layers": 2, "bidirectional": True}),
    ("lstm", {"proj_size": 2, "num_layers": 2}),
    ("lstm", {"go_backwards": True}),
    ("lstm", {"bias": False, "bidirectional": True}),
    ("gru", {"num_layers": 2, "bidirectional": True}),
    ("gru", {"reset_after": False, "bidirectional": True}),
    ("rnn", {"num_layers": 2, "bidirectional": True}),
    ("rnn", {"nonlinearity": "relu", "go_backwards": True}),
]
# the variants, each in the layer options: stacked, bidirectional, backwards, projected
VARIANT_CASES = [
    ("lstm", {"peephole": True, "num_layers": 2, "bidirectional": True}),
    ("lstm", {"peephole": True, "proj_size": 2, "go_backwards": True}),
    ("lstm", {"layer_norm": True, "num_layers": 2, "bidirectional": True}),
    ("lstm", {"layer_norm": True, "peephole": True, "bias": False, "go_backwards": True}),
    ("lstm", {"input_forget": True, "clip": 0.6, "bidirectional": True}),
    ("lstm", {"activations": ("hard_sigmoid", "softsign", ("scaled_tanh", 1.5, 0.7)), "num_layers": 2}),
    (
        "lstm",
        {
            "peephole": True,
            "layer_norm": True,
            "input_forget": True,
            "clip": 2.0,
            "activations": ("sigmoid", "relu", "elu"),
        },
    ),
    ("lstm", {"layer_norm": True, "proj_size": 2, "bidirectional": True}),
    ("gru", {"clip": 0.5, "activations": [("leaky_relu", 0.3), "softsign"], "bidirectional": True}),
    ("gru", {"reset_after": False, "activations": ["hard_sigmoid", "tanh"], "num_layers": 2}),
    ("rnn", {"activations": [("affine", 0.5, 0.1)], "clip": 1.0, "bidirectional": True}),
    ("rnn", {"activations": ["softplus"], "num_layers": 2, "go_backwards": True}),
]


def randomise_variant_parameters(layer):
    """Peepholes start at 0 and layer-norm gains at 1: move them so the test sees them."""
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if name.startswith("weight_ch"):
                p.uniform_(-0.8, 0.8)
            elif name.startswith("ln_weight"):
                p.uniform_(0.5, 1.5)
            elif name.startswith("ln_bias"):
                p.uniform_(-0.5, 0.5)
    return layer


@pytest.mark.parametrize("backend", ["reference", "auto"])
@pytest.mark.parametrize("kind,options", CASES + VARIANT_CASES)
def test_layer_equals_cell_stepped_by_hand(kind, options, backend):
    torch.manual_seed(0)
    layer = randomise_variant_parameters(LAYERS[kind](3, 5, backend=backend, **options))
    if backend == "auto" and layer.execution_path() == "reference":
        pytest.skip("these options run on the reference driver only")
    x = torch.randn(4, 6, 3)
    lengths = torch.tensor([6, 2, 5, 1])
    with torch.no_grad():
        expected_out, expected_state = _step_by_hand(layer, x, lengths)
        out, state = layer(x, lengths=lengths)
    # float32 rounding: layer norm + projection reach 1.6e-6 apart on some CPUs (seen on this one at aca45bb too)
    torch.testing.assert_close(out, expected_out, atol=3e-6, rtol=1e-5)  # every time step
    for got, want in zip(_as_tuple(state), expected_state):
        torch.testing.assert_close(got, want, atol=3e-6, rtol=1e-5)


@pytest.mark.parametrize("backend", ["reference", "auto"])
@pytest.mark.parametrize("kind,options", VARIANT_CASES[::2] + CASES[1:2])
def test_layer_from_a_given_state_equals_cell_stepped_by_hand(kind, options, backend):
    torch.manual_seed(1)
    layer = randomise_variant_parameters(LAYERS[kind](3, 5, backend=backend, **options))
    rows, B = layer.num_layers * layer.num_directions, 3
    state = tuple(torch.randn(rows, B, size) for size in ((layer.output_size, 5) if kind == "lstm" else (5,)))
    x = torch.randn(B, 4, 3)
    lengths = torch.tensor([2, 4, 1])
    with torch.no_grad():
        expected_out, expected_state = _step_by_hand(layer, x, lengths, state)
        out, final = layer(x, state if kind == "lstm" else state[0], lengths=lengths)
    torch.testing.assert_close(out, expected_out, atol=1e-6, rtol=1e-5)
    for got, want in zip(_as_tuple(final), expected_state):
        torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-5)


def _fused_vs_reference_grid():
    for kind, bias, layers, bidir, with_lengths in itertools.product(
        LAYERS, [True, False], [1, 2], [False, True], [False, True]
    ):
        yield kind, {"bias": bias, "num_layers": layers, "bidirectional": bidir}, with_lengths
    for bidir, with_lengths in itertools.product([False, True], [False, True]):
        yield "lstm", {"proj_size": 3, "num_layers": 2, "bidirectional": bidir}, with_lengths
    for merge in ["sum", "mul", "ave"]:
        yield "lstm", {"bidirectional": True, "merge_mode": merge}, True
    yield "gru", {"go_backwards": True}, True
    yield "lstm", {"batch_first": False, "num_layers": 2}, True


@pytest.mark.parametrize("kind,options,with_lengths", list(_fused_vs_reference_grid()))
def test_fused_equals_reference_outputs_states_and_gradients(kind, options, with_lengths):
    torch.manual_seed(1)
    fused = LAYERS[kind](4, 6, backend="fused", **options)
    reference = LAYERS[kind](4, 6, backend="reference", **options)
    reference.load_state_dict(fused.state_dict())
    B, T = 5, 7
    x = torch.randn(B, T, 4) if fused.batch_first else torch.randn(T, B, 4)
    rows = fused.num_layers * fused.num_directions
    state = [torch.randn(rows, B, fused.output_size)]
    if kind == "lstm":
        state.append(torch.randn(rows, B, 6))
    lengths = torch.tensor([7, 3, 1, 6, 4]) if with_lengths else None

    results = []
    for layer in (fused, reference):
        xi = x.clone().requires_grad_()
        si = [s.clone().requires_grad_() for s in state]
        out, final = layer(xi, tuple(si) if kind == "lstm" else si[0], lengths=lengths)
        final = _as_tuple(final)
        # a loss that touches every output and final state with different weights
        loss = (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum()
        loss = loss + sum((f * (k + 2)).sum() for k, f in enumerate(final))
        loss.backward()
        grads = [xi.grad] + [s.grad for s in si] + [p.grad for p in layer.parameters()]
        results.append((out, final, grads))
    (out_f, final_f, grads_f), (out_r, final_r, grads_r) = results
    torch.testing.assert_close(out_f, out_r, atol=1e-5, rtol=1e-4)
    for a, b in zip(final_f, final_r):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    assert len(grads_f) == len(grads_r)
    for a, b in zip(grads_f, grads_r):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("batch_first", [True, False])
def test_state_dict_from_torch_gives_torch_outputs(kind, batch_first):
    torch.manual_seed(2)
    options = {"num_layers": 2, "bidirectional": True, "batch_first": batch_first}
    if kind == "lstm":
        options["proj_size"] = 3
    ref = TORCH[kind](4, 6, **options)
    x = torch.randn(5, 7, 4) if batch_first else torch.randn(7, 5, 4)
    for backend in ("fused", "reference"):
        ours = LAYERS[kind](4, 6, backend=backend, **options)
        ours.load_state_dict(ref.state_dict())
        out, state = ours(x)
        out_ref, state_ref = ref(x)
        torch.testing.assert_close(out, out_ref, atol=1e-6, rtol=1e-5)
        for a, b in zip(_as_tuple(state), _as_tuple(state_ref)):
            torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("kind", LAYERS)
def test_state_dict_to_torch_gives_our_outputs(kind):
    torch.manual_seed(3)
    ours = LAYERS[kind](4, 6, num_layers=2, bidirectional=True)
    ref = TORCH[kind](4, 6, num_layers=2, bidirectional=True, batch_first=True)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(3, 5, 4)
    torch.testing.assert_close(ours(x)[0], ref(x)[0])


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("backend", ["fused", "reference"])
def test_lengths_match_torch_packed_sequences(kind, backend):
    torch.manual_seed(4)
    options = {"num_layers": 2, "bidirectional": True, "batch_first": True}
    ref = TORCH[kind](3, 5, **options)
    ours = LAYERS[kind](3, 5, backend=backend, **options)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(4, 6, 3)
    lengths = torch.tensor([2, 6, 1, 4])  # unsorted on purpose
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out_ref, state_ref = ref(packed)
    out_ref, _ = pad_packed_sequence(out_ref, batch_first=True, total_length=6)
    out, state = ours(x, lengths=lengths)
    torch.testing.assert_close(out, out_ref, atol=1e-6, rtol=1e-5)
    for a, b in zip(_as_tuple(state), _as_tuple(state_ref)):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    assert out[2, 1:].abs().sum() == 0  # padded steps output zeros


def test_padded_steps_leave_the_state_alone():
    torch.manual_seed(5)
    layer = LSTM(3, 4, backend="reference")
    x = torch.randn(2, 6, 3)
    x_junk = x.clone()
    x_junk[0, 3:] = 1e3  # whatever sits in the padding must not matter
    lengths = [3, 6]
    out, (h, c) = layer(x, lengths=lengths)
    out_j, (h_j, c_j) = layer(x_junk, lengths=lengths)
    torch.testing.assert_close(out, out_j)
    torch.testing.assert_close(h, h_j)
    short, (h_short, _) = layer(x[:1, :3])
    torch.testing.assert_close(h[:, 0], h_short[:, 0])
    torch.testing.assert_close(out[0, :3], short[0])


def test_merge_modes_combine_the_two_directions():
    torch.manual_seed(6)
    concat = LSTM(3, 4, bidirectional=True)
    x = torch.randn(2, 5, 3)
    full, _ = concat(x)
    fwd, bwd = full[..., :4], full[..., 4:]
    for mode, expected in {"sum": fwd + bwd, "mul": fwd * bwd, "ave": (fwd + bwd) / 2}.items():
        layer = LSTM(3, 4, bidirectional=True, merge_mode=mode)
        layer.load_state_dict(concat.state_dict())
        torch.testing.assert_close(layer(x)[0], expected)


def test_stateful_layer_carries_state_between_calls():
    torch.manual_seed(7)
    layer = LSTM(3, 4, stateful=True)
    x = torch.randn(2, 8, 3)
    plain = LSTM(3, 4)
    plain.load_state_dict(layer.state_dict())
    whole, (h_whole, c_whole) = plain(x)
    first, _ = layer(x[:, :5])
    second, (h, c) = layer(x[:, 5:])
    torch.testing.assert_close(torch.cat([first, second], 1), whole)
    torch.testing.assert_close(h, h_whole)
    assert layer._state[0].grad_fn is None  # the carried copy is detached
    with pytest.raises(ValueError, match="carries state for batch size 2, got a batch of 3; call reset_state"):
        layer(torch.randn(3, 2, 3))
    layer.reset_state()
    fresh, _ = layer(x[:, :5])
    torch.testing.assert_close(fresh, first)


def test_batch_of_zero_returns_empty_outputs():
    for layer in (LSTM(3, 4, bidirectional=True), GRU(3, 4, num_layers=2), RNN(3, 4, backend="reference")):
        out, state = layer(torch.zeros(0, 5, 3))
        assert out.shape == (0, 5, 4 * layer.num_directions)
        assert all(s.shape[1] == 0 for s in _as_tuple(state))


def test_backend_fused_refuses_what_it_cannot_run():
    with pytest.raises(ValueError, match="backend='fused' cannot run zoneout"):
        LSTM(3, 4, zoneout=0.1, backend="fused")
    with pytest.raises(ValueError, match="reset_after=False"):
        GRU(3, 4, reset_after=False, backend="fused")
    layer = LSTM(3, 4, recurrent_dropout=0.2, backend="fused")
    with pytest.raises(ValueError, match="recurrent_dropout in training"):
        layer(torch.randn(2, 3, 3))
    layer.eval()  # no recurrent dropout at inference: the fused kernels can run
    assert layer.uses_fused()
    layer(torch.randn(2, 3, 3))


def test_auto_picks_the_fused_path_when_it_can():
    assert LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2).uses_fused()
    assert GRU(3, 4).uses_fused() and RNN(3, 4, nonlinearity="relu").uses_fused()
    assert not LSTM(3, 4, zoneout=0.1).uses_fused()
    assert not LSTM(3, 4, recurrent_dropout=0.1).uses_fused()
    assert not LSTM(3, 4, backend="reference").uses_fused()
