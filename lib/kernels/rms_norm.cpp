// RMSNorm.
//
// Mirrors ggml_compute_forward_rms_norm_f32 (ggml/src/ggml-cpu/ops.cpp, b10256), per row:
//   sum = sequential double sum of (double)(x[i]*x[i])   (float product, then widened; no FMA possible);
//   mean = (float)(sum / n)  (double division);  scale = 1.0f / sqrtf(mean + eps);
//   y[i] = x[i] * scale  [* w[i]]   (fused RMS_NORM+MUL: `x[i00] * scale * w[i00]`, left to right).
// The double sum is a serial dependency chain in the oracle too; the SIMD variant only vectorizes the products
// and the final multiplies (the squares are exact float products either way).
#include "kernels/rms_norm.h"

#include <immintrin.h>

#include <cmath>

#include "core/thread_pool.h"
#include "kernels/isa.h"

namespace ck::kernels {

void rms_norm_row_scalar(const float* x, float* y, int64_t n, float eps, const float* w) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / sqrtf(mean + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = w ? (x[i] * scale) * w[i] : x[i] * scale;
}

CK_TARGET_AVX2 void rms_norm_row_avx2(const float* x, float* y, int64_t n, float eps, const float* w) {
  double sum = 0.0;
  int64_t i = 0;
  for (; i + 7 < n; i += 8) {
    alignas(32) float q[8];
    const __m256 v = _mm256_loadu_ps(x + i);
    _mm256_store_ps(q, _mm256_mul_ps(v, v));
    for (int z = 0; z < 8; ++z) sum += static_cast<double>(q[z]);
  }
  for (; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / sqrtf(mean + eps);
  const __m256 vs = _mm256_set1_ps(scale);
  i = 0;
  for (; i + 7 < n; i += 8) {
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), vs);
    if (w) v = _mm256_mul_ps(v, _mm256_loadu_ps(w + i));
    _mm256_storeu_ps(y + i, v);
  }
  for (; i < n; ++i) y[i] = w ? (x[i] * scale) * w[i] : x[i] * scale;
}

void rms_norm_row(const float* x, float* y, int64_t n, float eps, const float* w) {
  if (active_isa() >= Isa::avx2) return rms_norm_row_avx2(x, y, n, eps, w);
  rms_norm_row_scalar(x, y, n, eps, w);
}

void rms_norm_rows(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n, int64_t nrows, float eps,
                   const float* w, int ith, int nth) {
  const auto [r0, r1] = split_range(static_cast<size_t>(nrows), ith, nth);
  for (size_t r = r0; r < r1; ++r) rms_norm_row(x + r * x_stride, y + r * y_stride, n, eps, w);
}

}  // namespace ck::kernels
