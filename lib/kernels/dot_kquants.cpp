// K-quant x q8_K and Q4_0 x Q8_0 dot products.
//
// Mirror ggml_vec_dot_{q4_K,q5_K,q6_K}_q8_K and ggml_vec_dot_q4_0_q8_0 (ggml/src/ggml-cpu/arch/x86/quants.c,
// b10256, AVX2 branches without VNNI). All integer work is exact int32 (no maddubs saturation for these value
// ranges), so each kernel is: per super-block, 8 int32 lanes L_k (lane k = elements 4k..4k+3 of every 32-element
// chunk, times the chunk's scale), then acc[k] = fmaf(d, (float)L_k, acc[k]); result hsum_float_8(acc)
// = (t0 + t2) + (t1 + t3), t_k = acc[k+4] + acc[k]. Mins:
//   Q4_K: accm[m] = fmaf(dmin, (float)(m_{2m}*Q_{2m} + m_{2m+1}*Q_{2m+1}), accm[m]) (4 float lanes, Q_t = sum of
//         the q8 of sub-block t), result += (accm0 + accm2) + (accm1 + accm3);
//   Q5_K: summs = fmaf(dmin, (float)((p0 + p1) + (p2 + p3)), summs) (GCC contracts `summs += dmin*int`);
//   Q6_K: the -32 offset folded into the int lanes: L_k -= 32*(bsums[2k]*sc[2k] + bsums[2k+1]*sc[2k+1]).
// d = y.d * fp16(x.d), dmin = -y.d * fp16(x.dmin) (float). The _scalar versions compute the same lanes in plain
// C++; the _avx2 versions are the upstream intrinsics.
#include "kernels/dot_kquants.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/hsum.h"
#include "kernels/isa.h"
#include "kernels/prefetch.h"

namespace ck::kernels {

namespace {

inline int8_t sign8(int8_t a, int8_t b) {  // _mm256_sign_epi8 on one byte
  if (b < 0) return static_cast<int8_t>(-static_cast<int32_t>(a));
  return b == 0 ? int8_t{0} : a;
}

// Scales and mins of a Q4_K/Q5_K super-block.
inline void scales_mins(const uint8_t* scales, int sc[8], int mn[8]) {
  for (int j = 0; j < 8; ++j) {
    uint8_t s, m;
    get_scale_min_k4(j, scales, &s, &m);
    sc[j] = s;
    mn[j] = m;
  }
}

// Q_t = bsums[2t] + bsums[2t+1] (_mm_hadd_epi16, int16 wrap-around as upstream).
inline int16_t qsum32(const BlockQ8_K& y, int t) {
  return static_cast<int16_t>(y.bsums[2 * t] + y.bsums[2 * t + 1]);
}

// Upstream's in-register rearrangement of the 12 scale bytes into 8 scales then 8 mins.
inline void k4_utmp(const uint8_t* scales, uint32_t utmp[4]) {
  constexpr uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
  std::memcpy(utmp, scales, 12);
  utmp[3] = ((utmp[2] >> 4) & kmask2) | (((utmp[1] >> 6) & kmask3) << 4);
  const uint32_t uaux = utmp[1] & kmask1;
  utmp[1] = (utmp[2] & kmask2) | (((utmp[0] >> 6) & kmask3) << 4);
  utmp[2] = uaux;
  utmp[0] &= kmask1;
}

CK_TARGET_AVX2 inline __m256i scale_shuffle_k4(int i) {
  alignas(32) static const uint8_t k_shuffle[256] = {
      0,  1,  0,  1,  0,  1,  0,  1,  0,  1,  0,  1,  0,  1,  0,  1,  0,  1,  0,  1,  0,  1,  0,  1,  0,  1,  0,  1,
      0,  1,  0,  1,  2,  3,  2,  3,  2,  3,  2,  3,  2,  3,  2,  3,  2,  3,  2,  3,  2,  3,  2,  3,  2,  3,  2,  3,
      2,  3,  2,  3,  2,  3,  2,  3,  4,  5,  4,  5,  4,  5,  4,  5,  4,  5,  4,  5,  4,  5,  4,  5,  4,  5,  4,  5,
      4,  5,  4,  5,  4,  5,  4,  5,  4,  5,  4,  5,  6,  7,  6,  7,  6,  7,  6,  7,  6,  7,  6,  7,  6,  7,  6,  7,
      6,  7,  6,  7,  6,  7,  6,  7,  6,  7,  6,  7,  6,  7,  6,  7,  8,  9,  8,  9,  8,  9,  8,  9,  8,  9,  8,  9,
      8,  9,  8,  9,  8,  9,  8,  9,  8,  9,  8,  9,  8,  9,  8,  9,  8,  9,  8,  9,  10, 11, 10, 11, 10, 11, 10, 11,
      10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 12, 13, 12, 13,
      12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13,
      14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15,
      14, 15, 14, 15};
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(k_shuffle) + i);
}

CK_TARGET_AVX2 inline __m128i scale_shuffle_q6(int i) {
  alignas(16) static const uint8_t k_shuffle[128] = {
      0,  0,  0,  0,  0,  0,  0,  0,  1,  1,  1,  1,  1,  1,  1,  1,  2,  2,  2,  2,  2,  2,  2,  2,  3,  3,
      3,  3,  3,  3,  3,  3,  4,  4,  4,  4,  4,  4,  4,  4,  5,  5,  5,  5,  5,  5,  5,  5,  6,  6,  6,  6,
      6,  6,  6,  6,  7,  7,  7,  7,  7,  7,  7,  7,  8,  8,  8,  8,  8,  8,  8,  8,  9,  9,  9,  9,  9,  9,
      9,  9,  10, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11, 12, 12, 12, 12, 12, 12, 12, 12,
      13, 13, 13, 13, 13, 13, 13, 13, 14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15};
  return _mm_load_si128(reinterpret_cast<const __m128i*>(k_shuffle) + i);
}

// hsum_float_8 of acc plus (m0 + m2) + (m1 + m3) of the 4-lane mins accumulator.
CK_TARGET_AVX2 inline float hsum4_pairs02(__m128 acc_m) {
  acc_m = _mm_add_ps(acc_m, _mm_movehl_ps(acc_m, acc_m));
  acc_m = _mm_add_ss(acc_m, _mm_movehdup_ps(acc_m));
  return _mm_cvtss_f32(acc_m);
}

}  // namespace

