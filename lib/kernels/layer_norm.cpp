// LayerNorm.
//
// Mirrors ggml_compute_forward_norm_f32 (ggml/src/ggml-cpu/ops.cpp, b10256), contiguous-row branch, per row:
//   mean: ggml_vec_sum_f32 = sequential sum in double of (double)x[i], cast to float; mean = sum / (float)n;
//   ggml_vec_cvar_f32 (vec.cpp), AVX2+FMA branch: for each 8-chunk, d = x - mean (stored to y), q = d*d (vmulps),
//     hsum (t_k = q[k+4] + q[k]; (t0 + t2) + (t1 + t3)) added in double; tail elements: d = x - mean,
//     sum += (double)(d*d); returns sum / n in double -> variance (float);
//   scale = 1.0f / sqrtf(variance + eps); y *= scale (ggml_vec_scale_f32, one multiply per element).
// Then, if given, y = y * w and y = y + b — ggml_mul and ggml_add as separate ops in clip's build_norm.
#include "kernels/layer_norm.h"

#include <immintrin.h>

#include <cmath>

#include "core/thread_pool.h"
#include "kernels/isa.h"

namespace ck::kernels {

namespace {

float row_mean(const float* x, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(x[i]);
  const float sum = static_cast<float>(s);
  return sum / static_cast<float>(n);
}

void finish(float* y, int64_t n, float variance, float eps, const float* w, const float* b) {
  const float scale = 1.0f / sqrtf(variance + eps);
  for (int64_t i = 0; i < n; ++i) y[i] *= scale;
  if (w)
    for (int64_t i = 0; i < n; ++i) y[i] = y[i] * w[i];
  if (b)
    for (int64_t i = 0; i < n; ++i) y[i] = y[i] + b[i];
}

}  // namespace

void layer_norm_row_scalar(const float* x, float* y, int64_t n, float eps, const float* w, const float* b) {
  const float mean = row_mean(x, n);
  double sum = 0.0;
  int64_t i = 0;
  for (; i + 7 < n; i += 8) {
    float q[8];
    for (int z = 0; z < 8; ++z) {
      const float d = x[i + z] - mean;
      y[i + z] = d;
      q[z] = d * d;
    }
    float t[4];
    for (int z = 0; z < 4; ++z) t[z] = q[z + 4] + q[z];
    sum += static_cast<double>((t[0] + t[2]) + (t[1] + t[3]));
  }
  for (; i < n; ++i) {
    const float d = x[i] - mean;
    y[i] = d;
    sum += static_cast<double>(d * d);
  }
  const float variance = static_cast<float>(sum / static_cast<double>(n));
  finish(y, n, variance, eps, w, b);
}

CK_TARGET_AVX2 void layer_norm_row_avx2(const float* x, float* y, int64_t n, float eps, const float* w,
                                        const float* b) {
  const float mean = row_mean(x, n);
  double sum = 0.0;
  int64_t i = 0;
  const __m256 vmean = _mm256_set1_ps(mean);
  for (; i + 7 < n; i += 8) {
    __m256 val = _mm256_sub_ps(_mm256_loadu_ps(x + i), vmean);
    _mm256_storeu_ps(y + i, val);
    val = _mm256_mul_ps(val, val);
    __m128 val2 = _mm_add_ps(_mm256_extractf128_ps(val, 1), _mm256_castps256_ps128(val));
    val2 = _mm_add_ps(val2, _mm_movehl_ps(val2, val2));
    val2 = _mm_add_ss(val2, _mm_movehdup_ps(val2));
    sum += static_cast<double>(_mm_cvtss_f32(val2));
  }
  for (; i < n; ++i) {
    const float d = x[i] - mean;
    y[i] = d;
    sum += static_cast<double>(d * d);
  }
  const float variance = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / sqrtf(variance + eps);
  const __m256 vs = _mm256_set1_ps(scale);
  i = 0;
  for (; i + 7 < n; i += 8) {
    __m256 v = _mm256_mul_ps(_mm256_loadu_ps(y + i), vs);
    if (w) v = _mm256_mul_ps(v, _mm256_loadu_ps(w + i));
    if (b) v = _mm256_add_ps(v, _mm256_loadu_ps(b + i));
    _mm256_storeu_ps(y + i, v);
  }
  for (; i < n; ++i) {
    float v = y[i] * scale;
    if (w) v = v * w[i];
    if (b) v = v + b[i];
    y[i] = v;
  }
}

void layer_norm_row(const float* x, float* y, int64_t n, float eps, const float* w, const float* b) {
  if (active_isa() >= Isa::avx2) return layer_norm_row_avx2(x, y, n, eps, w, b);
  layer_norm_row_scalar(x, y, n, eps, w, b);
}

void layer_norm_rows(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n, int64_t nrows,
                     float eps, const float* w, const float* b, int ith, int nth) {
  const auto [r0, r1] = split_range(static_cast<size_t>(nrows), ith, nth);
  for (size_t r = r0; r < r1; ++r) layer_norm_row(x + r * x_stride, y + r * y_stride, n, eps, w, b);
}

}  // namespace ck::kernels
