// fp16 dot product.
//
// Mirrors ggml_vec_dot_f16 (ggml/src/ggml-cpu/vec.cpp, b10256), GGML_SIMD branch with the AVX mappings of
// simd-mappings.h (GGML_F16_STEP 32, GGML_F16_EPR 8, ARR 4; loads via _mm256_cvtph_ps, exact):
//   np = n & ~31; four 8-lane accumulators, sum[j] = fma(x[i+8j..], y[i+8j..], sum[j]) for i < np step 32;
//   GGML_F16_VEC_REDUCE: sum0 += sum2; sum1 += sum3; sum0 += sum1; t = lo128 + hi128; hadd; hadd
//     => (t0 + t1) + (t2 + t3), widened to double (ggml_float sumf);
//   leftovers i >= np: sumf += (double)(fp16(x[i]) * fp16(y[i]))  (float product; no contraction across the
//     double add); result (float)sumf.
#include "kernels/dot_f16.h"

#include <immintrin.h>

#include <cmath>
#include <vector>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/convert_fp16.h"
#include "kernels/hsum.h"
#include "kernels/isa.h"
#include "kernels/prefetch.h"

namespace ck::kernels {

float dot_f16_scalar(int64_t n, const uint16_t* x, const uint16_t* y) {
  const int64_t np = n & ~int64_t{31};
  float acc[4][8] = {};
  for (int64_t i = 0; i < np; i += 32)
    for (int j = 0; j < 4; ++j)
      for (int z = 0; z < 8; ++z)
        acc[j][z] = std::fmaf(fp16_to_fp32(x[i + 8 * j + z]), fp16_to_fp32(y[i + 8 * j + z]), acc[j][z]);
  for (int z = 0; z < 8; ++z) {
    acc[0][z] += acc[2][z];
    acc[1][z] += acc[3][z];
  }
  for (int z = 0; z < 8; ++z) acc[0][z] += acc[1][z];
  double sumf = static_cast<double>(detail::hsum8_hadd(acc[0]));
  for (int64_t i = np; i < n; ++i) sumf += static_cast<double>(fp16_to_fp32(x[i]) * fp16_to_fp32(y[i]));
  return static_cast<float>(sumf);
}

CK_TARGET_AVX2 float dot_f16_avx2(int64_t n, const uint16_t* x, const uint16_t* y) {
  const int64_t np = n & ~int64_t{31};
  __m256 sum[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t i = 0; i < np; i += 32) {
    for (int j = 0; j < 4; ++j) {
      const __m256 ax = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i + 8 * j)));
      const __m256 ay = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y + i + 8 * j)));
      sum[j] = _mm256_fmadd_ps(ax, ay, sum[j]);
    }
  }
  sum[0] = _mm256_add_ps(sum[0], sum[2]);
  sum[1] = _mm256_add_ps(sum[1], sum[3]);
  sum[0] = _mm256_add_ps(sum[0], sum[1]);
  double sumf = static_cast<double>(detail::hsum8_hadd(sum[0]));
  for (int64_t i = np; i < n; ++i) sumf += static_cast<double>(fp16_to_fp32(x[i]) * fp16_to_fp32(y[i]));
  return static_cast<float>(sumf);
}

float dot_f16(int64_t n, const uint16_t* x, const uint16_t* y) {
  if (active_isa() >= Isa::avx2) return dot_f16_avx2(n, x, y);
  return dot_f16_scalar(n, x, y);
}