// ---- Q4_K ---------------------------------------------------------------------------------------------------------
float dot_q4_K_scalar(int64_t n, const BlockQ4_K* x, const BlockQ8_K* y) {
  const int64_t nb = n / QK_K;
  float acc[8] = {}, accm[4] = {};
  for (int64_t i = 0; i < nb; ++i) {
    const float d = y[i].d * fp16_to_fp32(x[i].d);
    const float dmin = -y[i].d * fp16_to_fp32(x[i].dmin);
    int sc[8], mn[8];
    scales_mins(x[i].scales, sc, mn);
    for (int m = 0; m < 4; ++m) {
      const int32_t prod = mn[2 * m] * qsum32(y[i], 2 * m) + mn[2 * m + 1] * qsum32(y[i], 2 * m + 1);
      accm[m] = std::fmaf(dmin, static_cast<float>(prod), accm[m]);
    }
    int32_t L[8] = {};
    for (int j = 0; j < 4; ++j) {
      const uint8_t* q4 = x[i].qs + 32 * j;
      const int8_t* q8 = y[i].qs + 64 * j;
      for (int e = 0; e < 32; ++e)
        L[e / 4] += sc[2 * j] * (q4[e] & 15) * q8[e] + sc[2 * j + 1] * (q4[e] >> 4) * q8[32 + e];
    }
    for (int k = 0; k < 8; ++k) acc[k] = std::fmaf(d, static_cast<float>(L[k]), acc[k]);
  }
  return detail::hsum8_pairs02(acc) + ((accm[0] + accm[2]) + (accm[1] + accm[3]));
}

CK_TARGET_AVX2 float dot_q4_K_avx2(int64_t n, const BlockQ4_K* x, const BlockQ8_K* y) {
  const int64_t nb = n / QK_K;
  uint32_t utmp[4];
  const __m256i m4 = _mm256_set1_epi8(0xF);
  __m256 acc = _mm256_setzero_ps();
  __m128 acc_m = _mm_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const float d = y[i].d * fp16_to_fp32(x[i].d);
    const float dmin = -y[i].d * fp16_to_fp32(x[i].dmin);
    k4_utmp(x[i].scales, utmp);
    const uint8_t* q4 = x[i].qs;
    const int8_t* q8 = y[i].qs;
    const __m256i mins_and_scales = _mm256_cvtepu8_epi16(
        _mm_set_epi32(static_cast<int>(utmp[3]), static_cast<int>(utmp[2]), static_cast<int>(utmp[1]),
                      static_cast<int>(utmp[0])));
    const __m256i q8sums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].bsums));
    const __m128i q8s = _mm_hadd_epi16(_mm256_extracti128_si256(q8sums, 0), _mm256_extracti128_si256(q8sums, 1));
    const __m128i prod = _mm_madd_epi16(_mm256_extracti128_si256(mins_and_scales, 1), q8s);
    acc_m = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(prod), acc_m);
    const __m128i sc128 = _mm256_extracti128_si256(mins_and_scales, 0);
    const __m256i scales = _mm256_inserti128_si256(_mm256_castsi128_si256(sc128), sc128, 1);
    __m256i sumi = _mm256_setzero_si256();
    for (int j = 0; j < QK_K / 64; ++j) {
      const __m256i scale_l = _mm256_shuffle_epi8(scales, scale_shuffle_k4(2 * j + 0));
      const __m256i scale_h = _mm256_shuffle_epi8(scales, scale_shuffle_k4(2 * j + 1));
      const __m256i q4bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q4));
      q4 += 32;
      const __m256i q4l = _mm256_and_si256(q4bits, m4);
      const __m256i q4h = _mm256_and_si256(_mm256_srli_epi16(q4bits, 4), m4);
      const __m256i q8l = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
      q8 += 32;
      const __m256i p16l = _mm256_madd_epi16(scale_l, _mm256_maddubs_epi16(q4l, q8l));
      const __m256i q8h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
      q8 += 32;
      const __m256i p16h = _mm256_madd_epi16(scale_h, _mm256_maddubs_epi16(q4h, q8h));
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p16l, p16h));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return detail::hsum8_pairs02(acc) + hsum4_pairs02(acc_m);
}

