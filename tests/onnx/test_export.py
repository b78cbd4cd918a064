"""Export: ONNX Runtime runs the exported graph and reproduces lstmkit's outputs."""

import numpy as np
import onnx
import pytest
import torch
from onnx.reference import ReferenceEvaluator
from torch import nn

from lstmkit.nn import GRU, LSTM, RNN
from lstmkit.onnx import export, export_layer, layer_weights_to_onnx, load_onnx_weights_, load_recurrent

LAYERS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}


def _randomise(layer):
    with torch.no_grad():  # peepholes start at 0: move them
        for name, p in layer.named_parameters():
            if name.startswith("weight_ch"):
                p.uniform_(-0.8, 0.8)
    return layer


EXPORT_CASES = [
    ("lstm", {}),
    ("lstm", {"num_layers": 2, "bidirectional": True}),
    ("lstm", {"peephole": True, "go_backwards": True}),
    ("lstm", {"peephole": True, "bidirectional": True, "merge_mode": "sum", "num_layers": 2}),
    ("lstm", {"bidirectional": True, "merge_mode": "mul"}),
    ("lstm", {"bidirectional": True, "merge_mode": "ave", "batch_first": False}),
    ("lstm", {"input_forget": True, "clip": 0.9, "activations": ("hard_sigmoid", ("leaky_relu", 0.2), "softsign")}),
    (
        "lstm",
        {"bias": False, "recurrent_dropout": 0.3, "dropout": 0.2, "num_layers": 2},
    ),  # training-only options vanish
    ("gru", {"num_layers": 2, "bidirectional": True}),
    (
        "gru",
        {"reset_after": False, "clip": 0.7, "activations": [("affine", 0.5, 0.2), "softsign"], "go_backwards": True},
    ),
    ("rnn", {"nonlinearity": "relu", "bidirectional": True}),
    ("rnn", {"activations": [("scaled_tanh", 1.5, 0.5)], "num_layers": 2, "batch_first": False}),
]


@pytest.mark.parametrize("with_lengths,with_state", [(False, False), (True, True)])
@pytest.mark.parametrize("kind,options", EXPORT_CASES)
def test_onnx_runtime_reproduces_the_layer(kind, options, with_lengths, with_state, run_ort):
    torch.manual_seed(0)
    layer = _randomise(LAYERS[kind](3, 5, **options)).eval()
    model = export_layer(layer, with_lengths=with_lengths, with_state=with_state)
    assert sum(n.op_type == kind.upper() for n in model.graph.node) == layer.num_layers
    B, T = 4, 6
    x = torch.randn(B, T, 3) if layer.batch_first else torch.randn(T, B, 3)
    feeds, kwargs = {"input": x.numpy()}, {}
    if with_lengths:
        lengths = torch.tensor([6, 2, 5, 1])
        feeds["lengths"], kwargs["lengths"] = lengths.numpy(), lengths
    state = None
    if with_state:
        rows = layer.num_layers * layer.num_directions
        state = tuple(torch.randn(rows, B, 5) for _ in range(2 if kind == "lstm" else 1))
        feeds.update(zip(("h0", "c0"), (s.numpy() for s in state)))
    with torch.no_grad():
        out, final = layer(x, state if state is None or kind == "lstm" else state[0], **kwargs)
    finals = final if kind == "lstm" else (final,)
    got = run_ort(model, feeds)
    for ours, theirs in zip((out, *finals), got, strict=True):
        np.testing.assert_allclose(theirs, ours.numpy(), atol=2e-5, rtol=1e-4)


