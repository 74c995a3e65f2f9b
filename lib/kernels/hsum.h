// Horizontal sums of 8 float lanes in the two orders ggml's AVX2 code uses. Internal header of lib/kernels.
#pragma once
#include <immintrin.h>

#include "kernels/isa.h"

namespace ck::kernels::detail {

// hsum_float_8 (arch/x86/quants.c), tinyBLAS hsum(__m256) (llamafile/sgemm.cpp), ggml_vec_cvar_f32 chunks:
// t_k = a[k+4] + a[k];  (t0 + t2) + (t1 + t3).
inline float hsum8_pairs02(const float a[8]) {
  float t[4];
  for (int k = 0; k < 4; ++k) t[k] = a[k + 4] + a[k];
  return (t[0] + t[2]) + (t[1] + t[3]);
}
CK_TARGET_AVX2 __attribute__((always_inline)) inline float hsum8_pairs02(__m256 x) {
  __m128 r = _mm_add_ps(_mm256_extractf128_ps(x, 1), _mm256_castps256_ps128(x));
  r = _mm_add_ps(r, _mm_movehl_ps(r, r));
  r = _mm_add_ss(r, _mm_movehdup_ps(r));
  return _mm_cvtss_f32(r);
}

// GGML_F32x8_REDUCE's final step (simd-mappings.h, AVX): t = lo + hi; hadd; hadd  =>  (t0 + t1) + (t2 + t3).
inline float hsum8_hadd(const float a[8]) {
  float t[4];
  for (int k = 0; k < 4; ++k) t[k] = a[k] + a[k + 4];
  return (t[0] + t[1]) + (t[2] + t[3]);
}
CK_TARGET_AVX2 __attribute__((always_inline)) inline float hsum8_hadd(__m256 x) {
  const __m128 t0 = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
  const __m128 t1 = _mm_hadd_ps(t0, t0);
  return _mm_cvtss_f32(_mm_hadd_ps(t1, t1));
}

}  // namespace ck::kernels::detail