float dot_q4_K(int64_t n, const BlockQ4_K* x, const BlockQ8_K* y) {
  return active_isa() >= Isa::avx2 ? dot_q4_K_avx2(n, x, y) : dot_q4_K_scalar(n, x, y);
}

// ---- Q5_K ---------------------------------------------------------------------------------------------------------
float dot_q5_K_scalar(int64_t n, const BlockQ5_K* x, const BlockQ8_K* y) {
  const int64_t nb = n / QK_K;
  float acc[8] = {};
  float summs = 0.0f;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = y[i].d * fp16_to_fp32(x[i].d);
    const float dmin = -y[i].d * fp16_to_fp32(x[i].dmin);
    int sc[8], mn[8];
    scales_mins(x[i].scales, sc, mn);
    int32_t p[4];
    for (int m = 0; m < 4; ++m) p[m] = mn[2 * m] * qsum32(y[i], 2 * m) + mn[2 * m + 1] * qsum32(y[i], 2 * m + 1);
    summs = std::fmaf(dmin, static_cast<float>((p[0] + p[1]) + (p[2] + p[3])), summs);
    int32_t L[8] = {};
    for (int j = 0; j < 4; ++j) {
      const uint8_t* q5 = x[i].qs + 32 * j;
      const int8_t* q8 = y[i].qs + 64 * j;
      for (int e = 0; e < 32; ++e) {
        const int lo = (q5[e] & 15) + 16 * ((x[i].qh[e] >> (2 * j)) & 1);
        const int hi = (q5[e] >> 4) + 16 * ((x[i].qh[e] >> (2 * j + 1)) & 1);
        L[e / 4] += sc[2 * j] * lo * q8[e] + sc[2 * j + 1] * hi * q8[32 + e];
      }
    }
    for (int k = 0; k < 8; ++k) acc[k] = std::fmaf(d, static_cast<float>(L[k]), acc[k]);
  }
  return detail::hsum8_pairs02(acc) + summs;
}

CK_TARGET_AVX2 float dot_q5_K_avx2(int64_t n, const BlockQ5_K* x, const BlockQ8_K* y) {
  const int64_t nb = n / QK_K;
  uint32_t utmp[4];
  const __m256i m4 = _mm256_set1_epi8(0xF);
  const __m128i mzero = _mm_setzero_si128();
  const __m256i mone = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  float summs = 0.f;
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* q5 = x[i].qs;
    const int8_t* q8 = y[i].qs;
    const float d = y[i].d * fp16_to_fp32(x[i].d);
    const float dmin = -y[i].d * fp16_to_fp32(x[i].dmin);
    k4_utmp(x[i].scales, utmp);
    const __m256i mins_and_scales = _mm256_cvtepu8_epi16(
        _mm_set_epi32(static_cast<int>(utmp[3]), static_cast<int>(utmp[2]), static_cast<int>(utmp[1]),
                      static_cast<int>(utmp[0])));
    const __m256i q8sums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].bsums));
    const __m128i q8s = _mm_hadd_epi16(_mm256_extracti128_si256(q8sums, 0), _mm256_extracti128_si256(q8sums, 1));
    const __m128i prod = _mm_madd_epi16(_mm256_extracti128_si256(mins_and_scales, 1), q8s);
    const __m128i hsum = _mm_hadd_epi32(_mm_hadd_epi32(prod, mzero), mzero);
    summs = std::fmaf(dmin, static_cast<float>(_mm_extract_epi32(hsum, 0)), summs);
    const __m128i sc128 = _mm256_extracti128_si256(mins_and_scales, 0);
    const __m256i scales = _mm256_inserti128_si256(_mm256_castsi128_si256(sc128), sc128, 1);
    const __m256i hbits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qh));
    __m256i hmask = mone;
    __m256i sumi = _mm256_setzero_si256();
    int bit = 0;
    for (int j = 0; j < QK_K / 64; ++j) {
      const __m256i scale_0 = _mm256_shuffle_epi8(scales, scale_shuffle_k4(2 * j + 0));
      const __m256i scale_1 = _mm256_shuffle_epi8(scales, scale_shuffle_k4(2 * j + 1));
      const __m256i q5bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q5));
      q5 += 32;
      const __m256i q5l_0 = _mm256_and_si256(q5bits, m4);
      const __m256i q5h_0 = _mm256_slli_epi16(_mm256_srli_epi16(_mm256_and_si256(hbits, hmask), bit), 4);
      ++bit;
      const __m256i q5_0 = _mm256_add_epi8(q5l_0, q5h_0);
      hmask = _mm256_slli_epi16(hmask, 1);
      const __m256i q5l_1 = _mm256_and_si256(_mm256_srli_epi16(q5bits, 4), m4);
      const __m256i q5h_1 = _mm256_slli_epi16(_mm256_srli_epi16(_mm256_and_si256(hbits, hmask), bit), 4);
      ++bit;
      const __m256i q5_1 = _mm256_add_epi8(q5l_1, q5h_1);
      hmask = _mm256_slli_epi16(hmask, 1);
      const __m256i q8_0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
      q8 += 32;
      const __m256i q8_1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
      q8 += 32;
      const __m256i p16_0 = _mm256_madd_epi16(scale_0, _mm256_maddubs_epi16(q5_0, q8_0));
      const __m256i p16_1 = _mm256_madd_epi16(scale_1, _mm256_maddubs_epi16(q5_1, q8_1));
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p16_0, p16_1));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return detail::hsum8_pairs02(acc) + summs;
}

