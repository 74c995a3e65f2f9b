// CPU flash attention (F32 Q, F16 K/V, F16 mask).
//
// Mirrors ggml_compute_forward_flash_attn_ext_f16 and its three kernels (ggml/src/ggml-cpu/ops.cpp, b10256,
// AVX2 build), per query row (token i, head h):
// one_chunk (_f16_one_chunk): q16 = fp16_RNE(q); S = 0, M = -inf, VKQ16 = 0 (an F16 accumulator);
//   per key j in [ic0, ic1): skip if mask == -inf; s = ggml_vec_dot_f16(K_j, q16) * scale + mask;
//   s > M: M = s, ms = expf(Mold - M) (libm), VKQ16 = fp16(VKQ16 * ms) (ggml_vec_scale_f16), vs = 1;
//   else vs = expf(s - M); VKQ16 = fp16(fmaf(V_j, vs, VKQ16)) (ggml_vec_mad_f16); S = fmaf(S, ms, vs)
//   (GCC contracts `S*ms + vs`); out = f32(VKQ16) * (S == 0 ? 0 : 1.0f/S).
// tiled (_tiled, N >= 64): Q stays F32; keys in tiles of 64 from 0; s_j = sequential fmaf over dk of
//   (K_j[dk], q[dk]) from 0 (simd_gemm), * scale, + mask, -inf past the end; tile max (sequential MAX); row with
//   tile max -inf contributes nothing; Mnew = fmaxf(M, tmax); if Mnew > M: ms = expf(M - Mnew), O *= ms, S *= ms;
//   p = ggml_v_expf(s - Mnew) in 8-lane chunks (AVX2 flavour), S = (float)((double)S + sum_chunks (double)
//   hsum8(p)) (ggml_vec_soft_max_f32 returns double); O[d] = fmaf(V_j[d], p_j, O[d]) for j = 0..63 in order
//   (simd_gemm); out = O * (S == 0 ? 0 : 1.0f/S).
// split_kv (N == 1, KV >= 512): keys cut into kv_chunks slices of ceil(KV/kv_chunks); each slice runs one_chunk
//   without the final division (M_c, S_c, f32(VKQ16_c)); then ggml_flash_attn_ext_reduce_partials: in slice
//   order, skip S_c == 0; Mn = fmaxf(Mf, M_c); so = expf(Mf - Mn); sn = expf(M_c - Mn);
//   Vf[d] = fmaf(Vf[d], so, V_c[d]*sn); Sf = fmaf(Sf, so, S_c*sn) (contracted `a*b + c*d`); out = Vf * (1/Sf).
// The per-row functions below are written once (templates, scalar C++ arithmetic with explicit fmaf) and
// compiled twice: plain, and with AVX2 target attributes where GCC vectorizes the elementwise loops (the
// per-element operations are unchanged) and the dot products use dot_f16_avx2.
#include "kernels/flash_attn.h"

#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/convert_fp16.h"
#include "kernels/dot_f16.h"
#include "kernels/hsum.h"
#include "kernels/isa.h"
#include "kernels/v_expf.h"

namespace ck::kernels {

FlashAttnPath flash_attn_path(const FlashAttnShape& s) {
  if (s.N == 1 && s.KV >= 512) return FlashAttnPath::split_kv;
  if (s.N >= 64 && s.DV % 8 == 0) return FlashAttnPath::tiled;
  return FlashAttnPath::one_chunk;
}

namespace {

constexpr int64_t kTile = 64;  // ggml_fa_tile_config::KV (and ::Q)

using DotF16 = float (*)(int64_t, const uint16_t*, const uint16_t*);

// F16 <-> F32 conversions of the one_chunk kernel. Upstream's AVX2 build converts with F16C everywhere here
// (ggml_vec_scale_f16 / ggml_vec_mad_f16: _mm256_cvtph_ps / _mm256_cvtps_ph(., RNE) over 32-element steps, then
// GGML_CPU_FP16_TO_FP32 / FP32_TO_FP16 = _cvtsh_ss / _cvtss_sh for the rest). Both conversions equal ck's
// software ones bit for bit except for NaN payloads, so the scalar build keeps core/half and the AVX2 build uses
// F16C 8 at a time (the per-element arithmetic -- mul, fmaf -- is unchanged).
struct HalfSoft {
  static constexpr bool batch_dots = false;
  static float to_f32(uint16_t h) { return fp16_to_fp32(h); }
  static void scale(uint16_t* y, int64_t n, float v) {
    for (int64_t d = 0; d < n; ++d) y[d] = fp32_to_fp16(fp16_to_fp32(y[d]) * v);
  }
  static void mad(uint16_t* y, const uint16_t* x, int64_t n, float v) {
    for (int64_t d = 0; d < n; ++d) y[d] = fp32_to_fp16(std::fmaf(fp16_to_fp32(x[d]), v, fp16_to_fp32(y[d])));
  }
  static void widen(const uint16_t* x, float* y, int64_t n) {
    for (int64_t d = 0; d < n; ++d) y[d] = fp16_to_fp32(x[d]);
  }
  static void narrow(const float* x, uint16_t* y, int64_t n) {
    for (int64_t d = 0; d < n; ++d) y[d] = fp32_to_fp16(x[d]);
  }
};
struct HalfF16C {
  static constexpr bool batch_dots = true;  // scores of the whole chunk first, by dot_f16_rows
  CK_TARGET_AVX2 static float to_f32(uint16_t h) { return _cvtsh_ss(h); }
  CK_TARGET_AVX2 static void scale(uint16_t* y, int64_t n, float v) {
    const __m256 vv = _mm256_set1_ps(v);
    int64_t d = 0;
    for (; d + 8 <= n; d += 8) {
      const __m256 a = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + d)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y + d), _mm256_cvtps_ph(_mm256_mul_ps(a, vv), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; d < n; ++d) y[d] = _cvtss_sh(_cvtsh_ss(y[d]) * v, _MM_FROUND_TO_NEAREST_INT);
  }
  CK_TARGET_AVX2 static void mad(uint16_t* y, const uint16_t* x, int64_t n, float v) {
    const __m256 vv = _mm256_set1_ps(v);
    int64_t d = 0;
    for (; d + 8 <= n; d += 8) {
      const __m256 a = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + d)));
      const __m256 b = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + d)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y + d), _mm256_cvtps_ph(_mm256_fmadd_ps(b, vv, a), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; d < n; ++d) y[d] = _cvtss_sh(std::fmaf(_cvtsh_ss(x[d]), v, _cvtsh_ss(y[d])), _MM_FROUND_TO_NEAREST_INT);
  }
  CK_TARGET_AVX2 static void widen(const uint16_t* x, float* y, int64_t n) { fp16_to_fp32_row_avx2(x, y, n); }
  // q_to_vec_dot = ggml_cpu_fp32_to_fp16: _mm256_cvtps_ph 8 at a time, _cvtss_sh for the rest.
  CK_TARGET_AVX2 static void narrow(const float* x, uint16_t* y, int64_t n) { fp32_to_fp16_row_avx2(x, y, n); }
};

