// The time loops of lstmkit.nn.fused.lstm_sequence, in C++, with fused pointwise steps.
//
// Same equations, buffers and gate order (o, i, f, g) as `_LSTMSequence` in
// lstm_sequence.py — read that file first; it is the readable version and the fallback.
// Per step the recurrent product stays one ATen (BLAS) call; everything elementwise
// around it — the layer norms, gate activations, peepholes, cell update, zoneout, and
// their derivatives — is one pass over each row in SIMD registers (ATen's Vectorized),
// where the Python version issues 7 to 25 separate operators per step. Built on first use
// by lstmkit/nn/fused/native.py for the CPU's vector width; float32 and float64.

#include <torch/extension.h>

#include <ATen/Dispatch.h>
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

using at::Tensor;
using OptTensor = std::optional<Tensor>;

namespace {

template <typename T>
using Vec = at::vec::Vectorized<T>;

// the first n rows of a step's view (rows past n have finished their sequence)
inline Tensor rows(const Tensor& t, int64_t n) { return n == t.size(0) ? t : t.narrow(0, 0, n); }

template <typename T>
const T* ptr(const OptTensor& t) { return t ? t->data_ptr<T>() : nullptr; }

template <typename T>
inline Vec<T> load(const T* p, int64_t m) {  // lanes past m read zero
  return m == Vec<T>::size() ? Vec<T>::loadu(p) : Vec<T>::loadu(p, m);
}

template <typename T>
inline void store(const Vec<T>& v, T* p, int64_t m) {
  if (m == Vec<T>::size()) v.store(p); else v.store(p, static_cast<int>(m));
}

template <typename T>
inline Vec<T> sigmoid(const Vec<T>& x) { return (Vec<T>(T(1)) + x.neg().exp()).reciprocal(); }

template <typename T>
inline T sum(const Vec<T>& v) {
  return at::vec::vec_reduce_all<T>([](const Vec<T>& a, const Vec<T>& b) { return a + b; }, v);
}

// mean and 1 / sqrt(biased variance + eps) of x[0, N), as layer norm computes them
template <typename T>
inline void moments(const T* x, int64_t N, double eps, T& mean, T& rstd) {
  constexpr int64_t V = Vec<T>::size();
  Vec<T> acc(T(0));
  for (int64_t k = 0; k < N; k += V) acc = acc + load(x + k, std::min(V, N - k));
  mean = sum(acc) / T(N);
  const Vec<T> mu(mean), zero(T(0));
  Vec<T> acc2(T(0));
  for (int64_t k = 0; k < N; k += V) {
    const int64_t m = std::min(V, N - k);
    const Vec<T> d = Vec<T>::set(zero, load(x + k, m) - mu, m);
    acc2 = acc2 + d * d;
  }
  rstd = T(1) / std::sqrt(sum(acc2) / T(N) + T(eps));
}

// Layer norm's backward for one row of N, in two halves so the first can ride along
// the pass that makes the gradient: `add` takes dy = dL/d(normed * gain + bias) chunk by
// chunk, adding dy * x^ to the gain's gradient and dy to the bias's (when given);
// `input_grad` then writes dx = rstd * (u - mean(u) - x^ * mean(u * x^)), with
// u = dy * gain and x^ = (x - mean) * rstd (dx may be dy itself).
template <typename T>
struct NormBackward {
  const T *x, *gain;
  int64_t N;
  Vec<T> mu, rs;
  T *d_gain, *d_bias;
  Vec<T> s1{T(0)}, s2{T(0)};

  NormBackward(const T* x, int64_t N, T mean, T rstd, const T* gain, T* d_gain, T* d_bias)
      : x(x), gain(gain), N(N), mu(mean), rs(rstd), d_gain(d_gain), d_bias(d_bias) {}

  void add(const Vec<T>& dy, int64_t j, int64_t m) {  // lanes past m: dy is 0
    const Vec<T> xh = (load(x + j, m) - mu) * rs, u = dy * load(gain + j, m);
    s1 = s1 + u;
    s2 = s2 + u * xh;
    store(load(d_gain + j, m) + dy * xh, d_gain + j, m);
    if (d_bias) store(load(d_bias + j, m) + dy, d_bias + j, m);
  }