float dot_q5_K(int64_t n, const BlockQ5_K* x, const BlockQ8_K* y) {
  return active_isa() >= Isa::avx2 ? dot_q5_K_avx2(n, x, y) : dot_q5_K_scalar(n, x, y);
}

// ---- Q6_K ---------------------------------------------------------------------------------------------------------
float dot_q6_K_scalar(int64_t n, const BlockQ6_K* x, const BlockQ8_K* y) {
  const int64_t nb = n / QK_K;
  float acc[8] = {};
  for (int64_t i = 0; i < nb; ++i) {
    const float d = y[i].d * fp16_to_fp32(x[i].d);
    const int8_t* sc = x[i].scales;
    int32_t L[8];
    for (int k = 0; k < 8; ++k)
      L[k] = -32 * (y[i].bsums[2 * k] * sc[2 * k] + y[i].bsums[2 * k + 1] * sc[2 * k + 1]);
    for (int j = 0; j < 2; ++j) {
      const uint8_t* ql = x[i].ql + 64 * j;
      const uint8_t* qh = x[i].qh + 32 * j;
      const int8_t* q8 = y[i].qs + 128 * j;
      for (int e = 0; e < 32; ++e) {
        const int v0 = (ql[e] & 15) | ((qh[e] & 3) << 4);
        const int v1 = (ql[32 + e] & 15) | (((qh[e] >> 2) & 3) << 4);
        const int v2 = (ql[e] >> 4) | (((qh[e] >> 4) & 3) << 4);
        const int v3 = (ql[32 + e] >> 4) | (((qh[e] >> 6) & 3) << 4);
        const int h = e >= 16;
        L[e / 4] += sc[8 * j + 0 + h] * v0 * q8[e] + sc[8 * j + 2 + h] * v1 * q8[32 + e] +
                    sc[8 * j + 4 + h] * v2 * q8[64 + e] + sc[8 * j + 6 + h] * v3 * q8[96 + e];
      }
    }
    for (int k = 0; k < 8; ++k) acc[k] = std::fmaf(d, static_cast<float>(L[k]), acc[k]);
  }
  return detail::hsum8_pairs02(acc);
}

