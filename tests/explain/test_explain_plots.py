"""The explain figures are real PNG files, written atomically."""

import pytest
import torch

from lstmkit.explain import plot_attributions, plot_gates, record_lstm
from lstmkit.nn import LSTM

PNG = b"\x89PNG\r\n\x1a\n"


def _assert_png(path):
    data = path.read_bytes()
    assert data.startswith(PNG) and len(data) > 1000
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_plot_gates_writes_a_png(tmp_path):
    torch.manual_seed(0)
    layer = LSTM(3, 5, bidirectional=True).eval()
    rec = record_lstm(layer, torch.randn(2, 7, 3), lengths=[7, 4])
    path = plot_gates(rec, tmp_path / "gates.png", direction=1, sample=1)
    _assert_png(path)


def test_plot_gates_selection(tmp_path):
    rec = record_lstm(LSTM(2, 3).eval(), torch.randn(1, 4, 2))
    _assert_png(plot_gates(rec, tmp_path / "forget.png", names=["forget_gate", "cell"]))
    with pytest.raises(ValueError, match="names must be"):
        plot_gates(rec, tmp_path / "bad.png", names=["memory"])


def test_plot_attributions_writes_a_png(tmp_path):
    path = plot_attributions(torch.randn(6, 2), tmp_path / "ig.png", feature_names=["load", "temp"])
    _assert_png(path)
    with pytest.raises(ValueError, match="feature_names"):
        plot_attributions(torch.randn(6, 2), tmp_path / "bad.png", feature_names=["load"])
    with pytest.raises(ValueError, match=r"\(time, features\)"):
        plot_attributions(torch.randn(1, 6, 2), tmp_path / "bad.png")