  void input_grad(const T* dy, T* dx) const {
    constexpr int64_t V = Vec<T>::size();
    const Vec<T> m1(sum(s1) / T(N)), m2(sum(s2) / T(N));
    for (int64_t k = 0; k < N; k += V) {
      const int64_t m = std::min(V, N - k);
      const Vec<T> xh = (load(x + k, m) - mu) * rs;
      store(rs * (load(dy + k, m) * load(gain + k, m) - m1 - xh * m2), dx + k, m);
    }
  }
};

struct Options {
  bool peephole, ln_hh, ln_c, ln_in, zone_masks, zoned;
  double zone_p, eps;
};

// One forward step for the n live rows. On entry `a` holds the pre-activations
// gx + W_hh h (without ln_hh) or nothing (with ln_hh: built here from gx and r = W_hh h).
template <typename T>
void forward_step(const Options& op, int64_t n, int64_t H, T* a, const T* gx, const T* r, const T* ln_hh,
                  T* m_hh, T* s_hh, const T* in_norm, const T* in_bias, T* m_in, T* s_in, const T* h_prev, const T* c_prev, T* c_new, T* tc, T* y, T* c_next,
                  const T* w_ch, const T* ln_cw, const T* ln_cb, T* m_c, T* s_c, const T* zh, const T* zc) {
  constexpr int64_t V = Vec<T>::size();
  const int64_t G = 4 * H;
  const Vec<T> one(T(1)), zp(static_cast<T>(op.zone_p));
  for (int64_t b = 0; b < n; ++b) {
    T* ab = a + b * G;
    const T *hp = h_prev + b * H, *cp = c_prev + b * H;
    T *cn = c_new + b * H, *tcb = tc + b * H;
    const T* rb = op.ln_hh ? r + b * G : nullptr;
    const T* gxb = op.ln_hh ? gx + b * G : nullptr;
    Vec<T> mu(T(0)), rs(T(0)), mu_x(T(0)), rs_x(T(0));
    auto norm_stats = [&](const T* row, T& mean, T& rstd, Vec<T>& mean_v, Vec<T>& rstd_v) {
      moments(row, G, op.eps, mean, rstd);  // saved for the backward pass
      mean_v = Vec<T>(mean);
      rstd_v = Vec<T>(rstd);
    };
    // a = gx + LN(W_hh h) * gain, formed block by block below
    if (op.ln_hh) norm_stats(rb, m_hh[b], s_hh[b], mu, rs);
    // gx = LN(W_ih x) * gain + bias, here too (gx holds W_ih x)
    if (op.ln_in) norm_stats(gxb, m_in[b], s_in[b], mu_x, rs_x);
    auto pre = [&](int64_t j, int64_t m) -> Vec<T> {  // the pre-activations a[j, j + m)
      if (!op.ln_hh) return load(ab + j, m);
      Vec<T> x = load(gxb + j, m);
      if (op.ln_in) {
        x = (x - mu_x) * rs_x * load(in_norm + j, m);
        if (in_bias) x = x + load(in_bias + j, m);
      }
      return x + (load(rb + j, m) - mu) * rs * load(ln_hh + j, m);
    };
    for (int64_t k = 0; k < H; k += V) {  // gates and c~
      const int64_t m = std::min(V, H - k);
      Vec<T> ao = pre(k, m), ai = pre(H + k, m), af = pre(2 * H + k, m);
      const Vec<T> cpv = load(cp + k, m);
      if (op.peephole) {  // i and f see the old cell state
        ai = ai + load(w_ch + k, m) * cpv;
        af = af + load(w_ch + H + k, m) * cpv;
      }
      const Vec<T> i = sigmoid(ai), f = sigmoid(af), g = pre(3 * H + k, m).tanh();
      const Vec<T> cnv = f * cpv + i * g;
      if (op.peephole) ao = ao + load(w_ch + 2 * H + k, m) * cnv;  // o sees the new one
      store(sigmoid(ao), ab + k, m);
      store(i, ab + H + k, m);
      store(f, ab + 2 * H + k, m);
      store(g, ab + 3 * H + k, m);
      store(cnv, cn + k, m);
    }
    Vec<T> mu_c(T(0)), rs_c(T(0));
    if (op.ln_c) {
      T mean, rstd;
      moments(cn, H, op.eps, mean, rstd);
      m_c[b] = mean;
      s_c[b] = rstd;
      mu_c = Vec<T>(mean);
      rs_c = Vec<T>(rstd);
    }
    for (int64_t k = 0; k < H; k += V) {  // h~ = o tanh(shown c~), then zoneout
      const int64_t m = std::min(V, H - k);
      const Vec<T> cnv = load(cn + k, m);
      const Vec<T> shown = op.ln_c ? (cnv - mu_c) * rs_c * load(ln_cw + k, m) + load(ln_cb + k, m) : cnv;
      const Vec<T> t = shown.tanh();
      store(t, tcb + k, m);
      Vec<T> h = load(ab + k, m) * t;
      if (op.zoned) {
        const Vec<T> kh = op.zone_masks ? load(zh + b * H + k, m) : zp;
        const Vec<T> kc = op.zone_masks ? load(zc + b * H + k, m) : zp;
        h = h + kh * (load(hp + k, m) - h);
        store(cnv + kc * (load(cp + k, m) - cnv), c_next + b * H + k, m);
      }
      store(h, y + b * H + k, m);
    }
  }
}

// One backward step for the n live rows: from dL/dh_t (`dh`) and dL/dc_t (`dc`, updated
// in place to dL/dc_{t-1}) to dL/da (`d_pre`) and, with ln_hh, dL/d(W_hh h) (`dr`);
// zoneout's kept share of dh goes straight into `dh_prev`.
template <typename T>
void backward_step(const Options& op, int64_t n, int64_t H, const T* dh, T* dc, const T* gates, const T* c_prev,
                   const T* c_new, const T* tc, T* d_pre, T* dr, T* dh_prev, const T* r, const T* ln_hh,
                   const T* m_hh, const T* s_hh, const T* gx, const T* in_norm, const T* m_in, const T* s_in, T* dgx,
                   T* d_in_norm, const T* w_ch, const T* ln_cw, const T* m_c, const T* s_c,
                   const T* zh, const T* zc, T* d_ln_hh, T* d_ln_cw, T* d_ln_cb, T* scratch) {
  constexpr int64_t V = Vec<T>::size();
  const int64_t G = 4 * H;
  const Vec<T> one(T(1)), zp(static_cast<T>(op.zone_p));
  for (int64_t b = 0; b < n; ++b) {
    const T* gb = gates + b * G;
    T* db = d_pre + b * G;
    const T *dhb = dh + b * H, *cp = c_prev + b * H, *cn = c_new + b * H, *tcb = tc + b * H;
    T* dcb = dc + b * H;
    for (int64_t k = 0; k < H; k += V) {  // through h~ = o tanh(shown): d a_o and d(shown)
      const int64_t m = std::min(V, H - k);
      Vec<T> dhn = load(dhb + k, m);
      if (op.zoned) dhn = dhn * (one - (op.zone_masks ? load(zh + b * H + k, m) : zp));
      const Vec<T> o = load(gb + k, m), t = load(tcb + k, m);
      store(dhn * t * o * (one - o), db + k, m);
      store(dhn * o * (one - t * t), scratch + k, m);
    }
    if (op.ln_c) {  // d(shown) -> d c~ in place
      NormBackward<T> cell(cn, H, m_c[b], s_c[b], ln_cw, d_ln_cw, d_ln_cb);
      for (int64_t k = 0; k < H; k += V) {
        const int64_t m = std::min(V, H - k);
        cell.add(load(scratch + k, m), k, m);
      }
      cell.input_grad(scratch, scratch);
    }
    // the norms of the two products see the same gradient dL/da: their sums are
    // gathered as d_pre is made
    NormBackward<T> rec(op.ln_hh ? r + b * G : nullptr, G, op.ln_hh ? m_hh[b] : T(0), op.ln_hh ? s_hh[b] : T(0),
                        ln_hh, d_ln_hh, nullptr);
    NormBackward<T> inp(op.ln_in ? gx + b * G : nullptr, G, op.ln_in ? m_in[b] : T(0), op.ln_in ? s_in[b] : T(0),
                        in_norm, d_in_norm, nullptr);
    auto gather = [&](const Vec<T>& dy, int64_t j, int64_t m) {  // dy = dL/da[j, j + m)
      rec.add(dy, j, m);
      if (op.ln_in) inp.add(dy, j, m);
    };
    for (int64_t k = 0; k < H; k += V) {  // through c~ = f c + i g: d a_{i,f,g} and dL/dc_{t-1}
      const int64_t m = std::min(V, H - k);
      const Vec<T> dcv = load(dcb + k, m);
      Vec<T> dcn = load(scratch + k, m);
      Vec<T> kc(T(0));
      if (op.zoned) {
        kc = op.zone_masks ? load(zc + b * H + k, m) : zp;
        dcn = dcn + dcv * (one - kc);
      } else {
        dcn = dcn + dcv;
      }
      if (op.peephole) dcn = dcn + load(db + k, m) * load(w_ch + 2 * H + k, m);
      const Vec<T> i = load(gb + H + k, m), f = load(gb + 2 * H + k, m), g = load(gb + 3 * H + k, m);
      const Vec<T> cpv = load(cp + k, m);
      const Vec<T> dai = dcn * g * i * (one - i), daf = dcn * cpv * f * (one - f), dag = dcn * i * (one - g * g);
      store(dai, db + H + k, m);
      store(daf, db + 2 * H + k, m);
      store(dag, db + 3 * H + k, m);
      if (op.ln_hh) {
        gather(load(db + k, m), k, m);
        gather(dai, H + k, m);
        gather(daf, 2 * H + k, m);
        gather(dag, 3 * H + k, m);
      }
      Vec<T> dcp = f * dcn;
      if (op.zoned) dcp = dcp + kc * dcv;
      if (op.peephole) dcp = dcp + dai * load(w_ch + k, m) + daf * load(w_ch + H + k, m);
      store(dcp, dcb + k, m);
      if (op.zoned) {
        const Vec<T> kh = op.zone_masks ? load(zh + b * H + k, m) : zp;
        store(load(dh_prev + b * H + k, m) + kh * load(dhb + k, m), dh_prev + b * H + k, m);
      }
    }
    if (op.ln_hh) rec.input_grad(db, dr + b * G);
    if (op.ln_in) inp.input_grad(db, dgx + b * G);
  }
}

}  // namespace

