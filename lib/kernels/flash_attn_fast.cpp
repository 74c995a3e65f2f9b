// Fast fused flash attention (`flash_attn_ext.f32.fast`). Not bit-exact with ggml; tolerance-tested against the
// strict kernel and an exact (double) attention (tests/unit/kernels_fast_test.cpp).
//
// Per (head h, block of kR = 4 query rows), keys in blocks of 64 (online softmax, base 2); up to 16 row blocks
// of one head walk the key blocks together (see flash_attn_fast below):
//   - scores in F32: q * (scale * log2 e) (rounded once) times K (F16, exact in F32), FMA over the head dim with
//     16 keys per zmm (K transposed to F32 per kv head, once per thread and head), + mask * log2 e; key blocks
//     whose mask is -inf for all rows of the block are skipped;
//   - p = 2^(s - m) by a degree-6 polynomial (Cephes exp2f, relative error < 2e-7) and scalef; the row sum l in
//     F32 from the unrounded p; O = O * 2^(m_old - m_new) when the max grows;
//   - p rounded to bf16 (RNE), V (F16) rounded to bf16 (RNE) once per kv head, O += p V by vdpbf16ps (two keys
//     per f32 lane and instruction), O in F32; out = O / l (0 where l = 0, as ggml).
//
// Error bound, per output element d of a row, with w_j the exact softmax weights and u = 2^-8 (bf16):
//     |out_fast - out_exact| <= (2u + u^2 + 1e-6 + gamma_KV + 2 delta) * sum_j w_j |V_jd|
// where delta = max_j |s_fast_j - s_exact_j| (natural-log units) <= gamma_(DK+2) * scale * sum_l |q_l| |K_jl|
// (+ the same for a mask value's F32 product with log2 e), gamma_n = n 2^-24 / (1 - n 2^-24): the two bf16
// roundings of each p_j v_j product (2u + u^2), exp2's and the rescalings' relative error (1e-6), the F32
// accumulation of O and l over KV keys (gamma_KV), and a score error delta changing each weight by a factor in
// [e^-2delta, e^2delta] (numerator and denominator). flash_attn_fast_rel() = 2u + u^2 + 1e-6 (gamma_KV is added
// by the caller); flash_attn_fast_score_rel(DK) = gamma_(DK+2). Denormal p or V values are flushed by
// vdpbf16ps (a loss below 2^-126 per product, absorbed in the 1e-6 for |V| >= 2^-100). NaN in q, K, V or the
// mask gives NaN in the rows it reaches (as exact arithmetic) — and a NaN V row also reaches rows whose mask
// hides it inside an unskipped key block (p = 0 times NaN), as in ggml's tiled kernel; rows with every key
// masked are 0.
#include "kernels/flash_attn_fast.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/isa.h"
#include "kernels/matmul_fast.h"