CK_TARGET_AVX2 float dot_q6_K_avx2(int64_t n, const BlockQ6_K* x, const BlockQ8_K* y) {
  const int64_t nb = n / QK_K;
  const __m256i m3 = _mm256_set1_epi8(3);
  const __m256i m15 = _mm256_set1_epi8(15);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const float d = y[i].d * fp16_to_fp32(x[i].d);
    const uint8_t* q4 = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* q8 = y[i].qs;
    const __m256i q8sums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].bsums));
    const __m128i scales = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
    const __m256i scales_16 = _mm256_cvtepi8_epi16(scales);
    const __m256i q8sclsub = _mm256_slli_epi32(_mm256_madd_epi16(q8sums, scales_16), 5);
    __m256i sumi = _mm256_setzero_si256();
    int is = 0;
    for (int j = 0; j < QK_K / 128; ++j) {
      const __m256i q4bits1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q4));
      q4 += 32;
      const __m256i q4bits2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q4));
      q4 += 32;
      const __m256i q4bitsH = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qh));
      qh += 32;
      const __m256i q4h_0 = _mm256_slli_epi16(_mm256_and_si256(q4bitsH, m3), 4);
      const __m256i q4h_1 = _mm256_slli_epi16(_mm256_and_si256(q4bitsH, _mm256_set1_epi8(12)), 2);
      const __m256i q4h_2 = _mm256_and_si256(q4bitsH, _mm256_set1_epi8(48));
      const __m256i q4h_3 = _mm256_srli_epi16(_mm256_and_si256(q4bitsH, _mm256_set1_epi8(-64)), 2);
      const __m256i q4_0 = _mm256_or_si256(_mm256_and_si256(q4bits1, m15), q4h_0);
      const __m256i q4_1 = _mm256_or_si256(_mm256_and_si256(q4bits2, m15), q4h_1);
      const __m256i q4_2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4bits1, 4), m15), q4h_2);
      const __m256i q4_3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4bits2, 4), m15), q4h_3);
      const __m256i q8_0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
      q8 += 32;
      const __m256i q8_1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
      q8 += 32;
      const __m256i q8_2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
      q8 += 32;
      const __m256i q8_3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
      q8 += 32;
      __m256i p16_0 = _mm256_maddubs_epi16(q4_0, q8_0);
      __m256i p16_1 = _mm256_maddubs_epi16(q4_1, q8_1);
      __m256i p16_2 = _mm256_maddubs_epi16(q4_2, q8_2);
      __m256i p16_3 = _mm256_maddubs_epi16(q4_3, q8_3);
      const __m128i scale_0 = _mm_shuffle_epi8(scales, scale_shuffle_q6(is + 0));
      const __m128i scale_1 = _mm_shuffle_epi8(scales, scale_shuffle_q6(is + 1));
      const __m128i scale_2 = _mm_shuffle_epi8(scales, scale_shuffle_q6(is + 2));
      const __m128i scale_3 = _mm_shuffle_epi8(scales, scale_shuffle_q6(is + 3));
      is += 4;
      p16_0 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scale_0), p16_0);
      p16_1 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scale_1), p16_1);
      p16_2 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scale_2), p16_2);
      p16_3 = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scale_3), p16_3);
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p16_0, p16_1));
      sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(p16_2, p16_3));
    }
    sumi = _mm256_sub_epi32(sumi, q8sclsub);
    acc = _mm256_fmadd_ps(_mm256_broadcast_ss(&d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return detail::hsum8_pairs02(acc);
}

// AVX-512: two 32-element chunks per zmm (chunks t, t+1 are 64 contiguous q8 bytes; their 6-bit quants come from
// the same 64 ql bytes and 32 qh bytes, the halves differing only in the qh shift). Each int32 lane of the
// zmm sum is one lane of dot_q6_K_avx2's sumi restricted to even (low half) resp. odd (high half) chunks;
// adding the halves gives exactly upstream's integer lane (exact int32 sums, no maddubs saturation: pair sums
// <= 2*63*128), then the same sub / cvt / fmadd / hsum_float_8 -- the same bits.
// GCC 12 reports false -W(maybe-)uninitialized positives inside avx512fintrin.h's intrinsics.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
CK_TARGET_AVX512 float dot_q6_K_avx512(int64_t n, const BlockQ6_K* x, const BlockQ8_K* y) {
  const int64_t nb = n / QK_K;
  const __m512i m15 = _mm512_set1_epi8(15), m30 = _mm512_set1_epi8(0x30);
  // qh bits of chunk pair (0,1): (qh << 4 | qh << 2) & 0x30; pair (2,3): (qh | qh >> 2) & 0x30 (16-bit shifts;
  // the bits a shift moves across a byte boundary fall outside 0x30).
  const __m512i sh01 = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
  const __m512i sh23 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
  // Per chunk pair p: int8 scale bytes sc[4p], sc[4p+1] (low 128-bit lane, 8 each), sc[4p+2], sc[4p+3] (high).
  alignas(32) static const uint8_t k_sc[4][32] = {
      {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3},
      {4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7},
      {8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11},
      {12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13, 14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15,
       15, 15, 15, 15}};
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    // Mat-vec rows are read one after another: prefetch the stream (prefetch.h; 210-byte blocks span <= 4 lines).
    for (int l = 0; l < 4; ++l) prefetch_stream_ahead(reinterpret_cast<const char*>(x + i) + 64 * l);
    const float d = y[i].d * fp16_to_fp32(x[i].d);
    const __m256i q8sums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[i].bsums));
    const __m128i scales = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
    const __m256i scales_16 = _mm256_cvtepi8_epi16(scales);
    const __m256i q8sclsub = _mm256_slli_epi32(_mm256_madd_epi16(q8sums, scales_16), 5);
    const __m256i sc2 = _mm256_broadcastsi128_si256(scales);
    __m512i sumi = _mm512_setzero_si512();
    for (int j = 0; j < QK_K / 128; ++j) {
      const __m512i lo = _mm512_loadu_si512(x[i].ql + 64 * j);
      const __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qh + 32 * j)));
      const __m512i q01 = _mm512_or_si512(_mm512_and_si512(lo, m15), _mm512_and_si512(_mm512_sllv_epi16(hb, sh01), m30));
      const __m512i q23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(lo, 4), m15),
                                          _mm512_and_si512(_mm512_srlv_epi16(hb, sh23), m30));
      const __m512i y01 = _mm512_loadu_si512(y[i].qs + 128 * j);
      const __m512i y23 = _mm512_loadu_si512(y[i].qs + 128 * j + 64);
      const __m512i s01 = _mm512_cvtepi8_epi16(
          _mm256_shuffle_epi8(sc2, _mm256_load_si256(reinterpret_cast<const __m256i*>(k_sc[2 * j]))));
      const __m512i s23 = _mm512_cvtepi8_epi16(
          _mm256_shuffle_epi8(sc2, _mm256_load_si256(reinterpret_cast<const __m256i*>(k_sc[2 * j + 1]))));
      const __m512i p01 = _mm512_madd_epi16(s01, _mm512_maddubs_epi16(q01, y01));
      const __m512i p23 = _mm512_madd_epi16(s23, _mm512_maddubs_epi16(q23, y23));
      sumi = _mm512_add_epi32(sumi, _mm512_add_epi32(p01, p23));
    }
    __m256i s8 = _mm256_add_epi32(_mm512_castsi512_si256(sumi), _mm512_extracti64x4_epi64(sumi, 1));
    s8 = _mm256_sub_epi32(s8, q8sclsub);
    acc = _mm256_fmadd_ps(_mm256_broadcast_ss(&d), _mm256_cvtepi32_ps(s8), acc);
  }
  return detail::hsum8_pairs02(acc);
}
#pragma GCC diagnostic pop

