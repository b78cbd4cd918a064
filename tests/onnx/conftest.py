"""ONNX Runtime, on one thread, as the reference the ONNX tests compare against."""

import numpy as np
import onnx
import pytest

ort = pytest.importorskip("onnxruntime")


def _run_ort(model: onnx.ModelProto, feeds: dict) -> list[np.ndarray]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, {k: np.ascontiguousarray(v) for k, v in feeds.items()})


@pytest.fixture
def run_ort():
    """``run_ort(model, feeds) -> outputs``: the model through ONNX Runtime's CPU provider."""
    return _run_ort
