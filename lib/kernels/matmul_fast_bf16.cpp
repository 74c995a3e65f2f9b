// Fast mat-mul (`mul_mat.{f32,f16,bf16}.f32.fast`): bf16 products with AVX512-BF16 vdpbf16ps, f32 accumulation.
// Not bit-exact with ggml; tolerance-tested against the strict kernel (tests/unit/kernels_fast_test.cpp).
//
// Arithmetic, per output C[j][i] = sum_l A[i][l] * X[j][l]:
//   - X (F32 activations) rounded to bf16, round-to-nearest-even (vcvtneps2bf16), while B is packed (once per
//     call, shared by the threads);
//   - A rounded to bf16 the same way (F32, F16 weights; BF16 weights as stored), either once for the whole
//     matrix (matmul_fast_bf16_pack_a: lib/runtime packs fast mode's F32/F16 weights at load, docs/KERNELS.md)
//     or, in matmul_fast_bf16, per L2-sized chunk of rows by the thread that uses it (no second copy of the
//     weight; the conversion costs m*k per call against the m*n*k products). Both give the same bits;
//   - products of two bf16 are exact in f32; vdpbf16ps adds two of them per f32 lane per instruction, each
//     addition rounded (RNE). 8 lanes per output (one zmm = [output (i, j) | output (i, j+1)]), each lane summing
//     k/8 products in order, then an 8-lane tree. (Cutting k into L1-sized blocks, the block sums added into C,
//     measured 4-13 % slower on the 2B text shapes at n = 272 and n = 12: ck-bench-fast, 2026-12-07.)
//
// Error bound (u = 2^-8, the unit roundoff of bf16's 8-bit significand; n = ceil(k/8) + 3 the longest chain of f32 roundings;
// gamma_n = n 2^-24 / (1 - n 2^-24)), S = sum_l |A_il| |X_jl| with A, X as given (before rounding):
//     |C_fast - C_exact| <= (2u + u^2 + gamma_n (1 + u)^2) S + T           (F32 / F16 weights)
//     |C_fast - C_exact| <= (u + gamma_n (1 + u)) S + T                    (BF16 weights)
// <= 7.9e-3 S (3.96e-3 S for BF16) for the model widths (k <= 6144: gamma_n <= 4.6e-5). T covers the
// instruction's DAZ/FTZ (it treats denormal inputs as zero and flushes denormal results; so does the
// conversions): T = 2^-126 (k + sum_l |A_il| + sum_l |X_jl|) — a flushed step result loses less than 2^-126, a
// flushed operand (|A_il| or |X_jl| < 2^-126) less than 2^-126 times the other one. matmul_fast_bf16_rel_bound() returns the factor of S. Special values: a NaN in a used operand
// gives NaN; +-inf activations give the same infinity or NaN as the exact sum (bf16 keeps inf; an F32 weight
// beyond the bf16 range, > 3.3895e38, becomes inf; an inf times a denormal, read as zero, gives NaN). Unlike the strict F16 mat-mul, activations above 65504 do
// not overflow (strict rounds them to the F16 inf first).
#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/isa.h"
#include "kernels/matmul_fast.h"

