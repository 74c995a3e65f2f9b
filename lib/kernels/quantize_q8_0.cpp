// fp32 -> Q8_0 activation quantizer.
//
// Mirrors quantize_row_q8_0 (ggml/src/ggml-cpu/arch/x86/quants.c, b10256), `#if defined(__AVX2__)` branch — the
// from_float of Q8_0 in type_traits_cpu, used on the activations of every Q8_0 mat-mul. Per 32-element block:
//   amax = max|x|: 4 vectors max'ed in order (v0,v1,v2,v3), then hi128/lo128, movehl, movehdup (maxps semantics:
//          max(a, b) = a > b ? a : b, so a NaN in the second operand wins);
//   d = amax / 127.f (float division), stored fp16 via the scalar GGML_CPU_FP32_TO_FP16 (RNE);
//   id = amax != 0 ? 127.f / amax : 0.f;   q = (int8) cvtps_epi32(round_ps(x * id, RNE)) with the AVX2 packs
//   saturation (int32 -> int16 -> int8); cvtps_epi32 gives INT32_MIN for NaN / out of range.
// This is *not* quantize_row_q8_0_ref (1.0f/d, roundf) which only scalar builds use. No reduction order issues.
#include "kernels/quantize_q8_0.h"

#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/isa.h"

namespace ck::kernels {

namespace {

inline float maxps(float a, float b) { return a > b ? a : b; }  // (V)MAXPS: second operand if unordered

// _mm256_cvtps_epi32 on an already-integral float (MXCSR round-to-nearest): INT32_MIN if NaN or out of range.
inline int32_t cvtps_epi32(float v) {
  if (!(v >= -2147483648.0f && v < 2147483648.0f)) return INT32_MIN;
  return static_cast<int32_t>(v);
}

inline int8_t sat_i8(int32_t v) {
  const int32_t s16 = v < -32768 ? -32768 : v > 32767 ? 32767 : v;  // packs_epi32
  return static_cast<int8_t>(s16 < -128 ? -128 : s16 > 127 ? 127 : s16);  // packs_epi16
}

}  // namespace

void quantize_row_q8_0_scalar(const float* x, BlockQ8_0* y, int64_t k) {
  const int64_t nb = k / QK8_0;
  for (int64_t i = 0; i < nb; ++i, x += QK8_0) {
    float m[8];
    for (int z = 0; z < 8; ++z) m[z] = std::fabs(x[z]);
    for (int v = 1; v < 4; ++v)
      for (int z = 0; z < 8; ++z) m[z] = maxps(m[z], std::fabs(x[8 * v + z]));
    float m4[4];
    for (int z = 0; z < 4; ++z) m4[z] = maxps(m[z + 4], m[z]);  // _mm_max_ps(hi128, lo128)
    const float m2a = maxps(m4[0], m4[2]), m2b = maxps(m4[1], m4[3]);  // max(max4, movehl(max4))
    const float amax = maxps(m2a, m2b);                                 // max_ss(max4, movehdup(max4))
    const float d = amax / 127.f;
    y[i].d = fp32_to_fp16(d);
    const float id = (amax != 0.0f) ? 127.f / amax : 0.0f;
    for (int z = 0; z < QK8_0; ++z) y[i].qs[z] = sat_i8(cvtps_epi32(std::nearbyint(x[z] * id)));
  }
}

CK_TARGET_AVX2 void quantize_row_q8_0_avx2(const float* x, BlockQ8_0* y, int64_t k) {
  const int64_t nb = k / QK8_0;
  for (int64_t i = 0; i < nb; i++) {
    __m256 v0 = _mm256_loadu_ps(x);
    __m256 v1 = _mm256_loadu_ps(x + 8);
    __m256 v2 = _mm256_loadu_ps(x + 16);
    __m256 v3 = _mm256_loadu_ps(x + 24);
    x += 32;
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    __m256 max_abs = _mm256_andnot_ps(sign_bit, v0);
    max_abs = _mm256_max_ps(max_abs, _mm256_andnot_ps(sign_bit, v1));
    max_abs = _mm256_max_ps(max_abs, _mm256_andnot_ps(sign_bit, v2));
    max_abs = _mm256_max_ps(max_abs, _mm256_andnot_ps(sign_bit, v3));
    __m128 max4 = _mm_max_ps(_mm256_extractf128_ps(max_abs, 1), _mm256_castps256_ps128(max_abs));
    max4 = _mm_max_ps(max4, _mm_movehl_ps(max4, max4));
    max4 = _mm_max_ss(max4, _mm_movehdup_ps(max4));
    const float amax = _mm_cvtss_f32(max4);
    const float d = amax / 127.f;
    y[i].d = fp32_to_fp16(d);
    const float id = (amax != 0.0f) ? 127.f / amax : 0.0f;
    const __m256 mul = _mm256_set1_ps(id);
    v0 = _mm256_round_ps(_mm256_mul_ps(v0, mul), _MM_ROUND_NEAREST);
    v1 = _mm256_round_ps(_mm256_mul_ps(v1, mul), _MM_ROUND_NEAREST);
    v2 = _mm256_round_ps(_mm256_mul_ps(v2, mul), _MM_ROUND_NEAREST);
    v3 = _mm256_round_ps(_mm256_mul_ps(v3, mul), _MM_ROUND_NEAREST);
    __m256i i0 = _mm256_cvtps_epi32(v0);
    __m256i i1 = _mm256_cvtps_epi32(v1);
    __m256i i2 = _mm256_cvtps_epi32(v2);
    __m256i i3 = _mm256_cvtps_epi32(v3);
    i0 = _mm256_packs_epi32(i0, i1);
    i2 = _mm256_packs_epi32(i2, i3);
    i0 = _mm256_packs_epi16(i0, i2);
    const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    i0 = _mm256_permutevar8x32_epi32(i0, perm);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs), i0);
  }
}

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t k) {
  if (active_isa() >= Isa::avx2) return quantize_row_q8_0_avx2(x, y, k);
  quantize_row_q8_0_scalar(x, y, k);
}

void quantize_rows_q8_0(const float* x, int64_t x_stride, BlockQ8_0* y, int64_t y_stride, int64_t k, int64_t nrows,
                        int ith, int nth) {
  const auto [r0, r1] = split_range(static_cast<size_t>(nrows), ith, nth);
  for (size_t r = r0; r < r1; ++r) quantize_row_q8_0(x + r * x_stride, y + r * y_stride, k);
}

}  // namespace ck::kernels
