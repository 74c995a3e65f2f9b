// f32 and bf16 dot products.
//
// ggml_vec_dot_f32 (ggml/src/ggml-cpu/vec.cpp, b10256), GGML_SIMD with the AVX mappings (EPR 8, STEP 32, ARR 4):
//   float sumf; np = n & ~31; sum[j] = fma(x[i+8j..], y[i+8j..], sum[j]) (GGML_F32_VEC_FMA);
//   GGML_F32_VEC_REDUCE: sum0 += sum2; sum1 += sum3; sum0 += sum1; t = lo + hi; hadd; hadd => (t0+t1)+(t2+t3);
//   leftovers: `sumf += x[i]*y[i]`. The oracle's GCC 12 -O3 vectorizes this loop's epilogue (disassembled from
//   the oracle's libggml-cpu.a): tail t = n - np; 8-element blocks as vmulps then 8 in-order vaddss (product
//   rounded, NOT fused), then one 4-element block likewise if >= 4 remain, and only the last <= 3 elements as
//   vfmadd231ss (fused). The research digest's "tail = fma" holds for those last 3 only (n = 1020 shows it).
// ggml_vec_dot_bf16 (same file), `#elif defined(__AVX2__)` branch: four 8-lane accumulators over 32-element steps,
//   c_j = (x*y) + c_j (separate mul and add, no FMA); c1 = (c1 + c3) + (c2 + c4); hsum (t0+t2)+(t1+t3) as
//   hsum_float_8; double sumf += that; tail: sumf += (double)(bf16(x)*bf16(y)); result (float)sumf.
#include "kernels/dot_f32.h"

#include <immintrin.h>

#include <cmath>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/hsum.h"
#include "kernels/isa.h"

namespace ck::kernels {

namespace {
// The leftovers loop as GCC 12 compiled it upstream (see above).
inline float f32_tail(int64_t n, int64_t np, const float* x, const float* y, float sumf) {
  int64_t i = np;
  for (; i + 8 <= n; i += 8)
    for (int z = 0; z < 8; ++z) sumf = sumf + x[i + z] * y[i + z];
  if (n - i >= 4) {
    for (int z = 0; z < 4; ++z) sumf = sumf + x[i + z] * y[i + z];
    i += 4;
  }
  for (; i < n; ++i) sumf = std::fmaf(x[i], y[i], sumf);
  return sumf;
}
}  // namespace

float dot_f32_scalar(int64_t n, const float* x, const float* y) {
  const int64_t np = n & ~int64_t{31};
  float acc[4][8] = {};
  for (int64_t i = 0; i < np; i += 32)
    for (int j = 0; j < 4; ++j)
      for (int z = 0; z < 8; ++z) acc[j][z] = std::fmaf(x[i + 8 * j + z], y[i + 8 * j + z], acc[j][z]);
  for (int z = 0; z < 8; ++z) {
    acc[0][z] += acc[2][z];
    acc[1][z] += acc[3][z];
  }
  for (int z = 0; z < 8; ++z) acc[0][z] += acc[1][z];
  float sumf = detail::hsum8_hadd(acc[0]);
  return f32_tail(n, np, x, y, sumf);
}

CK_TARGET_AVX2 float dot_f32_avx2(int64_t n, const float* x, const float* y) {
  const int64_t np = n & ~int64_t{31};
  __m256 sum[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t i = 0; i < np; i += 32)
    for (int j = 0; j < 4; ++j)
      sum[j] = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8 * j), _mm256_loadu_ps(y + i + 8 * j), sum[j]);
  sum[0] = _mm256_add_ps(sum[0], sum[2]);
  sum[1] = _mm256_add_ps(sum[1], sum[3]);
  sum[0] = _mm256_add_ps(sum[0], sum[1]);
  float sumf = detail::hsum8_hadd(sum[0]);
  return f32_tail(n, np, x, y, sumf);
}

float dot_f32(int64_t n, const float* x, const float* y) {
  return active_isa() >= Isa::avx2 ? dot_f32_avx2(n, x, y) : dot_f32_scalar(n, x, y);
}

