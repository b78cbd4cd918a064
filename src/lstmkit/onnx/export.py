"""Export recurrent layers, and models that contain them, with ONNX's own ``LSTM``/``GRU``/``RNN``.

Each layer becomes one standard operator per stacked layer, with everything those
operators can say: both directions (``direction``), reading backwards
(``direction="reverse"``), per-sample lengths (``sequence_lens``), initial states,
peepholes (``P``), ``clip``, coupled gates (``input_forget``), the GRU's
``linear_before_reset`` and custom ``activations``. Between stacked layers the
directions are concatenated as in lstmkit; ``merge_mode`` and batch-first layouts
become ``Gather``/``Add``/``Mul``/``Transpose`` nodes around them. The operators use
``layout=0`` (time-major) by default because ONNX Runtime implements only that one;
``export_layer(..., layout=1)`` writes batch-major operators instead, and
`load_recurrent` reads both.

What the operators cannot express raises a `ValueError` that names the option:
``layer_norm``, ``zoneout`` (its evaluation-time expectation mixes old and new
states) and ``proj_size``. Dropout and recurrent dropout are training-only and
vanish from the exported (evaluation) graph.

Two entry points share one graph builder:

* `export_layer` writes the graph of one layer directly with ``onnx.helper``;
* `export` runs ``torch.onnx.export`` (the TorchScript exporter) on any model, with
  every lstmkit layer inside it emitting the same standard operators.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Sequence

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from lstmkit.nn.lstm import GRU, LSTM, RNN, RecurrentLayer
from lstmkit.onnx.weights import layer_weights_to_onnx

__all__ = ["export", "export_layer", "check_exportable", "DEFAULT_OPSET"]

DEFAULT_OPSET = 17
_IR_VERSION = 8  # the lowest that carries opset 17: readable by every current ONNX Runtime


def check_exportable(layer: RecurrentLayer) -> None:
    """Raise a `ValueError` naming the first option the ONNX operators cannot express.

    >>> check_exportable(LSTM(3, 4, peephole=True))
    >>> check_exportable(LSTM(3, 4, layer_norm=True))
    Traceback (most recent call last):
      ...
    ValueError: ONNX's LSTM operator cannot express layer_norm=True (it has no normalisation); export a layer without it
    """
    if not isinstance(layer, (LSTM, GRU, RNN)):
        raise TypeError(f"expected an lstmkit LSTM, GRU or RNN layer, got {type(layer).__name__}")
    op = type(layer).__name__
    if getattr(layer, "layer_norm", False):
        raise ValueError(
            f"ONNX's {op} operator cannot express layer_norm=True (it has no normalisation); export a layer without it"
        )
    if layer.zoneout:
        raise ValueError(
            f"ONNX's {op} operator cannot express zoneout={layer.zoneout} (its evaluation-time expectation "
            "mixes the old and new state); export a layer without zoneout"
        )
    if getattr(layer, "proj_size", 0):
        raise ValueError(f"ONNX's {op} operator cannot express proj_size={layer.proj_size} (it has no projection)")


# ---- the graph builder, written once against two back ends ------------------------------


class _ProtoGraph:
    """Collects ``onnx.helper`` nodes and initializers; tensors are names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, hint: str, array: np.ndarray) -> str:
        name = self._name(hint)
        self.initializers.append(numpy_helper.from_array(np.array(array, order="C"), name))
        return name

    def op(self, op_type: str, inputs: Sequence[str | None], outputs: int = 1, **attrs):
        inputs = list(inputs)
        while inputs and inputs[-1] is None:  # trailing optional inputs may be left out
            inputs.pop()
        names = [self._name(op_type.lower()) for _ in range(outputs)]
        self.nodes.append(
            helper.make_node(op_type, [i or "" for i in inputs], names, name=self._name(op_type), **attrs)
        )
        return names[0] if outputs == 1 else names


class _SymbolicGraph:
    """The same calls on a ``torch.onnx`` symbolic graph context; tensors are graph values."""

    _SUFFIX = {int: "i", float: "f", str: "s"}

    def __init__(self, g) -> None:
        self.g = g

    def const(self, hint: str, array: np.ndarray):
        return self.g.op("Constant", value_t=torch.from_numpy(np.array(array, order="C")))

    def op(self, op_type: str, inputs, outputs: int = 1, **attrs):
        from torch.onnx.symbolic_opset9 import unused  # an absent optional input

        inputs = list(inputs)
        while inputs and inputs[-1] is None:
            inputs.pop()
        inputs = [unused(self.g) if i is None else i for i in inputs]
        typed = {}
        for key, value in attrs.items():
            kind = type(value[0]) if isinstance(value, (list, tuple)) else type(value)
            typed[f"{key}_{self._SUFFIX[kind]}"] = value
        return self.g.op(op_type, *inputs, outputs=outputs, **typed)


