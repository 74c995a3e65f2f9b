// SiLU / SwiGLU.
//
// Mirrors ggml_vec_silu_f32 and ggml_vec_swiglu_f32 (ggml/src/ggml-cpu/vec.cpp, b10256), branch
// `defined(__AVX2__) && defined(__FMA__)`: for i + 7 < n, 8 lanes of ggml_v_silu(x) = x / (1 + ggml_v_expf(0 - x))
// (then * g for swiglu, one vmulps); the last n % 8 elements use the scalar ggml_silu_f32 = x / (1.0f + expf(-x))
// with glibc expf (times g). Element-wise; which formula an element gets depends on its index.
// Reached from ggml_compute_forward_silu_f32 / ggml_compute_forward_swiglu_f32 (ops.cpp), one row per thread.
#include "kernels/silu.h"

#include <cmath>

#include "core/thread_pool.h"
#include "kernels/v_expf.h"

namespace ck::kernels {

using detail::v_silu_avx2;
using detail::v_silu_lane;

namespace {
inline float silu_libm(float x) { return x / (1.0f + expf(-x)); }
}  // namespace

void silu_row_scalar(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 7 < n; i += 8)
    for (int z = 0; z < 8; ++z) y[i + z] = v_silu_lane(x[i + z]);
  for (; i < n; ++i) y[i] = silu_libm(x[i]);
}

CK_TARGET_AVX2 void silu_row_avx2(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 7 < n; i += 8) _mm256_storeu_ps(y + i, v_silu_avx2(_mm256_loadu_ps(x + i)));
  for (; i < n; ++i) y[i] = silu_libm(x[i]);
}

void silu_row(const float* x, float* y, int64_t n) {
  if (active_isa() >= Isa::avx2) return silu_row_avx2(x, y, n);
  silu_row_scalar(x, y, n);
}

void swiglu_row_scalar(const float* x, const float* g, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 7 < n; i += 8)
    for (int z = 0; z < 8; ++z) y[i + z] = v_silu_lane(x[i + z]) * g[i + z];
  for (; i < n; ++i) y[i] = silu_libm(x[i]) * g[i];
}

CK_TARGET_AVX2 void swiglu_row_avx2(const float* x, const float* g, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 7 < n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_mul_ps(v_silu_avx2(_mm256_loadu_ps(x + i)), _mm256_loadu_ps(g + i)));
  for (; i < n; ++i) y[i] = silu_libm(x[i]) * g[i];
}

void swiglu_row(const float* x, const float* g, float* y, int64_t n) {
  if (active_isa() >= Isa::avx2) return swiglu_row_avx2(x, g, y, n);
  swiglu_row_scalar(x, g, y, n);
}

void silu_rows(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n, int64_t nrows, int ith,
               int nth) {
  const auto [r0, r1] = split_range(static_cast<size_t>(nrows), ith, nth);
  for (size_t r = r0; r < r1; ++r) silu_row(x + r * x_stride, y + r * y_stride, n);
}

void swiglu_rows(const float* x, int64_t x_stride, const float* g, int64_t g_stride, float* y, int64_t y_stride,
                 int64_t n, int64_t nrows, int ith, int nth) {
  const auto [r0, r1] = split_range(static_cast<size_t>(nrows), ith, nth);
  for (size_t r = r0; r < r1; ++r) swiglu_row(x + r * x_stride, g + r * g_stride, y + r * y_stride, n);
}

}  // namespace ck::kernels
