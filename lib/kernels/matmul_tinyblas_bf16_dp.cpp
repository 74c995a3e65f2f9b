// llamafile tinyBLAS BF16 (tinyBLAS<8, __m256, __m256, ggml_bf16_t, ggml_bf16_t, float>, sgemm.cpp b10256, the
// AVX2 build's instantiation) computed with AVX512-BF16 vdpbf16ps, bit-identical to the FMA chain it replaces.
//
// Upstream, per output: Cv = 0 (8 lanes); for l = 0, 8, ...: Cv = fmadd(A[l..l+8), B[l..l+8), Cv); C = hsum(Cv).
// Every step of lane z is round(Cv[z] + A[l+z]*B[l+z]); the product of two bf16 values (8-bit significands) is
// exact in f32, so each step is one RNE addition of an exact product.
//
// vdpbf16ps does, per f32 lane i: acc += a[2i+1]*b[2i+1]; acc += a[2i]*b[2i] — two steps, each rounded (RNE),
// the odd word first, with denormal inputs read as zero and denormal results flushed (DAZ/FTZ). So one lane
// can run two consecutive steps of a tinyBLAS chain if its odd word holds element l+z and its even word
// element l+8+z. One zmm carries the 8 lanes of two outputs (columns j, j+1 of a row), as in the FMA kernel.
//
// That is the same arithmetic only where DAZ/FTZ never act and no product leaves the f32 range:
//   - nonzero elements are normal and the smallest possible product quantum is normal: every nonzero bf16 x is a
//     multiple of 2^(E(x)-134) (E = biased exponent), so every product, and every partial sum (a rounded sum of
//     such multiples stays one), is 0 or at least 2^(Emin_A + Emin_B - 268) >= 2^-126 when
//     Emin_A + Emin_B >= 142;
//   - no inf/NaN (E = 255) and |partial sums| stay below 2^127: Emax_A + Emax_B + bit_width(k) <= 378.
// exact_range() checks this per call for B (while packing it) and per chunk of A rows (before using the chunk);
// a chunk outside it is computed by the FMA kernel. Whether this CPU's vdpbf16ps behaves as described (some
// documentation leaves the rounding of the intermediate sum open) is probed once at first use against the FMA
// chain; on any difference the FMA kernel is used throughout.
#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/hsum.h"
#include "kernels/isa.h"
#include "kernels/matmul_tinyblas.h"

namespace ck::kernels {

namespace {

constexpr int kRM = 4;               // weight rows per register tile
constexpr int kRNP = 6;              // column pairs per tile: 4 x 6 zmm accumulators + 4 A + index + B
constexpr int kRN = 2 * kRNP;        // columns per tile
constexpr int kPairWords = 32;       // one packed B pair per 16-element step: [col j | col j+1], 16 words each
constexpr int64_t kChunkBytes = 256 << 10;  // A rows walked per chunk (stays in L2 across all column tiles)

// Biased exponent range over the nonzero elements of some bf16 data (a denormal has E = 0).
struct ExpRange {
  unsigned min = 0xFFFF, max = 0;
  void merge(ExpRange o) {
    min = std::min(min, o.min);
    max = std::max(max, o.max);
  }
};

bool exact_range(ExpRange a, ExpRange b, int64_t k) {
  if (a.max > 254 || b.max > 254) return false;
  if (a.min + b.min < 142) return false;
  return a.max + b.max + std::bit_width(static_cast<uint64_t>(k)) <= 378;
}

// GCC 12 reports its own undefined-register placeholders inside these intrinsics as maybe-uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// Word q of each 16-word half takes element (q odd ? q/2 : 8 + q/2) of the half's 16 source elements.
struct PairIndex {
  alignas(64) uint16_t w[32];
  constexpr PairIndex() : w{} {
    for (int i = 0; i < 32; ++i) w[i] = static_cast<uint16_t>((i & 1) ? (i & 15) / 2 : 8 + (i & 15) / 2);
  }
};
constexpr PairIndex kPairIndex;
CK_TARGET_AVX512_BF16 inline __m512i pair_index() { return _mm512_load_si512(kPairIndex.w); }

CK_TARGET_AVX512_BF16 inline void scan(__m512i w, __m512i& emin, __m512i& emax) {
  const __m512i mag = _mm512_and_si512(w, _mm512_set1_epi16(0x7FFF));
  const __mmask32 nonzero = _mm512_test_epi16_mask(mag, mag);
  const __m512i e = _mm512_srli_epi16(mag, 7);
  emin = _mm512_mask_min_epu16(emin, nonzero, emin, e);
  emax = _mm512_max_epu16(emax, e);
}

CK_TARGET_AVX512_BF16 inline ExpRange reduce(__m512i emin, __m512i emax) {
  alignas(64) uint16_t lo[32], hi[32];
  _mm512_store_si512(lo, emin);
  _mm512_store_si512(hi, emax);
  ExpRange r;
  for (int w = 0; w < 32; ++w) r.merge({lo[w], hi[w]});
  return r;
}

// Exponent range of rows [r0, r1) of A (k elements each).
CK_TARGET_AVX512_BF16 ExpRange scan_rows(const uint16_t* A, int64_t lda, int64_t r0, int64_t r1, int64_t k) {
  __m512i emin = _mm512_set1_epi16(-1), emax = _mm512_setzero_si512();
  for (int64_t r = r0; r < r1; ++r) {
    const uint16_t* row = A + r * lda;
    int64_t l = 0;
    for (; l + 32 <= k; l += 32) scan(_mm512_loadu_si512(row + l), emin, emax);
    if (l < k) scan(_mm512_maskz_loadu_epi16((__mmask32{1} << (k - l)) - 1, row + l), emin, emax);
  }
  return reduce(emin, emax);
}

// Packs all of B for the tiles: column tile t, 16-element step s, pair p at
// d[((t * steps + s) * kRNP + p) * 32]: [col 2p | col 2p + 1] of the tile, each as pair_index() orders it
// (missing columns and the second half of a final 8-element step are zero). Returns B's exponent range.
CK_TARGET_AVX512_BF16 ExpRange pack_b(int64_t n, int64_t k, const uint16_t* B, int64_t ldb, uint16_t* d) {
  const __m256i idx = _mm512_castsi512_si256(pair_index());
  const int64_t steps = (k + 15) / 16, nt = (n + kRN - 1) / kRN;
  __m512i emin = _mm512_set1_epi16(-1), emax = _mm512_setzero_si512();
  for (int64_t t = 0; t < nt; ++t)
    for (int c = 0; c < kRN; ++c) {
      const int64_t j = t * kRN + c;
      uint16_t* out = d + (t * steps * kRNP + c / 2) * kPairWords + 16 * (c % 2);
      for (int64_t s = 0; s < steps; ++s, out += kRNP * kPairWords) {
        __m256i v = _mm256_setzero_si256();
        if (j < n) {
          const uint16_t* src = B + j * ldb + 16 * s;
          v = 16 * s + 16 <= k ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src))
                               : _mm256_maskz_loadu_epi16(0x00FF, src);
          scan(_mm512_zextsi256_si512(v), emin, emax);  // zero words do not count
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm256_permutexvar_epi16(idx, v));
      }
    }
  return reduce(emin, emax);
}

