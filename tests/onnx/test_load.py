"""Import: every LSTM/GRU/RNN node becomes a module reproducing the node's Y, Y_h and Y_c.

Three references: the onnx package's own node test cases (``onnx/backend/test/case/node``),
ONNX Runtime on randomised nodes with ragged ``sequence_lens``, and onnx's reference
evaluator for ``layout=1`` (which ONNX Runtime does not implement).
"""

import io
import warnings

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from onnx.backend.test.case.node import gru as gru_cases
from onnx.backend.test.case.node import lstm as lstm_cases
from onnx.backend.test.case.node import rnn as rnn_cases
from onnx.reference import ReferenceEvaluator

from lstmkit.nn import LSTM
from lstmkit.onnx import load_recurrent

GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
N_ACTIVATIONS = {"LSTM": 3, "GRU": 2, "RNN": 1}


def _node_cases():
    """(name, node, inputs, outputs) of every export_* generator for LSTM, GRU and RNN."""
    cases = []
    for module, cls in ((lstm_cases, lstm_cases.LSTM), (gru_cases, gru_cases.GRU), (rnn_cases, rnn_cases.RNN)):
        captured = []
        original = module.expect
        module.expect = lambda node, inputs, outputs, name, captured=captured, **kw: captured.append(
            (name, node, inputs, outputs)
        )
        try:
            for attribute in sorted(vars(cls)):
                if attribute.startswith("export"):
                    np.random.seed(0)  # as the onnx test-case generator does
                    getattr(cls, attribute)()
        finally:
            module.expect = original
        cases += captured
    return cases


NODE_CASES = _node_cases()


def _as_model(node, inputs):
    """The test case's one-node graph, every present input a graph input."""
    present = [name for name in node.input if name]
    graph = helper.make_graph(
        [node],
        "case",
        [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)
            for n, a in zip(present, inputs)
        ],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in node.output if n],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])


def _call(module, feeds):
    """Run a loaded module on the node's runtime inputs; the outputs by the node's names."""
    names = module.inputs
    args = {k: feeds.get(names[k]) for k in ("sequence_lens", "initial_h", "initial_c") if names.get(k)}
    results = module(feeds[names["X"]], **args)
    return {
        module.outputs[k]: v.detach().numpy() for k, v in zip(("Y", "Y_h", "Y_c"), results) if module.outputs.get(k)
    }


def test_every_onnx_node_test_case_is_collected():
    names = {name for name, *_ in NODE_CASES}
    assert {
        "test_lstm_with_peepholes",
        "test_lstm_batchwise",
        "test_gru_seq_length",
        "test_simple_rnn_bidirectional",
    } <= names
    assert len(NODE_CASES) >= 18


@pytest.mark.parametrize("name,node,inputs,outputs", NODE_CASES, ids=[c[0] for c in NODE_CASES])
def test_onnx_node_conformance(name, node, inputs, outputs):
    feeds = dict(zip([n for n in node.input if n], inputs))
    weights = {
        feeds_name: feeds[feeds_name]
        for arg, feeds_name in zip(("X", "W", "R", "B", "", "", "", "P"), node.input)
        if arg in ("W", "R", "B", "P") and feeds_name
    }
    (module,) = load_recurrent(_as_model(node, inputs), values=weights)
    got = _call(module, feeds)
    expected = dict(zip([n for n in node.output if n], outputs))
    assert set(expected) <= set(got)
    for key, value in expected.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-5, atol=1e-6, err_msg=f"{name}: {key}")


ORT_ACTIVATIONS = {  # (name, takes alpha, takes beta), as ONNX Runtime implements them
    "Sigmoid": (0, 0),
    "Tanh": (0, 0),
    "Relu": (0, 0),
    "Affine": (1, 1),
    "LeakyRelu": (1, 0),
    "ThresholdedRelu": (1, 0),
    "ScaledTanh": (1, 1),
    "HardSigmoid": (1, 1),
    "Elu": (1, 0),
    "Softsign": (0, 0),
    "Softplus": (0, 0),
}


