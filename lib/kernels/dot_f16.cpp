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

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/hsum.h"
#include "kernels/isa.h"

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

void matmul_vecdot_f16(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                       int64_t ldb, float* C, int64_t ldc, int ith, int nth) {
  // Split over weight rows (the larger dimension in practice) so each thread streams its own part of A.
  const auto [i0, i1] = split_range(static_cast<size_t>(m), ith, nth);
  const bool simd = active_isa() >= Isa::avx2;
  for (int64_t j = 0; j < n; ++j)
    for (size_t i = i0; i < i1; ++i)
      C[j * ldc + static_cast<int64_t>(i)] =
          simd ? dot_f16_avx2(k, A + i * lda, B + j * ldb) : dot_f16_scalar(k, A + i * lda, B + j * ldb);
}

}  // namespace ck::kernels