namespace ck::kernels {

namespace {

constexpr int kRM = 4;          // weight rows per register tile
constexpr int kRNP = 6;         // column pairs per tile: 4 x 6 zmm accumulators + 4 A + 1 B
constexpr int kRN = 2 * kRNP;   // columns per tile
constexpr int kStep = 16;       // k elements per step (8 lanes x 2 words)
constexpr int64_t kChunkBytes = 256 << 10;  // packed A rows per chunk (stays in L2 across all column tiles)

inline int64_t steps_of(int64_t k) { return (k + kStep - 1) / kStep; }
inline int64_t tiles_of(int64_t n) { return (n + kRN - 1) / kRN; }
// words of one column tile: steps x pairs x [col 2p | col 2p+1] x 16
inline size_t tile_words(int64_t k) { return size_t(steps_of(k)) * kRNP * 2 * kStep; }

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// 16 F32 -> 16 bf16 (RNE), with the first `valid` elements read (the rest zero).
CK_TARGET_AVX512_BF16 inline __m256i bf16_of_f32(const float* src, int valid) {
  const __m512 v = valid >= 16 ? _mm512_loadu_ps(src) : _mm512_maskz_loadu_ps(__mmask16((1u << valid) - 1), src);
  return (__m256i)_mm512_cvtneps_pbh(v);
}
CK_TARGET_AVX512_BF16 inline __m256i bf16_of_f16(const uint16_t* src, int valid) {
  const __m256i h = valid >= 16 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src))
                                : _mm256_maskz_loadu_epi16(__mmask16((1u << valid) - 1), src);
  return (__m256i)_mm512_cvtneps_pbh(_mm512_cvtph_ps(h));
}
CK_TARGET_AVX512_BF16 inline __m256i bf16_of_bf16(const uint16_t* src, int valid) {
  return valid >= 16 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src))
                     : _mm256_maskz_loadu_epi16(__mmask16((1u << valid) - 1), src);
}

CK_TARGET_AVX512_BF16 inline __m256i bf16_row_step(FastWeight wt, const void* row, int64_t l, int valid) {
  switch (wt) {
    case FastWeight::f32: return bf16_of_f32(static_cast<const float*>(row) + l, valid);
    case FastWeight::f16: return bf16_of_f16(static_cast<const uint16_t*>(row) + l, valid);
    default: return bf16_of_bf16(static_cast<const uint16_t*>(row) + l, valid);
  }
}

// Rows [r0, r0 + rows) of A, steps [s0, s0 + ns), packed as row tiles of kRM: tile t, step s, row i at
// d[((t * ns + s) * kRM + i) * 16]; rows past m and elements past k are zero. With s0 = 0, ns = steps_of(k) over
// all rows this is the whole-matrix layout of matmul_fast_bf16_pack_a (tile t at t * steps * kRM * 16).
CK_TARGET_AVX512_BF16 void pack_a(FastWeight wt, const void* A, int64_t lda, int64_t m, int64_t r0, int64_t rows,
                                  int64_t k, int64_t s0, int64_t ns, uint16_t* d) {
  const size_t esz = wt == FastWeight::f32 ? 4 : 2;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = r / kRM, i = r % kRM;
    uint16_t* out = d + (t * ns * kRM + i) * kStep;
    if (r0 + r >= m) {
      for (int64_t s = 0; s < ns; ++s) std::memset(out + s * kRM * kStep, 0, kStep * 2);
      continue;
    }
    const void* row = static_cast<const uint8_t*>(A) + size_t(r0 + r) * size_t(lda) * esz;
    for (int64_t s = 0; s < ns; ++s) {
      const int64_t l = (s0 + s) * kStep;
      const int valid = int(std::min<int64_t>(kStep, k - l));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + s * kRM * kStep), bf16_row_step(wt, row, l, valid));
    }
  }
}

// One kRM x (2 * RNP) output tile over all steps. Ap: the row tile's packed A; Bp: the column tile's packed B.
template <int RNP>
CK_TARGET_AVX512_BF16 __attribute__((always_inline)) inline void bloc(int64_t steps, const uint16_t* Ap,
                                                                      const uint16_t* Bp, float* C, int64_t ldc,
                                                                      int64_t ii, int rm, int64_t jj, int rn) {
  __m512 Cv[RNP][kRM];
#pragma GCC unroll 8
  for (int p = 0; p < RNP; ++p)
#pragma GCC unroll 8
    for (int i = 0; i < kRM; ++i) Cv[p][i] = _mm512_setzero_ps();
  for (int64_t s = 0; s < steps; ++s) {
    __m512i Av[kRM];
#pragma GCC unroll 8
    for (int i = 0; i < kRM; ++i)
      Av[i] = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(Ap + (s * kRM + i) * kStep)));
    const uint16_t* Bs = Bp + s * kRNP * 2 * kStep;