// The F16 VKQ accumulator of one_chunk held in registers (AVX-512, DV = 16*NC): per recorded key, optionally
// VKQ = fp16(VKQ * ms) (ggml_vec_scale_f16), then VKQ = fp16(fmaf(V, vs, VKQ)) (ggml_vec_mad_f16) -- the same
// F16C conversions (RNE) and per-element mul / fma as HalfF16C::scale / mad, 16 lanes at a time; each lane holds
// the F32 value of its F16 element. The keys' (ms, vs) come from the scalar pass (the libm expf calls would
// otherwise clobber every vector register once per key).
struct VkqStep {
  const uint16_t* vd;
  float ms, vs;
  bool scale;
};
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
template <int NC>
CK_TARGET_AVX512 void vkq_steps_avx512(const VkqStep* st, int64_t n, float* vkq) {
  __m512 a[NC];
  for (int c = 0; c < NC; ++c) a[c] = _mm512_setzero_ps();
  constexpr int64_t kAhead = 16;  // V rows sit one per K/V-cache stride: prefetch them (see dot_f16.cpp)
  for (int64_t j = 0; j < n; ++j) {
    if (j + kAhead < n)
      for (int c = 0; c < NC; c += 2) _mm_prefetch(reinterpret_cast<const char*>(st[j + kAhead].vd + 16 * c), _MM_HINT_T0);
    if (st[j].scale) {
      const __m512 ms = _mm512_set1_ps(st[j].ms);
      for (int c = 0; c < NC; ++c)
        a[c] = _mm512_cvtph_ps(_mm512_cvtps_ph(_mm512_mul_ps(a[c], ms), _MM_FROUND_TO_NEAREST_INT));
    }
    const __m512 vs = _mm512_set1_ps(st[j].vs);
    for (int c = 0; c < NC; ++c) {
      const __m512 x = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(st[j].vd + 16 * c)));
      a[c] = _mm512_cvtph_ps(_mm512_cvtps_ph(_mm512_fmadd_ps(x, vs, a[c]), _MM_FROUND_TO_NEAREST_INT));
    }
  }
  for (int c = 0; c < NC; ++c) _mm512_storeu_ps(vkq + 16 * c, a[c]);
}
#pragma GCC diagnostic pop

// one_chunk over keys [ic0, ic1): M, S and the unnormalized f32(VKQ16) in vkq (DV floats).
template <typename Half>
__attribute__((always_inline)) inline void one_chunk_partial(const FlashAttnShape& s, const float* q,
                                                             const uint16_t* k, const uint16_t* v,
                                                             const uint16_t* mask, int64_t i, int64_t h, int64_t ic0,
                                                             int64_t ic1, DotF16 dot, float& M_out, float& S_out,
                                                             float* vkq) {
  const int64_t DK = s.DK, DV = s.DV, g = h / (s.H / s.Hk);
  // Per-thread scratch reused across rows (a row of a small image's attention is a few microseconds of work).
  thread_local std::vector<uint16_t> q16, acc;
  thread_local std::vector<float> dots, qf;
  thread_local std::vector<VkqStep> steps;
  q16.resize(static_cast<size_t>(DK));
  Half::narrow(q + i * s.q_si + h * s.q_sh, q16.data(), DK);
  const uint16_t* mp = mask ? mask + i * s.mask_si : nullptr;
  // The dot products do not depend on the running M / S: with batch_dots they are computed up front, several keys
  // per pass sharing the widened q16 (each equal to ggml_vec_dot_f16(K_j, q16); masked keys' are unused).
  if constexpr (Half::batch_dots) {
    qf.resize(static_cast<size_t>(DK));
    Half::widen(q16.data(), qf.data(), DK);
    dots.resize(static_cast<size_t>(ic1 > ic0 ? ic1 - ic0 : 0));
    // Only the runs of keys the mask lets through (as upstream, masked keys' K rows are never read: for a decode
    // step that is every cell past the used ones up to the padded n_kv).
    for (int64_t a = ic0; a < ic1;) {
      if (mp && Half::to_f32(mp[a]) == -INFINITY) {
        ++a;
        continue;
      }
      int64_t e = a + 1;
      while (e < ic1 && !(mp && Half::to_f32(mp[e]) == -INFINITY)) ++e;
      dot_f16_rows(DK, k + a * s.k_sj + g * s.k_sg, s.k_sj, e - a, q16.data(), qf.data(), dots.data() + (a - ic0));
      a = e;
    }
  }
  // AVX-512 hosts with DV = 64 / 128: VKQ updates deferred to vkq_steps_avx512 (same values).
  const bool regs = Half::batch_dots && (DV == 64 || DV == 128) && active_isa() >= Isa::avx512;
  if (!regs) acc.assign(static_cast<size_t>(DV), 0);
  steps.clear();
  if (regs) steps.reserve(static_cast<size_t>(ic1 > ic0 ? ic1 - ic0 : 0));
  float S = 0.0f, M = -INFINITY;
  for (int64_t ic = ic0; ic < ic1; ++ic) {
    const float mv = mp ? 1.0f * Half::to_f32(mp[ic]) : 0.0f;
    if (mv == -INFINITY) continue;
    float sc;
    if constexpr (Half::batch_dots) sc = dots[static_cast<size_t>(ic - ic0)];
    else sc = dot(DK, k + ic * s.k_sj + g * s.k_sg, q16.data());
    sc = sc * s.scale;
    sc += mv;
    const float Mold = M;
    float ms = 1.0f, vs = 1.0f;
    const uint16_t* vd = v + ic * s.v_sj + g * s.v_sg;
    const bool newmax = sc > M;
    if (newmax) {
      M = sc;
      ms = expf(Mold - M);
    } else {
      vs = expf(sc - M);
    }
    if (regs) {
      steps.push_back({vd, ms, vs, newmax});
    } else {
      if (newmax) Half::scale(acc.data(), DV, ms);
      Half::mad(acc.data(), vd, DV, vs);
    }
    S = std::fmaf(S, ms, vs);
  }
  if (regs && DV == 128) vkq_steps_avx512<8>(steps.data(), static_cast<int64_t>(steps.size()), vkq);
  else if (regs) vkq_steps_avx512<4>(steps.data(), static_cast<int64_t>(steps.size()), vkq);
  else Half::widen(acc.data(), vkq, DV);
  M_out = M;
  S_out = S;
}

