"""One LSTM direction over a whole sequence, with a hand-written backward.

Why it is fast: autograd on the per-step driver records a dozen small nodes per time
step and replays them one by one. Here the forward pass keeps what the backward
needs (the activated gates, the cell states, ``tanh`` of the shown cell state) in
preallocated time-major buffers and writes into them in place; the backward first
fills the gradient buffer with every factor that does not depend on the gradient
flowing back (a handful of large ops over all steps), then walks the steps in
reverse doing a few in-place multiplications and one ``addmm`` per step, and
finally computes ``dW_hh`` (and the peephole gradient) with one large product (with
layer norm, whose gradient exists per step only, ``dW_hh`` is gathered step by step).

Two implementations of the loops: the Python below, the readable one, and a C++ port
(``lstm_sequence.cpp``, built on first use by `lstmkit.nn.fused.native`) that keeps the
recurrent product an ATen call but does everything elementwise around it — norms,
activations, peepholes, cell update, zoneout and their derivatives — in one SIMD pass
per row (with layer norm, the input product's norm too: `lstm_sequence` then hands the
Function ``W_ih x`` unnormalised). At small sizes the Python version's 7-25 separate
operators per step cost more than the product itself; fused, the variants run at
0.85-1.7x of ``torch.nn.LSTM``'s oneDNN kernel (``bench/variants.py``). The C++ loops run
for float32/float64 on CPU whenever they are built; the Python loops otherwise (GPU,
other dtypes, no compiler).

Per-sample lengths cost nothing per step: the batch is sorted by length, longest
first, so at step ``t`` only the first ``batch_sizes[t]`` rows are still running and
every buffer is sliced to them (like cuDNN's packed sequences); finished rows keep
their state and their outputs stay zero.

The equations are those of `lstmkit.nn.cells.lstm_step`, its readable reference;
``tests/nn/test_sequence_backend.py`` ties outputs and every gradient to it. With
``a`` a pre-activation and ``⊙`` elementwise::

    a = gx + W_hh (m ⊙ h)              m: recurrent dropout mask (or 1)
      (layer norm: gx + LN(W_hh (m ⊙ h)) ⊙ γ_hh; gx already holds every bias)
    i = σ(a_i + w_ci ⊙ c),  f = σ(a_f + w_cf ⊙ c),  g = tanh(a_g)
    c~ = f ⊙ c + i ⊙ g
    o = σ(a_o + w_co ⊙ c~)
    h~ = o ⊙ tanh(c~)                  (layer norm: o ⊙ tanh(LN(c~) ⊙ γ_c + β_c))
    h' = lerp(h~, h, z_h),  c' = lerp(c~, c, z_c)   zoneout: z = keep mask (training)
                                                    or the probability p (evaluation)

Inside the Function the gate blocks are ordered ``o, i, f, g`` (PyTorch's are
``i, f, g, o``): one sigmoid then covers three gates, and the three gates fed by the
cell state's gradient sit side by side. `lstm_sequence` reorders the weights on the
way in, differentiably, so callers only ever see PyTorch's order.
"""

from __future__ import annotations

from typing import overload

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

from lstmkit.nn.fused import native

__all__ = ["lstm_sequence"]

_EPS = 1e-5  # F.layer_norm's default, as in the reference cell


@overload
def _internal(w: Tensor) -> Tensor: ...
@overload
def _internal(w: None) -> None: ...
@overload
def _internal(w: Tensor | None) -> Tensor | None: ...
def _internal(w: Tensor | None) -> Tensor | None:
    """Gate blocks of ``w`` (stacked on dim 0) in the Function's order ``o, i, f, g``.

    PyTorch's ``i, f, g, o`` rotated by one block: a ``cat`` of two views, whose
    gradient is two views again.
    """
    if w is None:
        return None
    H = w.shape[0] // 4
    return torch.cat((w[3 * H :], w[: 3 * H]))


