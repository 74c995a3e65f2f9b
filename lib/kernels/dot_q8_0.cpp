// Q8_0 x Q8_0 dot product.
//
// Mirrors ggml_vec_dot_q8_0_q8_0 (ggml/src/ggml-cpu/arch/x86/quants.c, b10256), `#if defined(__AVX2__)` branch
// without VNNI (the portable AVX2 build), and equally tinyBLAS_Q0_AVX::gemm (llamafile/sgemm.cpp), per output:
//   acc = 0 (8 lanes); per 32-block: d = fp16(x.d) * fp16(y.d) (float, weight scale first);
//   q = cvtepi32_ps(madd_epi16(1, maddubs_epi16(sign(x, x), sign(y, x)))): lane k holds the exact int32 sum of
//       elements 4k..4k+3 — with maddubs' int16 saturation of each pair sum (only reachable with -128 quants);
//   acc = fma(d, q, acc);   result = hsum_float_8(acc) = (t0 + t2) + (t1 + t3), t_k = acc[k+4] + acc[k].
#include "kernels/dot_q8_0.h"

#include <immintrin.h>

#include <cmath>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/hsum.h"
#include "kernels/isa.h"

namespace ck::kernels {

namespace {
inline int32_t sat16(int32_t v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : v; }
// _mm256_sign_epi8(a, b) on one byte: b < 0 -> -a (wrapping), b == 0 -> 0, else a.
inline int8_t sign8(int8_t a, int8_t b) {
  if (b < 0) return static_cast<int8_t>(-static_cast<int32_t>(a));
  return b == 0 ? int8_t{0} : a;
}
}  // namespace

float dot_q8_0_scalar(int64_t n, const BlockQ8_0* x, const BlockQ8_0* y) {
  const int64_t nb = n / QK8_0;
  float acc[8] = {};
  for (int64_t b = 0; b < nb; ++b) {
    const float d = fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d);
    for (int k = 0; k < 8; ++k) {
      int32_t s = 0;
      for (int p = 0; p < 2; ++p) {  // two maddubs pairs per int32 lane
        const int e = 4 * k + 2 * p;
        const int32_t ax0 = static_cast<uint8_t>(sign8(x[b].qs[e], x[b].qs[e]));
        const int32_t ax1 = static_cast<uint8_t>(sign8(x[b].qs[e + 1], x[b].qs[e + 1]));
        const int32_t sy0 = sign8(y[b].qs[e], x[b].qs[e]);
        const int32_t sy1 = sign8(y[b].qs[e + 1], x[b].qs[e + 1]);
        s += sat16(ax0 * sy0 + ax1 * sy1);
      }
      acc[k] = std::fmaf(d, static_cast<float>(s), acc[k]);
    }
  }
  return detail::hsum8_pairs02(acc);
}

CK_TARGET_AVX2 float dot_q8_0_avx2(int64_t n, const BlockQ8_0* x, const BlockQ8_0* y) {
  const int64_t nb = n / QK8_0;
  __m256 acc = _mm256_setzero_ps();
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b) {
    const __m256 d = _mm256_set1_ps(fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d));
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
    const __m256i ax = _mm256_sign_epi8(qx, qx);
    const __m256i sy = _mm256_sign_epi8(qy, qx);
    const __m256 q = _mm256_cvtepi32_ps(_mm256_madd_epi16(ones, _mm256_maddubs_epi16(ax, sy)));
    acc = _mm256_fmadd_ps(d, q, acc);
  }
  return detail::hsum8_pairs02(acc);
}

float dot_q8_0(int64_t n, const BlockQ8_0* x, const BlockQ8_0* y) {
  if (active_isa() >= Isa::avx2) return dot_q8_0_avx2(n, x, y);
  return dot_q8_0_scalar(n, x, y);
}

void matmul_q8_0(int64_t m, int64_t n, int64_t k, const BlockQ8_0* A, int64_t lda, const BlockQ8_0* B, int64_t ldb,
                 float* C, int64_t ldc, int ith, int nth) {
  const auto [i0, i1] = split_range(static_cast<size_t>(m), ith, nth);
  const bool simd = active_isa() >= Isa::avx2;
  for (int64_t j = 0; j < n; ++j)
    for (size_t i = i0; i < i1; ++i)
      C[j * ldc + static_cast<int64_t>(i)] =
          simd ? dot_q8_0_avx2(k, A + i * lda, B + j * ldb) : dot_q8_0_scalar(k, A + i * lda, B + j * ldb);
}

}  // namespace ck::kernels