template <typename Half>
__attribute__((always_inline)) inline void one_chunk_row(const FlashAttnShape& s, const float* q, const uint16_t* k,
                                                         const uint16_t* v, const uint16_t* mask, int64_t i,
                                                         int64_t h, DotF16 dot, float* out) {
  float M, S;
  one_chunk_partial<Half>(s, q, k, v, mask, i, h, 0, s.KV, dot, M, S, out);
  const float S_inv = S == 0.0f ? 0.0f : 1.0f / S;
  for (int64_t d = 0; d < s.DV; ++d) out[d] *= S_inv;
}

template <typename Half>
__attribute__((always_inline)) inline void split_kv_row(const FlashAttnShape& s, const float* q, const uint16_t* k,
                                                        const uint16_t* v, const uint16_t* mask, int64_t i, int64_t h,
                                                        int kv_chunks, DotF16 dot, float* out) {
  const int64_t DV = s.DV, cs = (s.KV + kv_chunks - 1) / kv_chunks;
  std::vector<float> part(static_cast<size_t>(DV));
  float Mf = -INFINITY, Sf = 0.0f;
  for (int64_t d = 0; d < DV; ++d) out[d] = 0.0f;
  for (int c = 0; c < kv_chunks; ++c) {
    const int64_t ic0 = c * cs;
    if (ic0 >= s.KV) continue;
    const int64_t ic1 = ic0 + cs < s.KV ? ic0 + cs : s.KV;
    float Mc, Sc;
    one_chunk_partial<Half>(s, q, k, v, mask, i, h, ic0, ic1, dot, Mc, Sc, part.data());
    if (Sc == 0.0f) continue;
    const float Mn = fmaxf(Mf, Mc);
    const float so = expf(Mf - Mn), sn = expf(Mc - Mn);
    for (int64_t d = 0; d < DV; ++d) out[d] = std::fmaf(out[d], so, part[d] * sn);
    Sf = std::fmaf(Sf, so, Sc * sn);
    Mf = Mn;
  }
  if (Sf != 0.0f) {
    const float S_inv = 1.0f / Sf;
    for (int64_t d = 0; d < DV; ++d) out[d] *= S_inv;
  }
}

using CvtRow = void (*)(const uint16_t*, float*, int64_t);

// The two inner loops of the tiled kernel, written out with intrinsics for the AVX2 build (GCC kept the
// accumulators in memory): per lane exactly the fmaf chains of the generic loops below.
// kq[t] = fmaf(kt[d][t], q[d], kq[t]) for d = 0..DK-1 in order, kq starting at 0 (64 keys = 8 ymm).
CK_TARGET_AVX2 void kq_tile_avx2(const float* kt, const float* pq, int64_t DK, float* kq) {
  __m256 acc[kTile / 8];
  for (int j = 0; j < kTile / 8; ++j) acc[j] = _mm256_setzero_ps();
  for (int64_t d = 0; d < DK; ++d) {
    const __m256 qd = _mm256_set1_ps(pq[d]);
    for (int j = 0; j < kTile / 8; ++j) acc[j] = _mm256_fmadd_ps(_mm256_loadu_ps(kt + d * kTile + 8 * j), qd, acc[j]);
  }
  for (int j = 0; j < kTile / 8; ++j) _mm256_storeu_ps(kq + 8 * j, acc[j]);
}
// out[d] = fmaf(vt[t][d], p[t], out[d]) for t = 0..nt-1 in order (DV % 8 == 0), 64 columns of out at a time.
CK_TARGET_AVX2 void v_accum_avx2(const float* vt, const float* p, int64_t nt, int64_t DV, float* out) {
  for (int64_t d0 = 0; d0 < DV; d0 += 64) {
    const int nv = static_cast<int>((DV - d0 < 64 ? DV - d0 : 64) / 8);
    __m256 acc[8];
    for (int j = 0; j < 8; ++j) acc[j] = j < nv ? _mm256_loadu_ps(out + d0 + 8 * j) : _mm256_setzero_ps();
    for (int64_t t = 0; t < nt; ++t) {
      const __m256 pt = _mm256_set1_ps(p[t]);
      const float* vr = vt + t * DV + d0;
      for (int j = 0; j < 8; ++j)
        if (j < nv) acc[j] = _mm256_fmadd_ps(_mm256_loadu_ps(vr + 8 * j), pt, acc[j]);
    }
    for (int j = 0; j < nv; ++j) _mm256_storeu_ps(out + d0 + 8 * j, acc[j]);
  }
}

