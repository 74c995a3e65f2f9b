// Q4_K x q8_K through ggml's CPU_REPACK path.
//
// Mirrors ggml_gemv_q4_K_8x8_q8_K and ggml_gemm_q4_K_8x8_q8_K (ggml/src/ggml-cpu/arch/x86/repack.cpp, b10256,
// AVX2 branches; AVX-512 16-column blocks give the same per-output math) as driven by forward_mul_mat
// (ggml-cpu/repack.cpp). Per output (weight row, activation row) and super-block, with exact integers
// S_sb = sc_{2sb} * sum_32(lo4 * q8) + sc_{2sb+1} * sum_32(hi4 * q8) and M_sb = m_{2sb} * Q_{2sb} + m_{2sb+1} *
// Q_{2sb+1} (Q_t = sum of the q8 of sub-block t), ds = fp16(w.d) * a.d, dm = fp16(w.dmin) * a.d:
//   gemv: acc  = fma((float)(S_0+S_1+S_2+S_3), ds, acc);  accm = fma((float)(M_0+..+M_3), dm, accm)
//   gemm: for sb < 4: acc = fma((float)S_sb, ds, acc);  accm = fma((float)M_sb, dm, accm)
//   result = acc - accm.
// The gemm rows' activations come from ggml_quantize_mat_q8_K_4x8, which equals quantize_row_q8_K except that a
// tie between +amax and -amax may flip the signs of d and all q together — the products are unchanged.
#include "kernels/matmul_q4_K_repack.h"

#include <immintrin.h>

#include <cmath>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/isa.h"

namespace ck::kernels {

namespace {

// Integer sums S_sb and M_sb of one super-block.
inline void block_sums_scalar(const BlockQ4_K& x, const BlockQ8_K& y, int32_t S[4], int32_t M[4]) {
  for (int sb = 0; sb < 4; ++sb) {
    uint8_t sc0, m0, sc1, m1;
    get_scale_min_k4(2 * sb, x.scales, &sc0, &m0);
    get_scale_min_k4(2 * sb + 1, x.scales, &sc1, &m1);
    int32_t lo = 0, hi = 0;
    for (int e = 0; e < 32; ++e) {
      lo += (x.qs[32 * sb + e] & 15) * y.qs[64 * sb + e];
      hi += (x.qs[32 * sb + e] >> 4) * y.qs[64 * sb + 32 + e];
    }
    S[sb] = sc0 * lo + sc1 * hi;
    const int32_t q0 = y.bsums[4 * sb] + y.bsums[4 * sb + 1], q1 = y.bsums[4 * sb + 2] + y.bsums[4 * sb + 3];
    M[sb] = m0 * q0 + m1 * q1;
  }
}

CK_TARGET_AVX2 inline int32_t hsum_i32_8(__m256i a) {
  const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  const __m128i h = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  return _mm_cvtsi128_si32(_mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1))));
}

CK_TARGET_AVX2 inline void block_sums_avx2(const BlockQ4_K& x, const BlockQ8_K& y, int32_t S[4], int32_t M[4]) {
  const __m256i m4 = _mm256_set1_epi8(0xF), ones = _mm256_set1_epi16(1);
  for (int sb = 0; sb < 4; ++sb) {
    uint8_t sc0, m0, sc1, m1;
    get_scale_min_k4(2 * sb, x.scales, &sc0, &m0);
    get_scale_min_k4(2 * sb + 1, x.scales, &sc1, &m1);
    const __m256i q4 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 32 * sb));
    const __m256i q8l = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs + 64 * sb));
    const __m256i q8h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs + 64 * sb + 32));
    const __m256i pl = _mm256_madd_epi16(ones, _mm256_maddubs_epi16(_mm256_and_si256(q4, m4), q8l));
    const __m256i ph = _mm256_madd_epi16(ones, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q4, 4), m4), q8h));
    S[sb] = sc0 * hsum_i32_8(pl) + sc1 * hsum_i32_8(ph);
    const int32_t q0 = y.bsums[4 * sb] + y.bsums[4 * sb + 1], q1 = y.bsums[4 * sb + 2] + y.bsums[4 * sb + 3];
    M[sb] = m0 * q0 + m1 * q1;
  }
}

template <bool kGemm, void (*Sums)(const BlockQ4_K&, const BlockQ8_K&, int32_t*, int32_t*)>
inline float q4_K_repack_one(int64_t k, const BlockQ4_K* x, const BlockQ8_K* y) {
  float acc = 0.0f, accm = 0.0f;
  for (int64_t b = 0; b < k / QK_K; ++b) {
    const float ds = fp16_to_fp32(x[b].d) * y[b].d;
    const float dm = fp16_to_fp32(x[b].dmin) * y[b].d;
    int32_t S[4], M[4];
    Sums(x[b], y[b], S, M);
    if constexpr (kGemm) {
      for (int sb = 0; sb < 4; ++sb) {
        acc = std::fmaf(static_cast<float>(S[sb]), ds, acc);
        accm = std::fmaf(static_cast<float>(M[sb]), dm, accm);
      }
    } else {
      acc = std::fmaf(static_cast<float>(S[0] + S[1] + S[2] + S[3]), ds, acc);
      accm = std::fmaf(static_cast<float>(M[0] + M[1] + M[2] + M[3]), dm, accm);
    }
  }
  return acc - accm;
}

}  // namespace

float gemv_q4_K_scalar(int64_t k, const BlockQ4_K* x, const BlockQ8_K* y) {
  return q4_K_repack_one<false, block_sums_scalar>(k, x, y);
}
CK_TARGET_AVX2 float gemv_q4_K_avx2(int64_t k, const BlockQ4_K* x, const BlockQ8_K* y) {
  return q4_K_repack_one<false, block_sums_avx2>(k, x, y);
}
float gemm_q4_K_scalar(int64_t k, const BlockQ4_K* x, const BlockQ8_K* y) {
  return q4_K_repack_one<true, block_sums_scalar>(k, x, y);
}
CK_TARGET_AVX2 float gemm_q4_K_avx2(int64_t k, const BlockQ4_K* x, const BlockQ8_K* y) {
  return q4_K_repack_one<true, block_sums_avx2>(k, x, y);
}

void matmul_q4_K_repack(int64_t m, int64_t n, int64_t k, const BlockQ4_K* A, int64_t lda, const BlockQ8_K* B,
                        int64_t ldb, float* C, int64_t ldc, int ith, int nth) {
  const auto [i0, i1] = split_range(static_cast<size_t>(m), ith, nth);
  const bool simd = active_isa() >= Isa::avx2;
  const int64_t n_gemm = n - n % 4;
  for (int64_t j = 0; j < n; ++j) {
    const bool gemm = j < n_gemm;
    for (size_t i = i0; i < i1; ++i) {
      const BlockQ4_K* x = A + i * lda;
      const BlockQ8_K* y = B + j * ldb;
      float r;
      if (simd) r = gemm ? gemm_q4_K_avx2(k, x, y) : gemv_q4_K_avx2(k, x, y);
      else r = gemm ? gemm_q4_K_scalar(k, x, y) : gemv_q4_K_scalar(k, x, y);
      C[j * ldc + static_cast<int64_t>(i)] = r;
    }
  }
}

}  // namespace ck::kernels