// GCC 12 reports false -W(maybe-)uninitialized positives inside avx512fintrin.h's intrinsics (their "__Y = __Y"
// undefined-vector idiom) when they are inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
namespace {

// A gemv streams its weight rows from L3 / DRAM exactly once. Two layouts:
// - contiguous rows of at least 1 MB (a weight matrix, ldx == n): one row at a time, i.e. one sequential stream,
//   each 64-byte step prefetching the line kStreamAheadBytes further on (prefetch.h; 38.5 GB/s vs 32 for the
//   earlier 4-interleaved-rows form and 34 for ggml's own row loop).
// - strided rows (K rows of a KV cache, ldx > n) and small cache-resident blocks (one head's K rows of an image):
//   R rows side by side sharing the widened activation, each step prefetching the line at the same offset of a
//   row further on; group_rows picks R (k = 2048 -> 4 rows, 4096 -> 2, 6144 -> 1).
// How many rows ahead a strided pass prefetches: the next group, but at least kStridedAheadBytes of row data
// (short rows -- a KV cache's 128-element K rows -- sit one per page-sized stride, where the hardware prefetcher
// does not follow; 4 rows ahead left flash attention's decode scores latency-bound).
constexpr int64_t kStridedAheadBytes = 4096;
inline int64_t strided_ahead_rows(int R, int64_t n) {
  const int64_t r = kStridedAheadBytes / (2 * (n > 0 ? n : 1));
  return r > R ? r : R;
}

inline int group_rows(int64_t k) {
  const int64_t r = 8192 / (k > 0 ? k : 1);
  return r >= 4 ? 4 : r >= 2 ? 2 : 1;
}

// Several weight rows against one activation row already widened to F32 (exact), so each 32-element step
// converts only the weights. Per row the arithmetic is dot_f16_avx2's: four 8-lane accumulators fed in the same
// order, the same REDUCE / hadd / double tail.
template <int R, bool Linear>
CK_TARGET_AVX2 void rows_f16_avx2(int64_t n, const uint16_t* x, int64_t ldx, const float* yf, const uint16_t* y,
                                  float* out) {
  const int64_t np = n & ~int64_t{31};
  __m256 sum[R][4];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 4; ++j) sum[r][j] = _mm256_setzero_ps();
  for (int64_t i = 0; i < np; i += 32) {
    for (int j = 0; j < 4; ++j) {
      const __m256 ay = _mm256_loadu_ps(yf + i + 8 * j);
      for (int r = 0; r < R; ++r) {
        if (j == 0) {
          if (Linear) prefetch_stream_ahead(x + r * ldx + i);
          else _mm_prefetch(reinterpret_cast<const char*>(x + (strided_ahead_rows(R, n) + r) * ldx + i), _MM_HINT_T0);
        }
        const __m256 ax = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + r * ldx + i + 8 * j)));
        sum[r][j] = _mm256_fmadd_ps(ax, ay, sum[r][j]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    __m256 s0 = _mm256_add_ps(sum[r][0], sum[r][2]);
    const __m256 s1 = _mm256_add_ps(sum[r][1], sum[r][3]);
    s0 = _mm256_add_ps(s0, s1);
    double sumf = static_cast<double>(detail::hsum8_hadd(s0));
    const uint16_t* xr = x + r * ldx;
    for (int64_t i = np; i < n; ++i) sumf += static_cast<double>(fp16_to_fp32(xr[i]) * fp16_to_fp32(y[i]));
    out[r] = static_cast<float>(sumf);
  }
}

// AVX-512: 16 consecutive elements of a row are accumulators 0|1 (resp. 2|3) of the 8-lane layout, so one zmm
// FMA per 16 elements does exactly two of dot_f16_avx2's ymm FMAs. REDUCE: (s0|s1) + (s2|s3) lane-wise is
// (s0+s2 | s1+s3), then lo + hi = (s0+s2) + (s1+s3) -- upstream's sum0 += sum2; sum1 += sum3; sum0 += sum1.
template <int R, bool Linear>
CK_TARGET_AVX512 void rows_f16_avx512(int64_t n, const uint16_t* x, int64_t ldx, const float* yf, const uint16_t* y,
                                      float* out) {
  const int64_t np = n & ~int64_t{31};
  __m512 a01[R], a23[R];
  for (int r = 0; r < R; ++r) a01[r] = a23[r] = _mm512_setzero_ps();
  for (int64_t i = 0; i < np; i += 32) {
    const __m512 y01 = _mm512_loadu_ps(yf + i), y23 = _mm512_loadu_ps(yf + i + 16);
    for (int r = 0; r < R; ++r) {
      const uint16_t* xr = x + r * ldx + i;
      if (Linear) prefetch_stream_ahead(xr);
      else _mm_prefetch(reinterpret_cast<const char*>(xr + strided_ahead_rows(R, n) * ldx), _MM_HINT_T0);
      const __m512 x01 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr)));
      const __m512 x23 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xr + 16)));
      a01[r] = _mm512_fmadd_ps(x01, y01, a01[r]);
      a23[r] = _mm512_fmadd_ps(x23, y23, a23[r]);
    }
  }
  for (int r = 0; r < R; ++r) {
    const __m512 s = _mm512_add_ps(a01[r], a23[r]);
    const __m256 s0 = _mm256_add_ps(_mm512_castps512_ps256(s), _mm512_extractf32x8_ps(s, 1));
    double sumf = static_cast<double>(detail::hsum8_hadd(s0));
    const uint16_t* xr = x + r * ldx;
    for (int64_t i = np; i < n; ++i) sumf += static_cast<double>(fp16_to_fp32(xr[i]) * fp16_to_fp32(y[i]));
    out[r] = static_cast<float>(sumf);
  }
}

