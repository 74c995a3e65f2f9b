// fp32 <-> fp16 rows.
//
// Mirrors ggml_cpu_fp32_to_fp16 / ggml_cpu_fp16_to_fp32 (ggml/src/ggml-cpu/ggml-cpu.c, b10256) as compiled with
// __F16C__ and without __AVX512F__: 8 elements at a time with _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT), then 4
// with _mm_cvtps_ph, then the scalar GGML_CPU_FP32_TO_FP16 (= ggml_compute_fp32_to_fp16, the RNE bit trick, i.e.
// ck::fp32_to_fp16) for the last n % 4. All paths round to nearest even and agree on every non-NaN input; they
// differ on NaN: the F16C instruction keeps sign and the top payload bits (and sets the quiet bit), the scalar
// trick returns sign | 0x7E00. Which one applies therefore depends on the element's index (< n - n%4 or not),
// and the scalar reference below reproduces that. No reduction: element-wise.
// fp16 -> fp32 is exact on every path (F16C quiets signalling NaNs, as does the scalar trick's float multiply).
#include "kernels/convert_fp16.h"

#include <immintrin.h>

#include <cstring>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/isa.h"

namespace ck::kernels {

namespace {

// VCVTPS2PH on a NaN: quiet NaN with the sign and the top 10 mantissa bits of the input.
inline uint16_t f16c_fp32_to_fp16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) {
    return static_cast<uint16_t>(((u >> 16) & 0x8000u) | 0x7e00u | ((u >> 13) & 0x3ffu));
  }
  return fp32_to_fp16(f);
}

}  // namespace

void fp32_to_fp16_row_scalar(const float* x, uint16_t* y, int64_t n) {
  const int64_t nv = n - n % 4;  // elements handled by the 8- and 4-wide F16C loops upstream
  int64_t i = 0;
  for (; i < nv; ++i) y[i] = f16c_fp32_to_fp16(x[i]);
  for (; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

CK_TARGET_AVX2 void fp32_to_fp16_row_avx2(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 7 < n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i + 3 < n; i += 4) {
    const __m128 v = _mm_loadu_ps(x + i);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(y + i), _mm_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
}

void fp32_to_fp16_row(const float* x, uint16_t* y, int64_t n) {
  if (active_isa() >= Isa::avx2) return fp32_to_fp16_row_avx2(x, y, n);
  fp32_to_fp16_row_scalar(x, y, n);
}

void fp16_to_fp32_row_scalar(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_fp32(x[i]);
}

CK_TARGET_AVX2 void fp16_to_fp32_row_avx2(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 7 < n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  }
  for (; i + 3 < n; i += 4) {
    _mm_storeu_ps(y + i, _mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x + i))));
  }
  for (; i < n; ++i) y[i] = fp16_to_fp32(x[i]);
}

void fp16_to_fp32_row(const uint16_t* x, float* y, int64_t n) {
  if (active_isa() >= Isa::avx2) return fp16_to_fp32_row_avx2(x, y, n);
  fp16_to_fp32_row_scalar(x, y, n);
}

void fp32_to_fp16_rows(const float* x, int64_t x_stride, uint16_t* y, int64_t y_stride, int64_t n, int64_t nrows,
                       int ith, int nth) {
  const auto [r0, r1] = split_range(static_cast<size_t>(nrows), ith, nth);
  for (size_t r = r0; r < r1; ++r) fp32_to_fp16_row(x + r * x_stride, y + r * y_stride, n);
}

void fp16_to_fp32_rows(const uint16_t* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n, int64_t nrows,
                       int ith, int nth) {
  const auto [r0, r1] = split_range(static_cast<size_t>(nrows), ith, nth);
  for (size_t r = r0; r < r1; ++r) fp16_to_fp32_row(x + r * x_stride, y + r * y_stride, n);
}

}  // namespace ck::kernels