def lstm_sequence(
    x: Tensor,
    h0: Tensor,
    c0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    bias: Tensor | None = None,
    lengths: Tensor | None = None,
    *,
    ln_ih: Tensor | None = None,
    w_ch: Tensor | None = None,
    ln_hh: Tensor | None = None,
    ln_c: tuple[Tensor, Tensor] | None = None,
    recurrent_mask: Tensor | None = None,
    zoneout: float = 0.0,
    zoneout_masks: tuple[Tensor, ...] | None = None,
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """Run one LSTM direction over ``x``; differentiable in every tensor argument.

    Args:
        x: the input sequences, time-major.
        h0, c0: initial hidden and cell state.
        w_ih, w_hh: input and recurrent weights ``(4H, I)``, ``(4H, H)``, PyTorch's gate order.
        bias: ``b_ih + b_hh`` ``(4H,)`` (the two only ever add up), or None.
        lengths: real length of each sequence (CPU integers in ``[1, T]``) or None.
        ln_ih: layer-norm gain ``(4H,)`` of the input product, or None.
        w_ch: peephole weights ``(3H,)`` for ``i, f, o``, or None.
        ln_hh: layer-norm gain ``(4H,)`` of the recurrent product, or None.
        ln_c: layer-norm gain and bias ``((H,), (H,))`` of the shown cell state, or None.
        recurrent_mask: ``(B, H)`` dropout mask on ``h`` entering ``W_hh``, scaled by
            ``1 / (1 - p)``, the same at every step; or None.
        zoneout: the zoneout probability; used as the evaluation-time expectation
            when ``zoneout_masks`` is None.
        zoneout_masks: ``(B, T, H)`` keep-masks for ``h`` and ``c`` (training), True or
            1.0 where a unit keeps its old value.

    Shape:
        x: ``(T, B, I)``; h0, c0: ``(B, H)``.

    Returns:
        ``(output, (h_n, c_n))``: output ``(T, B, H)``, time-major, with zeros at padded
        steps, and the state at each sequence's last real step.

    >>> T, B, I, H = 3, 2, 5, 4
    >>> out, (h, c) = lstm_sequence(torch.randn(T, B, I), torch.zeros(B, H), torch.zeros(B, H),
    ...                             torch.randn(4 * H, I), torch.randn(4 * H, H), lengths=torch.tensor([3, 1]))
    >>> tuple(out.shape), out[1:, 1].abs().sum().item(), torch.equal(h[1], out[0, 1])
    ((3, 2, 4), 0.0, True)
    """
    if torch.is_autocast_enabled(x.device.type):
        # mixed precision: the recurrence runs in the weights' precision, like the reference's sums
        with torch.autocast(x.device.type, enabled=False):
            return lstm_sequence(
                x.to(w_hh.dtype),
                h0.to(w_hh.dtype),
                c0.to(w_hh.dtype),
                w_ih,
                w_hh,
                bias,
                lengths,
                ln_ih=ln_ih,
                w_ch=w_ch,
                ln_hh=ln_hh,
                ln_c=ln_c,
                recurrent_mask=recurrent_mask,
                zoneout=zoneout,
                zoneout_masks=zoneout_masks,
            )
    T, B, _ = x.shape  # time, batch, features
    order = last = None
    batch_sizes = [B] * T
    if lengths is not None and bool((lengths < T).any()):
        # longest first, so the rows still running at step t are the first batch_sizes[t]
        order = torch.argsort(lengths, descending=True, stable=True)
        sorted_lengths = lengths[order]
        batch_sizes = (sorted_lengths[None, :] > torch.arange(T)[:, None]).sum(1).tolist()
        last = (sorted_lengths - 1).to(x.device)
        index = order.to(x.device)
        x, h0, c0 = x.index_select(1, index), h0.index_select(0, index), c0.index_select(0, index)
        if recurrent_mask is not None:
            recurrent_mask = recurrent_mask.index_select(0, index)
        if zoneout_masks is not None:
            zoneout_masks = tuple(m.index_select(0, index) for m in zoneout_masks)
    zone_h = zone_c = None
    if zoneout_masks is not None:
        zone_h, zone_c = (m.transpose(0, 1).to(x.dtype, memory_format=torch.contiguous_format) for m in zoneout_masks)
    in_norm = in_bias = None  # the input product's norm, when the C++ loops apply it step by step
    if ln_ih is None:
        gx = F.linear(x, _internal(w_ih), _internal(bias))
    elif ln_hh is not None and _compiled(x) is not None:
        gx, in_norm, in_bias = F.linear(x, _internal(w_ih)), _internal(ln_ih), _internal(bias)
    else:  # the bias after the normalisation: layer norm's own bias
        gx = F.layer_norm(F.linear(x, _internal(w_ih)), (w_ih.shape[0],), _internal(ln_ih), _internal(bias))
    ln_cw, ln_cb = ln_c if ln_c is not None else (None, None)
    y, h_n, c_n = _LSTMSequence.apply(
        gx.contiguous(),
        h0.contiguous(),
        c0.contiguous(),
        _internal(w_hh),
        w_ch,
        _internal(ln_hh),
        ln_cw,
        ln_cb,
        in_norm,
        in_bias,
        recurrent_mask,
        zone_h,
        zone_c,
        float(zoneout),
        batch_sizes,
        last,
    )
    if order is not None:
        back = torch.argsort(order).to(x.device)
        y, h_n, c_n = y.index_select(1, back), h_n.index_select(0, back), c_n.index_select(0, back)
    return y, (h_n, c_n)


def _compiled(gx: Tensor):
    """The C++ loops (`lstmkit.nn.fused.native`) for float32/float64 CPU tensors, or None."""
    if gx.device.type != "cpu" or gx.dtype not in (torch.float32, torch.float64):
        return None
    return native.load()


_COMPILED_BUFFERS = ("gates", "Y", "C", "C_new", "TC", "H_in", "R", "M_hh", "S_hh", "M_c", "S_c", "M_in", "S_in")


def _final_state(Y: Tensor, C: Tensor, last: Tensor | None) -> tuple[Tensor, Tensor]:
    """The state after each row's last real step (the last slot when no row is shorter)."""
    if last is None:
        return Y[-1].clone(), C[-1].clone()
    rows = torch.arange(Y.shape[1], device=Y.device)
    return Y[last + 1, rows], C[last + 1, rows]


def _steps(buffer: Tensor, batch_sizes: list[int]) -> list[Tensor]:
    """Per-step views of a time-major buffer, each cut to the rows still running."""
    B = buffer.shape[1]
    return [v if n == B else v[:n] for v, n in zip(buffer.unbind(0), batch_sizes)]


def _shifted(buffer: Tensor, batch_sizes: list[int]) -> tuple[list[Tensor], list[Tensor]]:
    """For a ``(T + 1, B, ·)`` buffer: each step's views of slot ``t`` (before) and ``t + 1`` (after)."""
    if batch_sizes[-1] == buffer.shape[1]:  # one set of views serves both
        views = buffer.unbind(0)
        return list(views[:-1]), list(views[1:])
    return _steps(buffer[:-1], batch_sizes), _steps(buffer[1:], batch_sizes)


class _LSTMSequence(torch.autograd.Function):
    """Time-major, batch sorted by length: ``gx (T, B, 4H)``, ``batch_sizes[t]`` rows live at ``t``.

    Gate blocks are in the order ``o, i, f, g``. Buffers ``Y`` and ``C`` carry one extra
    leading step holding ``h0`` and ``c0``, so ``Y[:-1]`` is every step's previous
    hidden state and ``Y[1:]`` every step's output.

    On CPU, when the C++ port (`lstmkit.nn.fused.native`) is built, it runs both loops
    instead of the Python below; ``tests/nn/test_native_loops.py`` ties the two together.
    """

    @staticmethod
    def forward(
        ctx,
        gx,
        h0,
        c0,
        w_hh,
        w_ch,
        ln_hh,
        ln_cw,
        ln_cb,
        in_norm,
        in_bias,
        rec_mask,
        zone_h,
        zone_c,
        zone_p,
        batch_sizes,
        last,
    ):
        ctx.compiled = compiled = _compiled(gx)
        if compiled is not None:
            buffers = dict(
                zip(
                    _COMPILED_BUFFERS,
                    compiled.forward(
                        gx,
                        h0,
                        c0,
                        w_hh,
                        w_ch,
                        ln_hh,
                        ln_cw,
                        ln_cb,
                        in_norm,
                        in_bias,
                        rec_mask,
                        zone_h,
                        zone_c,
                        zone_p,
                        batch_sizes,
                        _EPS,
                    ),
                )
            )
            Y = buffers.pop("Y")
            h_n, c_n = _final_state(Y, buffers["C"], last)
            ctx.save_for_backward(w_hh, w_ch, ln_hh, ln_cw, ln_cb, rec_mask, zone_h, zone_c, Y, gx, in_norm, in_bias)
            ctx.buffers, ctx.zone_p, ctx.batch_sizes, ctx.last = buffers, zone_p, batch_sizes, last
            return Y[1:], h_n, c_n
        assert in_norm is None, "the input product's norm is applied inside the C++ loops only"
        T, B, G = gx.shape  # time, batch, 4 * hidden
        H = G // 4
        ragged = batch_sizes[-1] < B
        zoned = zone_h is not None or zone_p > 0.0
        # padded rows are never written: zero them only when there are some
        new = gx.new_zeros if ragged else gx.new_empty
        gates = new(T, B, G)  # activated o, i, f, g
        Y = new(T + 1, B, H)  # h after zoneout: the output and the carried state
        C = new(T + 1, B, H)  # c after zoneout: the carried state
        Y[0], C[0] = h0, c0
        C_new = new(T, B, H) if zoned else C[1:]  # c~ before zoneout
        TC = new(T, B, H)  # tanh of the shown cell state
        H_in = new(T, B, H) if rec_mask is not None else None
        R = new(T, B, G) if ln_hh is not None else None  # W_hh h before normalisation
        stats_hh, stats_c = [], []  # (mean, rstd) of each step's layer norms
        w_hh_t = w_hh.t()
        w_cif = w_ch[: 2 * H].view(2, H) if w_ch is not None else None
        w_co = w_ch[2 * H :] if w_ch is not None else None

        steps = lambda buffer: _steps(buffer, batch_sizes)
        blocks = gates.view(T, B, 4, H)
        gx_t, a_t = steps(gx), steps(gates)
        o_t, i_t, f_t, g_t = (steps(blocks[:, :, k]) for k in range(4))
        squash_t = steps(gates[:, :, : 3 * H]) if w_ch is None else steps(blocks[:, :, 1:3])  # o, i, f or i, f
        y_prev, y_t = _shifted(Y, batch_sizes)
        c_prev_t, c_t = _shifted(C, batch_sizes)
        c_new_t, tc_t = (steps(C_new) if zoned else c_t), steps(TC)
        h_in_t = steps(H_in) if H_in is not None else None
        r_t = steps(R) if R is not None else None
        zone_h_t = steps(zone_h) if zone_h is not None else None
        zone_c_t = steps(zone_c) if zone_c is not None else None
        for t in range(T):
            n = batch_sizes[t]  # rows still running
            h_prev, c_prev, a = y_prev[t], c_prev_t[t], a_t[t]
            if rec_mask is None:
                h_in = h_prev
            else:
                assert h_in_t is not None  # H_in is allocated whenever there is a mask
                h_in = torch.mul(h_prev, rec_mask if n == B else rec_mask[:n], out=h_in_t[t])
            if ln_hh is None:
                torch.addmm(gx_t[t], h_in, w_hh_t, out=a)
            else:
                assert r_t is not None  # R is allocated whenever there is a norm
                normed, mean, rstd = torch.native_layer_norm(
                    torch.mm(h_in, w_hh_t, out=r_t[t]), (G,), ln_hh, None, _EPS
                )
                stats_hh.append((mean, rstd))
                torch.add(gx_t[t], normed, out=a)
            if w_cif is None:
                squash_t[t].sigmoid_()  # o, i and f at once
            else:
                squash_t[t].addcmul_(c_prev.unsqueeze(1), w_cif).sigmoid_()  # i and f see the old cell state
            g = g_t[t].tanh_()
            c_new = torch.mul(f_t[t], c_prev, out=c_new_t[t]).addcmul_(i_t[t], g)
            o = o_t[t] if w_co is None else o_t[t].addcmul_(c_new, w_co).sigmoid_()  # o sees the new one
            if ln_cw is None:
                tc = torch.tanh(c_new, out=tc_t[t])
            else:
                shown, mean, rstd = torch.native_layer_norm(c_new, (H,), ln_cw, ln_cb, _EPS)
                stats_c.append((mean, rstd))
                tc = torch.tanh(shown, out=tc_t[t])
            if zoned:
                torch.mul(o, tc, out=y_t[t]).lerp_(h_prev, zone_h_t[t] if zone_h_t is not None else zone_p)
                torch.lerp(c_new, c_prev, zone_c_t[t] if zone_c_t is not None else zone_p, out=c_t[t])
            else:
                torch.mul(o, tc, out=y_t[t])

        h_n, c_n = _final_state(Y, C, last)
        ctx.save_for_backward(w_hh, w_ch, ln_hh, ln_cw, ln_cb, rec_mask, zone_h, zone_c, Y)
        ctx.buffers = {
            "gates": gates,
            "C": C,
            "C_new": C_new,
            "TC": TC,
            "H_in": H_in,
            "r_t": r_t,
            "c_new_t": c_new_t,
            "stats_hh": stats_hh,
            "stats_c": stats_c,
        }
        ctx.zone_p, ctx.batch_sizes, ctx.last = zone_p, batch_sizes, last
        return Y[1:], h_n, c_n

    @staticmethod
    @once_differentiable
    def backward(ctx, dY, dh_n, dc_n):
        buf = ctx.buffers
        if ctx.compiled is not None:
            w_hh, w_ch, ln_hh, ln_cw, ln_cb, rec_mask, zone_h, zone_c, Y, gx, in_norm, in_bias = ctx.saved_tensors
            grads = ctx.compiled.backward(
                dY,
                dh_n,
                dc_n,
                buf["gates"],
                Y,
                buf["C"],
                buf["C_new"],
                buf["TC"],
                buf["H_in"],
                buf["R"],
                buf["M_hh"],
                buf["S_hh"],
                buf["M_c"],
                buf["S_c"],
                gx,
                buf["M_in"],
                buf["S_in"],
                in_norm,
                in_bias,
                w_hh,
                w_ch,
                ln_hh,
                ln_cw,
                ln_cb,
                rec_mask,
                zone_h,
                zone_c,
                ctx.zone_p,
                ctx.batch_sizes,
                ctx.last,
            )
            return (*grads, None, None, None, None, None, None)
        w_hh, w_ch, ln_hh, ln_cw, ln_cb, rec_mask, zone_h, zone_c, Y = ctx.saved_tensors
        gates, C, C_new, TC = buf["gates"], buf["C"], buf["C_new"], buf["TC"]
        batch_sizes, zone_p, last = ctx.batch_sizes, ctx.zone_p, ctx.last
        T, B, G = gates.shape
        H = G // 4
        zoned = zone_h is not None or zone_p > 0.0
        steps = lambda buffer: _steps(buffer, batch_sizes)
        sigmoid_backward, tanh_backward = torch.ops.aten.sigmoid_backward, torch.ops.aten.tanh_backward
        ln_backward = torch.ops.aten.native_layer_norm_backward

        # d_pre holds dL/da for every step (which is also dL/d gx). Before the loop it is
        # filled with what does not depend on the gradient flowing back — da_o/dh~ and
        # da_{i,f,g}/dc~ — and the loop multiplies the gradients into it in place.
        # sigmoid_backward(g, y) = g * y * (1 - y); tanh_backward(g, y) = g * (1 - y^2).
        # Padded rows come out zero: their gates are zero.
        o, i, f, g = gates.view(T, B, 4, H).unbind(2)
        d_pre = torch.empty_like(gates)
        d_o, d_i, d_f, d_g = d_pre.view(T, B, 4, H).unbind(2)
        C_prev = C[:-1]  # the state each step started from
        sigmoid_backward(TC, o, grad_input=d_o)  # d h~ / d a_o
        shown_coef = tanh_backward(o, TC)  # d h~ / d(shown cell state); saved buffers stay intact
        sigmoid_backward(g, i, grad_input=d_i)  # d c~ / d a_i
        sigmoid_backward(C_prev, f, grad_input=d_f)  # d c~ / d a_f
        tanh_backward(i, g, grad_input=d_g)  # d c~ / d a_g
        w_ci, w_cf, w_co = w_ch.chunk(3) if w_ch is not None else (None, None, None)

        # dh: dL/dh_t for every step, starting as the outputs' gradient; a row's final-state
        # gradient joins at its last real step, the recurrent share is added as we go
        dh_all = torch.empty_like(dY, memory_format=torch.contiguous_format).copy_(dY)
        if last is None:
            dh_all[T - 1] += dh_n
        else:
            dh_all.index_put_((last, torch.arange(B, device=dY.device)), dh_n, accumulate=True)
        dc = dc_n.clone()  # dL/dc_t of the live rows, carried backwards in place
        dh0 = torch.zeros_like(dh_n)
        zero = dh0.new_zeros(())
        if zone_h is not None:  # zoneout: the kept share flows straight to the previous state
            keep_h_t, keep_c_t = steps(zone_h), steps(zone_c)

        dh_t, pre_t, o_t, f_t = steps(dh_all), steps(d_pre), steps(d_o), steps(f)
        ifg_t, coef_t = steps(d_pre[:, :, H:].view(T, B, 3, H)), steps(shown_coef)
        r_t, c_new_t = buf["r_t"], buf["c_new_t"]
        d_ln_hh, d_ln_cw, d_ln_cb = [], [], []
        if ln_hh is not None:  # dW_hh gathered step by step: the normalised gradient exists per step only
            d_w_hh = w_hh.new_zeros(w_hh.shape)
            h_in_t = steps(buf["H_in"] if rec_mask is not None else Y[:-1])
        for t in range(T - 1, -1, -1):
            n = batch_sizes[t]
            dh, dc_live = dh_t[t], (dc if n == B else dc[:n])  # of the state after zoneout
            if zone_h is not None:  # lerp(v, 0, keep) = v * (1 - keep): the shares of h~ and c~
                keep_h, keep_c = keep_h_t[t], keep_c_t[t]
                dh_new, dc_new = torch.lerp(dh, zero, keep_h), torch.lerp(dc_live, zero, keep_c)
            elif zoned:
                keep_c = zone_p
                dh_new, dc_new = dh * (1.0 - zone_p), dc_live * (1.0 - zone_p)
            else:
                dh_new, dc_new = dh, dc_live
            d_ao = o_t[t].mul_(dh_new)
            if ln_cw is None:
                dc_new.addcmul_(dh_new, coef_t[t])
            else:
                mean, rstd = buf["stats_c"][t]
                d_c, d_w, d_b = ln_backward(
                    dh_new * coef_t[t], c_new_t[t], (H,), mean, rstd, ln_cw, ln_cb, [True, True, True]
                )
                dc_new.add_(d_c)
                d_ln_cw.append(d_w)
                d_ln_cb.append(d_b)
            if w_co is not None:
                dc_new.addcmul_(d_ao, w_co)
            d_aifg = ifg_t[t].mul_(dc_new.unsqueeze(1))
            if zoned:  # dc_{t-1} = keep * dc_t + f * dc~
                dc_live.mul_(keep_c).addcmul_(dc_new, f_t[t])
            else:
                dc_live.mul_(f_t[t])
            if w_ch is not None:
                dc_live.addcmul_(d_aifg[:, 0], w_ci).addcmul_(d_aifg[:, 1], w_cf)
            dr = pre_t[t]
            if ln_hh is not None:
                mean, rstd = buf["stats_hh"][t]
                dr, d_w, _ = ln_backward(dr, r_t[t], (G,), mean, rstd, ln_hh, None, [True, True, False])
                d_w_hh.addmm_(dr.t(), h_in_t[t])
                d_ln_hh.append(d_w)
            target = dh_t[t - 1][:n] if t > 0 else dh0
            if rec_mask is None:
                target.addmm_(dr, w_hh)
            else:
                target.addcmul_(dr.mm(w_hh), rec_mask if n == B else rec_mask[:n])
            if zone_h is not None:
                target.addcmul_(dh, keep_h)
            elif zoned:  # evaluation: the expectation, a scalar share
                target.add_(dh, alpha=zone_p)

        # the weights' gradients: one reduction each over all steps and rows
        if ln_hh is None:
            h_in = buf["H_in"] if rec_mask is not None else Y[:-1]
            d_w_hh = h_in.reshape(T * B, H).t().mm(d_pre.reshape(T * B, G)).t()
        d_w_ch = None
        if w_ch is not None:
            d_w_ch = torch.cat([(d_i * C_prev).sum((0, 1)), (d_f * C_prev).sum((0, 1)), (d_o * C_new).sum((0, 1))])
        total = lambda pieces: torch.stack(pieces).sum(0) if pieces else None
        return (
            d_pre,
            dh0,
            dc,
            d_w_hh,
            d_w_ch,
            total(d_ln_hh),
            total(d_ln_cw),
            total(d_ln_cb),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        )
