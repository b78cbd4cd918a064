"""ONNX interoperability: export with the standard recurrent operators, import any of them.

* `export_layer` / `export`: an lstmkit layer, or a model that contains lstmkit layers,
  to ONNX with the standard ``LSTM``/``GRU``/``RNN`` operators;
* `load_recurrent`: every ``LSTM``/``GRU``/``RNN`` node of an ONNX model as an lstmkit
  layer that reproduces the node's outputs;
* `layer_weights_to_onnx` / `load_onnx_weights_`: the weights between the two layouts.

Needs the ``onnx`` extra: ``pip install "lstmkit[onnx]"`` (onnx, and onnxruntime to run
the exported models).
"""

try:
    import onnx  # noqa: F401 - imported only to fail early, with the install hint
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError('lstmkit.onnx needs the onnx package: pip install "lstmkit[onnx]"') from error

from lstmkit.onnx.export import DEFAULT_OPSET, check_exportable, export, export_layer
from lstmkit.onnx.load import RECURRENT_OPS, OnnxRecurrent, load_recurrent
from lstmkit.onnx.weights import (
    ONNX_GATE_ORDER,
    layer_weights_to_onnx,
    load_onnx_weights_,
)

__all__ = [
    "export",
    "export_layer",
    "check_exportable",
    "DEFAULT_OPSET",
    "load_recurrent",
    "OnnxRecurrent",
    "RECURRENT_OPS",
    "layer_weights_to_onnx",
    "load_onnx_weights_",
    "ONNX_GATE_ORDER",
]