float dot_q6_K(int64_t n, const BlockQ6_K* x, const BlockQ8_K* y) {
  const Isa isa = active_isa();
  if (isa >= Isa::avx512) return dot_q6_K_avx512(n, x, y);
  return isa >= Isa::avx2 ? dot_q6_K_avx2(n, x, y) : dot_q6_K_scalar(n, x, y);
}

// ---- Q4_0 ---------------------------------------------------------------------------------------------------------
float dot_q4_0_scalar(int64_t n, const BlockQ4_0* x, const BlockQ8_0* y) {
  const int64_t nb = n / QK4_0;
  float acc[8] = {};
  for (int64_t b = 0; b < nb; ++b) {
    const float d = fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d);
    for (int k = 0; k < 8; ++k) {
      int32_t s = 0;
      for (int e = 4 * k; e < 4 * k + 4; ++e) {
        const int8_t qx = static_cast<int8_t>((e < 16 ? (x[b].qs[e] & 15) : (x[b].qs[e - 16] >> 4)) - 8);
        s += static_cast<uint8_t>(sign8(qx, qx)) * sign8(y[b].qs[e], qx);  // |x| * sign(y, x): maddubs, no saturation
      }
      acc[k] = std::fmaf(d, static_cast<float>(s), acc[k]);
    }
  }
  return detail::hsum8_pairs02(acc);
}

CK_TARGET_AVX2 float dot_q4_0_avx2(int64_t n, const BlockQ4_0* x, const BlockQ8_0* y) {
  const int64_t nb = n / QK4_0;
  __m256 acc = _mm256_setzero_ps();
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b) {
    const __m256 d = _mm256_set1_ps(fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d));
    const __m128i tmp = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].qs));
    __m256i qx = _mm256_and_si256(_mm256_set1_epi8(0xF),
                                  _mm256_insertf128_si256(_mm256_castsi128_si256(tmp), _mm_srli_epi16(tmp, 4), 1));
    qx = _mm256_sub_epi8(qx, _mm256_set1_epi8(8));
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
    const __m256i ax = _mm256_sign_epi8(qx, qx);
    const __m256i sy = _mm256_sign_epi8(qy, qx);
    const __m256 q = _mm256_cvtepi32_ps(_mm256_madd_epi16(ones, _mm256_maddubs_epi16(ax, sy)));
    acc = _mm256_fmadd_ps(d, q, acc);
  }
  return detail::hsum8_pairs02(acc);
}

float dot_q4_0(int64_t n, const BlockQ4_0* x, const BlockQ8_0* y) {
  return active_isa() >= Isa::avx2 ? dot_q4_0_avx2(n, x, y) : dot_q4_0_scalar(n, x, y);
}

// ---- Q5_0 ---------------------------------------------------------------------------------------------------------
// Element e = nibble (low half of qs[e] for e < 16, high half of qs[e-16] otherwise) | (bit e of qh ? 0 : 0xF0),
// i.e. nibble + 16 * bit - 16 in [-16, 15] (bytes_from_nibbles_32 | andnot(bytes_from_bits_32, 0xF0)); then
// mul_sum_i8_pairs_float exactly as Q4_0. |x| <= 16 so maddubs never saturates.
float dot_q5_0_scalar(int64_t n, const BlockQ5_0* x, const BlockQ8_0* y) {
  const int64_t nb = n / QK5_0;
  float acc[8] = {};
  for (int64_t b = 0; b < nb; ++b) {
    const float d = fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d);
    uint32_t qh;
    std::memcpy(&qh, x[b].qh, 4);
    for (int k = 0; k < 8; ++k) {
      int32_t s = 0;
      for (int e = 4 * k; e < 4 * k + 4; ++e) {
        const int nib = e < 16 ? (x[b].qs[e] & 15) : (x[b].qs[e - 16] >> 4);
        const int8_t qx = static_cast<int8_t>(nib + 16 * static_cast<int>((qh >> e) & 1) - 16);
        s += static_cast<uint8_t>(sign8(qx, qx)) * sign8(y[b].qs[e], qx);
      }
      acc[k] = std::fmaf(d, static_cast<float>(s), acc[k]);
    }
  }
  return detail::hsum8_pairs02(acc);
}