// Returns gates, Y, C, C_new, TC, H_in, R, M_hh, S_hh, M_c, S_c, M_in, S_in (undefined -> None).
// With in_norm, gx is W_ih x before its layer norm, applied here row by row.
std::vector<Tensor> forward(const Tensor& gx_in, const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                            const OptTensor& w_ch_in, const OptTensor& ln_hh_in, const OptTensor& ln_cw_in,
                            const OptTensor& ln_cb_in, const OptTensor& in_norm_in, const OptTensor& in_bias_in,
                            const OptTensor& rec_mask_in, const OptTensor& zone_h_in, const OptTensor& zone_c_in,
                            double zone_p, const std::vector<int64_t>& batch_sizes, double eps) {
  at::NoGradGuard no_grad;
  const Tensor gx = gx_in.contiguous();
  auto contig = [](const OptTensor& t) -> OptTensor { return t ? OptTensor(t->contiguous()) : std::nullopt; };
  const OptTensor w_ch = contig(w_ch_in), ln_hh = contig(ln_hh_in), ln_cw = contig(ln_cw_in),
                  ln_cb = contig(ln_cb_in), in_norm = contig(in_norm_in), in_bias = contig(in_bias_in),
                  rec_mask = contig(rec_mask_in), zone_h = contig(zone_h_in), zone_c = contig(zone_c_in);
  const int64_t T = gx.size(0), B = gx.size(1), G = gx.size(2), H = G / 4;
  const bool ragged = batch_sizes.back() < B;
  TORCH_CHECK(!in_norm || ln_hh, "the input product's norm is fused only with the recurrent one");
  const Options op{w_ch.has_value(), ln_hh.has_value(), ln_cw.has_value(), in_norm.has_value(), zone_h.has_value(),
                   zone_h.has_value() || zone_p > 0.0, zone_p, eps};
  const auto opts = gx.options();
  // padded rows are never written: zero them only when there are some
  auto alloc = [&](at::IntArrayRef shape) { return ragged ? at::zeros(shape, opts) : at::empty(shape, opts); };
  Tensor gates = alloc({T, B, G});  // activated o, i, f, g
  Tensor Y = alloc({T + 1, B, H});  // h after zoneout; Y[0] = h0
  Tensor C = alloc({T + 1, B, H});  // c after zoneout; C[0] = c0
  Y[0].copy_(h0);
  C[0].copy_(c0);
  Tensor C_new = op.zoned ? alloc({T, B, H}) : C.narrow(0, 1, T);  // c~ before zoneout
  Tensor TC = alloc({T, B, H});  // tanh of the shown cell state
  Tensor H_in, R, M_hh, S_hh, M_c, S_c, M_in, S_in;
  if (rec_mask) H_in = alloc({T, B, H});
  if (op.ln_hh) {
    R = alloc({T, B, G});
    M_hh = alloc({T, B});
    S_hh = alloc({T, B});
  }
  if (op.ln_c) {
    M_c = alloc({T, B});
    S_c = alloc({T, B});
  }
  if (op.ln_in) {
    M_in = alloc({T, B});
    S_in = alloc({T, B});
  }
  const Tensor w_hh_t = w_hh.t();

  AT_DISPATCH_FLOATING_TYPES(gx.scalar_type(), "lstmkit_lstm_forward", [&] {
    using T_ = scalar_t;
    for (int64_t t = 0; t < T; ++t) {
      const int64_t n = batch_sizes[t];  // rows still running
      const Tensor h_prev = rows(Y[t], n);
      Tensor h_in = h_prev, a = rows(gates[t], n);
      if (rec_mask) {
        h_in = rows(H_in[t], n);
        at::mul_out(h_in, h_prev, rows(*rec_mask, n));
      }
      T_* r = nullptr;
      if (!op.ln_hh) {
        at::addmm_out(a, rows(gx[t], n), h_in, w_hh_t);
      } else {
        Tensor rt = rows(R[t], n);
        at::mm_out(rt, h_in, w_hh_t);
        r = rt.data_ptr<T_>();
      }
      const int64_t off = (t * B) * H;  // row 0 of step t in a (T, B, H) buffer
      forward_step<T_>(op, n, H, a.data_ptr<T_>(), gx.data_ptr<T_>() + t * B * G, r, ptr<T_>(ln_hh),
                       op.ln_hh ? M_hh.data_ptr<T_>() + t * B : nullptr,
                       op.ln_hh ? S_hh.data_ptr<T_>() + t * B : nullptr, ptr<T_>(in_norm), ptr<T_>(in_bias),
                       op.ln_in ? M_in.data_ptr<T_>() + t * B : nullptr,
                       op.ln_in ? S_in.data_ptr<T_>() + t * B : nullptr, Y.data_ptr<T_>() + off,
                       C.data_ptr<T_>() + off, C_new.data_ptr<T_>() + off, TC.data_ptr<T_>() + off,
                       Y.data_ptr<T_>() + off + B * H, C.data_ptr<T_>() + off + B * H, ptr<T_>(w_ch), ptr<T_>(ln_cw),
                       ptr<T_>(ln_cb), op.ln_c ? M_c.data_ptr<T_>() + t * B : nullptr,
                       op.ln_c ? S_c.data_ptr<T_>() + t * B : nullptr,
                       op.zone_masks ? zone_h->data_ptr<T_>() + off : nullptr,
                       op.zone_masks ? zone_c->data_ptr<T_>() + off : nullptr);
    }
  });
  return {gates, Y, C, C_new, TC, H_in, R, M_hh, S_hh, M_c, S_c, M_in, S_in};
}

