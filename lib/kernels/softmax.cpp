// Row softmax.
//
// Mirrors ggml_compute_forward_soft_max_f32 (ggml/src/ggml-cpu/ops.cpp, b10256) per row, AVX2 build:
//   wp = x; wp *= scale (ggml_vec_scale_f32: one float multiply each); wp += slope*mask (slope = 1: a plain add;
//     the FMA contraction of `wp + 1*m` is the same value);
//   max = sequential MAX over wp (ggml_vec_max_f32);
//   ggml_vec_soft_max_f32: 8-chunks p = ggml_v_expf(wp - max) (AVX2 flavour), sum += (double)hsum8(p) with the
//     (t0+t2)+(t1+t3) pairing; tail: p = expf(wp - max) (libm), sum += (double)p;
//   sum = 1.0/sum (double); y *= (float)sum.
#include "kernels/softmax.h"

#include <immintrin.h>

#include <cmath>
#include <vector>

#include "core/half.h"
#include "kernels/hsum.h"
#include "kernels/isa.h"
#include "kernels/v_expf.h"

namespace ck::kernels {

namespace {
// wp = x*scale (+ mask), returns the sequential max.
inline float scaled_input(const float* x, float* wp, int64_t n, float scale, const uint16_t* mf16, const float* mf32) {
  for (int64_t i = 0; i < n; ++i) wp[i] = x[i] * scale;
  if (mf16)
    for (int64_t i = 0; i < n; ++i) wp[i] += 1.0f * fp16_to_fp32(mf16[i]);
  else if (mf32)
    for (int64_t i = 0; i < n; ++i) wp[i] += 1.0f * mf32[i];
  float max = -INFINITY;
  for (int64_t i = 0; i < n; ++i) max = max > wp[i] ? max : wp[i];  // MAX(a, b) = ((a) > (b) ? (a) : (b))
  return max;
}
}  // namespace

void soft_max_row_scalar(const float* x, float* y, int64_t n, float scale, const uint16_t* mask_f16,
                         const float* mask_f32) {
  std::vector<float> wp(static_cast<size_t>(n));
  const float max = scaled_input(x, wp.data(), n, scale, mask_f16, mask_f32);
  double sum = 0;
  int64_t i = 0;
  for (; i + 7 < n; i += 8) {
    float p[8];
    for (int z = 0; z < 8; ++z) p[z] = y[i + z] = detail::v_expf_lane(wp[i + z] - max);
    sum += static_cast<double>(detail::hsum8_pairs02(p));
  }
  for (; i < n; ++i) {
    const float v = expf(wp[i] - max);
    sum += static_cast<double>(v);
    y[i] = v;
  }
  sum = 1.0 / sum;
  const float s = static_cast<float>(sum);
  for (int64_t j = 0; j < n; ++j) y[j] *= s;
}

CK_TARGET_AVX2 void soft_max_row_avx2(const float* x, float* y, int64_t n, float scale, const uint16_t* mask_f16,
                                      const float* mask_f32) {
  std::vector<float> wp(static_cast<size_t>(n));
  const float max = scaled_input(x, wp.data(), n, scale, mask_f16, mask_f32);
  double sum = 0;
  int64_t i = 0;
  const __m256 vmax = _mm256_set1_ps(max);
  for (; i + 7 < n; i += 8) {
    const __m256 v = detail::v_expf_avx2(_mm256_sub_ps(_mm256_loadu_ps(wp.data() + i), vmax));
    _mm256_storeu_ps(y + i, v);
    sum += static_cast<double>(detail::hsum8_pairs02(v));
  }
  for (; i < n; ++i) {
    const float v = expf(wp[i] - max);
    sum += static_cast<double>(v);
    y[i] = v;
  }
  sum = 1.0 / sum;
  const __m256 s = _mm256_set1_ps(static_cast<float>(sum));
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(y + j, _mm256_mul_ps(_mm256_loadu_ps(y + j), s));
  for (; j < n; ++j) y[j] *= static_cast<float>(sum);
}

void soft_max_row(const float* x, float* y, int64_t n, float scale, const uint16_t* mask_f16, const float* mask_f32) {
  if (active_isa() >= Isa::avx2) soft_max_row_avx2(x, y, n, scale, mask_f16, mask_f32);
  else soft_max_row_scalar(x, y, n, scale, mask_f16, mask_f32);
}

void soft_max_rows(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n, int64_t nrows, float scale,
                   const uint16_t* mask_f16, const float* mask_f32, int64_t mask_stride, int64_t mask_rows, int ith,
                   int nth) {
  for (int64_t r = ith; r < nrows; r += nth) {
    const int64_t mr = mask_rows > 0 ? r % mask_rows : 0;
    soft_max_row(x + r * x_stride, y + r * y_stride, n, scale, mask_f16 ? mask_f16 + mr * mask_stride : nullptr,
                 mask_f32 ? mask_f32 + mr * mask_stride : nullptr);
  }
}

}  // namespace ck::kernels