// kq[t] = kq[t] * scale (+ m32[t]), -inf for t >= nt; returns the tile maximum. The sequential scalar maximum
// (tmax = tmax > x ? tmax : x) equals an 8-lane _mm256_max_ps reduction whenever no score is NaN; a tile holding a
// NaN takes the sequential loop, so the result is the same in every case.
CK_TARGET_AVX2 float score_tile_avx2(float* kq, float scale, int64_t nt, const float* m32) {
  const __m256 vs = _mm256_set1_ps(scale), ninf = _mm256_set1_ps(-INFINITY);
  __m256 mx = ninf, nan = _mm256_setzero_ps();
  for (int64_t t = 0; t < kTile; t += 8) {
    __m256 x = _mm256_mul_ps(_mm256_loadu_ps(kq + t), vs);
    if (t + 8 > nt) {
      const __m256 idx = _mm256_add_ps(_mm256_set1_ps(float(t)), _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7));
      x = _mm256_blendv_ps(x, ninf, _mm256_cmp_ps(idx, _mm256_set1_ps(float(nt)), _CMP_GE_OQ));
    }
    if (m32) x = _mm256_add_ps(x, _mm256_loadu_ps(m32 + t));
    _mm256_storeu_ps(kq + t, x);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
    mx = _mm256_max_ps(mx, x);
  }
  if (_mm256_movemask_ps(nan)) {
    float tmax = -INFINITY;
    for (int64_t t = 0; t < kTile; ++t) tmax = tmax > kq[t] ? tmax : kq[t];
    return tmax;
  }
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// p[t] = ggml_v_expf(kq[t] - M) in place, 8 lanes at a time; returns the sum of the chunks' hsums in double, in
// chunk order (ggml_vec_soft_max_f32, AVX2 flavour).
CK_TARGET_AVX2 double exp_tile_avx2(float* kq, float M) {
  const __m256 vm = _mm256_set1_ps(M);
  double sum = 0;
  for (int64_t t = 0; t < kTile; t += 8) {
    const __m256 p = detail::v_expf_avx2(_mm256_sub_ps(_mm256_loadu_ps(kq + t), vm));
    _mm256_storeu_ps(kq + t, p);
    sum += static_cast<double>(detail::hsum8_pairs02(p));
  }
  return sum;
}

// Two query rows at once with AVX-512 (the keys of a tile are 4 zmm per row, so two rows give the 8 independent
// accumulator chains the FMA pipes need). Per lane the same fmaf chains as kq_tile_avx2 / v_accum_avx2.
CK_TARGET_AVX512 void kq_tile2_avx512(const float* kt, const float* pq0, const float* pq1, int64_t DK, float* kq0,
                                      float* kq1) {
  __m512 a0[kTile / 16], a1[kTile / 16];
  for (int j = 0; j < kTile / 16; ++j) a0[j] = a1[j] = _mm512_setzero_ps();
  for (int64_t d = 0; d < DK; ++d) {
    const __m512 q0 = _mm512_set1_ps(pq0[d]), q1 = _mm512_set1_ps(pq1[d]);
    for (int j = 0; j < kTile / 16; ++j) {
      const __m512 kv = _mm512_loadu_ps(kt + d * kTile + 16 * j);
      a0[j] = _mm512_fmadd_ps(kv, q0, a0[j]);
      a1[j] = _mm512_fmadd_ps(kv, q1, a1[j]);
    }
  }
  for (int j = 0; j < kTile / 16; ++j) {
    _mm512_storeu_ps(kq0 + 16 * j, a0[j]);
    _mm512_storeu_ps(kq1 + 16 * j, a1[j]);
  }
}
// out_r[d] = fmaf(vt[t][d], p_r[t], out_r[d]) for t = 0..nt-1 in order, for rows r = 0, 1 and NC*16 columns
// starting at column d0 (accumulators in registers: NC is a compile-time count).
template <int NC>
CK_TARGET_AVX512 inline void v_accum2_cols_avx512(const float* vt, const float* p0, const float* p1, int64_t nt,
                                                  int64_t DV, int64_t d0, float* out0, float* out1) {
  __m512 a0[NC], a1[NC];
  for (int j = 0; j < NC; ++j) {
    a0[j] = _mm512_loadu_ps(out0 + d0 + 16 * j);
    a1[j] = _mm512_loadu_ps(out1 + d0 + 16 * j);
  }
  for (int64_t t = 0; t < nt; ++t) {
    const __m512 w0 = _mm512_set1_ps(p0[t]), w1 = _mm512_set1_ps(p1[t]);
    const float* vr = vt + t * DV + d0;
    for (int j = 0; j < NC; ++j) {
      const __m512 vv = _mm512_loadu_ps(vr + 16 * j);
      a0[j] = _mm512_fmadd_ps(vv, w0, a0[j]);
      a1[j] = _mm512_fmadd_ps(vv, w1, a1[j]);
    }
  }
  for (int j = 0; j < NC; ++j) {
    _mm512_storeu_ps(out0 + d0 + 16 * j, a0[j]);
    _mm512_storeu_ps(out1 + d0 + 16 * j, a1[j]);
  }
}
// DV % 16 == 0.
CK_TARGET_AVX512 void v_accum2_avx512(const float* vt, const float* p0, const float* p1, int64_t nt, int64_t DV,
                                      float* out0, float* out1) {
  int64_t d0 = 0;
  for (; d0 + 64 <= DV; d0 += 64) v_accum2_cols_avx512<4>(vt, p0, p1, nt, DV, d0, out0, out1);
  for (; d0 < DV; d0 += 16) v_accum2_cols_avx512<1>(vt, p0, p1, nt, DV, d0, out0, out1);
}