// One 16-element step (two tinyBLAS steps) of a tile; kHalf: a final 8-element step (zeros in the second slots).
template <int RM, int RNP, bool kHalf>
CK_TARGET_AVX512_BF16 __attribute__((always_inline)) inline void step(__m512 (&Cv)[RNP][RM], __m512i idx,
                                                                      const uint16_t* A, int64_t lda,
                                                                      const uint16_t* Bs) {
  __m512i Av[RM];
#pragma GCC unroll 8
  for (int i = 0; i < RM; ++i) {
    const uint16_t* src = A + lda * i;
    const __m256i v = kHalf ? _mm256_maskz_loadu_epi16(0x00FF, src)
                            : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
    Av[i] = _mm512_permutexvar_epi16(idx, _mm512_castsi256_si512(v));
  }
#pragma GCC unroll 8
  for (int p = 0; p < RNP; ++p) {
    const __m512i Bv = _mm512_loadu_si512(Bs + kPairWords * p);
#pragma GCC unroll 8
    for (int i = 0; i < RM; ++i) Cv[p][i] = _mm512_dpbf16_ps(Cv[p][i], (__m512bh)Av[i], (__m512bh)Bv);
  }
}

// One RM x (2 * RNP) output tile: rows ii.., columns jj.. (rn of them valid). Bp: this column tile's packed B.
template <int RM, int RNP>
CK_TARGET_AVX512_BF16 __attribute__((always_inline)) inline void bloc(int64_t k, const uint16_t* A, int64_t lda,
                                                                      const uint16_t* Bp, float* C, int64_t ldc,
                                                                      int64_t ii, int64_t jj, int rn) {
  const __m512i idx = pair_index();
  __m512 Cv[RNP][RM];
#pragma GCC unroll 8
  for (int p = 0; p < RNP; ++p)
#pragma GCC unroll 8
    for (int i = 0; i < RM; ++i) Cv[p][i] = _mm512_setzero_ps();
  const uint16_t* At = A + lda * ii;
  const int64_t full = k / 16;
  for (int64_t s = 0; s < full; ++s) step<RM, RNP, false>(Cv, idx, At + 16 * s, lda, Bp + s * kRNP * kPairWords);
  if (k % 16 != 0) step<RM, RNP, true>(Cv, idx, At + 16 * full, lda, Bp + full * kRNP * kPairWords);
  for (int p = 0; p < RNP; ++p)
    for (int i = 0; i < RM; ++i) {
      if (2 * p < rn) C[ldc * (jj + 2 * p) + (ii + i)] = detail::hsum8_pairs02(_mm512_castps512_ps256(Cv[p][i]));
      if (2 * p + 1 < rn)
        C[ldc * (jj + 2 * p + 1) + (ii + i)] = detail::hsum8_pairs02(_mm512_extractf32x8_ps(Cv[p][i], 1));
    }
}