def _activation_attrs(layer: RecurrentLayer) -> dict[str, list[str] | list[float]]:
    """``activations`` (one list per direction) and their alpha/beta, when not the defaults."""
    op = type(layer).__name__
    if op == "RNN":
        acts = layer.activations or ()
        names = [a.name for a in acts] if acts else (["Relu"] if layer.nonlinearity == "relu" else None)
    else:
        acts = layer.activations or ()
        names = [a.name for a in acts] if acts else None
    if names is None:
        return {}
    # alpha and beta are consumed in order by the functions that take them (as ONNX Runtime does)
    alphas = [a.alpha for a in acts if a.uses_alpha]
    betas = [a.beta for a in acts if a.uses_beta]
    D = layer.num_directions
    attrs: dict[str, list[str] | list[float]] = {"activations": names * D}
    if alphas:
        attrs["activation_alpha"] = alphas * D
    if betas:
        attrs["activation_beta"] = betas * D
    return attrs


def _recurrent_graph(b, layer: RecurrentLayer, x, lengths=None, h0=None, c0=None, layout: int = 0):
    """Emit ``layer`` (in evaluation mode) on builder ``b``; returns ``(output, h_n, c_n or None)``.

    ``x`` is laid out as the layer expects (batch-first or not); ``lengths`` is an int64
    ``(B,)`` tensor or None; ``h0``/``c0`` are ``(layers * directions, B, size)`` or None.
    ``layout`` is the operators' own: 0 time-major (what ONNX Runtime runs), 1 batch-major.
    """
    check_exportable(layer)
    op = type(layer).__name__
    D, H, L = layer.num_directions, layer.hidden_size, layer.num_layers
    direction = "bidirectional" if layer.bidirectional else ("reverse" if layer.go_backwards else "forward")
    attrs = {"hidden_size": H, "direction": direction, **_activation_attrs(layer)}
    if layer.clip is not None:
        attrs["clip"] = float(layer.clip)
    if op == "LSTM" and layer.input_forget:
        attrs["input_forget"] = 1
    if op == "GRU":
        assert isinstance(layer, GRU)  # op is the class name, checked by check_exportable
        attrs["linear_before_reset"] = int(layer.reset_after)
    if layout:
        attrs["layout"] = 1
    swap = layer.batch_first != bool(layout)  # the layer's layout is not the operators'

    seq = b.op("Transpose", [x], perm=[1, 0, 2]) if swap else x  # (T, B, I), or (B, T, I) for layout=1
    sequence_lens = b.op("Cast", [lengths], to=TensorProto.INT32) if lengths is not None else None
    h_finals, c_finals = [], []
    for k in range(L):
        w = layer_weights_to_onnx(layer, k)

        def rows(s, k=k):  # this layer's initial state, (D, B, size) or (B, D, size) for layout=1
            if s is None:
                return None
            s = b.op(
                "Slice",
                [
                    s,
                    b.const("start", np.array([k * D])),
                    b.const("end", np.array([(k + 1) * D])),
                    b.const("axis", np.array([0])),
                ],
            )
            return b.op("Transpose", [s], perm=[1, 0, 2]) if layout else s

        inputs = [seq, b.const("W", w["W"]), b.const("R", w["R"]), b.const("B", w["B"]), sequence_lens, rows(h0)]
        inputs += [rows(c0), b.const("P", w["P"]) if "P" in w else None] if op == "LSTM" else []
        y, *finals = b.op(op, inputs, outputs=3 if op == "LSTM" else 2, **attrs)
        if layout:  # finals (B, D, size) -> (D, B, size), as lstmkit returns them
            finals = [b.op("Transpose", [f], perm=[1, 0, 2]) for f in finals]
        h_finals.append(finals[0])
        if op == "LSTM":
            c_finals.append(finals[1])
        if not layout:
            y = b.op("Transpose", [y], perm=[0, 2, 1, 3])  # (T, D, B, H) -> (T, B, D, H)
        if k == L - 1 and D == 2 and layer.merge_mode != "concat":
            forward = b.op("Gather", [y, b.const("forward", np.array(0))], axis=2)
            backward = b.op("Gather", [y, b.const("backward", np.array(1))], axis=2)
            if layer.merge_mode == "mul":
                seq = b.op("Mul", [forward, backward])
            else:
                seq = b.op("Add", [forward, backward])
                if layer.merge_mode == "ave":
                    seq = b.op("Mul", [seq, b.const("half", np.array(0.5, dtype=w["W"].dtype))])
        else:
            seq = b.op("Reshape", [y, b.const("shape", np.array([0, 0, -1]))])  # (T, B, D * H) or (B, T, D * H)
    output = b.op("Transpose", [seq], perm=[1, 0, 2]) if swap else seq
    h_n = h_finals[0] if L == 1 else b.op("Concat", h_finals, axis=0)
    c_n = None
    if op == "LSTM":
        c_n = c_finals[0] if L == 1 else b.op("Concat", c_finals, axis=0)
    return output, h_n, c_n