def _random_node(op, seed):
    """A random node of ``op`` with every option drawn, and its runtime inputs."""
    rng = np.random.default_rng(seed)
    T, B, I, H = 5, 4, 3, 3
    D = 2 if (direction := ["forward", "reverse", "bidirectional"][seed % 3]) == "bidirectional" else 1
    G = GATES[op]
    attrs = {"hidden_size": H, "direction": direction}
    initializers = {"W": rng.normal(0, 0.6, (D, G * H, I)), "R": rng.normal(0, 0.6, (D, G * H, H))}
    with_bias = seed % 4 != 1
    if with_bias:
        initializers["B"] = rng.normal(0, 0.3, (D, 2 * G * H))
    if seed % 2:
        attrs["clip"] = float(rng.uniform(0.5, 2.0))
    if op == "LSTM" and seed % 5 in (1, 3):
        attrs["input_forget"] = 1
    if op == "GRU":
        attrs["linear_before_reset"] = seed % 2
    if seed % 3 != 0:  # custom activations, the same in both directions; alphas for some
        names = list(rng.choice(list(ORT_ACTIVATIONS), N_ACTIVATIONS[op]))
        attrs["activations"] = names * D
        n_alpha = sum(ORT_ACTIVATIONS[n][0] for n in names)
        n_beta = sum(ORT_ACTIVATIONS[n][1] for n in names)
        if seed % 4 and n_alpha:  # sometimes leave them out: the defaults apply
            attrs["activation_alpha"] = list(rng.uniform(0.1, 1.5, n_alpha)) * D
            if n_beta:
                attrs["activation_beta"] = list(rng.uniform(0.1, 1.5, n_beta)) * D
    if op == "LSTM" and seed % 3 != 1:
        initializers["P"] = rng.normal(0, 0.5, (D, 3 * H))
    runtime = {"X": rng.normal(0, 1, (T, B, I)), "sequence_lens": np.array([5, 0, 3, 1], dtype=np.int32)}
    rng.shuffle(runtime["sequence_lens"])
    if seed % 2 == 0:
        runtime["initial_h"] = rng.normal(0, 1, (D, B, H))
        if op == "LSTM":
            runtime["initial_c"] = rng.normal(0, 1, (D, B, H))
    order = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"][: 8 if op == "LSTM" else 6]
    available = {**initializers, **runtime}
    node_inputs = [n if n in available else "" for n in order]
    while node_inputs[-1] == "":
        node_inputs.pop()
    node = helper.make_node(
        op, node_inputs, ["Y", "Y_h", "Y_c"][: 3 if op == "LSTM" else 2], name=f"{op.lower()}{seed}", **attrs
    )
    feeds = {k: (v if v.dtype == np.int32 else v.astype(np.float32)) for k, v in runtime.items()}
    graph = helper.make_graph(
        [node],
        "random",
        [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape) for k, v in feeds.items()],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in node.output],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in initializers.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    return model, feeds


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_random_nodes_with_ragged_lengths_match_onnx_runtime(op, seed, run_ort):
    model, feeds = _random_node(op, seed)
    expected = run_ort(model, feeds)
    (module,) = load_recurrent(model)
    got = module(feeds["X"], feeds["sequence_lens"], feeds.get("initial_h"), feeds.get("initial_c"))
    for name, ours, theirs in zip(("Y", "Y_h", "Y_c")[: len(expected)], got, expected, strict=True):
        np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=1e-4, atol=3e-5, err_msg=name)
    if not any(a.name == "activations" for a in model.graph.node[0].attribute):
        assert not np.allclose(expected[0], 0)  # the node computed something (some activations can zero it)


