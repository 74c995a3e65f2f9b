// GELU.
//
// Mirrors ggml_compute_forward_gelu_f32 -> ggml_vec_gelu_f32 (ggml/src/ggml-cpu/vec.h, b10256) with
// GGML_GELU_FP16 (always defined there): x <= -10 -> 0; x >= 10 -> x; else
// fp16_to_fp32(ggml_table_gelu_f16[GGML_CPU_FP32_TO_FP16(x)]) (scalar RNE conversion, NaN -> sign|0x7E00).
// The table is built as in ggml_cpu_init (ggml-cpu.c): table[h] = GGML_CPU_FP32_TO_FP16(ggml_gelu_f32(fp16(h)))
// with ggml_gelu_f32(x) = 0.5f*x*(1.0f + tanhf(SQRT_2_OVER_PI*x*(1.0f + GELU_COEF_A*x*x))). ggml-cpu.c is
// compiled with -mfma and GCC's default -ffp-contract=fast, which fuses the innermost term into
// fmaf(GELU_COEF_A*x, x, 1.0f) (research digest D.6, verified; only h = 0xbfff changes) — written out explicitly
// here since this file is compiled with -ffp-contract=off. tanhf is glibc's, like the oracle's.
// Element-wise; no reduction.
#include "kernels/gelu.h"

#include <immintrin.h>

#include <cmath>
#include <mutex>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/isa.h"

namespace ck::kernels {

namespace {

constexpr float GELU_COEF_A = 0.044715f;
constexpr float SQRT_2_OVER_PI = 0.79788456080286535587989211986876f;

uint16_t g_table[1 << 16];

void build_table() {
  for (int h = 0; h < (1 << 16); ++h) {
    const float x = fp16_to_fp32(static_cast<uint16_t>(h));
    const float inner = std::fmaf(GELU_COEF_A * x, x, 1.0f);
    const float g = (0.5f * x) * (1.0f + tanhf((SQRT_2_OVER_PI * x) * inner));
    g_table[h] = fp32_to_fp16(g);
  }
}

}  // namespace

const uint16_t* gelu_table_f16() {
  static std::once_flag once;
  std::call_once(once, build_table);
  return g_table;
}

void gelu_row_scalar(const float* x, float* y, int64_t n) {
  const uint16_t* table = gelu_table_f16();
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (v <= -10.0f) {
      y[i] = 0.0f;
    } else if (v >= 10.0f) {
      y[i] = v;
    } else {
      y[i] = fp16_to_fp32(table[fp32_to_fp16(v)]);
    }
  }
}

// The same per element, 8 at a time: vcvtps2ph with RNE is GGML_CPU_FP32_TO_FP16 (F16C, as fp32_to_fp16), the
// table lookups stay scalar, the two range tests are ordered compares (false for NaN, like the scalar ifs).
CK_TARGET_AVX2 void gelu_row_avx2(const float* x, float* y, int64_t n) {
  const uint16_t* table = gelu_table_f16();
  const __m256 lo = _mm256_set1_ps(-10.0f), hi = _mm256_set1_ps(10.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    alignas(16) uint16_t h[8];
    _mm_store_si128(reinterpret_cast<__m128i*>(h), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
    for (int z = 0; z < 8; ++z) h[z] = table[h[z]];
    __m256 g = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(h)));
    g = _mm256_blendv_ps(g, _mm256_setzero_ps(), _mm256_cmp_ps(v, lo, _CMP_LE_OQ));
    g = _mm256_blendv_ps(g, v, _mm256_cmp_ps(v, hi, _CMP_GE_OQ));
    _mm256_storeu_ps(y + i, g);
  }
  gelu_row_scalar(x + i, y + i, n - i);
}

void gelu_row(const float* x, float* y, int64_t n) {
  if (active_isa() >= Isa::avx2) return gelu_row_avx2(x, y, n);
  gelu_row_scalar(x, y, n);
}

void gelu_rows(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n, int64_t nrows, int ith,
               int nth) {
  const auto [r0, r1] = split_range(static_cast<size_t>(nrows), ith, nth);
  for (size_t r = r0; r < r1; ++r) gelu_row(x + r * x_stride, y + r * y_stride, n);
}

}  // namespace ck::kernels