CK_TARGET_AVX2 float dot_q5_0_avx2(int64_t n, const BlockQ5_0* x, const BlockQ8_0* y) {
  const int64_t nb = n / QK5_0;
  __m256 acc = _mm256_setzero_ps();
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
  const __m256i bit_mask = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe);
  for (int64_t b = 0; b < nb; ++b) {
    const __m256 d = _mm256_set1_ps(fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d));
    const __m128i tmp = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].qs));
    __m256i qx = _mm256_and_si256(_mm256_set1_epi8(0xF),
                                  _mm256_insertf128_si256(_mm256_castsi128_si256(tmp), _mm_srli_epi16(tmp, 4), 1));
    uint32_t x32;
    std::memcpy(&x32, x[b].qh, 4);
    __m256i bits = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(x32)), shuf);
    bits = _mm256_cmpeq_epi8(_mm256_or_si256(bits, bit_mask), _mm256_set1_epi64x(-1));
    qx = _mm256_or_si256(qx, _mm256_andnot_si256(bits, _mm256_set1_epi8(static_cast<char>(0xF0))));
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
    const __m256i ax = _mm256_sign_epi8(qx, qx);
    const __m256i sy = _mm256_sign_epi8(qy, qx);
    const __m256 q = _mm256_cvtepi32_ps(_mm256_madd_epi16(ones, _mm256_maddubs_epi16(ax, sy)));
    acc = _mm256_fmadd_ps(d, q, acc);
  }
  return detail::hsum8_pairs02(acc);
}

float dot_q5_0(int64_t n, const BlockQ5_0* x, const BlockQ8_0* y) {
  return active_isa() >= Isa::avx2 ? dot_q5_0_avx2(n, x, y) : dot_q5_0_scalar(n, x, y);
}

// ---- mat-muls: one dot per output ---------------------------------------------------------------------------------
namespace {
template <typename W, typename A, float (*Scalar)(int64_t, const W*, const A*), float (*Simd)(int64_t, const W*, const A*)>
void matmul_dots(int64_t m, int64_t n, int64_t k, const W* Aw, int64_t lda, const A* B, int64_t ldb, float* C,
                 int64_t ldc, int ith, int nth) {
  const auto [i0, i1] = split_range(static_cast<size_t>(m), ith, nth);
  const bool simd = active_isa() >= Isa::avx2;
  for (int64_t j = 0; j < n; ++j)
    for (size_t i = i0; i < i1; ++i)
      C[j * ldc + static_cast<int64_t>(i)] =
          simd ? Simd(k, Aw + i * lda, B + j * ldb) : Scalar(k, Aw + i * lda, B + j * ldb);
}
}  // namespace