float dot_bf16_scalar(int64_t n, const uint16_t* x, const uint16_t* y) {
  int64_t i = 0;
  double sumf = 0;
  float c[4][8] = {};
  for (; i + 32 <= n; i += 32)
    for (int j = 0; j < 4; ++j)
      for (int z = 0; z < 8; ++z) c[j][z] = bf16_to_fp32(x[i + 8 * j + z]) * bf16_to_fp32(y[i + 8 * j + z]) + c[j][z];
  float s[8];
  for (int z = 0; z < 8; ++z) s[z] = (c[0][z] + c[2][z]) + (c[1][z] + c[3][z]);
  sumf += static_cast<double>(detail::hsum8_pairs02(s));
  for (; i < n; ++i) sumf += static_cast<double>(bf16_to_fp32(x[i]) * bf16_to_fp32(y[i]));
  return static_cast<float>(sumf);
}

CK_TARGET_AVX2 static inline __m256 load_bf16x8(const uint16_t* p) {
  return _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}

CK_TARGET_AVX2 float dot_bf16_avx2(int64_t n, const uint16_t* x, const uint16_t* y) {
  int64_t i = 0;
  double sumf = 0;
  __m256 c1 = _mm256_setzero_ps(), c2 = _mm256_setzero_ps(), c3 = _mm256_setzero_ps(), c4 = _mm256_setzero_ps();
  for (; i + 32 <= n; i += 32) {
    c1 = _mm256_add_ps(_mm256_mul_ps(load_bf16x8(x + i), load_bf16x8(y + i)), c1);
    c2 = _mm256_add_ps(_mm256_mul_ps(load_bf16x8(x + i + 8), load_bf16x8(y + i + 8)), c2);
    c3 = _mm256_add_ps(_mm256_mul_ps(load_bf16x8(x + i + 16), load_bf16x8(y + i + 16)), c3);
    c4 = _mm256_add_ps(_mm256_mul_ps(load_bf16x8(x + i + 24), load_bf16x8(y + i + 24)), c4);
  }
  c1 = _mm256_add_ps(_mm256_add_ps(c1, c3), _mm256_add_ps(c2, c4));
  sumf += static_cast<double>(detail::hsum8_pairs02(c1));
  for (; i < n; ++i) sumf += static_cast<double>(bf16_to_fp32(x[i]) * bf16_to_fp32(y[i]));
  return static_cast<float>(sumf);
}

float dot_bf16(int64_t n, const uint16_t* x, const uint16_t* y) {
  return active_isa() >= Isa::avx2 ? dot_bf16_avx2(n, x, y) : dot_bf16_scalar(n, x, y);
}

void matmul_vecdot_f32(int64_t m, int64_t n, int64_t k, const float* A, int64_t lda, const float* B, int64_t ldb,
                       float* C, int64_t ldc, int ith, int nth) {
  const auto [i0, i1] = split_range(static_cast<size_t>(m), ith, nth);
  const bool simd = active_isa() >= Isa::avx2;
  for (int64_t j = 0; j < n; ++j)
    for (size_t i = i0; i < i1; ++i)
      C[j * ldc + static_cast<int64_t>(i)] =
          simd ? dot_f32_avx2(k, A + i * lda, B + j * ldb) : dot_f32_scalar(k, A + i * lda, B + j * ldb);
}

void matmul_vecdot_bf16(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                        int64_t ldb, float* C, int64_t ldc, int ith, int nth) {
  const auto [i0, i1] = split_range(static_cast<size_t>(m), ith, nth);
  const bool simd = active_isa() >= Isa::avx2;
  for (int64_t j = 0; j < n; ++j)
    for (size_t i = i0; i < i1; ++i)
      C[j * ldc + static_cast<int64_t>(i)] =
          simd ? dot_bf16_avx2(k, A + i * lda, B + j * ldb) : dot_bf16_scalar(k, A + i * lda, B + j * ldb);
}

}  // namespace ck::kernels
