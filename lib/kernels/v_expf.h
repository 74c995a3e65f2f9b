// ggml_v_expf / ggml_v_silu, AVX2+FMA flavour (ggml/src/ggml-cpu/vec.h, b10256, `#elif defined(__AVX2__) &&
// defined(__FMA__)`), plus a per-lane scalar model of the same instruction sequence.
// The AVX-512 and SSE2 flavours upstream are different formulas; ck strict mirrors the AVX2 build only.
// Internal header of lib/kernels (used by silu.cpp; later by softmax and flash attention).
#pragma once
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/isa.h"

namespace ck::kernels::detail {

inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// One lane of ggml_v_expf (AVX2). _mm256_fnmadd_ps(a, b, c) = -(a*b) + c with one rounding = fmaf(-a, b, c).
inline float v_expf_lane(float x) {
  const float r = 0x1.8p23f;
  const float z = std::fmaf(x, 0x1.715476p+0f, r);
  const float n = z - r;
  const float b = std::fmaf(-n, 0x1.7f7d1cp-20f, std::fmaf(-n, 0x1.62e4p-1f, x));
  const uint32_t e = f32_bits(z) << 23;
  const float k = f32_from_bits(e + f32_bits(1.0f));
  const bool c = std::fabs(n) > 126.0f;
  const float u = b * b;
  const float j = std::fmaf(std::fmaf(std::fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u,
                                      std::fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)),
                            u, 0x1.ffffecp-1f * b);
  if (!c) return std::fmaf(j, k, k);
  const uint32_t g = (n <= 0.0f) ? 0x82000000u : 0u;
  const float s1 = f32_from_bits(g + 0x7f000000u);
  const float s2 = f32_from_bits(e - g);
  if (std::fabs(n) > 192.0f) return s1 * s1;
  return std::fmaf(s2, j, s2) * s1;
}
// Note: upstream takes the slow branch for all 8 lanes when any lane has |n| > 126; lanes with |n| <= 126 then
// get fmadd(k, j, k), the same value as the fast path's fmadd(j, k, k). So the per-lane model above is exact.

// ggml_v_silu lane: x / (1 + v_expf(0 - x)).
inline float v_silu_lane(float x) { return x / (1.0f + v_expf_lane(0.0f - x)); }

CK_TARGET_AVX2 inline __m256 v_expf_avx2(__m256 x) {
  const __m256 r = _mm256_set1_ps(0x1.8p23f);
  const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), r);
  const __m256 n = _mm256_sub_ps(z, r);
  const __m256 b =
      _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f), _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
  const __m256i e = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
  const __m256 k = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_castps_si256(_mm256_set1_ps(1))));
  const __m256i c =
      _mm256_castps_si256(_mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.f), n), _mm256_set1_ps(126), _CMP_GT_OQ));
  const __m256 u = _mm256_mul_ps(b, b);
  const __m256 j = _mm256_fmadd_ps(
      _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
                      _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
      u, _mm256_mul_ps(_mm256_set1_ps(0x1.ffffecp-1f), b));
  if (!_mm256_movemask_ps(_mm256_castsi256_ps(c))) return _mm256_fmadd_ps(j, k, k);
  const __m256i g = _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)),
                                     _mm256_set1_epi32(static_cast<int>(0x82000000u)));
  const __m256 s1 = _mm256_castsi256_ps(_mm256_add_epi32(g, _mm256_set1_epi32(0x7f000000)));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, g));
  const __m256i d =
      _mm256_castps_si256(_mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.f), n), _mm256_set1_ps(192), _CMP_GT_OQ));
  return _mm256_or_ps(
      _mm256_and_ps(_mm256_castsi256_ps(d), _mm256_mul_ps(s1, s1)),
      _mm256_andnot_ps(_mm256_castsi256_ps(d),
                       _mm256_or_ps(_mm256_and_ps(_mm256_castsi256_ps(c), _mm256_mul_ps(_mm256_fmadd_ps(s2, j, s2), s1)),
                                    _mm256_andnot_ps(_mm256_castsi256_ps(c), _mm256_fmadd_ps(k, j, k)))));
}

CK_TARGET_AVX2 inline __m256 v_silu_avx2(__m256 x) {
  const __m256 one = _mm256_set1_ps(1);
  const __m256 neg_x = _mm256_sub_ps(_mm256_setzero_ps(), x);
  return _mm256_div_ps(x, _mm256_add_ps(one, v_expf_avx2(neg_x)));
}

}  // namespace ck::kernels::detail