#pragma GCC unroll 8
    for (int p = 0; p < RNP; ++p) {
      const __m512i Bv = _mm512_loadu_si512(Bs + p * 2 * kStep);
#pragma GCC unroll 8
      for (int i = 0; i < kRM; ++i) Cv[p][i] = _mm512_dpbf16_ps(Cv[p][i], (__m512bh)Av[i], (__m512bh)Bv);
    }
  }
  // 8-lane sums: lanes 0-7 -> column jj + 2p, lanes 8-15 -> jj + 2p + 1; four rows at once per column.
#pragma GCC unroll 8
  for (int p = 0; p < RNP; ++p) {
    __m512 t[kRM];
#pragma GCC unroll 8
    for (int i = 0; i < kRM; ++i) {
      // within each 256-bit half: (a0..a3) + (a4..a7)
      t[i] = _mm512_add_ps(Cv[p][i], _mm512_shuffle_f32x4(Cv[p][i], Cv[p][i], 0xB1));
    }
    // t[i] 128-bit lanes: [c0 4 sums | c0 same | c1 4 sums | c1 same]; combine rows 0..3 with unpack/add
    const __m512 u01 = _mm512_add_ps(_mm512_unpacklo_ps(t[0], t[1]), _mm512_unpackhi_ps(t[0], t[1]));
    const __m512 u23 = _mm512_add_ps(_mm512_unpacklo_ps(t[2], t[3]), _mm512_unpackhi_ps(t[2], t[3]));
    // u01 per 128 lane: [r0 (e0+e2), r1 (e0+e2), r0 (e1+e3), r1 (e1+e3)]
    const __m512 w = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(u01), _mm512_castps_pd(u23))),
                                   _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(u01), _mm512_castps_pd(u23))));
    // w per 128 lane: [r0, r1, r2, r3] totals; 128-lane 0 (and 1) = column 2p, lane 2 (and 3) = column 2p + 1
    alignas(64) float o[16];
    _mm512_store_ps(o, w);
    for (int c = 0; c < 2; ++c) {
      if (2 * p + c >= rn) break;
      float* dst = C + ldc * (jj + 2 * p + c) + ii;
      for (int i = 0; i < rm; ++i) dst[i] = o[8 * c + i];
    }
  }
}

#pragma GCC diagnostic pop

CK_TARGET_AVX512_BF16 void pack_b_impl(int64_t n, int64_t k, const float* X, int64_t ldx, uint16_t* d, int ith,
                                       int nth) {
  const int64_t steps = steps_of(k), nt = tiles_of(n);
  const auto [t0, t1] = split_range(size_t(nt), ith, nth);
  for (int64_t t = int64_t(t0); t < int64_t(t1); ++t)
    for (int c = 0; c < kRN; ++c) {
      const int64_t j = t * kRN + c;
      uint16_t* out = d + size_t(t) * tile_words(k) + size_t((c / 2) * 2 * kStep + (c % 2) * kStep);
      for (int64_t s = 0; s < steps; ++s, out += kRNP * 2 * kStep) {
        __m256i v = _mm256_setzero_si256();
        if (j < n) v = bf16_of_f32(X + j * ldx + s * kStep, int(std::min<int64_t>(kStep, k - s * kStep)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), v);
      }
    }
}