# ---- one layer, written directly ---------------------------------------------------------


def export_layer(
    layer: RecurrentLayer,
    path: str | os.PathLike | None = None,
    *,
    with_lengths: bool = False,
    with_state: bool = False,
    layout: int = 0,
    opset: int = DEFAULT_OPSET,
) -> onnx.ModelProto:
    """Write one lstmkit layer as an ONNX model built from the standard recurrent operators.

    The model computes the layer's evaluation-mode forward pass.

    Args:
        layer: an `lstmkit.nn.LSTM`, `GRU` or `RNN` (see `check_exportable`).
        path: where to save the model; None only returns it.
        with_lengths: add an int64 input ``lengths (B,)`` (ONNX ``sequence_lens``).
        with_state: add inputs ``h0`` (and ``c0`` for LSTM) for the initial state.
        layout: the recurrent operators' ``layout``: 0 (default) time-major, which every
            runtime implements (ONNX Runtime only this one), or 1 batch-major, which
            maps a ``batch_first`` layer without transposes.
        opset: the ONNX opset to target (>= 14).

    Returns:
        The model. Inputs: ``input`` laid out like the layer's input (batch and time
        dynamic), then ``lengths``, ``h0``, ``c0`` as asked. Outputs: ``output``,
        ``h_n`` and (LSTM) ``c_n``, shaped as the layer returns them.

    >>> from lstmkit.nn import LSTM
    >>> model = export_layer(LSTM(3, 4, bidirectional=True, peephole=True), with_lengths=True)
    >>> [n.op_type for n in model.graph.node if n.op_type == "LSTM"], [i.name for i in model.graph.input]
    (['LSTM'], ['input', 'lengths'])
    """
    if opset < 14:
        raise ValueError(f"opset must be >= 14 (the recurrent operators' current form), got {opset}")
    if layout not in (0, 1):
        raise ValueError(f"layout must be 0 (time-major) or 1 (batch-major), got {layout!r}")
    check_exportable(layer)
    dtype = layer.weight_ih_l0.dtype
    elem = {torch.float32: TensorProto.FLOAT, torch.float64: TensorProto.DOUBLE}.get(dtype)
    if elem is None:
        raise ValueError(f"export supports float32 and float64 layers, got {dtype}")
    b = _ProtoGraph()
    rows = layer.num_layers * layer.num_directions
    dims = ["batch", "time"] if layer.batch_first else ["time", "batch"]
    inputs = [helper.make_tensor_value_info("input", elem, [*dims, layer.input_size])]
    lengths = h0 = c0 = None
    if with_lengths:
        lengths = "lengths"
        inputs.append(helper.make_tensor_value_info("lengths", TensorProto.INT64, ["batch"]))
    if with_state:
        h0 = "h0"
        inputs.append(helper.make_tensor_value_info("h0", elem, [rows, "batch", layer.output_size]))
        if isinstance(layer, LSTM):
            c0 = "c0"
            inputs.append(helper.make_tensor_value_info("c0", elem, [rows, "batch", layer.hidden_size]))
    output, h_n, c_n = _recurrent_graph(b, layer, "input", lengths, h0, c0, layout)
    finals = {"output": output, "h_n": h_n, **({"c_n": c_n} if c_n is not None else {})}
    nodes = list(b.nodes)
    for name, source in finals.items():  # give the outputs their public names
        nodes.append(helper.make_node("Identity", [source], [name], name=f"{name}_out"))
    merged = layer.num_directions if layer.merge_mode == "concat" else 1
    outputs = [
        helper.make_tensor_value_info("output", elem, [*dims, merged * layer.output_size]),
        helper.make_tensor_value_info("h_n", elem, [rows, "batch", layer.output_size]),
    ]
    if c_n is not None:
        outputs.append(helper.make_tensor_value_info("c_n", elem, [rows, "batch", layer.hidden_size]))
    graph = helper.make_graph(nodes, f"lstmkit_{type(layer).__name__}", inputs, outputs, b.initializers)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="lstmkit", ir_version=_IR_VERSION
    )
    onnx.checker.check_model(model)
    if path is not None:
        onnx.save(model, os.fspath(path))
    return model


# ---- any model, through torch.onnx.export ---------------------------------------------------


