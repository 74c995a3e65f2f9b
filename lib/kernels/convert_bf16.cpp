// fp32 <-> bf16 rows.
//
// Mirrors ggml_cpu_fp32_to_bf16 (ggml-cpu.c, b10256): on x86 without AVX512BF16 it is the scalar
// GGML_FP32_TO_BF16 = ggml_compute_fp32_to_bf16 (ggml-impl.h) per element: NaN -> (bits >> 16) | 64 (quiet), else
// round to nearest even on the top 16 bits: (u + 0x7fff + ((u >> 16) & 1)) >> 16 (no special case for infinity:
// the formula keeps it). The AVX2 variant computes the same integer formula 8 lanes at a time.
// ggml_cpu_bf16_to_fp32: bits << 16 (exact; AVX2 path cvtepu16_epi32 + slli 16). Element-wise, no reduction.
#include "kernels/convert_bf16.h"

#include <immintrin.h>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/isa.h"

namespace ck::kernels {

void fp32_to_bf16_row_scalar(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp32_to_bf16(x[i]);
}

CK_TARGET_AVX2 void fp32_to_bf16_row_avx2(const float* x, uint16_t* y, int64_t n) {
  const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
  const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7fff), quiet = _mm256_set1_epi32(64);
  int64_t i = 0;
  for (; i + 7 < n; i += 8) {
    const __m256i u = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
    const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs_mask), inf);
    const __m256i rounded =
        _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(bias, _mm256_and_si256(_mm256_srli_epi32(u, 16), one))), 16);
    const __m256i nan_val = _mm256_or_si256(_mm256_srli_epi32(u, 16), quiet);
    const __m256i r = _mm256_blendv_epi8(rounded, nan_val, is_nan);
    // pack 8 x u32 (each < 65536) to 8 x u16
    const __m128i lo = _mm256_castsi256_si128(r), hi = _mm256_extracti128_si256(r, 1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm_packus_epi32(lo, hi));
  }
  for (; i < n; ++i) y[i] = fp32_to_bf16(x[i]);
}

void fp32_to_bf16_row(const float* x, uint16_t* y, int64_t n) {
  if (active_isa() >= Isa::avx2) return fp32_to_bf16_row_avx2(x, y, n);
  fp32_to_bf16_row_scalar(x, y, n);
}

void bf16_to_fp32_row_scalar(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = bf16_to_fp32(x[i]);
}

CK_TARGET_AVX2 void bf16_to_fp32_row_avx2(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 7 < n; i += 8) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    _mm256_storeu_ps(y + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
  }
  for (; i < n; ++i) y[i] = bf16_to_fp32(x[i]);
}

void bf16_to_fp32_row(const uint16_t* x, float* y, int64_t n) {
  if (active_isa() >= Isa::avx2) return bf16_to_fp32_row_avx2(x, y, n);
  bf16_to_fp32_row_scalar(x, y, n);
}

void fp32_to_bf16_rows(const float* x, int64_t x_stride, uint16_t* y, int64_t y_stride, int64_t n, int64_t nrows,
                       int ith, int nth) {
  const auto [r0, r1] = split_range(static_cast<size_t>(nrows), ith, nth);
  for (size_t r = r0; r < r1; ++r) fp32_to_bf16_row(x + r * x_stride, y + r * y_stride, n);
}

void bf16_to_fp32_rows(const uint16_t* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n, int64_t nrows,
                       int ith, int nth) {
  const auto [r0, r1] = split_range(static_cast<size_t>(nrows), ith, nth);
  for (size_t r = r0; r < r1; ++r) bf16_to_fp32_row(x + r * x_stride, y + r * y_stride, n);
}

}  // namespace ck::kernels