// prepacked: A in matmul_fast_bf16_pack_a's layout (then wt, A, lda are unused), else A is packed here per chunk.
CK_TARGET_AVX512_BF16 void gemm_impl(FastWeight wt, int64_t m, int64_t n, int64_t k, const void* A, int64_t lda,
                                     const uint16_t* prepacked, const uint16_t* packed, float* C, int64_t ldc, int ith,
                                     int nth) {
  const int64_t steps = steps_of(k), nt = tiles_of(n), mt = (m + kRM - 1) / kRM;
  const auto [t0, t1] = split_range(size_t(mt), ith, nth);
  const int64_t chunk = std::max<int64_t>(1, kChunkBytes / (kRM * steps * kStep * 2));
  thread_local std::vector<uint16_t> apack;
  if (!prepacked) apack.resize(size_t(chunk * steps * kRM * kStep));
  for (int64_t c0 = int64_t(t0); c0 < int64_t(t1); c0 += chunk) {
    const int64_t c1 = std::min<int64_t>(int64_t(t1), c0 + chunk);
    const uint16_t* abase = prepacked ? prepacked + size_t(c0 * steps * kRM * kStep) : apack.data();
    if (!prepacked) pack_a(wt, A, lda, m, c0 * kRM, (c1 - c0) * kRM, k, 0, steps, apack.data());
    for (int64_t t = 0; t < nt; ++t) {
      const uint16_t* bp = packed + size_t(t) * tile_words(k);
      const int64_t jj = t * kRN;
      const int rn = int(std::min<int64_t>(kRN, n - jj));
      for (int64_t it = c0; it < c1; ++it) {
        const uint16_t* ap = abase + size_t((it - c0) * steps * kRM * kStep);
        const int64_t ii = it * kRM;
        const int rm = int(std::min<int64_t>(kRM, m - ii));
        if (rn > 8) bloc<kRNP>(steps, ap, bp, C, ldc, ii, rm, jj, rn);
        else if (rn > 6) bloc<4>(steps, ap, bp, C, ldc, ii, rm, jj, rn);
        else if (rn > 2) bloc<3>(steps, ap, bp, C, ldc, ii, rm, jj, rn);
        else bloc<1>(steps, ap, bp, C, ldc, ii, rm, jj, rn);
      }
    }
  }
}

CK_TARGET_AVX512_BF16 void pack_a_impl(FastWeight wt, int64_t m, int64_t k, const void* A, int64_t lda, uint16_t* d,
                                       int ith, int nth) {
  const int64_t steps = steps_of(k), mt = (m + kRM - 1) / kRM;
  const auto [t0, t1] = split_range(size_t(mt), ith, nth);
  if (t1 > t0)
    pack_a(wt, A, lda, m, int64_t(t0) * kRM, int64_t(t1 - t0) * kRM, k, 0, steps,
           d + size_t(int64_t(t0) * steps * kRM * kStep));
}

}  // namespace

bool matmul_fast_bf16_available() {
  static const bool on = active_isa() == Isa::avx512 && use_avx512_bf16();
  return on;
}

size_t matmul_fast_bf16_packed_words(int64_t n, int64_t k) { return size_t(tiles_of(n)) * tile_words(k); }

void matmul_fast_bf16_pack_b(int64_t n, int64_t k, const float* X, int64_t ldx, uint16_t* packed, int ith, int nth) {
  pack_b_impl(n, k, X, ldx, packed, ith, nth);
}

void matmul_fast_bf16(FastWeight wt, int64_t m, int64_t n, int64_t k, const void* A, int64_t lda,
                      const uint16_t* packed, float* C, int64_t ldc, int ith, int nth) {
  gemm_impl(wt, m, n, k, A, lda, nullptr, packed, C, ldc, ith, nth);
}

size_t matmul_fast_bf16_packed_a_words(int64_t m, int64_t k) {
  return size_t((m + kRM - 1) / kRM) * size_t(steps_of(k)) * kRM * kStep;
}

void matmul_fast_bf16_pack_a(FastWeight wt, int64_t m, int64_t k, const void* A, int64_t lda, uint16_t* packed_a,
                             int ith, int nth) {
  pack_a_impl(wt, m, k, A, lda, packed_a, ith, nth);
}

void matmul_fast_bf16_prepacked(int64_t m, int64_t n, int64_t k, const uint16_t* packed_a, const uint16_t* packed,
                                float* C, int64_t ldc, int ith, int nth) {
  gemm_impl(FastWeight::bf16, m, n, k, nullptr, 0, packed_a, packed, C, ldc, ith, nth);
}

double matmul_fast_bf16_rel_bound(int64_t k, FastWeight wt) {
  const double u = std::ldexp(1.0, -8), e = std::ldexp(1.0, -24);
  const double nn = double((k + 7) / 8 + 3);
  const double g = nn * e / (1.0 - nn * e);
  return wt == FastWeight::bf16 ? u + g * (1 + u) : 2 * u + u * u + g * (1 + u) * (1 + u);
}

}  // namespace ck::kernels