def _exporting_forward(layer: RecurrentLayer):
    """A replacement ``forward`` whose trace is the standard operators (see `export`)."""
    original = type(layer).forward
    is_lstm = isinstance(layer, LSTM)

    def forward(x, state=None, lengths=None):
        if lengths is not None and not isinstance(lengths, torch.Tensor):
            lengths = torch.as_tensor(lengths)
        given = {"lengths": lengths, "state": state}

        class _Recurrent(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, *tensors):
                args = dict(zip([k for k, v in given.items() if v is not None], _unflatten(tensors, given)))
                tracing = torch._C._get_tracing_state()
                # the values only; the graph comes from symbolic()
                torch._C._set_tracing_state(None)  # type: ignore[attr-defined]  # torch's stub lacks _set_tracing_state
                try:
                    out, final = original(layer, x, args.get("state"), lengths=args.get("lengths"))
                finally:
                    torch._C._set_tracing_state(tracing)  # type: ignore[attr-defined]  # torch's stub lacks it
                return (out, *final) if is_lstm else (out, final)

            @staticmethod
            def symbolic(g, x, *tensors):
                args = dict(zip([k for k, v in given.items() if v is not None], _unflatten(tensors, given)))
                state = args.get("state")
                h0, c0 = (state if is_lstm else (state, None)) if state is not None else (None, None)
                output, h_n, c_n = _recurrent_graph(_SymbolicGraph(g), layer, x, args.get("lengths"), h0, c0)
                return (output, h_n, c_n) if is_lstm else (output, h_n)

        flat = [t for v in given.values() if v is not None for t in (v if isinstance(v, tuple) else (v,))]
        result = _Recurrent.apply(x, *flat)
        return (result[0], tuple(result[1:])) if is_lstm else (result[0], result[1])

    return forward


def _unflatten(tensors, given):
    """Regroup the flat tensors passed to the Function: an LSTM state is a pair."""
    out, k = [], 0
    for value in given.values():
        if value is None:
            continue
        n = len(value) if isinstance(value, tuple) else 1
        out.append(tuple(tensors[k : k + n]) if isinstance(value, tuple) else tensors[k])
        k += n
    return out


def export(
    model: nn.Module,
    args: tuple,
    path: str | os.PathLike | None = None,
    *,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_axes: dict | None = None,
    opset: int = DEFAULT_OPSET,
) -> onnx.ModelProto:
    """Export any model that contains lstmkit layers; each layer becomes standard operators.

    Runs ``torch.onnx.export(..., dynamo=False)`` (the TorchScript exporter) in
    evaluation mode, with every `lstmkit.nn.LSTM`/`GRU`/`RNN` inside ``model`` traced
    as the nodes of `export_layer` (including ``lengths=`` as ``sequence_lens`` and a
    given initial state) rather than as torch operations.

    Args:
        model: the module to export; its mode is restored afterwards.
        args: example positional inputs for ``model``.
        path: where to save the model; None only returns it.
        input_names, output_names, dynamic_axes: as in ``torch.onnx.export``.
        opset: the ONNX opset to target (>= 14).

    Returns:
        The exported model.

    >>> from lstmkit.nn import LSTM
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.lstm, self.head = LSTM(3, 4, peephole=True), nn.Linear(4, 1)
    ...     def forward(self, x, lengths):
    ...         out, _ = self.lstm(x, lengths=lengths)
    ...         return self.head(out)
    >>> m = export(Net(), (torch.randn(2, 5, 3), torch.tensor([5, 2])), input_names=["x", "lengths"])
    >>> [n.op_type for n in m.graph.node if n.op_type in ("LSTM", "Gemm", "MatMul")]
    ['LSTM', 'MatMul']
    """
    if opset < 14:
        raise ValueError(f"opset must be >= 14 (the recurrent operators' current form), got {opset}")
    layers = [m for m in model.modules() if isinstance(m, RecurrentLayer)]
    for layer in layers:
        check_exportable(layer)
    was_training = model.training
    model.eval()
    try:
        for layer in layers:
            # patched on the instance for the trace only, removed again below
            layer.forward = _exporting_forward(layer)  # type: ignore[method-assign]  # an instance attribute on purpose
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
            torch.onnx.export(
                model,
                tuple(args),
                buffer,  # type: ignore[arg-type]  # the stub says paths only; the TorchScript exporter takes files
                dynamo=False,
                opset_version=opset,
                input_names=list(input_names) if input_names else None,
                output_names=list(output_names) if output_names else None,
                dynamic_axes=dynamic_axes,
            )
    finally:
        for layer in layers:
            layer.__dict__.pop("forward", None)
        model.train(was_training)
    exported = onnx.load_from_string(buffer.getvalue())
    if path is not None:
        onnx.save(exported, os.fspath(path))
    return exported