// Four query rows at once (16 independent accumulator chains: the two 512-bit FMA pipes of Zen 5 need >= 8 in
// flight, and each K / V load feeds 4 FMAs). Per lane the same fmaf chains as kq_tile_avx2 / v_accum_avx2.
CK_TARGET_AVX512 void kq_tile4_avx512(const float* kt, const float* const pq[4], int64_t DK, float* const kq[4]) {
  __m512 a[4][kTile / 16];
  for (int r = 0; r < 4; ++r)
    for (int j = 0; j < kTile / 16; ++j) a[r][j] = _mm512_setzero_ps();
  for (int64_t d = 0; d < DK; ++d) {
    __m512 qd[4];
    for (int r = 0; r < 4; ++r) qd[r] = _mm512_set1_ps(pq[r][d]);
    for (int j = 0; j < kTile / 16; ++j) {
      const __m512 kv = _mm512_loadu_ps(kt + d * kTile + 16 * j);
      for (int r = 0; r < 4; ++r) a[r][j] = _mm512_fmadd_ps(kv, qd[r], a[r][j]);
    }
  }
  for (int r = 0; r < 4; ++r)
    for (int j = 0; j < kTile / 16; ++j) _mm512_storeu_ps(kq[r] + 16 * j, a[r][j]);
}
// out_r[d] = fmaf(vt[t][d], p_r[t], out_r[d]) for t = 0..nt-1 in order, rows r < 4, NC*16 columns from d0.
template <int NC>
CK_TARGET_AVX512 inline void v_accum4_cols_avx512(const float* vt, const float* const p[4], int64_t nt, int64_t DV,
                                                  int64_t d0, float* const out[4]) {
  __m512 a[4][NC];
  for (int r = 0; r < 4; ++r)
    for (int j = 0; j < NC; ++j) a[r][j] = _mm512_loadu_ps(out[r] + d0 + 16 * j);
  for (int64_t t = 0; t < nt; ++t) {
    __m512 w[4];
    for (int r = 0; r < 4; ++r) w[r] = _mm512_set1_ps(p[r][t]);
    const float* vr = vt + t * DV + d0;
    for (int j = 0; j < NC; ++j) {
      const __m512 vv = _mm512_loadu_ps(vr + 16 * j);
      for (int r = 0; r < 4; ++r) a[r][j] = _mm512_fmadd_ps(vv, w[r], a[r][j]);
    }
  }
  for (int r = 0; r < 4; ++r)
    for (int j = 0; j < NC; ++j) _mm512_storeu_ps(out[r] + d0 + 16 * j, a[r][j]);
}
// DV % 16 == 0.
CK_TARGET_AVX512 void v_accum4_avx512(const float* vt, const float* const p[4], int64_t nt, int64_t DV,
                                      float* const out[4]) {
  int64_t d0 = 0;
  for (; d0 + 64 <= DV; d0 += 64) v_accum4_cols_avx512<4>(vt, p, nt, DV, d0, out);
  for (; d0 < DV; d0 += 16) v_accum4_cols_avx512<1>(vt, p, nt, DV, d0, out);
}

enum class TiledSimd { scalar, avx2, avx512_pairs };

// m32[t] = 1.0f * fp16(mask[t]) for t < nt, -inf past the end; returns whether any key t < nt is not -inf.
// Upstream converts with GGML_CPU_FP16_TO_FP32 (F16C _cvtsh_ss in the AVX2 build); the software conversion
// equals it on every non-NaN value. No mask: all zero, active.
inline bool mask_tile_scalar(const uint16_t* mp, int64_t nt, float* m32) {
  bool any = !mp;
  for (int64_t t = 0; t < kTile; ++t) {
    m32[t] = t < nt ? (mp ? 1.0f * fp16_to_fp32(mp[t]) : 0.0f) : -INFINITY;
    any = any || (t < nt && m32[t] != -INFINITY);
  }
  return any;
}
CK_TARGET_AVX2 inline bool mask_tile_avx2(const uint16_t* mp, int64_t nt, float* m32) {
  if (!mp || nt < kTile) return mask_tile_scalar(mp, nt, m32);
  const __m256 one = _mm256_set1_ps(1.0f), ninf = _mm256_set1_ps(-INFINITY);
  __m256 live = _mm256_setzero_ps();
  for (int64_t t = 0; t < kTile; t += 8) {
    const __m256 m = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(mp + t))), one);
    _mm256_storeu_ps(m32 + t, m);
    live = _mm256_or_ps(live, _mm256_cmp_ps(m, ninf, _CMP_NEQ_UQ));
  }
  return _mm256_movemask_ps(live) != 0;
}