void matmul_q4_K(int64_t m, int64_t n, int64_t k, const BlockQ4_K* A, int64_t lda, const BlockQ8_K* B, int64_t ldb,
                 float* C, int64_t ldc, int ith, int nth) {
  matmul_dots<BlockQ4_K, BlockQ8_K, dot_q4_K_scalar, dot_q4_K_avx2>(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
}
void matmul_q5_K(int64_t m, int64_t n, int64_t k, const BlockQ5_K* A, int64_t lda, const BlockQ8_K* B, int64_t ldb,
                 float* C, int64_t ldc, int ith, int nth) {
  matmul_dots<BlockQ5_K, BlockQ8_K, dot_q5_K_scalar, dot_q5_K_avx2>(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
}
// Q6_K mat-mul tile: one weight row x RN activation rows. Each weight block is unpacked once (6-bit quants,
// per-32 scales) and used for the RN columns; every output keeps dot_q6_K_avx2's lanes: sumi lane = the same
// exact integer sum, then sumi - 32*sum(scale*bsum), acc = fmadd(d, (float)sumi, acc), hsum_float_8 -- the same
// bits. (maddubs cannot saturate here: |q6 * q8| pair sums <= 2*63*128.)
template <int RN>
CK_TARGET_AVX2 void tile_q6_K_avx2(int64_t nb, const BlockQ6_K* x, const BlockQ8_K* B, int64_t ldb, float* C,
                                   int64_t ldc) {
  const __m256i m3 = _mm256_set1_epi8(3), m15 = _mm256_set1_epi8(15);
  __m256 acc[RN];
  for (int c = 0; c < RN; ++c) acc[c] = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    __m256i q6[8], sc[8];
    const __m128i scales = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[i].scales));
    const __m256i scales_16 = _mm256_cvtepi8_epi16(scales);
    const float xd = fp16_to_fp32(x[i].d);
    for (int j = 0; j < QK_K / 128; ++j) {
      const uint8_t* q4 = x[i].ql + 64 * j;
      const __m256i q4bits1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q4));
      const __m256i q4bits2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q4 + 32));
      const __m256i q4bitsH = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[i].qh + 32 * j));
      const __m256i q4h_0 = _mm256_slli_epi16(_mm256_and_si256(q4bitsH, m3), 4);
      const __m256i q4h_1 = _mm256_slli_epi16(_mm256_and_si256(q4bitsH, _mm256_set1_epi8(12)), 2);
      const __m256i q4h_2 = _mm256_and_si256(q4bitsH, _mm256_set1_epi8(48));
      const __m256i q4h_3 = _mm256_srli_epi16(_mm256_and_si256(q4bitsH, _mm256_set1_epi8(-64)), 2);
      q6[4 * j + 0] = _mm256_or_si256(_mm256_and_si256(q4bits1, m15), q4h_0);
      q6[4 * j + 1] = _mm256_or_si256(_mm256_and_si256(q4bits2, m15), q4h_1);
      q6[4 * j + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4bits1, 4), m15), q4h_2);
      q6[4 * j + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q4bits2, 4), m15), q4h_3);
      for (int t = 0; t < 4; ++t)
        sc[4 * j + t] = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(scales, scale_shuffle_q6(4 * j + t)));
    }
    for (int c = 0; c < RN; ++c) {
      const BlockQ8_K& y = B[c * ldb + i];
      const float d = y.d * xd;
      const __m256i q8sums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums));
      const __m256i q8sclsub = _mm256_slli_epi32(_mm256_madd_epi16(q8sums, scales_16), 5);
      __m256i sumi = _mm256_setzero_si256();
      for (int t = 0; t < 8; ++t) {
        const __m256i q8 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs + 32 * t));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(sc[t], _mm256_maddubs_epi16(q6[t], q8)));
      }
      sumi = _mm256_sub_epi32(sumi, q8sclsub);
      acc[c] = _mm256_fmadd_ps(_mm256_broadcast_ss(&d), _mm256_cvtepi32_ps(sumi), acc[c]);
    }
  }
  for (int c = 0; c < RN; ++c) C[c * ldc] = detail::hsum8_pairs02(acc[c]);
}

void matmul_q6_K(int64_t m, int64_t n, int64_t k, const BlockQ6_K* A, int64_t lda, const BlockQ8_K* B, int64_t ldb,
                 float* C, int64_t ldc, int ith, int nth) {
  if (active_isa() >= Isa::avx512 && n < 4) {
    matmul_dots<BlockQ6_K, BlockQ8_K, dot_q6_K_scalar, dot_q6_K_avx512>(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
    return;
  }
  if (active_isa() < Isa::avx2 || n < 4) {
    matmul_dots<BlockQ6_K, BlockQ8_K, dot_q6_K_scalar, dot_q6_K_avx2>(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
    return;
  }
  const auto [i0, i1] = split_range(static_cast<size_t>(m), ith, nth);
  const int64_t nb = k / QK_K;
  // Weight rows in L2-sized chunks; each chunk sees every activation column in groups of 4.
  const int64_t chunk = std::max<int64_t>(1, (int64_t(128) << 10) / std::max<int64_t>(1, nb * 210));
  for (int64_t c0 = int64_t(i0); c0 < int64_t(i1); c0 += chunk) {
    const int64_t c1 = std::min<int64_t>(int64_t(i1), c0 + chunk);
    int64_t j = 0;
    for (; j + 4 <= n; j += 4)
      for (int64_t r = c0; r < c1; ++r) tile_q6_K_avx2<4>(nb, A + r * lda, B + j * ldb, ldb, C + j * ldc + r, ldc);
    for (; j < n; ++j)
      for (int64_t r = c0; r < c1; ++r) C[j * ldc + r] = dot_q6_K(k, A + r * lda, B + j * ldb);
  }
}
void matmul_q4_0(int64_t m, int64_t n, int64_t k, const BlockQ4_0* A, int64_t lda, const BlockQ8_0* B, int64_t ldb,
                 float* C, int64_t ldc, int ith, int nth) {
  matmul_dots<BlockQ4_0, BlockQ8_0, dot_q4_0_scalar, dot_q4_0_avx2>(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
}

void matmul_q5_0(int64_t m, int64_t n, int64_t k, const BlockQ5_0* A, int64_t lda, const BlockQ8_0* B, int64_t ldb,
                 float* C, int64_t ldc, int ith, int nth) {
  matmul_dots<BlockQ5_0, BlockQ8_0, dot_q5_0_scalar, dot_q5_0_avx2>(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
}

}  // namespace ck::kernels