template <int R, bool W512, bool Linear = false>
void rows_f16(int64_t n, const uint16_t* x, int64_t ldx, const float* yf, const uint16_t* y, float* out) {
  if constexpr (W512) rows_f16_avx512<R, Linear>(n, x, ldx, yf, y, out);
  else rows_f16_avx2<R, Linear>(n, x, ldx, yf, y, out);
}

// Weight rows [i0, i1) against activation row y (widened into yf): R rows per pass, then single rows.
template <int R, bool W512>
void rows_range_f16(int64_t k, const uint16_t* A, int64_t lda, size_t i0, size_t i1, const float* yf,
                    const uint16_t* y, float* C) {
  size_t i = i0;
  for (; i + R <= i1; i += R) rows_f16<R, W512>(k, A + i * lda, lda, yf, y, C + i);
  for (; i < i1; ++i) rows_f16<1, W512>(k, A + i * lda, lda, yf, y, C + i);
}

template <bool W512>
void rows_range_f16(int64_t k, const uint16_t* A, int64_t lda, size_t i0, size_t i1, const float* yf,
                    const uint16_t* y, float* C) {
  if (lda == k && int64_t(i1 - i0) * k * 2 >= (int64_t(1) << 20)) {  // a weight matrix from DRAM: one stream
    for (size_t i = i0; i < i1; ++i) rows_f16<1, W512, true>(k, A + i * lda, lda, yf, y, C + i);
    return;
  }
  switch (group_rows(k)) {
    case 4: rows_range_f16<4, W512>(k, A, lda, i0, i1, yf, y, C); break;
    case 2: rows_range_f16<2, W512>(k, A, lda, i0, i1, yf, y, C); break;
    default: rows_range_f16<1, W512>(k, A, lda, i0, i1, yf, y, C); break;
  }
}

}  // namespace

void dot_f16_rows(int64_t n, const uint16_t* x, int64_t ldx, int64_t nrows, const uint16_t* y, const float* yf,
                  float* out) {
  const Isa isa = active_isa();
  if (isa >= Isa::avx512) rows_range_f16<true>(n, x, ldx, 0, static_cast<size_t>(nrows), yf, y, out);
  else if (isa >= Isa::avx2) rows_range_f16<false>(n, x, ldx, 0, static_cast<size_t>(nrows), yf, y, out);
  else
    for (int64_t r = 0; r < nrows; ++r) out[r] = dot_f16_scalar(n, x + r * ldx, y);
}

void matmul_vecdot_f16(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                       int64_t ldb, float* C, int64_t ldc, int ith, int nth) {
  // Split over weight rows (the larger dimension in practice) so each thread streams its own part of A.
  const auto [i0, i1] = split_range(static_cast<size_t>(m), ith, nth);
  if (active_isa() < Isa::avx2) {
    for (int64_t j = 0; j < n; ++j)
      for (size_t i = i0; i < i1; ++i)
        C[j * ldc + static_cast<int64_t>(i)] = dot_f16_scalar(k, A + i * lda, B + j * ldb);
    return;
  }
  thread_local std::vector<float> yf;
  if (yf.size() < static_cast<size_t>(k)) yf.resize(static_cast<size_t>(k));
  for (int64_t j = 0; j < n; ++j) {
    fp16_to_fp32_row_avx2(B + j * ldb, yf.data(), k);  // exact widening (what _mm256_cvtph_ps(y) gives)
    dot_f16_rows(k, A + i0 * lda, lda, static_cast<int64_t>(i1 - i0), B + j * ldb, yf.data(), C + j * ldc + i0);
  }
}
#pragma GCC diagnostic pop

}  // namespace ck::kernels