namespace ck::kernels {

namespace {

constexpr int kR = 4;        // query rows per block
constexpr int kKB = 64;      // keys per block (4 zmm of 16)
constexpr int kKG = kKB / 16;
constexpr float kLog2e = 1.44269504088896341f;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// 2^x for x <= 0 (or NaN): Cephes exp2f on the nearest-integer split, x >= -150 clamped (-> 0 after scalef).
CK_TARGET_AVX512_BF16 inline __m512 exp2_neg(__m512 x) {
  x = _mm512_max_ps(_mm512_set1_ps(-150.0f), x);  // NaN in x stays NaN (max returns the second operand)
  const __m512 n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 f = _mm512_sub_ps(x, n);
  __m512 p = _mm512_set1_ps(1.535336188319500e-4f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.339887440266574e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.618437357674640e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550332471162809e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402264791363012e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931472028550421e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);
}

// Per-thread copy of one kv head: K transposed to F32 in groups of 16 keys (kt[(grp * DK + d) * 16 + lane]),
// V as bf16 key pairs (vp[(pair * DVp + d) * 2 + {0, 1}], DVp = DV rounded up to 16), keys past KV zero.
struct KvPack {
  const uint16_t* k = nullptr;  // identity of the packed head (source pointer + shape)
  int64_t KV = -1, DK = 0, DV = 0;
  std::vector<float> kt;
  std::vector<uint16_t> vp;
};

CK_TARGET_AVX512_BF16 void pack_kv(const FlashAttnShape& s, const uint16_t* kg, const uint16_t* vg, KvPack& p) {
  const int64_t nb = (s.KV + kKB - 1) / kKB, keys = nb * kKB, DVp = (s.DV + 15) / 16 * 16;
  p.kt.assign(size_t(keys * s.DK), 0.0f);
  p.vp.assign(size_t(keys * DVp), 0);
  for (int64_t j = 0; j < s.KV; ++j) {
    const uint16_t* kr = kg + j * s.k_sj;
    float* dst = p.kt.data() + (j / 16) * s.DK * 16 + j % 16;
    for (int64_t d = 0; d < s.DK; ++d) dst[d * 16] = _cvtsh_ss(kr[d]);
  }
  for (int64_t j = 0; j < s.KV; ++j) {
    const uint16_t* vr = vg + j * s.v_sj;
    uint16_t* dst = p.vp.data() + (j / 2) * DVp * 2 + (j % 2);
    int64_t d = 0;
    alignas(32) uint16_t b[16];
    for (; d < s.DV; d += 16) {
      const int valid = int(std::min<int64_t>(16, s.DV - d));
      const __m256i h = _mm256_maskz_loadu_epi16(__mmask16((1u << valid) - 1), vr + d);
      _mm256_store_si256(reinterpret_cast<__m256i*>(b), (__m256i)_mm512_cvtneps_pbh(_mm512_cvtph_ps(h)));
      for (int e = 0; e < valid; ++e) dst[(d + e) * 2] = b[e];
    }
  }
}

// O[r][0..DVp) += sum over key pairs jp < npairs of P[r][jp] (2 bf16) . V pair rows, DV chunks of NC zmm.
template <int NC>
CK_TARGET_AVX512_BF16 __attribute__((always_inline)) inline void pv_chunk(const uint32_t (*P)[kKB / 2], int npairs,
                                                                          const uint16_t* vp, int64_t DVp, int64_t c0,
                                                                          float (*O)[256]) {
  __m512 acc[kR][NC];
#pragma GCC unroll 4
  for (int r = 0; r < kR; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) acc[r][c] = _mm512_load_ps(O[r] + c0 + 16 * c);
  for (int jp = 0; jp < npairs; ++jp) {
    __m512i Vv[NC];
    const uint16_t* row = vp + jp * DVp * 2 + c0 * 2;
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) Vv[c] = _mm512_loadu_si512(row + 32 * c);
#pragma GCC unroll 4
    for (int r = 0; r < kR; ++r) {
      const __m512i pb = _mm512_set1_epi32(int(P[r][jp]));
#pragma GCC unroll 4
      for (int c = 0; c < NC; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], (__m512bh)pb, (__m512bh)Vv[c]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < kR; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < NC; ++c) _mm512_store_ps(O[r] + c0 + 16 * c, acc[r][c]);
}

// The running state of one block of up to kR query rows [i0, i0 + nr) of head h.
struct QBlock {
  alignas(64) float qs[kR][256];
  alignas(64) float O[kR][256];
  float M[kR], L[kR];
  bool nan_row[kR];  // a NaN score: the row's softmax is NaN (the max would drop it)
  int64_t h, i0;
  int nr;
};

CK_TARGET_AVX512_BF16 void block_init(const FlashAttnShape& s, const float* q, QBlock& st) {
  const float qscale = s.scale * kLog2e;
  for (int r = 0; r < kR; ++r) {
    st.M[r] = -INFINITY;
    st.L[r] = 0.0f;
    st.nan_row[r] = false;
    std::memset(st.O[r], 0, sizeof(st.O[r]));
    for (int64_t d = 0; d < s.DK; ++d)
      st.qs[r][d] = r < st.nr ? q[(st.i0 + r) * s.q_si + st.h * s.q_sh + d] * qscale : 0.0f;
  }
}

// Key block b (keys [64 b, 64 b + 64)) into the block's state.
CK_TARGET_AVX512_BF16 void block_step(const FlashAttnShape& s, const uint16_t* mask, const KvPack& kv, int64_t b,
                                      QBlock& st) {
  const int64_t DK = s.DK, DVp = (s.DV + 15) / 16 * 16, i0 = st.i0;
  const int nr = st.nr;
  auto& qs = st.qs;
  auto& O = st.O;
  float* M = st.M;
  float* L = st.L;
  alignas(64) uint32_t P[kR][kKB / 2];
  const int64_t j0 = b * kKB;
  const int64_t nk = std::min<int64_t>(kKB, s.KV - j0);
  // mask rows of this block as F32 (times log2 e); skip the block if every used entry is -inf
  alignas(64) float mk[kR][kKB];
  if (mask) {
    bool any = false;
    for (int r = 0; r < kR; ++r) {
      const uint16_t* mr = mask + (i0 + std::min(r, nr - 1)) * s.mask_si + j0;
      for (int g = 0; g < kKG; ++g) {
        const int valid = int(std::clamp<int64_t>(nk - 16 * g, 0, 16));
        const __m256i hv = _mm256_maskz_loadu_epi16(__mmask16((1u << valid) - 1), mr + 16 * g);
        const __m512 f = _mm512_mul_ps(_mm512_cvtph_ps(hv), _mm512_set1_ps(kLog2e));
        _mm512_store_ps(mk[r] + 16 * g, f);
        if (r < nr && valid) any |= _mm512_cmp_ps_mask(f, _mm512_set1_ps(-INFINITY), _CMP_NEQ_UQ) & ((1u << valid) - 1);
      }
    }
    if (!any) return;
  }
  // scores: kR rows x 64 keys
  __m512 S[kR][kKG];
#pragma GCC unroll 4
  for (int r = 0; r < kR; ++r)
#pragma GCC unroll 4
    for (int g = 0; g < kKG; ++g) S[r][g] = _mm512_setzero_ps();
  const float* kt = kv.kt.data() + b * kKG * DK * 16;
  for (int64_t d = 0; d < DK; ++d) {
    __m512 Kv[kKG];
#pragma GCC unroll 4
    for (int g = 0; g < kKG; ++g) Kv[g] = _mm512_loadu_ps(kt + (g * DK + d) * 16);
#pragma GCC unroll 4
    for (int r = 0; r < kR; ++r) {
      const __m512 qv = _mm512_set1_ps(qs[r][d]);
#pragma GCC unroll 4
      for (int g = 0; g < kKG; ++g) S[r][g] = _mm512_fmadd_ps(qv, Kv[g], S[r][g]);
    }
  }
  for (int r = 0; r < kR; ++r) {
    __m512 tmax = _mm512_set1_ps(-INFINITY);
    __mmask16 nan = 0;
    for (int g = 0; g < kKG; ++g) {
      const int valid = int(std::clamp<int64_t>(nk - 16 * g, 0, 16));
      __m512 x = S[r][g];
      if (mask) x = _mm512_add_ps(x, _mm512_load_ps(mk[r] + 16 * g));
      x = _mm512_mask_blend_ps(__mmask16((1u << valid) - 1), _mm512_set1_ps(-INFINITY), x);
      S[r][g] = x;
      nan |= _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
      tmax = _mm512_max_ps(tmax, x);
    }
    if (nan) st.nan_row[r] = true;
    const float bmax = _mm512_reduce_max_ps(tmax);
    const float mnew = std::max(M[r], bmax);
    if (mnew == -INFINITY) {  // nothing unmasked yet in this row
      std::memset(P[r], 0, sizeof(P[r]));
      continue;
    }
    const __m512 mv = _mm512_set1_ps(mnew);
    __m512 sum = _mm512_setzero_ps();
    for (int g = 0; g < kKG; g += 2) {
      const __m512 p0 = exp2_neg(_mm512_sub_ps(S[r][g], mv));
      const __m512 p1 = exp2_neg(_mm512_sub_ps(S[r][g + 1], mv));
      sum = _mm512_add_ps(sum, _mm512_add_ps(p0, p1));
      // bf16 pairs: word 2e = p[key 2e], word 2e+1 = p[key 2e+1] -> keys in order
      _mm512_store_si512(P[r] + 8 * g, (__m512i)_mm512_cvtne2ps_pbh(p1, p0));
    }
    if (mnew > M[r]) {
      const float alpha = M[r] == -INFINITY ? 0.0f : std::exp2(M[r] - mnew);
      if (alpha != 1.0f) {
        const __m512 av = _mm512_set1_ps(alpha);
        for (int64_t d = 0; d < DVp; d += 16) _mm512_store_ps(O[r] + d, _mm512_mul_ps(_mm512_load_ps(O[r] + d), av));
        L[r] *= alpha;
      }
      M[r] = mnew;
    }
    L[r] += _mm512_reduce_add_ps(sum);
  }
  const int npairs = int((nk + 1) / 2);
  int64_t c0 = 0;
  for (; c0 + 64 <= DVp; c0 += 64) pv_chunk<4>(P, npairs, kv.vp.data() + j0 * DVp, DVp, c0, O);
  for (; c0 + 32 <= DVp; c0 += 32) pv_chunk<2>(P, npairs, kv.vp.data() + j0 * DVp, DVp, c0, O);
  for (; c0 < DVp; c0 += 16) pv_chunk<1>(P, npairs, kv.vp.data() + j0 * DVp, DVp, c0, O);
}

CK_TARGET_AVX512_BF16 void block_finish(const FlashAttnShape& s, const QBlock& st, float* out) {
  for (int r = 0; r < st.nr; ++r) {  // a row with every key masked (L = 0) is 0, as ggml's (not 0 * O)
    float* o = out + ((st.i0 + r) * s.H + st.h) * s.DV;
    const float L = st.L[r], inv = L == 0.0f ? 0.0f : 1.0f / L;
    for (int64_t d = 0; d < s.DV; ++d) o[d] = st.nan_row[r] ? NAN : L == 0.0f ? 0.0f : st.O[r][d] * inv;
  }
}

#pragma GCC diagnostic pop

}  // namespace

bool flash_attn_fast_applies(const FlashAttnShape& s) {
  return matmul_fast_bf16_available() && s.N >= kFlashAttnFastMinRows && s.DK <= 256 && s.DV <= 256;
}

CK_TARGET_AVX512_BF16 void flash_attn_fast(const FlashAttnShape& s, const float* q, const uint16_t* k,
                                           const uint16_t* v, const uint16_t* mask, float* out, int ith, int nth) {
  // Items (head, block of kR rows), head-major, split over threads. Up to kGroup consecutive items of one head
  // go through the key blocks together, so each 64-key block of K/V (24 KB at d = 64) is read from L1 by all of
  // them (a whole head's K/V at 4096 keys is 1.5 MB: beyond L2). Every row sees the key blocks in order 0, 1,
  // ...: the grouping and the thread split never change a result.
  constexpr int kGroup = 16;
  const int64_t nqb = (s.N + kR - 1) / kR, nb = (s.KV + kKB - 1) / kKB;
  const auto [r0, r1] = split_range(size_t(s.H * nqb), ith, nth);
  thread_local KvPack kv;
  thread_local std::vector<QBlock> st;
  st.resize(kGroup);
  int64_t packed_g = -1;
  const int64_t group = s.H / s.Hk;
  for (int64_t r = int64_t(r0); r < int64_t(r1);) {
    const int64_t h = r / nqb, g = h / group;
    const int64_t n = std::min<int64_t>({int64_t(kGroup), int64_t(r1) - r, (h + 1) * nqb - r});
    if (g != packed_g) {
      pack_kv(s, k + g * s.k_sg, v + g * s.v_sg, kv);
      packed_g = g;
    }
    for (int64_t e = 0; e < n; ++e) {
      QBlock& b = st[size_t(e)];
      b.h = h;
      b.i0 = ((r + e) % nqb) * kR;
      b.nr = int(std::min<int64_t>(kR, s.N - b.i0));
      block_init(s, q, b);
    }
    for (int64_t kb = 0; kb < nb; ++kb)
      for (int64_t e = 0; e < n; ++e) block_step(s, mask, kv, kb, st[size_t(e)]);
    for (int64_t e = 0; e < n; ++e) block_finish(s, st[size_t(e)], out);
    r += n;
  }
}

double flash_attn_fast_rel() { return 2 * std::ldexp(1.0, -8) + std::ldexp(1.0, -16) + 1e-6; }

double flash_attn_fast_score_rel(int64_t dk) {
  const double n = double(dk + 2), e = std::ldexp(1.0, -24);
  return n * e / (1 - n * e);
}

}  // namespace ck::kernels
