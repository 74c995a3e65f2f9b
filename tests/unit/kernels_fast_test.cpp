// Fast-mode kernels (lib/kernels/matmul_fast_bf16.cpp) against the strict kernel and an exact (double) sum, with
// the error bound stated in the kernel file: |fast - exact| <= rel_bound(k) * S + T, S = sum |a||x|,
// T = 2^-126 (k + sum |a| + sum |x|); against strict the two kernels' bounds add. Special values: NaN and +-inf
// activations and weights, denormal activations / weights, zero rows, F16 weights with activations beyond the
// F16 range (strict overflows there; fast must stay within its bound of the exact sum).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/half.h"
#include "kernels/convert_bf16.h"
#include "kernels/convert_fp16.h"
#include "kernels/dot_f16.h"
#include "kernels/dot_f32.h"
#include "kernels/flash_attn.h"
#include "kernels/flash_attn_fast.h"
#include "kernels/matmul_fast.h"
#include "kernels/matmul_tinyblas.h"

namespace kn = ck::kernels;
using kn::FastWeight;

namespace {

struct Rng {
  uint64_t s;
  uint64_t next() {
    s += 0x9E3779B97F4A7C15ull;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  float uni() { return float(double(next() >> 11) * 0x1.0p-53 * 2.0 - 1.0); }  // [-1, 1)
};

// A weight matrix in its storage type, plus its values as double.
struct Weights {
  FastWeight wt;
  int64_t m, k;
  std::vector<float> f32;
  std::vector<uint16_t> u16;
  std::vector<double> val;
  const void* data() const { return wt == FastWeight::f32 ? static_cast<const void*>(f32.data()) : u16.data(); }
  void set(int64_t i, float v) {
    if (wt == FastWeight::f32) {
      f32[size_t(i)] = v;
      val[size_t(i)] = v;
    } else if (wt == FastWeight::f16) {
      u16[size_t(i)] = ck::fp32_to_fp16(v);
      val[size_t(i)] = ck::fp16_to_fp32(u16[size_t(i)]);
    } else {
      u16[size_t(i)] = ck::fp32_to_bf16(v);
      val[size_t(i)] = ck::bf16_to_fp32(u16[size_t(i)]);
    }
  }
};

Weights make_weights(FastWeight wt, int64_t m, int64_t k, Rng& r, float scale) {
  Weights w{wt, m, k, {}, {}, std::vector<double>(size_t(m * k))};
  if (wt == FastWeight::f32) w.f32.resize(size_t(m * k));
  else w.u16.resize(size_t(m * k));
  for (int64_t i = 0; i < m * k; ++i) w.set(i, r.uni() * scale);
  return w;
}

// The strict mul_mat of the weight type, as lib/runtime's strict binding runs it.
std::vector<float> strict_mm(const Weights& w, int64_t n, const std::vector<float>& x) {
  const int64_t m = w.m, k = w.k;
  std::vector<float> c(size_t(m * n));
  const bool tb = kn::tinyblas_applies(m, n, k);
  if (w.wt == FastWeight::f32) {
    if (tb) kn::matmul_tinyblas_f32(m, n, k, w.f32.data(), k, x.data(), k, c.data(), m, 0, 1);
    else kn::matmul_vecdot_f32(m, n, k, w.f32.data(), k, x.data(), k, c.data(), m, 0, 1);
    return c;
  }
  std::vector<uint16_t> b(size_t(n * k));
  if (w.wt == FastWeight::f16) {
    kn::fp32_to_fp16_rows(x.data(), k, b.data(), k, k, n, 0, 1);
    if (tb) kn::matmul_tinyblas_f16(m, n, k, w.u16.data(), k, b.data(), k, c.data(), m, 0, 1);
    else kn::matmul_vecdot_f16(m, n, k, w.u16.data(), k, b.data(), k, c.data(), m, 0, 1);
  } else {
    kn::fp32_to_bf16_rows(x.data(), k, b.data(), k, k, n, 0, 1);
    if (tb) kn::matmul_tinyblas_bf16(m, n, k, w.u16.data(), k, b.data(), k, c.data(), m, 0, 1);
    else kn::matmul_vecdot_bf16(m, n, k, w.u16.data(), k, b.data(), k, c.data(), m, 0, 1);
  }
  return c;
}

// prepacked: A converted once by matmul_fast_bf16_pack_a (what lib/runtime does at load in fast mode), else per
// chunk inside matmul_fast_bf16. Both must give the same bits.
std::vector<float> fast_mm(const Weights& w, int64_t n, const std::vector<float>& x, int nth, bool prepacked = false) {
  std::vector<uint16_t> packed(kn::matmul_fast_bf16_packed_words(n, w.k), 0xFFFF);
  for (int t = 0; t < nth; ++t) kn::matmul_fast_bf16_pack_b(n, w.k, x.data(), w.k, packed.data(), t, nth);
  std::vector<float> c(size_t(w.m * n), std::numeric_limits<float>::quiet_NaN());
  if (prepacked) {
    std::vector<uint16_t> pa(kn::matmul_fast_bf16_packed_a_words(w.m, w.k), 0xFFFF);
    for (int t = 0; t < nth; ++t) kn::matmul_fast_bf16_pack_a(w.wt, w.m, w.k, w.data(), w.k, pa.data(), t, nth);
    for (int t = 0; t < nth; ++t)
      kn::matmul_fast_bf16_prepacked(w.m, n, w.k, pa.data(), packed.data(), c.data(), w.m, t, nth);
    return c;
  }
  for (int t = 0; t < nth; ++t) kn::matmul_fast_bf16(w.wt, w.m, n, w.k, w.data(), w.k, packed.data(), c.data(), w.m, t, nth);
  return c;
}

// The strict kernel's own bound against the exact sum: activation rounding (F16 2^-11, BF16 2^-8, F32 none)
// and an f32 chain of at most k roundings (conservative for every strict path).
double strict_rel_bound(FastWeight wt, int64_t k) {
  const double u = wt == FastWeight::f16 ? std::ldexp(1.0, -11) : wt == FastWeight::bf16 ? std::ldexp(1.0, -8) : 0.0;
  const double g = double(k) * std::ldexp(1.0, -24) / (1 - double(k) * std::ldexp(1.0, -24));
  return u + g * (1 + u);
}

const char* name(FastWeight wt) { return wt == FastWeight::f32 ? "f32" : wt == FastWeight::f16 ? "f16" : "bf16"; }

// Checks every output; `with_strict` false where strict is known to differ in kind (F16 overflow).
void check(const Weights& w, int64_t n, const std::vector<float>& x, const std::string& what, bool with_strict = true) {
  const int64_t m = w.m, k = w.k;
  const auto f1 = fast_mm(w, n, x, 1);
  const auto f3 = fast_mm(w, n, x, 3);
  ASSERT_EQ(std::memcmp(f1.data(), f3.data(), f1.size() * 4), 0) << what << ": fast result depends on the thread count";
  const auto p1 = fast_mm(w, n, x, 1, true);
  const auto p2 = fast_mm(w, n, x, 2, true);
  ASSERT_EQ(std::memcmp(f1.data(), p1.data(), f1.size() * 4), 0) << what << ": prepacked weights give other bits";
  ASSERT_EQ(std::memcmp(f1.data(), p2.data(), f1.size() * 4), 0) << what << ": prepacked, 2 threads";
  const auto st = with_strict ? strict_mm(w, n, x) : std::vector<float>();
  const double rb = kn::matmul_fast_bf16_rel_bound(k, w.wt), rs = strict_rel_bound(w.wt, k);
  const double tiny = std::ldexp(1.0, -126);
  int bad = 0;
  for (int64_t j = 0; j < n && bad < 5; ++j)
    for (int64_t i = 0; i < m && bad < 5; ++i) {
      double exact = 0, S = 0, Sa = 0, Sx = 0;
      bool nan = false;
      int pinf = 0, ninf = 0;
      for (int64_t l = 0; l < k; ++l) {
        const double a = w.val[size_t(i * k + l)], xv = x[size_t(j * k + l)];
        const double p = a * xv;
        if (std::isnan(p)) nan = true;
        else if (std::isinf(p)) (p > 0 ? pinf : ninf)++;
        else {
          exact += p;
          S += std::fabs(p);
          Sa += std::fabs(a);
          Sx += std::fabs(xv);
        }
      }
      const float got = f1[size_t(j * m + i)];
      const std::string at = what + " out[" + std::to_string(j) + "][" + std::to_string(i) + "]";
      if (nan || (pinf && ninf)) {
        if (!std::isnan(got)) ++bad, ADD_FAILURE() << at << ": want NaN, got " << got;
        if (with_strict && !std::isnan(st[size_t(j * m + i)])) ++bad, ADD_FAILURE() << at << ": strict not NaN";
        continue;
      }
      if (pinf || ninf) {
        const float want = pinf ? INFINITY : -INFINITY;
        if (got != want) ++bad, ADD_FAILURE() << at << ": want " << want << ", got " << got;
        if (with_strict && st[size_t(j * m + i)] != want) ++bad, ADD_FAILURE() << at << ": strict " << st[size_t(j * m + i)];
        continue;
      }
      const double T = tiny * (double(k) + Sa + Sx);
      const double err = std::fabs(double(got) - exact), bound = rb * S + T;
      if (!(err <= bound)) {
        ++bad;
        ADD_FAILURE() << at << ": fast " << got << " exact " << exact << " |err| " << err << " > bound " << bound;
      }
      if (with_strict) {
        const double ds = std::fabs(double(got) - double(st[size_t(j * m + i)]));
        const double bs = (rb + rs) * S + 2 * T;
        if (!(ds <= bs)) {
          ++bad;
          ADD_FAILURE() << at << ": fast " << got << " strict " << st[size_t(j * m + i)] << " diff " << ds << " > " << bs;
        }
      }
    }
}

std::vector<float> make_x(int64_t n, int64_t k, Rng& r, float scale) {
  std::vector<float> x(size_t(n * k));
  for (auto& v : x) v = r.uni() * scale;
  return x;
}

}  // namespace

TEST(KernelsFast, Bf16GemmWithinTheStatedBoundOfStrictAndExact) {
  if (!kn::matmul_fast_bf16_available()) GTEST_SKIP() << "no AVX512-BF16 on this CPU (fast mode runs strict here)";
  struct Shape { int64_t m, n, k; };
  // model widths (1024, 1152, 2048, 4304-wide ffn, 6144 cut to rows), tails in m (%4), n (%12, pairs), k (%16, odd)
  const Shape shapes[] = {{64, 7, 1024}, {30, 13, 1152}, {9, 25, 4304}, {12, 2, 1020}, {5, 3, 72}, {8, 12, 37},
                          {18, 27, 2048}, {7, 5, 6144}, {6, 14, 1168}};
  for (FastWeight wt : {FastWeight::f32, FastWeight::f16, FastWeight::bf16})
    for (const auto& sh : shapes) {
      Rng r{uint64_t(sh.m * 131 + sh.n * 7 + sh.k) ^ uint64_t(wt)};
      const Weights w = make_weights(wt, sh.m, sh.k, r, 0.05f);
      const auto x = make_x(sh.n, sh.k, r, 3.0f);
      check(w, sh.n, x, std::string(name(wt)) + " " + std::to_string(sh.m) + "x" + std::to_string(sh.n) + "x" +
                             std::to_string(sh.k));
    }
}

TEST(KernelsFast, Bf16GemmSpecialValues) {
  if (!kn::matmul_fast_bf16_available()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  const int64_t m = 10, n = 14;
  // k = 264 and a long k = 2600 with specials far into the rows
  for (const int64_t k : {int64_t(264), int64_t(2600)})
  for (FastWeight wt : {FastWeight::f32, FastWeight::f16, FastWeight::bf16}) {
    Rng r{77 + uint64_t(wt)};
    Weights w = make_weights(wt, m, k, r, 0.5f);
    auto x = make_x(n, k, r, 2.0f);
    for (int64_t l = 0; l < k; ++l) {
      w.set(0 * k + l, 0.0f);                                         // zero weight row
      x[size_t(1 * k + l)] = 0.0f;                                    // zero activation row
      x[size_t(2 * k + l)] = std::ldexp(r.uni(), -128);               // denormal activations
      if (wt != FastWeight::f16) w.set(3 * k + l, std::ldexp(r.uni(), -127));  // denormal F32/BF16 weights
      else w.set(3 * k + l, std::ldexp(r.uni(), -20));                // F16 subnormal weights
    }
    // an inf operand meets only normal values (a denormal is read as zero: inf x denormal gives NaN, documented)
    for (int64_t l : {3, 9, 17, 200}) w.set(3 * k + l, 0.25f);
    x[size_t(2 * k + 30)] = 1.0f;
    x[size_t(4 * k + 5)] = std::numeric_limits<float>::quiet_NaN();  // NaN activation
    x[size_t(5 * k + 17)] = INFINITY;                                 // +inf: sign of each weight; 0 weight: NaN
    x[size_t(6 * k + 3)] = INFINITY;                                  // +inf and -inf in one row: NaN
    x[size_t(6 * k + 200)] = -INFINITY;
    x[size_t(7 * k + 9)] = -INFINITY;
    w.set(5 * k + 30, INFINITY);                                      // an inf weight
    w.set(6 * k + 31, std::numeric_limits<float>::quiet_NaN());       // a NaN weight
    x[size_t(8 * k + 11)] = -0.0f;
    w.set(7 * k + 11, -0.0f);
    if (k > 2500) {  // specials far into the rows too
      x[size_t(4 * k + 2500)] = std::numeric_limits<float>::quiet_NaN();
      x[size_t(5 * k + 1200)] = -INFINITY;  // with +inf at 17 in the same row: NaN
      w.set(5 * k + 2500, INFINITY);
      w.set(3 * k + 1200, 0.25f);  // the -inf meets a normal weight in the denormal row
      x[size_t(2 * k + 2500)] = 1.0f;  // and the inf weight a normal activation in the denormal row
    }
    check(w, n, x, std::string(name(wt)) + " specials k=" + std::to_string(k));
  }
  // F16 weights with activations beyond 65504: strict overflows (its activations are rounded to F16); fast stays
  // within its bound of the exact sum.
  Rng r{5};
  const Weights w = make_weights(FastWeight::f16, 8, 128, r, 0.01f);
  auto x = make_x(3, 128, r, 1e6f);
  check(w, 3, x, "f16 beyond the F16 range", /*with_strict=*/false);
}

TEST(KernelsFast, Bf16GemmBoundIsAsDocumented) {
  // docs/KERNELS.md quotes <= 7.9e-3 (F32/F16 weights) and <= 3.96e-3 (BF16) for k <= 6144
  EXPECT_LT(kn::matmul_fast_bf16_rel_bound(6144, FastWeight::f16), 7.9e-3);
  EXPECT_LT(kn::matmul_fast_bf16_rel_bound(6144, FastWeight::bf16), 3.96e-3);
  EXPECT_GT(kn::matmul_fast_bf16_rel_bound(1, FastWeight::f32), 2 * std::ldexp(1.0, -8));
}

// ---- flash attention (lib/kernels/flash_attn_fast.cpp) ----
namespace {

struct Attn {
  kn::FlashAttnShape s;
  std::vector<float> q;
  std::vector<uint16_t> k, v, mask;  // mask empty: none
};

// q [N][H][DK]; K/V as the encoder casts them ([Hk][KV][d]) or, with a mask, as the decoder's cache views
// ([KV][Hk][d]); causal mask rows [N][KV] (query i sees keys <= i + KV - N).
Attn make_attn(int64_t N, int64_t KV, int64_t H, int64_t Hk, int64_t DK, bool causal, float qscale, uint64_t seed) {
  Rng r{seed};
  Attn a;
  auto& s = a.s;
  s.DK = s.DV = DK;
  s.N = N;
  s.KV = KV;
  s.H = H;
  s.Hk = Hk;
  s.scale = 1.0f / std::sqrt(float(DK));
  s.q_si = H * DK;
  s.q_sh = DK;
  if (causal) {
    s.k_sj = s.v_sj = Hk * DK;
    s.k_sg = s.v_sg = DK;
  } else {
    s.k_sj = s.v_sj = DK;
    s.k_sg = s.v_sg = KV * DK;
  }
  a.q.resize(size_t(N * H * DK));
  for (auto& x : a.q) x = r.uni() * qscale;
  a.k.resize(size_t(KV * Hk * DK));
  a.v.resize(size_t(KV * Hk * DK));
  for (auto& x : a.k) x = ck::fp32_to_fp16(r.uni() * 2.0f);
  for (auto& x : a.v) x = ck::fp32_to_fp16(r.uni());
  if (causal) {
    s.mask_si = KV;
    a.mask.resize(size_t(N * KV));
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = 0; j < KV; ++j) a.mask[size_t(i * KV + j)] = j <= i + KV - N ? 0 : 0xFC00;
  }
  return a;
}

std::vector<float> run_fast(const Attn& a, int nth) {
  std::vector<float> out(size_t(a.s.N * a.s.H * a.s.DV), std::numeric_limits<float>::quiet_NaN());
  for (int t = 0; t < nth; ++t)
    kn::flash_attn_fast(a.s, a.q.data(), a.k.data(), a.v.data(), a.mask.empty() ? nullptr : a.mask.data(), out.data(), t, nth);
  return out;
}

void check_attn(const Attn& a, const std::string& what) {
  const auto& s = a.s;
  const auto f1 = run_fast(a, 1), f3 = run_fast(a, 3);
  ASSERT_EQ(std::memcmp(f1.data(), f3.data(), f1.size() * 4), 0) << what << ": depends on the thread count";
  std::vector<float> st(f1.size());
  const bool tiled = kn::flash_attn_path(s) == kn::FlashAttnPath::tiled;
  if (tiled)
    kn::flash_attn_ext(s, a.q.data(), a.k.data(), a.v.data(), a.mask.empty() ? nullptr : a.mask.data(), st.data(), 1, 0, 1);
  const double rel = kn::flash_attn_fast_rel(), srel = kn::flash_attn_fast_score_rel(s.DK);
  const double e = std::ldexp(1.0, -24), gkv = double(s.KV) * e / (1 - double(s.KV) * e);
  int bad = 0;
  for (int64_t i = 0; i < s.N && bad < 5; ++i)
    for (int64_t h = 0; h < s.H && bad < 5; ++h) {
      const int64_t g = h / (s.H / s.Hk);
      const float* qr = a.q.data() + i * s.q_si + h * s.q_sh;
      std::vector<double> sc(size_t(s.KV));
      double mx = -INFINITY, delta = 0, delta_s = 0;
      bool qnan = false;
      for (int64_t j = 0; j < s.KV; ++j) {
        const uint16_t* kr = a.k.data() + j * s.k_sj + g * s.k_sg;
        double d = 0, ad = 0;
        for (int64_t l = 0; l < s.DK; ++l) {
          d += double(qr[l]) * ck::fp16_to_fp32(kr[l]);
          ad += std::fabs(double(qr[l]) * ck::fp16_to_fp32(kr[l]));
        }
        if (std::isnan(d)) qnan = true;
        const double mval = a.mask.empty() ? 0.0 : ck::fp16_to_fp32(a.mask[size_t(i * s.mask_si + j)]);
        sc[size_t(j)] = d * s.scale + mval;
        if (std::isfinite(mval)) {
          delta = std::max(delta, srel * s.scale * ad * 1.0001 + 4 * e * std::fabs(mval));
          delta_s = std::max(delta_s, double(s.DK + 2) * e * s.scale * ad * 1.0001);
        }
        mx = std::max(mx, sc[size_t(j)]);
      }
      double sum = 0;
      for (int64_t j = 0; j < s.KV; ++j) sum += mx == -INFINITY ? 0.0 : std::exp(sc[size_t(j)] - mx);
      for (int64_t d = 0; d < s.DV; ++d) {
        double o = 0, ow = 0;
        bool vnan = false;
        for (int64_t j = 0; j < s.KV; ++j) {
          const double w = mx == -INFINITY ? 0.0 : std::exp(sc[size_t(j)] - mx) / sum;
          const double vv = ck::fp16_to_fp32(a.v[size_t(j * s.v_sj + g * s.v_sg + d)]);
          if (std::isnan(vv)) vnan = vnan || w > 0;
          else {
            o += w * vv;
            ow += w * std::fabs(vv);
          }
        }
        const size_t at = size_t((i * s.H + h) * s.DV + d);
        const std::string where = what + " out[" + std::to_string(i) + "][" + std::to_string(h) + "][" + std::to_string(d) + "]";
        if (qnan || vnan) {
          if (!std::isnan(f1[at])) ++bad, ADD_FAILURE() << where << ": want NaN, got " << f1[at];
          if (tiled && !std::isnan(st[at])) ++bad, ADD_FAILURE() << where << ": strict not NaN";
          continue;
        }
        const double bound = (rel + gkv + 2 * delta * 1.01) * ow + 1e-30;
        const double err = std::fabs(double(f1[at]) - o);
        if (!(err <= bound)) ++bad, ADD_FAILURE() << where << ": fast " << f1[at] << " exact " << o << " err " << err << " > " << bound;
        if (tiled) {
          const double sb = (1e-6 + gkv + 2 * delta_s * 1.01) * ow + 1e-30;
          const double ds = std::fabs(double(f1[at]) - double(st[at]));
          if (!(ds <= bound + sb)) ++bad, ADD_FAILURE() << where << ": fast " << f1[at] << " strict " << st[at] << " diff " << ds << " > " << bound + sb;
        }
      }
    }
}

}  // namespace

TEST(KernelsFast, FlashAttnWithinTheStatedBound) {
  if (!kn::matmul_fast_bf16_available()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  // encoder (no mask, [H][T][d]): 2B vision d=64, 8B vision d=72; tails in N (%4) and KV (%64)
  check_attn(make_attn(100, 100, 3, 3, 64, false, 2.0f, 1), "vision d=64");
  check_attn(make_attn(70, 70, 2, 2, 72, false, 2.0f, 2), "vision d=72");
  // prefill (causal mask over the cache views, GQA 4:2, d=128), N < KV (a second turn), N < 64 (strict one_chunk)
  check_attn(make_attn(96, 96, 4, 2, 128, true, 1.0f, 3), "prefill d=128 GQA");
  check_attn(make_attn(67, 200, 2, 1, 128, true, 1.0f, 4), "prefill after a turn");
  check_attn(make_attn(20, 20, 2, 2, 64, true, 1.0f, 5), "short prefill");
  check_attn(make_attn(126, 256, 4, 2, 16, true, 1.0f, 7), "tiny model prefill d=16");
  // large scores (saturated softmax, the running max moves across key blocks)
  check_attn(make_attn(64, 300, 1, 1, 64, false, 40.0f, 6), "large scores");
}

TEST(KernelsFast, FlashAttnSpecialValues) {
  if (!kn::matmul_fast_bf16_available()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  Attn a = make_attn(68, 68, 2, 2, 64, true, 1.0f, 9);
  for (int64_t j = 0; j < a.s.KV; ++j) a.mask[size_t(5 * a.s.mask_si + j)] = 0xFC00;  // a fully masked row -> 0
  a.q[size_t(7 * a.s.q_si + 1 * a.s.q_sh + 3)] = std::numeric_limits<float>::quiet_NaN();  // NaN q -> NaN row
  a.v[size_t(0 * a.s.v_sj + 0 * a.s.v_sg + 9)] = 0x7E00;  // NaN V at key 0 (seen by every row): column 9 of head 0
  for (int64_t l = 0; l < a.s.DK; ++l) a.q[size_t(9 * a.s.q_si + l)] = 0.0f;  // zero q row: uniform weights
  for (int64_t l = 0; l < a.s.DK; ++l) a.v[size_t(3 * a.s.v_sj + a.s.v_sg + l)] = 0x0001;  // F16 subnormal V
  check_attn(a, "specials");
  const auto f = run_fast(a, 2);
  for (int64_t d = 0; d < a.s.DV; ++d) {
    EXPECT_EQ(f[size_t((5 * a.s.H + 0) * a.s.DV + d)], 0.0f) << "fully masked row";
  }
}