def test_export_saves_a_checked_model(tmp_path):
    layer = LSTM(3, 4, peephole=True, bidirectional=True)
    path = tmp_path / "lstm.onnx"
    export_layer(layer, path, with_lengths=True)
    model = onnx.load(path)
    onnx.checker.check_model(model)
    (node,) = [n for n in model.graph.node if n.op_type == "LSTM"]
    assert onnx.helper.get_attribute_value(next(a for a in node.attribute if a.name == "direction")) == b"bidirectional"
    assert node.input[4] and node.input[7]  # sequence_lens and P are wired
    dims = [d.dim_param for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims[:2] == ["batch", "time"]  # any batch size and length
    (loaded,) = load_recurrent(path)  # and back, from the file
    x = torch.randn(5, 2, 3)
    with torch.no_grad():
        Y, Y_h, Y_c = loaded(x, np.array([5, 3]))
        out, (h, c) = layer.eval()(x.transpose(0, 1), lengths=[5, 3])
    torch.testing.assert_close(Y.permute(2, 0, 1, 3).reshape(2, 5, 8), out)
    torch.testing.assert_close(Y_h, h)


class _Forecaster(nn.Module):
    """A model as users write them: a recurrent body and a linear head."""

    def __init__(self, **options):
        super().__init__()
        self.body = LSTM(3, 6, num_layers=2, **options)
        self.head = nn.Linear(6, 2)

    def forward(self, x, lengths):
        out, (h, _) = self.body(x, lengths=lengths)
        return self.head(out), h[-1]


@pytest.mark.parametrize("options", [{}, {"peephole": True, "recurrent_dropout": 0.2}])
def test_a_whole_model_exports_with_standard_operators(options, run_ort):
    torch.manual_seed(1)
    model = _Forecaster(**options)
    _randomise(model.body)
    model.train()  # export switches to evaluation and back
    x, lengths = torch.randn(3, 7, 3), torch.tensor([7, 3, 5])
    exported = export(
        model,
        (x, lengths),
        input_names=["x", "lengths"],
        output_names=["y", "h"],
        dynamic_axes={"x": {0: "batch", 1: "time"}, "lengths": {0: "batch"}},
    )
    assert model.training and "forward" not in model.body.__dict__
    assert [n.op_type for n in exported.graph.node].count("LSTM") == 2
    model.eval()
    x2, lengths2 = torch.randn(2, 9, 3), torch.tensor([4, 9])  # another batch size and length
    with torch.no_grad():
        y, h = model(x2, lengths2)
    y_ort, h_ort = run_ort(exported, {"x": x2.numpy(), "lengths": lengths2.numpy()})
    np.testing.assert_allclose(y_ort, y.numpy(), atol=2e-5, rtol=1e-4)
    np.testing.assert_allclose(h_ort, h.numpy(), atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: LSTM(3, 4, layer_norm=True), "cannot express layer_norm=True"),
        (lambda: LSTM(3, 4, zoneout=0.1), "cannot express zoneout=0.1"),
        (lambda: GRU(3, 4, zoneout=0.2), "GRU operator cannot express zoneout=0.2"),
        (lambda: LSTM(3, 4, proj_size=2), "cannot express proj_size=2"),
    ],
)
def test_what_onnx_cannot_express_is_named(make, match):
    with pytest.raises(ValueError, match=match):
        export_layer(make())
    with pytest.raises(ValueError, match=match):
        export(nn.Sequential(make()), (torch.randn(1, 2, 3),))


def test_weights_round_trip_through_the_onnx_layout():
    torch.manual_seed(2)
    for layer in (LSTM(3, 4, bidirectional=True, peephole=True), GRU(3, 4, bidirectional=True), RNN(3, 4)):
        _randomise(layer)
        weights = layer_weights_to_onnx(layer)
        copy = type(layer)(
            3, 4, bidirectional=layer.bidirectional, **({"peephole": True} if isinstance(layer, LSTM) else {})
        )
        load_onnx_weights_(copy, **weights)
        for (name, a), b in zip(layer.state_dict().items(), copy.state_dict().values()):
            torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    # LSTM: ONNX blocks are i, o, f, c; torch's are i, f, g, o
    lstm = LSTM(1, 1, bias=False)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.tensor([[1.0], [2.0], [3.0], [4.0]]))  # i, f, g, o
    assert layer_weights_to_onnx(lstm)["W"].ravel().tolist() == [1.0, 4.0, 2.0, 3.0]


@pytest.mark.parametrize("kind,options", [EXPORT_CASES[3], EXPORT_CASES[6], EXPORT_CASES[9], EXPORT_CASES[11]])
def test_export_then_load_gives_back_the_layer(kind, options):
    torch.manual_seed(3)
    layer = _randomise(LAYERS[kind](3, 5, **options)).eval()
    modules = load_recurrent(export_layer(layer))
    assert len(modules) == layer.num_layers
    first = modules[0].layer
    assert (first.bidirectional, first.go_backwards) == (layer.bidirectional, layer.go_backwards)
    assert first.clip == pytest.approx(layer.clip)  # ONNX stores float attributes in float32
    for a, b in zip(first.activations or (), layer.activations or (), strict=True):
        assert a.name == b.name and (a.alpha, a.beta) == pytest.approx((b.alpha, b.beta))
    for name, value in first.state_dict().items():  # the first layer's weights, unchanged
        torch.testing.assert_close(value, layer.state_dict()[name], rtol=0, atol=0)


@pytest.mark.parametrize(
    "kind,options",
    [
        ("lstm", {"peephole": True, "bidirectional": True, "num_layers": 2}),
        ("gru", {"go_backwards": True, "batch_first": False}),
        ("rnn", {"bidirectional": True, "merge_mode": "sum"}),
    ],
)
def test_batch_major_layout_export(kind, options):
    torch.manual_seed(4)
    layer = _randomise(LAYERS[kind](3, 5, **options)).eval()
    model = export_layer(layer, layout=1, with_state=True)
    assert all(
        a.i == 1 for n in model.graph.node if n.op_type == kind.upper() for a in n.attribute if a.name == "layout"
    )
    x = torch.randn(2, 4, 3) if layer.batch_first else torch.randn(4, 2, 3)
    rows = layer.num_layers * layer.num_directions
    state = tuple(torch.randn(rows, 2, 5) for _ in range(2 if kind == "lstm" else 1))
    with torch.no_grad():
        out, final = layer(x, state if kind == "lstm" else state[0])
    feeds = {"input": x.numpy(), **dict(zip(("h0", "c0"), (s.numpy() for s in state)))}
    got = ReferenceEvaluator(model).run(None, feeds)  # ONNX Runtime has no layout=1
    for ours, theirs in zip((out, *(final if kind == "lstm" else (final,))), got, strict=True):
        np.testing.assert_allclose(theirs, ours.numpy(), atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="layout must be 0 .* or 1 .*, got 2"):
        export_layer(layer, layout=2)