// F32 copies of one kv head's K and V for the tiled kernel: K transposed per tile of 64 keys ([tile][d][t], zero
// past the end of the last tile), V as [key][d]. Filled tile by tile on first use (the conversion is exact, so who
// converts and when does not matter); a block of query rows of a head and the following blocks of the same kv
// head (GQA heads, the next 64 rows) reuse them. Scoped to one flash_attn_ext call (K/V memory changes between
// calls). Past kMaxCached floats the block converts into a one-tile buffer instead (no caching).
struct KvF32 {
  static constexpr int64_t kMaxCached = int64_t(4) << 20;  // floats (16 MB) for K + V of one head
  std::vector<float> kt, vt, krow;
  std::vector<uint8_t> done;
  int64_t g = -1;
  bool cache = false;
  void reset(const FlashAttnShape& s, int64_t head) {
    const int64_t ntiles = (s.KV + kTile - 1) / kTile;
    cache = ntiles * kTile * (s.DK + s.DV) <= kMaxCached;
    const int64_t nt = cache ? ntiles : 1;
    if (kt.size() < size_t(nt * kTile * s.DK)) kt.resize(size_t(nt * kTile * s.DK));
    if (vt.size() < size_t(nt * kTile * s.DV)) vt.resize(size_t(nt * kTile * s.DV));
    if (krow.size() < size_t(s.DK)) krow.resize(size_t(s.DK));
    done.assign(size_t(nt), 0);
    g = head;
  }
  // K^T and V of tile ic / kTile, converted if needed.
  template <CvtRow cvt>
  __attribute__((always_inline)) inline void tile(const FlashAttnShape& s, const uint16_t* k, const uint16_t* v,
                                                  int64_t ic, int64_t nt, const float** pk, const float** pv) {
    const int64_t ti = cache ? ic / kTile : 0, DK = s.DK, DV = s.DV;
    float* ktt = kt.data() + ti * kTile * DK;
    float* vtt = vt.data() + ti * kTile * DV;
    if (!cache || !done[size_t(ti)]) {
      for (int64_t t = 0; t < nt; ++t) {
        cvt(k + (ic + t) * s.k_sj + g * s.k_sg, krow.data(), DK);
        for (int64_t d = 0; d < DK; ++d) ktt[d * kTile + t] = krow[d];
      }
      for (int64_t t = nt; t < kTile; ++t)
        for (int64_t d = 0; d < DK; ++d) ktt[d * kTile + t] = 0.0f;
      for (int64_t t = 0; t < nt; ++t) cvt(v + (ic + t) * s.v_sj + g * s.v_sg, vtt + t * DV, DV);
      if (cache) done[size_t(ti)] = 1;
    }
    *pk = ktt;
    *pv = vtt;
  }
};

