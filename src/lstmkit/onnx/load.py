"""Turn the ``LSTM`` / ``GRU`` / ``RNN`` nodes of any ONNX model into lstmkit layers.

`load_recurrent` reads every attribute and input of the three operators — ``W``,
``R``, ``B``, ``P``, ``initial_h``, ``initial_c``, ``sequence_lens``, ``direction``
(forward, reverse, bidirectional), ``layout``, ``clip``, ``input_forget``,
``linear_before_reset``, ``activations`` with ``activation_alpha``/``activation_beta``
— and returns, for each node in graph order, an `OnnxRecurrent` module that
reproduces the node's outputs ``Y``, ``Y_h`` and ``Y_c``. Its ``.layer`` is a plain
`lstmkit.nn.LSTM` / `GRU` / `RNN` holding the node's weights, usable (and trainable)
on its own.

Semantics follow the ONNX operators as ONNX Runtime implements them: steps past a
sequence's length output zeros, a reverse direction reads each sequence backwards
from its own last step, a sequence of length 0 gives zero outputs and zero final
states, and ``activation_alpha``/``activation_beta`` are consumed in order by the
functions that take them, with ONNX Runtime's defaults when the lists run out
(LeakyRelu 0.01, HardSigmoid 0.2 and 0.5, Elu 1.0, and 0.0 for Affine, ScaledTanh
and ThresholdedRelu).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper
from torch import Tensor, nn

from lstmkit.nn.activations import ACTIVATION_NAMES, Activation
from lstmkit.nn.cells import GRU_ACTIVATIONS, LSTM_ACTIVATIONS, RNN_ACTIVATIONS
from lstmkit.nn.lstm import GRU, LSTM, RNN
from lstmkit.onnx.weights import load_onnx_weights_

__all__ = ["load_recurrent", "OnnxRecurrent", "RECURRENT_OPS"]

RECURRENT_OPS = ("LSTM", "GRU", "RNN")
_INPUTS = {
    "LSTM": ("X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"),
    "GRU": ("X", "W", "R", "B", "sequence_lens", "initial_h"),
    "RNN": ("X", "W", "R", "B", "sequence_lens", "initial_h"),
}
_OUTPUTS = {"LSTM": ("Y", "Y_h", "Y_c"), "GRU": ("Y", "Y_h"), "RNN": ("Y", "Y_h")}
_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
_DEFAULT_ACTIVATIONS = {"LSTM": LSTM_ACTIVATIONS, "GRU": GRU_ACTIVATIONS, "RNN": RNN_ACTIVATIONS}
_COMMON_ATTRIBUTES = {
    "hidden_size",
    "direction",
    "layout",
    "clip",
    "activations",
    "activation_alpha",
    "activation_beta",
}
_EXTRA_ATTRIBUTES = {"LSTM": {"input_forget"}, "GRU": {"linear_before_reset"}, "RNN": set()}
# ONNX Runtime's defaults for alpha and beta when the attribute lists run out
_ORT_DEFAULTS = {"LeakyRelu": (0.01, 0.0), "HardSigmoid": (0.2, 0.5), "Elu": (1.0, 0.0)}
_BY_KEY = {name.lower(): name for name in ACTIVATION_NAMES}
_LAYERS = {"LSTM": LSTM, "GRU": GRU, "RNN": RNN}


def _tensor(value) -> Tensor:
    """A tensor from a tensor or an array (copied: ONNX arrays are often read-only)."""
    return value if isinstance(value, Tensor) else torch.from_numpy(np.array(value))


class OnnxRecurrent(nn.Module):
    """One ONNX recurrent node as a module: the node's inputs in, the node's outputs out.

    Attributes:
        layer: the plain lstmkit layer (one layer, one or two directions) with the
            node's weights.
        op_type: ``"LSTM"``, ``"GRU"`` or ``"RNN"``.
        node_name: the node's name in the graph.
        layout: the node's ``layout``: 0 for time-major tensors, 1 for batch-major.
        inputs, outputs: the node's tensor names by operator argument (``"X"``,
            ``"sequence_lens"``, ..., ``"Y_h"``), empty when absent.

    Shape (``layout=0``; with ``layout=1`` batch comes first in ``X``, ``Y``,
    ``initial_h``, ``initial_c``, ``Y_h``, ``Y_c``):
        X: ``(T, B, input_size)``; sequence_lens: ``(B,)`` integers in ``[0, T]``;
        initial_h, initial_c: ``(D, B, H)``; Y: ``(T, D, B, H)``; Y_h, Y_c: ``(D, B, H)``.
    """

    def __init__(
        self,
        layer: LSTM | GRU | RNN,
        op_type: str,
        node_name: str,
        layout: int,
        inputs: dict[str, str],
        outputs: dict[str, str],
        defaults: dict[str, Tensor],
    ):
        super().__init__()
        self.layer = layer
        self.op_type = op_type
        self.node_name = node_name
        self.layout = layout
        self.inputs = inputs
        self.outputs = outputs
        for name, value in defaults.items():  # inputs the graph itself fixes (initializers)
            self.register_buffer(f"default_{name}", value)
        self._defaults = tuple(defaults)

    def extra_repr(self) -> str:
        return f"op_type={self.op_type!r}, node_name={self.node_name!r}, layout={self.layout}"

    def forward(
        self,
        X: Tensor | np.ndarray,
        sequence_lens: Tensor | np.ndarray | None = None,
        initial_h: Tensor | np.ndarray | None = None,
        initial_c: Tensor | np.ndarray | None = None,
    ) -> tuple[Tensor, ...]:
        """Compute the node's outputs.

        Args:
            X: the node's input ``X`` (tensor or NumPy array) in the node's layout.
            sequence_lens: ``(B,)`` lengths, or None for the graph's value or full length.
            initial_h, initial_c: initial states in the node's layout, or None for the
                graph's value or zeros.

        Returns:
            ``(Y, Y_h, Y_c)`` for LSTM and ``(Y, Y_h)`` for GRU and RNN, as tensors in
            the node's layout.
        """
        layer = self.layer
        weight = layer.weight_ih_l0
        x = _tensor(X).to(weight.dtype)
        sequence_lens = self._default("sequence_lens", sequence_lens)
        initial_h = self._default("initial_h", initial_h)
        initial_c = self._default("initial_c", initial_c)
        if x.dim() != 3 or x.shape[-1] != layer.input_size:
            expected = "(seq_length, batch, input_size)" if self.layout == 0 else "(batch, seq_length, input_size)"
            raise ValueError(
                f"{self.op_type} node {self.node_name!r}: X must be {expected} with input_size="
                f"{layer.input_size}, got shape {tuple(x.shape)}"
            )
        if self.layout == 0:
            x = x.transpose(0, 1)
        B, T, _ = x.shape  # batch, time, features
        D, H = layer.num_directions, layer.hidden_size

        def state(value, name):  # an initial state in the layer's (D, B, H)
            if value is None:
                return x.new_zeros(D, B, H)
            s = _tensor(value).to(weight.dtype)
            expected = (D, B, H) if self.layout == 0 else (B, D, H)
            if tuple(s.shape) != expected:
                names = (
                    "(num_directions, batch, hidden_size)"
                    if self.layout == 0
                    else "(batch, num_directions, hidden_size)"
                )
                raise ValueError(
                    f"{self.op_type} node {self.node_name!r}: {name} must be {names} = {expected}, got {tuple(s.shape)}"
                )
            return s.transpose(0, 1) if self.layout == 1 else s

        h0 = state(initial_h, "initial_h")
        s0 = (h0, state(initial_c, "initial_c")) if self.op_type == "LSTM" else h0
        lengths, empty = None, None
        if sequence_lens is not None:
            lengths = _tensor(sequence_lens).to("cpu", torch.int64).reshape(-1)
            if lengths.shape[0] != B or (lengths < 0).any() or (lengths > T).any():
                raise ValueError(
                    f"{self.op_type} node {self.node_name!r}: sequence_lens must hold {B} lengths in "
                    f"[0, {T}], got {lengths.tolist()}"
                )
            empty = lengths == 0
            lengths = lengths.clamp(min=1)  # a length-0 sequence is run for one step, then zeroed below
        out, final = layer(x, s0, lengths=lengths)
        finals = list(final) if self.op_type == "LSTM" else [final]
        Y = out.reshape(B, T, D, H)
        if empty is not None and bool(empty.any()):
            keep = ~empty.to(x.device)
            Y = Y * keep.view(B, 1, 1, 1).to(Y.dtype)
            finals = [f * keep.view(1, B, 1).to(f.dtype) for f in finals]
        if self.layout == 0:
            return (Y.permute(1, 2, 0, 3), *finals)
        return (Y, *(f.transpose(0, 1) for f in finals))

    def _default(self, name: str, value):
        if value is None and name in self._defaults:
            return getattr(self, f"default_{name}")
        return value


def load_recurrent(
    model: onnx.ModelProto | str | os.PathLike | bytes,
    *,
    values: Mapping[str, np.ndarray] | None = None,
) -> list[OnnxRecurrent]:
    """One `OnnxRecurrent` module per ``LSTM``/``GRU``/``RNN`` node of ``model``, in graph order.

    Each module is built from the node's weights ``W``, ``R``, ``B``, ``P``, read from
    the graph's initializers or ``Constant`` nodes; ``initial_h``, ``initial_c`` and
    ``sequence_lens`` found there become the module's defaults.

    Args:
        model: an ``onnx.ModelProto``, a path to a ``.onnx`` file, or its bytes.
        values: values for tensors the graph feeds as inputs rather than stores, by
            tensor name (for example ``{"W": W, "R": R}`` in a graph that takes its
            weights as inputs).

    Returns:
        The modules, in evaluation mode. ``module(X, sequence_lens, initial_h,
        initial_c)`` returns ``(Y, Y_h, Y_c)`` (LSTM) or ``(Y, Y_h)`` in ONNX shapes;
        ``module.layer`` is the lstmkit layer.

    Raises:
        ValueError: naming the node and the attribute or input that lstmkit cannot
            map (an unknown activation or direction, weights that are not constants,
            activations that differ between the two directions, shapes that disagree).

    >>> from lstmkit.nn import LSTM
    >>> from lstmkit.onnx import export_layer
    >>> (node,) = load_recurrent(export_layer(LSTM(3, 4, peephole=True)))
    >>> node.op_type, node.layer.peephole, [tuple(t.shape) for t in node(torch.zeros(5, 2, 3))]
    ('LSTM', True, [(5, 1, 2, 4), (1, 2, 4), (1, 2, 4)])
    """
    if isinstance(model, (str, os.PathLike)):
        model = onnx.load(os.fspath(model))
    elif isinstance(model, bytes):
        model = onnx.load_from_string(model)
    elif not isinstance(model, onnx.ModelProto):
        raise TypeError(f"model must be an onnx.ModelProto, a path or bytes, got {type(model).__name__}")
    graph = model.graph
    constants: dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            for attribute in node.attribute:
                if attribute.name == "value":
                    constants[node.output[0]] = numpy_helper.to_array(attribute.t)
                elif attribute.name in ("value_float", "value_floats", "value_int", "value_ints"):
                    constants[node.output[0]] = np.asarray(helper.get_attribute_value(attribute))
    constants.update({name: np.asarray(v) for name, v in (values or {}).items()})
    modules = []
    for index, node in enumerate(graph.node):
        if node.domain in ("", "ai.onnx") and node.op_type in RECURRENT_OPS:
            modules.append(_build(node, index, constants))
    return modules


def _build(node: onnx.NodeProto, index: int, constants: dict[str, np.ndarray]) -> OnnxRecurrent:
    op = node.op_type
    node_name = node.name or f"#{index}"
    label = f"{op} node {node_name!r}"
    inputs = dict(zip(_INPUTS[op], list(node.input) + [""] * len(_INPUTS[op])))
    outputs = dict(zip(_OUTPUTS[op], list(node.output) + [""] * 3))
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in attrs.items()}
    unknown = set(attrs) - _COMMON_ATTRIBUTES - _EXTRA_ATTRIBUTES[op]
    if unknown:
        raise ValueError(f"{label}: unknown attribute(s) {sorted(unknown)} for the {op} operator")

    def constant(arg: str, required: bool = False):
        name = inputs[arg]
        if not name:
            if required:
                raise ValueError(f"{label}: input {arg} is required")
            return None
        if name not in constants:
            if arg in ("W", "R", "B", "P"):
                raise ValueError(
                    f"{label}: input {arg} ({name!r}) is neither an initializer nor a Constant; lstmkit builds "
                    f"the layer from the weights, so pass them: load_recurrent(model, values={{{name!r}: array}})"
                )
            return None  # a runtime input: given to forward()
        return np.asarray(constants[name])

    W, R, B = constant("W", True), constant("R", True), constant("B")
    P = constant("P") if op == "LSTM" else None
    direction = attrs.get("direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise ValueError(f"{label}: direction must be 'forward', 'reverse' or 'bidirectional', got {direction!r}")
    D = 2 if direction == "bidirectional" else 1
    G = _GATES[op]
    if W.ndim != 3 or R.ndim != 3 or W.shape[0] != D or R.shape[0] != D:
        raise ValueError(
            f"{label}: W and R must be (num_directions={D}, {G}*hidden_size, ...) for "
            f"direction={direction!r}, got W {W.shape} and R {R.shape}"
        )
    H = R.shape[-1]
    if W.shape[1] != G * H or R.shape[1] != G * H:
        raise ValueError(f"{label}: W and R must have {G}*hidden_size = {G * H} rows, got W {W.shape} and R {R.shape}")
    if "hidden_size" in attrs and attrs["hidden_size"] != H:
        raise ValueError(f"{label}: hidden_size={attrs['hidden_size']} disagrees with R of shape {R.shape}")
    if B is not None and B.shape != (D, 2 * G * H):
        raise ValueError(f"{label}: B must be ({D}, {2 * G * H}), got {B.shape}")
    if P is not None and P.shape != (D, 3 * H):
        raise ValueError(f"{label}: P must be ({D}, {3 * H}), got {P.shape}")
    layout = attrs.get("layout", 0)
    if layout not in (0, 1):
        raise ValueError(f"{label}: layout must be 0 or 1, got {layout!r}")
    clip = attrs.get("clip")
    activations = _activations(label, op, D, attrs)

    options = {
        "bias": B is not None,
        "bidirectional": D == 2,
        "go_backwards": direction == "reverse",
        "clip": None if clip is None else float(clip),
        "activations": activations,
        "init": "torch",
    }
    if op == "LSTM":
        options.update(peephole=P is not None, input_forget=bool(attrs.get("input_forget", 0)))
    elif op == "GRU":
        options.update(reset_after=bool(attrs.get("linear_before_reset", 0)))
    try:
        layer = _LAYERS[op](int(W.shape[-1]), int(H), **options)
    except ValueError as error:
        raise ValueError(f"{label}: {error}") from None
    layer = layer.to(torch.float64 if W.dtype == np.float64 else torch.float32)
    load_onnx_weights_(layer, W, R, B, P)
    layer.eval()
    defaults = {}
    for arg in ("sequence_lens", "initial_h", "initial_c"):
        value = constant(arg) if arg in inputs else None
        if value is not None:
            defaults[arg] = _tensor(value)
    return OnnxRecurrent(layer, op, node_name, layout, inputs, outputs, defaults)


def _activations(label: str, op: str, D: int, attrs: dict) -> tuple[Activation, ...] | None:
    """The node's activations for one direction (they must agree between directions)."""
    defaults = _DEFAULT_ACTIVATIONS[op]
    names = attrs.get("activations")
    if names is None:
        return None
    names = [n.decode() if isinstance(n, bytes) else n for n in names]
    if len(names) != len(defaults) * D:
        raise ValueError(
            f"{label}: activations must list {len(defaults)} function(s) per direction "
            f"({len(defaults) * D} in all), got {names}"
        )
    alphas = list(attrs.get("activation_alpha", []))
    betas = list(attrs.get("activation_beta", []))
    acts = []
    for name in names:
        canonical = _BY_KEY.get(name.lower())
        if canonical is None:
            raise ValueError(
                f"{label}: activations: unknown function {name!r}; expected one of {', '.join(ACTIVATION_NAMES)}"
            )
        probe = Activation(canonical)
        default_alpha, default_beta = _ORT_DEFAULTS.get(canonical, (0.0, 0.0))
        alpha = (alphas.pop(0) if alphas else default_alpha) if probe.uses_alpha else 0.0
        beta = (betas.pop(0) if betas else default_beta) if probe.uses_beta else 0.0
        acts.append(Activation(canonical, float(alpha), float(beta)))
    n = len(defaults)
    forward, reverse = tuple(acts[:n]), tuple(acts[n:])
    if reverse and reverse != forward:
        raise ValueError(
            f"{label}: activations differ between the directions ({list(forward)} forward, "
            f"{list(reverse)} reverse); an lstmkit layer uses one set for both"
        )
    return forward