// Probe: random chains in the exact range, with accumulators large enough that many additions round (and some
// tie), through vdpbf16ps and through fmaf in tinyBLAS's order.
CK_TARGET_AVX512_BF16 bool probe_matches_fma_chain() {
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  };
  auto to_f32 = [](uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); };
  for (int trial = 0; trial < 512; ++trial) {
    alignas(64) uint16_t a[32], b[32];
    alignas(64) float acc[16], out[16];
    for (int w = 0; w < 32; ++w) {
      a[w] = static_cast<uint16_t>((next() & 0x8000) | ((119 + next() % 16) << 7) | (next() & 0x7F));
      b[w] = static_cast<uint16_t>((next() & 0x8000) | ((119 + next() % 16) << 7) | (next() & 0x7F));
    }
    for (int i = 0; i < 16; ++i) {
      const int mant = static_cast<int>(next() & 0xFFFFFF) - 0x800000;
      acc[i] = std::ldexp(static_cast<float>(mant), -static_cast<int>(next() % 32));
    }
    _mm512_store_ps(out, _mm512_dpbf16_ps(_mm512_load_ps(acc), (__m512bh)_mm512_load_si512(a),
                                          (__m512bh)_mm512_load_si512(b)));
    for (int i = 0; i < 16; ++i) {
      float want = std::fmaf(to_f32(a[2 * i + 1]), to_f32(b[2 * i + 1]), acc[i]);
      want = std::fmaf(to_f32(a[2 * i]), to_f32(b[2 * i]), want);
      if (std::bit_cast<uint32_t>(want) != std::bit_cast<uint32_t>(out[i])) return false;
    }
  }
  return true;
}

#pragma GCC diagnostic pop

bool dp_enabled() {
  static const bool on = use_avx512_bf16() && probe_matches_fma_chain();
  return on;
}

}  // namespace

CK_TARGET_AVX512_BF16 bool matmul_tinyblas_bf16_avx512dp(int64_t m, int64_t n, int64_t k, const uint16_t* A,
                                                         int64_t lda, const uint16_t* B, int64_t ldb, float* C,
                                                         int64_t ldc, int ith, int nth) {
  if (!dp_enabled() || k % 8 != 0) return false;
  // Every thread packs and checks all of B, so all threads take the same decision.
  const int64_t nt = (n + kRN - 1) / kRN, steps = (k + 15) / 16;
  const size_t tile_words = static_cast<size_t>(steps * kRNP * kPairWords);
  thread_local std::vector<uint16_t> packed;
  packed.resize(tile_words * static_cast<size_t>(nt));
  const ExpRange b_range = pack_b(n, k, B, ldb, packed.data());
  if (b_range.max > 254 || b_range.min < 1) return false;

  // Row tiles of kRM split over threads; rows m % kRM go to the last thread (FMA kernel, same arithmetic).
  const int64_t mt = m / kRM;
  const auto [t0, t1] = split_range(static_cast<size_t>(mt), ith, nth);
  const int64_t chunk = std::max<int64_t>(1, kChunkBytes / (kRM * k * 2));
  for (int64_t c0 = int64_t(t0); c0 < int64_t(t1); c0 += chunk) {
    const int64_t c1 = std::min<int64_t>(int64_t(t1), c0 + chunk);
    const int64_t r0 = c0 * kRM, rows = (c1 - c0) * kRM;
    if (!exact_range(scan_rows(A, lda, r0, r0 + rows, k), b_range, k)) {
      matmul_tinyblas_bf16_avx512(rows, n, k, A + r0 * lda, lda, B, ldb, C + r0, ldc, 0, 1);
      continue;
    }
    for (int64_t t = 0; t < nt; ++t) {
      const uint16_t* bp = packed.data() + tile_words * static_cast<size_t>(t);
      const int64_t jj = t * kRN;
      const int rn = static_cast<int>(std::min<int64_t>(kRN, n - jj));
      for (int64_t it = c0; it < c1; ++it) {
        if (rn > 8) bloc<kRM, kRNP>(k, A, lda, bp, C, ldc, it * kRM, jj, rn);
        else if (rn > 6) bloc<kRM, 4>(k, A, lda, bp, C, ldc, it * kRM, jj, rn);
        else if (rn > 2) bloc<kRM, 3>(k, A, lda, bp, C, ldc, it * kRM, jj, rn);
        else bloc<kRM, 1>(k, A, lda, bp, C, ldc, it * kRM, jj, rn);
      }
    }
  }
  if (m % kRM != 0 && ith == nth - 1) {
    const int64_t r0 = mt * kRM;
    matmul_tinyblas_bf16_avx512(m - r0, n, k, A + r0 * lda, lda, B, ldb, C + r0, ldc, 0, 1);
  }
  return true;
}

}  // namespace ck::kernels
