"""The C++ loops of the ``sequence`` path (`lstmkit.nn.fused.native`) against its Python loops.

The rest of tests/nn ties the ``sequence`` path — whichever loops are in use — to the
readable reference; here the two loop implementations are run on the same inputs. The
hidden size 21 is not a multiple of any SIMD width, so full and partial vector chunks
are both exercised; float32 and float64 both run.
"""

import importlib

import pytest
import torch

from lstmkit.nn import LSTM
from lstmkit.nn.fused import native

sequence_module = importlib.import_module("lstmkit.nn.fused.lstm_sequence")

needs_native = pytest.mark.skipif(not native.available(), reason="the C++ loops could not be built here")

CASES = [
    {},
    {"peephole": True},
    {"layer_norm": True},
    {"recurrent_dropout": 0.4},
    {"zoneout": 0.3},
    {"peephole": True, "layer_norm": True, "zoneout": 0.3, "recurrent_dropout": 0.3},
    {"layer_norm": True, "peephole": True, "bidirectional": True, "num_layers": 2},
]


def _randomise(layer):
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if name.startswith(("weight_ch", "ln_bias")):
                p.uniform_(-0.8, 0.8)
            elif name.startswith("ln_weight"):
                p.uniform_(0.5, 1.5)
    return layer


def _run(layer, x, lengths):
    xi = x.clone().requires_grad_()
    layer.zero_grad()
    torch.manual_seed(5)  # the same dropout and zoneout draws for both
    out, (h, c) = layer(xi, lengths=lengths)
    (out.square().sum() + 2 * h.sum() + 3 * c.sum()).backward()
    return [out, h, c, xi.grad, *(p.grad for p in layer.parameters())]


@needs_native
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("with_lengths", [True, False])
@pytest.mark.parametrize("options", CASES)
def test_native_loops_equal_python_loops(options, with_lengths, training, dtype, monkeypatch):
    torch.manual_seed(0)
    layer = _randomise(LSTM(6, 21, backend="sequence", **options)).to(dtype).train(training)
    x = torch.randn(5, 7, 6, dtype=dtype)
    lengths = torch.tensor([7, 3, 5, 1, 7]) if with_lengths else None
    compiled = _run(layer, x, lengths)
    monkeypatch.setattr(sequence_module, "_compiled", lambda gx: None)
    python = _run(layer, x, lengths)
    # float32: the two sum in different orders (layer norm, the weight gradients), so
    # differences are rounding, measured against each tensor's scale
    rtol = 1e-4 if dtype == torch.float32 else 1e-10
    for got, want in zip(compiled, python, strict=True):
        torch.testing.assert_close(got, want, rtol=rtol, atol=rtol * want.abs().max().item())


@needs_native
def test_native_loops_gradcheck_every_input():
    assert sequence_module._compiled(torch.zeros(1)) is not None
    torch.manual_seed(1)
    T, B, I, H = 4, 3, 2, 19
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

    def run(x, h0, c0, w_ih, w_hh, bias, w_ch, ln_ih, ln_hh, ln_cw, ln_cb):  # every norm inside the C++ loops
        out, (h, c) = sequence_module.lstm_sequence(
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

    def run_plain(x, h0, c0, w_hh, bias):  # no lengths, no masks, no norms; zoneout's expectation
        out, (h, c) = sequence_module.lstm_sequence(x, h0, c0, w_ih.detach(), w_hh, bias, zoneout=0.25)
        return out, h, c

    assert torch.autograd.gradcheck(run_plain, (x, h0, c0, w_hh, bias))


def test_native_loops_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("LSTMKIT_NATIVE", "0")
    assert native.disabled()
    monkeypatch.setenv("LSTMKIT_NATIVE", "1")
    assert not native.disabled()


def test_ready_never_builds(monkeypatch):
    tools = native._ninja_dir() is not None and native.shutil.which("c++") is not None
    native.load.cache_clear()
    try:
        monkeypatch.setattr(native, "_built", lambda name: False)
        assert not native.ready()  # nothing built, nothing loaded: not ready
        assert native.load.cache_info().currsize == 0  # and no build was started
        monkeypatch.setattr(native, "_built", lambda name: name == native._build_name())
        assert native.ready() == tools  # built (in the extension cache) for this source and torch
        monkeypatch.setattr(native, "load", lambda: None)  # loading failed earlier
        monkeypatch.setattr(native.load, "cache_info", lambda: type("Info", (), {"currsize": 1})(), raising=False)
        assert not native.ready()
        monkeypatch.undo()
        monkeypatch.setenv("LSTMKIT_NATIVE", "0")
        assert not native.ready()
    finally:
        native.load.cache_clear()


def test_python_loops_run_off_cpu_and_for_other_dtypes():
    assert sequence_module._compiled(torch.zeros(1, device="meta")) is None
    assert sequence_module._compiled(torch.zeros(1, dtype=torch.bfloat16)) is None


def test_ninja_from_the_package_is_on_path_for_the_build_only(monkeypatch):
    ninja = pytest.importorskip("ninja")
    monkeypatch.setattr(native.shutil, "which", lambda name: None)  # as on a machine without system ninja
    monkeypatch.setenv("PATH", "/nowhere")
    directory = native._ninja_dir()
    assert directory == ninja.BIN_DIR
    with native._ninja_on_path(directory):
        assert native.os.environ["PATH"].split(native.os.pathsep)[0] == ninja.BIN_DIR
    assert native.os.environ["PATH"] == "/nowhere"  # the process's environment is left as it was


def test_without_ninja_the_python_loops_run_silently(monkeypatch, recwarn):
    monkeypatch.setattr(native, "_ninja_dir", lambda: None)
    native.load.cache_clear()
    try:
        assert native.load() is None
    finally:
        native.load.cache_clear()
    assert not [w for w in recwarn if "C++" in str(w.message)]