// The tiled kernel for query rows i in [i0, i1) (at most kTile) of head h. Each K/V tile is converted to F32 once
// and shared by all rows of the block (conversion is exact, so it does not matter who converts); every row then
// runs exactly the per-row arithmetic described at the top, in the same order as a single row would. With
// avx512_pairs, rows go four (then two) at a time through the score and V loops (each row's lanes unchanged).
template <CvtRow cvt, TiledSimd simd>
__attribute__((always_inline)) inline void tiled_block(const FlashAttnShape& s, const float* q, const uint16_t* k,
                                                       const uint16_t* v, const uint16_t* mask, int64_t h, int64_t i0,
                                                       int64_t i1, float* out0, int64_t out_stride, KvF32& kv) {
  constexpr bool vec = simd != TiledSimd::scalar;
  constexpr int64_t step = simd == TiledSimd::avx512_pairs ? 4 : 1;
  const int64_t DK = s.DK, DV = s.DV, g = h / (s.H / s.Hk), nb = i1 - i0;
  if (kv.g != g) kv.reset(s, g);
  float M[kTile], S[kTile], kq[step][kTile], m32[step][kTile];
  for (int64_t b = 0; b < nb; ++b) {
    M[b] = -INFINITY;
    S[b] = 0.0f;
    float* out = out0 + b * out_stride;
    for (int64_t d = 0; d < DV; ++d) out[d] = 0.0f;
  }
  for (int64_t ic = 0; ic < s.KV; ic += kTile) {
    const int64_t nt = s.KV - ic < kTile ? s.KV - ic : kTile;
    const float* kt = nullptr;  // this tile's K^T / V in F32, fetched when a row first needs them
    const float* vt = nullptr;
    for (int64_t b0 = 0; b0 < nb; b0 += step) {
      const int64_t nr = nb - b0 < step ? nb - b0 : step;
      bool active[step] = {};
      const float* pq[step] = {};
      const uint16_t* mp[step] = {};
      bool any = false;
      for (int64_t r = 0; r < nr; ++r) {
        const int64_t i = i0 + b0 + r;
        pq[r] = q + i * s.q_si + h * s.q_sh;
        mp[r] = mask ? mask + i * s.mask_si : nullptr;
        // a fully masked tile leaves the row unchanged (upstream skips or zeroes it)
        if constexpr (vec) active[r] = mask_tile_avx2(mp[r] ? mp[r] + ic : nullptr, nt, m32[r]);
        else active[r] = mask_tile_scalar(mp[r] ? mp[r] + ic : nullptr, nt, m32[r]);
        any = any || active[r];
      }
      if (!any) continue;
      if (!kt) kv.tile<cvt>(s, k, v, ic, nt, &kt, &vt);
      // Active rows of this group, in order; with avx512_pairs they go through the score and V loops four,
      // then two at a time (grouping never changes a row's arithmetic).
      int64_t act[step], na = 0;
      for (int64_t r = 0; r < nr; ++r)
        if (active[r]) act[na++] = r;
      // scores
      {
        int64_t a = 0;
        if constexpr (simd == TiledSimd::avx512_pairs) {
          for (; a + 4 <= na; a += 4) {
            const float* const q4[4] = {pq[act[a]], pq[act[a + 1]], pq[act[a + 2]], pq[act[a + 3]]};
            float* const k4[4] = {kq[act[a]], kq[act[a + 1]], kq[act[a + 2]], kq[act[a + 3]]};
            kq_tile4_avx512(kt, q4, DK, k4);
          }
          for (; a + 2 <= na; a += 2) kq_tile2_avx512(kt, pq[act[a]], pq[act[a + 1]], DK, kq[act[a]], kq[act[a + 1]]);
        }
        for (; a < na; ++a) {
          const int64_t r = act[a];
          if constexpr (vec) {
            kq_tile_avx2(kt, pq[r], DK, kq[r]);
          } else {
            for (int64_t t = 0; t < kTile; ++t) kq[r][t] = 0.0f;
            for (int64_t d = 0; d < DK; ++d)
              for (int64_t t = 0; t < kTile; ++t) kq[r][t] = std::fmaf(kt[d * kTile + t], pq[r][d], kq[r][t]);
          }
        }
      }
      // online softmax per row; kq[r] becomes the probabilities p
      for (int64_t r = 0; r < nr; ++r) {
        if (!active[r]) continue;
        const int64_t b = b0 + r;
        float* out = out0 + b * out_stride;
        float tmax = -INFINITY;
        if constexpr (vec) {
          tmax = score_tile_avx2(kq[r], s.scale, nt, mp[r] ? m32[r] : nullptr);
        } else {
          for (int64_t t = 0; t < kTile; ++t) kq[r][t] = kq[r][t] * s.scale;
          for (int64_t t = nt; t < kTile; ++t) kq[r][t] = -INFINITY;
          if (mp[r])
            for (int64_t t = 0; t < kTile; ++t) kq[r][t] = kq[r][t] + m32[r][t];
          for (int64_t t = 0; t < kTile; ++t) tmax = tmax > kq[r][t] ? tmax : kq[r][t];
        }
        if (tmax == -INFINITY) {
          active[r] = false;
          continue;
        }
        const float Mnew = fmaxf(M[b], tmax);
        if (Mnew > M[b]) {
          const float ms = expf(M[b] - Mnew);
          for (int64_t d = 0; d < DV; ++d) out[d] *= ms;
          S[b] *= ms;
        }
        M[b] = Mnew;
        double sum = 0;
        if constexpr (vec) {  // the same instructions as upstream's ggml_v_expf (AVX2) + hsum: no lane emulation
          sum = exp_tile_avx2(kq[r], Mnew);
        } else {
          for (int64_t t = 0; t < kTile; t += 8) {
            float p[8];
            for (int z = 0; z < 8; ++z) p[z] = kq[r][t + z] = detail::v_expf_lane(kq[r][t + z] - Mnew);
            sum += static_cast<double>(detail::hsum8_pairs02(p));
          }
        }
        S[b] = static_cast<float>(static_cast<double>(S[b]) + sum);
      }
      // O += V p. Keys past the end have p = 0: fmaf(V, 0, O) = O for finite V, so they are left out.
      na = 0;
      for (int64_t r = 0; r < nr; ++r)
        if (active[r]) act[na++] = r;
      {
        int64_t a = 0;
        if constexpr (simd == TiledSimd::avx512_pairs) {
          for (; a + 4 <= na; a += 4) {
            const float* const p4[4] = {kq[act[a]], kq[act[a + 1]], kq[act[a + 2]], kq[act[a + 3]]};
            float* const o4[4] = {out0 + (b0 + act[a]) * out_stride, out0 + (b0 + act[a + 1]) * out_stride,
                                  out0 + (b0 + act[a + 2]) * out_stride, out0 + (b0 + act[a + 3]) * out_stride};
            v_accum4_avx512(vt, p4, nt, DV, o4);
          }
          for (; a + 2 <= na; a += 2)
            v_accum2_avx512(vt, kq[act[a]], kq[act[a + 1]], nt, DV, out0 + (b0 + act[a]) * out_stride,
                            out0 + (b0 + act[a + 1]) * out_stride);
        }
        for (; a < na; ++a) {
          const int64_t r = act[a];
          float* out = out0 + (b0 + r) * out_stride;
          if constexpr (vec) {
            v_accum_avx2(vt, kq[r], nt, DV, out);
          } else {
            for (int64_t t = 0; t < nt; ++t)
              for (int64_t d = 0; d < DV; ++d) out[d] = std::fmaf(vt[t * DV + d], kq[r][t], out[d]);
          }
        }
      }
    }
  }
  for (int64_t b = 0; b < nb; ++b) {
    float* out = out0 + b * out_stride;
    const float S_inv = S[b] == 0.0f ? 0.0f : 1.0f / S[b];
    for (int64_t d = 0; d < DV; ++d) out[d] *= S_inv;
  }
}

}  // namespace

void flash_attn_row_one_chunk_scalar(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                                     const uint16_t* mask, int64_t i, int64_t h, float* out) {
  one_chunk_row<HalfSoft>(s, q, k, v, mask, i, h, dot_f16_scalar, out);
}
CK_TARGET_AVX2 void flash_attn_row_one_chunk_avx2(const FlashAttnShape& s, const float* q, const uint16_t* k,
                                                  const uint16_t* v, const uint16_t* mask, int64_t i, int64_t h,
                                                  float* out) {
  one_chunk_row<HalfF16C>(s, q, k, v, mask, i, h, dot_f16_avx2, out);
}
namespace {

// The tiled kernel's three builds, with the caller's K/V cache (internal; the public functions below use their own).
void block_tiled_scalar(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                        const uint16_t* mask, int64_t h, int64_t i0, int64_t i1, float* out, KvF32& kv) {
  tiled_block<fp16_to_fp32_row_scalar, TiledSimd::scalar>(s, q, k, v, mask, h, i0, i1, out + (i0 * s.H + h) * s.DV,
                                                          s.H * s.DV, kv);
}
CK_TARGET_AVX2 void block_tiled_avx2(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                                     const uint16_t* mask, int64_t h, int64_t i0, int64_t i1, float* out, KvF32& kv) {
  tiled_block<fp16_to_fp32_row_avx2, TiledSimd::avx2>(s, q, k, v, mask, h, i0, i1, out + (i0 * s.H + h) * s.DV,
                                                      s.H * s.DV, kv);
}
CK_TARGET_AVX512 void block_tiled_avx512(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                                         const uint16_t* mask, int64_t h, int64_t i0, int64_t i1, float* out,
                                         KvF32& kv) {
  tiled_block<fp16_to_fp32_row_avx2, TiledSimd::avx512_pairs>(s, q, k, v, mask, h, i0, i1,
                                                              out + (i0 * s.H + h) * s.DV, s.H * s.DV, kv);
}

}  // namespace