// Returns d_gx, dh0, dc0, d_w_hh, d_w_ch, d_ln_hh, d_ln_cw, d_ln_cb, d_in_norm, d_in_bias (undefined -> None).
std::vector<Tensor> backward(const Tensor& dY, const Tensor& dh_n, const Tensor& dc_n, const Tensor& gates,
                             const Tensor& Y, const Tensor& C, const Tensor& C_new, const Tensor& TC,
                             const OptTensor& H_in, const OptTensor& R, const OptTensor& M_hh,
                             const OptTensor& S_hh, const OptTensor& M_c, const OptTensor& S_c,
                             const Tensor& gx_in, const OptTensor& M_in, const OptTensor& S_in,
                             const OptTensor& in_norm_in, const OptTensor& in_bias_in, const Tensor& w_hh, const OptTensor& w_ch_in, const OptTensor& ln_hh_in,
                             const OptTensor& ln_cw_in, const OptTensor& ln_cb_in, const OptTensor& rec_mask_in,
                             const OptTensor& zone_h_in, const OptTensor& zone_c_in, double zone_p,
                             const std::vector<int64_t>& batch_sizes, const OptTensor& last) {
  at::NoGradGuard no_grad;
  auto contig = [](const OptTensor& t) -> OptTensor { return t ? OptTensor(t->contiguous()) : std::nullopt; };
  const OptTensor w_ch = contig(w_ch_in), ln_hh = contig(ln_hh_in), ln_cw = contig(ln_cw_in),
                  ln_cb = contig(ln_cb_in), in_norm = contig(in_norm_in), in_bias = contig(in_bias_in),
                  rec_mask = contig(rec_mask_in), zone_h = contig(zone_h_in), zone_c = contig(zone_c_in);
  const int64_t T = gates.size(0), B = gates.size(1), G = gates.size(2), H = G / 4;
  const bool ragged = batch_sizes.back() < B;
  const Options op{w_ch.has_value(), ln_hh.has_value(), ln_cw.has_value(), in_norm.has_value(), zone_h.has_value(),
                   zone_h.has_value() || zone_p > 0.0, zone_p, 0.0};
  const Tensor gx = gx_in.contiguous();
  auto alloc_like = [&](const Tensor& t) { return ragged ? at::zeros_like(t) : at::empty_like(t); };

  Tensor d_pre = alloc_like(gates);  // dL/da of every step, which is also dL/d gx
  Tensor dh_all = dY.contiguous().clone();  // dL/dh_t: the outputs' gradient, the recurrent share added below
  if (!last) {
    dh_all[T - 1] += dh_n;
  } else {
    dh_all.index_put_({*last, at::arange(B, last->options())}, dh_n, /*accumulate=*/true);
  }
  Tensor dc = dc_n.contiguous().clone();  // dL/dc_t of the live rows, carried backwards in place
  Tensor dh0 = at::zeros_like(dh_n, at::MemoryFormat::Contiguous);
  Tensor DR = op.ln_hh ? alloc_like(gates) : Tensor();  // dL/d(W_hh h), through the norm
  Tensor d_ln_hh = op.ln_hh ? at::zeros_like(*ln_hh) : Tensor();
  Tensor d_ln_cw = op.ln_c ? at::zeros_like(*ln_cw) : Tensor();
  Tensor d_ln_cb = op.ln_c ? at::zeros_like(*ln_cb) : Tensor();
  Tensor DGX = op.ln_in ? alloc_like(gates) : Tensor();  // dL/d(W_ih x), through the input's norm
  Tensor d_in_norm = op.ln_in ? at::zeros_like(*in_norm) : Tensor();
  Tensor scratch = at::empty({H}, gates.options());
  const Tensor C_new_c = C_new.contiguous();  // C[1:] (a contiguous slice) when there is no zoneout

  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "lstmkit_lstm_backward", [&] {
    using T_ = scalar_t;
    for (int64_t t = T - 1; t >= 0; --t) {
      const int64_t n = batch_sizes[t];
      const int64_t off = (t * B) * H;
      T_* dh_prev = t > 0 ? dh_all.data_ptr<T_>() + off - B * H : dh0.data_ptr<T_>();
      backward_step<T_>(op, n, H, dh_all.data_ptr<T_>() + off, dc.data_ptr<T_>(), gates.data_ptr<T_>() + t * B * G,
                        C.data_ptr<T_>() + off, C_new_c.data_ptr<T_>() + off, TC.data_ptr<T_>() + off,
                        d_pre.data_ptr<T_>() + t * B * G, op.ln_hh ? DR.data_ptr<T_>() + t * B * G : nullptr, dh_prev,
                        op.ln_hh ? R->data_ptr<T_>() + t * B * G : nullptr, ptr<T_>(ln_hh),
                        op.ln_hh ? M_hh->data_ptr<T_>() + t * B : nullptr,
                        op.ln_hh ? S_hh->data_ptr<T_>() + t * B : nullptr,
                        op.ln_in ? gx.data_ptr<T_>() + t * B * G : nullptr, ptr<T_>(in_norm),
                        op.ln_in ? M_in->data_ptr<T_>() + t * B : nullptr,
                        op.ln_in ? S_in->data_ptr<T_>() + t * B : nullptr,
                        op.ln_in ? DGX.data_ptr<T_>() + t * B * G : nullptr,
                        op.ln_in ? d_in_norm.data_ptr<T_>() : nullptr, ptr<T_>(w_ch), ptr<T_>(ln_cw),
                        op.ln_c ? M_c->data_ptr<T_>() + t * B : nullptr,
                        op.ln_c ? S_c->data_ptr<T_>() + t * B : nullptr,
                        op.zone_masks ? zone_h->data_ptr<T_>() + off : nullptr,
                        op.zone_masks ? zone_c->data_ptr<T_>() + off : nullptr,
                        op.ln_hh ? d_ln_hh.data_ptr<T_>() : nullptr, op.ln_c ? d_ln_cw.data_ptr<T_>() : nullptr,
                        op.ln_c ? d_ln_cb.data_ptr<T_>() : nullptr, scratch.data_ptr<T_>());
      const Tensor dr = rows((op.ln_hh ? DR : d_pre)[t], n);
      Tensor target = t > 0 ? rows(dh_all[t - 1], n) : rows(dh0, n);
      if (!rec_mask) {
        target.addmm_(dr, w_hh);
      } else {
        target.addcmul_(dr.mm(w_hh), rows(*rec_mask, n));
      }
    }
  });

  // the weights' gradients: one reduction each over all steps and rows
  const Tensor h_in = rec_mask ? *H_in : Y.narrow(0, 0, T);
  const Tensor d_rec = op.ln_hh ? DR : d_pre;
  Tensor d_w_hh = h_in.reshape({T * B, H}).t().mm(d_rec.reshape({T * B, G})).t();
  Tensor d_w_ch;
  if (op.peephole) {
    const Tensor blocks = d_pre.view({T, B, 4, H}), C_prev = C.narrow(0, 0, T);
    d_w_ch = at::cat({(blocks.select(2, 1) * C_prev).sum({0, 1}), (blocks.select(2, 2) * C_prev).sum({0, 1}),
                      (blocks.select(2, 0) * C_new).sum({0, 1})});
  }
  Tensor d_in_bias;
  if (in_bias) d_in_bias = d_pre.sum({0, 1});
  return {op.ln_in ? DGX : d_pre, dh0, dc, d_w_hh, d_w_ch, d_ln_hh, d_ln_cw, d_ln_cb, d_in_norm, d_in_bias};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &forward, "LSTM sequence forward (see lstm_sequence.py)");
  m.def("backward", &backward, "LSTM sequence backward (see lstm_sequence.py)");
}