def _batch_major(model, feeds, keep_attributes=True):
    """The same node with ``layout=1`` and full lengths, and its inputs batch first."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    node = model.graph.node[0]
    if not keep_attributes:  # the reference evaluator implements only the default activations
        kept = [a for a in node.attribute if a.name in ("hidden_size", "direction", "linear_before_reset")]
        del node.attribute[:]
        node.attribute.extend(kept)
    node.attribute.append(helper.make_attribute("layout", 1))
    node.input[4] = ""  # the reference evaluator ignores sequence_lens
    del model.graph.input[1]
    feeds = {k: np.swapaxes(v, 0, 1).copy() for k, v in feeds.items() if k != "sequence_lens"}
    return model, feeds


@pytest.mark.parametrize("op", ["LSTM", "GRU", "RNN"])
def test_batch_major_layout(op, run_ort):
    model, feeds = _random_node(op, 2)  # bidirectional, clip, custom activations, initial state, peepholes
    assert model.graph.node[0].input[4] == "sequence_lens"
    # against ONNX Runtime on the time-major node (it has no layout=1), full lengths
    full = dict(feeds, sequence_lens=np.full(4, 5, dtype=np.int32))
    time_major = run_ort(model, full)
    batch_model, batch_feeds = _batch_major(model, feeds)
    (module,) = load_recurrent(batch_model)
    got = [
        t.detach().numpy()
        for t in module(batch_feeds["X"], None, batch_feeds.get("initial_h"), batch_feeds.get("initial_c"))
    ]
    assert got[0].shape == (4, 5, 2, 3) and got[1].shape == (
        4,
        2,
        3,
    )  # (batch, seq, dirs, hidden), (batch, dirs, hidden)
    np.testing.assert_allclose(got[0], time_major[0].transpose(2, 0, 1, 3), rtol=1e-4, atol=3e-5)
    for ours, theirs in zip(got[1:], time_major[1:], strict=True):
        np.testing.assert_allclose(ours, theirs.transpose(1, 0, 2), rtol=1e-4, atol=3e-5)
    # against onnx's reference evaluator, which runs layout=1 itself (default activations, no clip)
    plain_model, plain_feeds = _batch_major(model, feeds, keep_attributes=False)
    expected = ReferenceEvaluator(plain_model).run(None, plain_feeds)
    (module,) = load_recurrent(plain_model)
    got = module(plain_feeds["X"], None, plain_feeds.get("initial_h"), plain_feeds.get("initial_c"))
    for ours, theirs in zip(got, expected, strict=True):
        np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=1e-4, atol=3e-5)


def test_torch_exported_models_load_and_match_torch():
    torch.manual_seed(4)
    for ref in (
        torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True),
        torch.nn.GRU(3, 4),
        torch.nn.RNN(3, 4, nonlinearity="relu"),
    ):
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(ref, (torch.randn(5, 2, 3),), buffer, dynamo=False, opset_version=17)
        modules = load_recurrent(buffer.getvalue())
        assert len(modules) == ref.num_layers
        x = torch.randn(6, 3, 3)
        expected, _ = ref(x)
        y = x
        for module in modules:  # chain the nodes as torch's graph does: (T, D, B, H) -> (T, B, D * H)
            Y = module(y)[0]
            y = Y.permute(0, 2, 1, 3).reshape(Y.shape[0], Y.shape[2], -1)
        torch.testing.assert_close(y, expected, atol=1e-5, rtol=1e-4)


def _lstm_node(**attrs):
    W, R = np.ones((1, 8, 3), np.float32), np.ones((1, 8, 2), np.float32)
    node = helper.make_node("LSTM", ["X", "W", "R"], ["Y"], name="bad", **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, None)],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(W, "W"), numpy_helper.from_array(R, "R")],
    )
    return helper.make_model(graph)


@pytest.mark.parametrize(
    "attrs,match",
    [
        (
            {"direction": "sideways"},
            "LSTM node 'bad': direction must be 'forward', 'reverse' or 'bidirectional', got 'sideways'",
        ),
        ({"hidden_size": 3}, "LSTM node 'bad': hidden_size=3 disagrees with R of shape"),
        ({"layout": 2}, "LSTM node 'bad': layout must be 0 or 1, got 2"),
        ({"activations": ["Sigmoid", "Tanh"]}, r"LSTM node 'bad': activations must list 3 function\(s\) per direction"),
        ({"activations": ["Sigmoid", "Gelu", "Tanh"]}, "LSTM node 'bad': activations: unknown function 'Gelu'"),
        ({"clip": -1.0}, "LSTM node 'bad': clip must be None or a positive finite number, got -1.0"),
        ({"peepholes": 1}, r"LSTM node 'bad': unknown attribute\(s\) \['peepholes'\]"),
    ],
)
def test_unsupported_attributes_are_named(attrs, match):
    with pytest.raises(ValueError, match=match):
        load_recurrent(_lstm_node(**attrs))


def test_unsupported_combinations_are_named():
    model = _lstm_node()
    model.graph.node[0].attribute.append(helper.make_attribute("direction", "bidirectional"))
    model.graph.node[0].attribute.append(
        helper.make_attribute("activations", ["Sigmoid", "Tanh", "Tanh", "Sigmoid", "Relu", "Tanh"])
    )
    model.graph.initializer[0].CopyFrom(numpy_helper.from_array(np.ones((2, 8, 3), np.float32), "W"))
    model.graph.initializer[1].CopyFrom(numpy_helper.from_array(np.ones((2, 8, 2), np.float32), "R"))
    with pytest.raises(ValueError, match="activations differ between the directions"):
        load_recurrent(model)
    weights_as_input = _lstm_node()
    del weights_as_input.graph.initializer[0]
    with pytest.raises(ValueError, match=r"input W \('W'\) is neither an initializer nor a Constant; .* values="):
        load_recurrent(weights_as_input)
    (module,) = load_recurrent(weights_as_input, values={"W": np.ones((1, 8, 3), np.float32)})
    with pytest.raises(ValueError, match=r"sequence_lens must hold 2 lengths in \[0, 4\], got \[5, 1\]"):
        module(np.zeros((4, 2, 3), np.float32), np.array([5, 1]))
    with pytest.raises(
        ValueError, match=r"initial_h must be \(num_directions, batch, hidden_size\) = \(1, 2, 2\), got \(2, 2\)"
    ):
        module(np.zeros((4, 2, 3), np.float32), initial_h=np.zeros((2, 2), np.float32))
    with pytest.raises(
        ValueError, match=r"X must be \(seq_length, batch, input_size\) with input_size=3, got shape \(4, 2\)"
    ):
        module(np.zeros((4, 2), np.float32))
    with pytest.raises(TypeError, match="model must be an onnx.ModelProto, a path or bytes, got int"):
        load_recurrent(3)


def test_loaded_layer_is_a_plain_trainable_lstmkit_layer():
    model, feeds = _random_node("LSTM", 3)
    (module,) = load_recurrent(model)
    assert isinstance(module.layer, LSTM) and module.layer.peephole
    out, (h, c) = module.layer(torch.as_tensor(feeds["X"]).transpose(0, 1))
    out.sum().backward()
    assert module.layer.weight_hh_l0.grad is not None


def test_states_and_lengths_stored_in_the_graph_are_the_defaults(run_ort):
    model, feeds = _random_node("LSTM", 2)  # bidirectional, with initial states and ragged lengths
    fixed = {k: feeds.pop(k) for k in ("sequence_lens", "initial_h", "initial_c")}
    kept = [i for i in model.graph.input if i.name not in fixed]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    model.graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in fixed.items())
    expected = run_ort(model, feeds)
    (module,) = load_recurrent(model)
    assert set(module._defaults) == set(fixed)
    got = module(feeds["X"])  # everything else comes from the graph
    for ours, theirs in zip(got, expected, strict=True):
        np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=1e-4, atol=3e-5)
    zero_state = module(feeds["X"], initial_h=np.zeros((2, 4, 3), np.float32))  # a runtime value wins
    assert not np.allclose(zero_state[1].detach().numpy(), expected[1])