void flash_attn_row_tiled_scalar(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                                 const uint16_t* mask, int64_t i, int64_t h, float* out) {
  KvF32 kv;
  tiled_block<fp16_to_fp32_row_scalar, TiledSimd::scalar>(s, q, k, v, mask, h, i, i + 1, out, 0, kv);
}
CK_TARGET_AVX2 void flash_attn_row_tiled_avx2(const FlashAttnShape& s, const float* q, const uint16_t* k,
                                              const uint16_t* v, const uint16_t* mask, int64_t i, int64_t h,
                                              float* out) {
  KvF32 kv;
  tiled_block<fp16_to_fp32_row_avx2, TiledSimd::avx2>(s, q, k, v, mask, h, i, i + 1, out, 0, kv);
}
void flash_attn_block_tiled_scalar(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                                   const uint16_t* mask, int64_t h, int64_t i0, int64_t i1, float* out) {
  KvF32 kv;
  block_tiled_scalar(s, q, k, v, mask, h, i0, i1, out, kv);
}
void flash_attn_block_tiled_avx2(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                                 const uint16_t* mask, int64_t h, int64_t i0, int64_t i1, float* out) {
  KvF32 kv;
  block_tiled_avx2(s, q, k, v, mask, h, i0, i1, out, kv);
}
void flash_attn_block_tiled_avx512(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                                   const uint16_t* mask, int64_t h, int64_t i0, int64_t i1, float* out) {
  KvF32 kv;
  block_tiled_avx512(s, q, k, v, mask, h, i0, i1, out, kv);
}
void flash_attn_row_split_kv_scalar(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                                    const uint16_t* mask, int64_t i, int64_t h, int kv_chunks, float* out) {
  split_kv_row<HalfSoft>(s, q, k, v, mask, i, h, kv_chunks, dot_f16_scalar, out);
}
CK_TARGET_AVX2 void flash_attn_row_split_kv_avx2(const FlashAttnShape& s, const float* q, const uint16_t* k,
                                                 const uint16_t* v, const uint16_t* mask, int64_t i, int64_t h,
                                                 int kv_chunks, float* out) {
  split_kv_row<HalfF16C>(s, q, k, v, mask, i, h, kv_chunks, dot_f16_avx2, out);
}

void flash_attn_ext(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                    const uint16_t* mask, float* out, int kv_chunks, int ith, int nth) {
  const FlashAttnPath path = flash_attn_path(s);
  const bool simd = active_isa() >= Isa::avx2;
  const bool pairs = active_isa() >= Isa::avx512 && s.DV % 16 == 0;
  if (path == FlashAttnPath::tiled) {
    // Work items head-major (h * N + i): a thread's range is cut into blocks of up to kTile rows of one head,
    // which share the converted K/V tiles. Who computes a row never changes how it is computed.
    // Consecutive blocks of the same kv head (the next rows, GQA heads) share the F32 copy of its K/V.
    const auto [r0, r1] = split_range(static_cast<size_t>(s.N * s.H), ith, nth);
    thread_local KvF32 kv;
    kv.g = -1;  // K/V memory may have changed since the last call
    for (int64_t r = static_cast<int64_t>(r0); r < static_cast<int64_t>(r1);) {
      const int64_t h = r / s.N, i0 = r % s.N;
      int64_t i1 = i0 + kTile < s.N ? i0 + kTile : s.N;
      if (i1 - i0 > static_cast<int64_t>(r1) - r) i1 = i0 + (static_cast<int64_t>(r1) - r);
      if (pairs) block_tiled_avx512(s, q, k, v, mask, h, i0, i1, out, kv);
      else if (simd) block_tiled_avx2(s, q, k, v, mask, h, i0, i1, out, kv);
      else block_tiled_scalar(s, q, k, v, mask, h, i0, i1, out, kv);
      r += i1 - i0;
    }
    return;
  }
  const auto [r0, r1] = split_range(static_cast<size_t>(s.N * s.H), ith, nth);
  for (size_t r = r0; r < r1; ++r) {
    const int64_t i = static_cast<int64_t>(r) / s.H, h = static_cast<int64_t>(r) % s.H;
    float* o = out + (i * s.H + h) * s.DV;
    switch (path) {
      case FlashAttnPath::split_kv:
        if (simd) flash_attn_row_split_kv_avx2(s, q, k, v, mask, i, h, kv_chunks, o);
        else flash_attn_row_split_kv_scalar(s, q, k, v, mask, i, h, kv_chunks, o);
        break;
      case FlashAttnPath::one_chunk:
        if (simd) flash_attn_row_one_chunk_avx2(s, q, k, v, mask, i, h, o);
        else flash_attn_row_one_chunk_scalar(s, q, k, v, mask, i, h, o);
        break;
      case FlashAttnPath::tiled: break;
    }
  }
}

}  // namespace ck::kernels
