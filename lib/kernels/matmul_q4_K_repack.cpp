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

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/isa.h"
#include "kernels/prefetch.h"

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

// ---- 8-row tiles (AVX2) ------------------------------------------------------------------------------------------
// Eight weight rows at once, one float lane per row (the layout ggml's block_q4_Kx8 kernels compute in), for RN
// activation rows. The integer sums S_sb / M_sb are exact whatever the summation order, so they are formed with
// the scale folded into madd_epi16 and an 8-row transpose-add; the float steps per lane are exactly the per-output
// ones above: ds = fp16(w.d) * a.d, dm = fp16(w.dmin) * a.d, fma((float)S, ds, acc), fma((float)M, dm, accm) per
// sub-block pair (gemm) or per super-block (gemv), result acc - accm.
namespace {
CK_TARGET_AVX2 inline __m256i hsum8x8_i32(const __m256i p[8]) {
  const __m256i a01 = _mm256_hadd_epi32(p[0], p[1]), a23 = _mm256_hadd_epi32(p[2], p[3]);
  const __m256i a45 = _mm256_hadd_epi32(p[4], p[5]), a67 = _mm256_hadd_epi32(p[6], p[7]);
  const __m256i b0 = _mm256_hadd_epi32(a01, a23), b1 = _mm256_hadd_epi32(a45, a67);
  return _mm256_add_epi32(_mm256_permute2x128_si256(b0, b1, 0x20), _mm256_permute2x128_si256(b0, b1, 0x31));
}

// Scales and mins of a Q4_K super-block as 16 bytes (8 scales, then 8 mins): get_scale_min_k4 for j = 0..7 done
// on 32-bit words (the kmask trick of ggml's x86 kernels).
inline void scales_mins_k4(const uint8_t* q, uint32_t u[4]) {
  constexpr uint32_t kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
  std::memcpy(u, q, 12);
  u[3] = ((u[2] >> 4) & kmask2) | (((u[1] >> 6) & kmask3) << 4);
  const uint32_t uaux = u[1] & kmask1;
  u[1] = (u[2] & kmask2) | (((u[0] >> 6) & kmask3) << 4);
  u[2] = uaux;
  u[0] &= kmask1;
}

template <bool kGemm, int RN>
CK_TARGET_AVX2 void tile8_q4_K_avx2(int64_t nb, const BlockQ4_K* A, int64_t lda, const BlockQ8_K* B, int64_t ldb,
                                    float* C, int64_t ldc, const BlockQ4_K* pf) {
  __m256 acc[RN], accm[RN];
  for (int j = 0; j < RN; ++j) acc[j] = accm[j] = _mm256_setzero_ps();
  const __m256i m4 = _mm256_set1_epi8(0xF);
  alignas(32) __m256i lo[4][8], hi[4][8];  // nibbles [sub-block pair][row] (shared by the RN columns)
  alignas(32) int16_t sc[8][8];            // [row][sub-block] 6-bit scales
  __m128i mins[8];                          // per row: 8 mins as int16
  alignas(16) uint16_t dh[8], mh[8];
  for (int64_t b = 0; b < nb; ++b) {
    for (int r = 0; r < 8; ++r) {
      const BlockQ4_K& x = A[r * lda + b];
      if (pf) {  // the same block of the next 8-row tile: one tile ahead of the loads (no effect on results)
        const char* q = reinterpret_cast<const char*>(&pf[r * lda + b]);
        _mm_prefetch(q, _MM_HINT_T0);
        _mm_prefetch(q + 64, _MM_HINT_T0);
        _mm_prefetch(q + 128, _MM_HINT_T0);
      }
      dh[r] = x.d, mh[r] = x.dmin;
      alignas(16) uint32_t u[4];
      scales_mins_k4(x.scales, u);
      const __m128i sm = _mm_load_si128(reinterpret_cast<const __m128i*>(u));
      _mm_store_si128(reinterpret_cast<__m128i*>(sc[r]), _mm_cvtepu8_epi16(sm));
      mins[r] = _mm_cvtepu8_epi16(_mm_srli_si128(sm, 8));
      if constexpr (RN > 1)
        for (int sb = 0; sb < 4; ++sb) {
          const __m256i q4 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.qs + 32 * sb));
          lo[sb][r] = _mm256_and_si256(q4, m4);
          hi[sb][r] = _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4);
        }
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(dh)));
    const __m256 mw = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(mh)));
    for (int j = 0; j < RN; ++j) {
      const BlockQ8_K& y = B[j * ldb + b];
      const __m256 yd = _mm256_set1_ps(y.d);
      const __m256 ds = _mm256_mul_ps(dw, yd), dm = _mm256_mul_ps(mw, yd);
      // M_sb of the 8 rows: madd(mins, Q) gives m_{2sb} Q_{2sb} + m_{2sb+1} Q_{2sb+1} per row, then a 4x4
      // transpose per 128-bit half (rows r | r+4). Q_t = bsums[2t] + bsums[2t+1] (sub-block t's q8 sum).
      const __m128i Q = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y.bsums)),
                                       _mm_loadu_si128(reinterpret_cast<const __m128i*>(y.bsums + 8)));
      __m256i X[4];
      for (int r = 0; r < 4; ++r)
        X[r] = _mm256_set_m128i(_mm_madd_epi16(mins[r + 4], Q), _mm_madd_epi16(mins[r], Q));
      const __m256i t0 = _mm256_unpacklo_epi32(X[0], X[1]), t1 = _mm256_unpackhi_epi32(X[0], X[1]);
      const __m256i t2 = _mm256_unpacklo_epi32(X[2], X[3]), t3 = _mm256_unpackhi_epi32(X[2], X[3]);
      const __m256i Msb[4] = {_mm256_unpacklo_epi64(t0, t2), _mm256_unpackhi_epi64(t0, t2),
                              _mm256_unpacklo_epi64(t1, t3), _mm256_unpackhi_epi64(t1, t3)};
      __m256i Ssum = _mm256_setzero_si256();
      for (int sb = 0; sb < 4; ++sb) {
        const __m256i q8l = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs + 64 * sb));
        const __m256i q8h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs + 64 * sb + 32));
        __m256i p[8];
        for (int r = 0; r < 8; ++r) {
          __m256i l, h;
          if constexpr (RN > 1) {
            l = lo[sb][r], h = hi[sb][r];
          } else {
            const __m256i q4 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(A[r * lda + b].qs + 32 * sb));
            l = _mm256_and_si256(q4, m4), h = _mm256_and_si256(_mm256_srli_epi16(q4, 4), m4);
          }
          p[r] = _mm256_add_epi32(_mm256_madd_epi16(_mm256_set1_epi16(sc[r][2 * sb]), _mm256_maddubs_epi16(l, q8l)),
                                  _mm256_madd_epi16(_mm256_set1_epi16(sc[r][2 * sb + 1]), _mm256_maddubs_epi16(h, q8h)));
        }
        const __m256i S = hsum8x8_i32(p);
        if constexpr (kGemm) {
          acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(S), ds, acc[j]);
          accm[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(Msb[sb]), dm, accm[j]);
        } else {
          Ssum = _mm256_add_epi32(Ssum, S);
        }
      }
      if constexpr (!kGemm) {
        const __m256i Msum = _mm256_add_epi32(_mm256_add_epi32(Msb[0], Msb[1]), _mm256_add_epi32(Msb[2], Msb[3]));
        acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(Ssum), ds, acc[j]);
        accm[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(Msum), dm, accm[j]);
      }
    }
  }
  for (int j = 0; j < RN; ++j) _mm256_storeu_ps(C + j * ldc, _mm256_sub_ps(acc[j], accm[j]));
}

// Weight rows [r0, r1) (r1 - r0 a multiple of 8) x all n activation rows, rows in L2-sized chunks.
CK_TARGET_AVX2 void matmul_q4_K_repack_avx2(int64_t r0, int64_t r1, int64_t n, int64_t k, const BlockQ4_K* A,
                                            int64_t lda, const BlockQ8_K* B, int64_t ldb, float* C, int64_t ldc) {
  const int64_t nb = k / QK_K, n_gemm = n - n % 4;
  const int64_t chunk = std::max<int64_t>(8, (int64_t(128) << 10) / std::max<int64_t>(1, nb * 144) / 8 * 8);
  for (int64_t c0 = r0; c0 < r1; c0 += chunk) {
    const int64_t c1 = std::min(r1, c0 + chunk);
    for (int64_t j = 0; j < n_gemm; j += 4)
      for (int64_t i = c0; i < c1; i += 8)
        tile8_q4_K_avx2<true, 4>(nb, A + i * lda, lda, B + j * ldb, ldb, C + j * ldc + i, ldc,
                                 i + 8 < r1 ? A + (i + 8) * lda : nullptr);
    for (int64_t j = n_gemm; j < n; ++j)
      for (int64_t i = c0; i < c1; i += 8)
        tile8_q4_K_avx2<false, 1>(nb, A + i * lda, lda, B + j * ldb, ldb, C + j * ldc + i, ldc,
                                  i + 8 < r1 ? A + (i + 8) * lda : nullptr);
  }
}

// ---- 16-row packs (AVX-512) --------------------------------------------------------------------------------------
// ggml's AVX-512 build runs ggml_gemm_q4_K_8x8_q8_K's __AVX512BW__ branch: 16 weight rows (two block_q4_Kx8) x 16
// activation rows per pass, one float lane per weight row, and per (output, super-block, sub-block pair) exactly
// the AVX2 branch's steps: acc = fma((float)S_sb, d_w * d_a, acc), accm = fma((float)M_sb, dmin_w * d_a, accm),
// result acc - accm (that build's Q4_K outputs equal the AVX2 build's bit for bit). ck does the same float steps
// per lane. The exact integers S_sb / M_sb are formed vertically, without horizontal sums: each thread first
// copies an L2-sized chunk of weight rows into Pack16 (lane r = row r, one dword = 4 consecutive quant bytes), then
// for every activation row one 4-byte group of q8 is broadcast to all 16 lanes and maddubs-ed against the
// nibbles; the int16 lanes sum 16 products of |nibble * q8| <= 15 * 128 (|sum| <= 30720: no wrap, and maddubs
// pairs never saturate), madd with the 6-bit scale, low + high sub-block in int32.
// GCC 12 reports false -W(maybe-)uninitialized positives inside avx512fintrin.h's intrinsics (their "__Y = __Y"
// undefined-vector idiom) once they are inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
struct alignas(64) Pack16 {
  uint8_t qs[32][64];   // [c][4r + i] = row r's qs[4c + i]: low nibbles sub-block 2(c/8), high nibbles 2(c/8)+1
  int32_t sc[8][16];    // [t][r] = scale t of row r in both int16 halves (madd weights)
  int32_t mins[4][16];  // [sb][r] = (m_{2sb}, m_{2sb+1}) of row r as two int16
  float d[16], dmin[16];  // fp16 d / dmin of row r, converted (exact)
};
static_assert(sizeof(Pack16) == 2944, "Pack16 layout");

// Pack 16 weight rows x nb super-blocks (P[b]); a layout change only.
void pack16_q4_K(int64_t nb, const BlockQ4_K* A, int64_t lda, Pack16* P) {
  for (int r = 0; r < 16; ++r)
    for (int64_t b = 0; b < nb; ++b) {
      const BlockQ4_K& x = A[r * lda + b];
      Pack16& p = P[b];
      for (int c = 0; c < 32; ++c) std::memcpy(&p.qs[c][4 * r], x.qs + 4 * c, 4);
      alignas(16) uint32_t u[4];
      scales_mins_k4(x.scales, u);
      uint8_t s[16];
      std::memcpy(s, u, 16);  // s[0..7] scales, s[8..15] mins
      for (int t = 0; t < 8; ++t) p.sc[t][r] = int32_t(s[t]) | (int32_t(s[t]) << 16);
      for (int sb = 0; sb < 4; ++sb) p.mins[sb][r] = int32_t(s[8 + 2 * sb]) | (int32_t(s[9 + 2 * sb]) << 16);
      p.d[r] = fp16_to_fp32(x.d);
      p.dmin[r] = fp16_to_fp32(x.dmin);
    }
}

// 16 weight rows (P[0..nb)) x RN activation rows; C[j * ldc + r].
template <bool kGemm, int RN>
CK_TARGET_AVX512 void tile16_q4_K_avx512(int64_t nb, const Pack16* P, const BlockQ8_K* B, int64_t ldb, float* C,
                                         int64_t ldc) {
  __m512 acc[RN], accm[RN];
  for (int j = 0; j < RN; ++j) acc[j] = accm[j] = _mm512_setzero_ps();
  const __m512i m4 = _mm512_set1_epi8(0xF);
  for (int64_t b = 0; b < nb; ++b) {
    const Pack16& p = P[b];
    const __m512 dw = _mm512_load_ps(p.d), mw = _mm512_load_ps(p.dmin);
    const BlockQ8_K* y[RN];
    __m512 ds[RN], dm[RN];
    int32_t Q[RN][4];  // (Q_{2sb}, Q_{2sb+1}) as two int16; Q_t = sum of sub-block t's q8
    __m512i Ssum[RN], Msum[RN];
    for (int j = 0; j < RN; ++j) {
      y[j] = &B[j * ldb + b];
      const __m512 yd = _mm512_set1_ps(y[j]->d);
      ds[j] = _mm512_mul_ps(dw, yd), dm[j] = _mm512_mul_ps(mw, yd);
      const int16_t* bs = y[j]->bsums;
      for (int sb = 0; sb < 4; ++sb)
        Q[j][sb] = int32_t(uint16_t(int16_t(bs[4 * sb] + bs[4 * sb + 1]))) |
                   int32_t(uint32_t(uint16_t(int16_t(bs[4 * sb + 2] + bs[4 * sb + 3]))) << 16);
    }
    for (int sb = 0; sb < 4; ++sb) {
      __m512i pl[RN], ph[RN];
#pragma GCC unroll 8
      for (int c = 0; c < 8; ++c) {
        const __m512i raw = _mm512_load_si512(p.qs[8 * sb + c]);
        const __m512i wl = _mm512_and_si512(raw, m4), wh = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
        for (int j = 0; j < RN; ++j) {
          int32_t al, ah;
          std::memcpy(&al, y[j]->qs + 64 * sb + 4 * c, 4);
          std::memcpy(&ah, y[j]->qs + 64 * sb + 32 + 4 * c, 4);
          const __m512i tl = _mm512_maddubs_epi16(wl, _mm512_set1_epi32(al));
          const __m512i th = _mm512_maddubs_epi16(wh, _mm512_set1_epi32(ah));
          pl[j] = c == 0 ? tl : _mm512_add_epi16(pl[j], tl);
          ph[j] = c == 0 ? th : _mm512_add_epi16(ph[j], th);
        }
      }
      const __m512i sc0 = _mm512_load_si512(p.sc[2 * sb]), sc1 = _mm512_load_si512(p.sc[2 * sb + 1]);
      const __m512i mn = _mm512_load_si512(p.mins[sb]);
      for (int j = 0; j < RN; ++j) {
        const __m512i S = _mm512_add_epi32(_mm512_madd_epi16(pl[j], sc0), _mm512_madd_epi16(ph[j], sc1));
        const __m512i M = _mm512_madd_epi16(mn, _mm512_set1_epi32(Q[j][sb]));
        if constexpr (kGemm) {
          acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(S), ds[j], acc[j]);
          accm[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(M), dm[j], accm[j]);
        } else {
          Ssum[j] = sb == 0 ? S : _mm512_add_epi32(Ssum[j], S);
          Msum[j] = sb == 0 ? M : _mm512_add_epi32(Msum[j], M);
        }
      }
    }
    if constexpr (!kGemm)
      for (int j = 0; j < RN; ++j) {
        acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(Ssum[j]), ds[j], acc[j]);
        accm[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(Msum[j]), dm[j], accm[j]);
      }
  }
  for (int j = 0; j < RN; ++j) _mm512_storeu_ps(C + j * ldc, _mm512_sub_ps(acc[j], accm[j]));
}

// ---- AVX-512 mat-vec (decode) ------------------------------------------------------------------------------------
// One activation row against weight rows read one after another (one sequential stream with the linear prefetch
// of prefetch.h; a pack copy or an 8-row interleave costs more than the arithmetic here). Per (row, super-block)
// the exact integers S = S_0+..+S_3 and M = M_0+..+M_3 are formed horizontally:
//   qs[0..63] / qs[64..127] as two zmm; their low nibbles meet q8 sub-blocks (0 | 2) / (4 | 6), their high
//   nibbles (1 | 3) / (5 | 7) (the activation is rearranged that way once per call, GemvQ8K); maddubs, then madd
//   with the sub-block scales spread over the int16 lanes by one vpshufb of the decoded scales each;
//   M: madd(mins as int16, Q_t as int16).
// 16 rows' (S 16 lanes folded to 8 | M 4 lanes + 0) vectors are reduced by one transpose-add tree to S and M with
// lane = row, and then the float steps are exactly gemv_q4_K's per lane: acc = fma((float)S, d_w * d_a, acc),
// accm = fma((float)M, dmin_w * d_a, accm) per super-block in order, result acc - accm.
struct alignas(64) GemvQ8K {
  __m512i y[4];    // q8 of sub-blocks (0|2), (1|3), (4|6), (5|7)
  __m128i q;       // Q_t = bsums[2t] + bsums[2t+1] as int16, t = 0..7
  float d;
};

CK_TARGET_AVX512 inline __m512i two_halves(const int8_t* lo, const int8_t* hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo))),
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hi)), 1);
}

CK_TARGET_AVX512 void prepare_gemv_q8_K(int64_t nb, const BlockQ8_K* y, GemvQ8K* g) {
  for (int64_t b = 0; b < nb; ++b) {
    const int8_t* q = y[b].qs;
    g[b].y[0] = two_halves(q, q + 64);
    g[b].y[1] = two_halves(q + 32, q + 96);
    g[b].y[2] = two_halves(q + 128, q + 192);
    g[b].y[3] = two_halves(q + 160, q + 224);
    g[b].q = _mm_hadd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y[b].bsums)),
                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(y[b].bsums + 8)));
    g[b].d = y[b].d;
  }
}

// 16 vectors [S partials (8 lanes) | M partials (8 lanes)] -> S (lanes = vectors 0..15) and M likewise.
CK_TARGET_AVX512 inline void reduce16_sm(const __m512i* z, __m512i* S, __m512i* M) {
  __m512i a[8], b[4], c[2];
  for (int i = 0; i < 8; ++i)
    a[i] = _mm512_add_epi32(_mm512_unpacklo_epi32(z[2 * i], z[2 * i + 1]), _mm512_unpackhi_epi32(z[2 * i], z[2 * i + 1]));
  for (int i = 0; i < 4; ++i)  // per 128-bit block: the block sums of vectors 4i..4i+3
    b[i] = _mm512_add_epi32(_mm512_unpacklo_epi64(a[2 * i], a[2 * i + 1]), _mm512_unpackhi_epi64(a[2 * i], a[2 * i + 1]));
  for (int i = 0; i < 2; ++i)  // blocks 0+1 (S) and 2+3 (M): [S(8i..8i+3), M(..), S(8i+4..8i+7), M(..)]
    c[i] = _mm512_add_epi32(_mm512_shuffle_i32x4(b[2 * i], b[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                            _mm512_shuffle_i32x4(b[2 * i], b[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
  *S = _mm512_shuffle_i32x4(c[0], c[1], _MM_SHUFFLE(2, 0, 2, 0));
  *M = _mm512_shuffle_i32x4(c[0], c[1], _MM_SHUFFLE(3, 1, 3, 1));
}

// scales_mins_k4 in one xmm (bytes 0..7 scales, 8..15 mins) from the 12 scale bytes as dwords d0, d1, d2:
// [d0 & 3f, (d2 & 0f) | ((d0 >> 6) & 3) << 4, d1 & 3f, ((d2 >> 4) & 0f) | ((d1 >> 6) & 3) << 4] per byte.
// Reads 16 bytes from `q` (the 4 after the scales are the block's first quants, ignored).
CK_TARGET_AVX512 inline __m128i scales_mins_k4_sse(const uint8_t* q) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
  const __m128i p = _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0));  // d0, d2, d1, d2
  const __m128i h = _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 1, 0, 0));  // d0, d0, d1, d1
  const __m128i lo = _mm_and_si128(_mm_srlv_epi32(p, _mm_setr_epi32(0, 0, 0, 4)),
                                   _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
  const __m128i hi = _mm_and_si128(_mm_srli_epi32(h, 2), _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
  return _mm_or_si128(lo, hi);
}

struct alignas(64) Zmm {
  __m512i v;
};

// vpshufb control: the int16 lanes of 128-bit blocks 0,1 take scale byte s0, those of blocks 2,3 byte s1.
CK_TARGET_AVX512 inline __m512i scale_spread(int s0, int s1) {
  const short lo = short(s0 | 0x8000), hi = short(s1 | 0x8000);  // bytes (s, 0x80): 0x80 zeroes the high byte
  return _mm512_set_epi16(hi, hi, hi, hi, hi, hi, hi, hi, hi, hi, hi, hi, hi, hi, hi, hi,
                          lo, lo, lo, lo, lo, lo, lo, lo, lo, lo, lo, lo, lo, lo, lo, lo);
}

// Rows [r0, r1) (r1 - r0 a multiple of 16) x one activation row (prepared); C[i] for each row i.
CK_TARGET_AVX512 void gemv16_q4_K_avx512(int64_t r0, int64_t r1, int64_t nb, const BlockQ4_K* A, int64_t lda,
                                         const GemvQ8K* g, float* C) {
  const __m512i m4 = _mm512_set1_epi8(0xF);
  const __m512i c_loA = scale_spread(0, 2), c_hiA = scale_spread(1, 3), c_loB = scale_spread(4, 6),
                c_hiB = scale_spread(5, 7);
  thread_local std::vector<Zmm> zbuf;  // [b][r]
  thread_local std::vector<uint16_t> dbuf;  // [b][r] fp16 d, then [nb + b][r] fp16 dmin
  if (zbuf.size() < size_t(nb * 16)) zbuf.resize(size_t(nb * 16)), dbuf.resize(size_t(nb * 32));
  for (int64_t i0 = r0; i0 < r1; i0 += 16) {
    for (int r = 0; r < 16; ++r) {
      const BlockQ4_K* x = A + (i0 + r) * lda;
      for (int64_t b = 0; b < nb; ++b) {
        const char* pf = reinterpret_cast<const char*>(x + b);
        prefetch_stream_ahead(pf);
        prefetch_stream_ahead(pf + 64);
        prefetch_stream_ahead(pf + 128);
        const __m128i su = scales_mins_k4_sse(x[b].scales);
        const __m512i sb = _mm512_broadcast_i32x4(su);
        const __m512i qa = _mm512_loadu_si512(x[b].qs), qb = _mm512_loadu_si512(x[b].qs + 64);
        const __m512i la = _mm512_and_si512(qa, m4), ha = _mm512_and_si512(_mm512_srli_epi16(qa, 4), m4);
        const __m512i lb = _mm512_and_si512(qb, m4), hb = _mm512_and_si512(_mm512_srli_epi16(qb, 4), m4);
        const GemvQ8K& gy = g[b];
        __m512i v = _mm512_madd_epi16(_mm512_maddubs_epi16(la, gy.y[0]), _mm512_shuffle_epi8(sb, c_loA));
        v = _mm512_add_epi32(v, _mm512_madd_epi16(_mm512_maddubs_epi16(ha, gy.y[1]), _mm512_shuffle_epi8(sb, c_hiA)));
        v = _mm512_add_epi32(v, _mm512_madd_epi16(_mm512_maddubs_epi16(lb, gy.y[2]), _mm512_shuffle_epi8(sb, c_loB)));
        v = _mm512_add_epi32(v, _mm512_madd_epi16(_mm512_maddubs_epi16(hb, gy.y[3]), _mm512_shuffle_epi8(sb, c_hiB)));
        const __m256i v8 = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
        const __m128i m = _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(su, 8)), gy.q);
        zbuf[size_t(b * 16 + r)].v = _mm512_inserti64x4(_mm512_castsi256_si512(v8), _mm256_zextsi128_si256(m), 1);
        dbuf[size_t(b * 16 + r)] = x[b].d;
        dbuf[size_t((nb + b) * 16 + r)] = x[b].dmin;
      }
    }
    __m512 acc = _mm512_setzero_ps(), accm = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      __m512i S, M;
      reduce16_sm(&zbuf[size_t(b * 16)].v, &S, &M);
      const __m512 yd = _mm512_set1_ps(g[b].d);
      const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(&dbuf[size_t(b * 16)])));
      const __m512 mw =
          _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(&dbuf[size_t((nb + b) * 16)])));
      acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(S), _mm512_mul_ps(dw, yd), acc);
      accm = _mm512_fmadd_ps(_mm512_cvtepi32_ps(M), _mm512_mul_ps(mw, yd), accm);
    }
    _mm512_storeu_ps(C + i0, _mm512_sub_ps(acc, accm));
  }
}

// Weight rows [r0, r1) (a multiple of 8) x all n activation rows: 16-row packs per L2-sized chunk, every
// activation row against each chunk; an 8-row remainder goes to the AVX2 tile (same per-output arithmetic).
CK_TARGET_AVX512 void matmul_q4_K_repack_avx512(int64_t r0, int64_t r1, int64_t n, int64_t k, const BlockQ4_K* A,
                                                int64_t lda, const BlockQ8_K* B, int64_t ldb, float* C,
                                                int64_t ldc) {
  const int64_t nb = k / QK_K, n_gemm = n - n % 4, r16 = r0 + (r1 - r0) / 16 * 16;
  const int64_t groups =
      std::max<int64_t>(1, (int64_t(256) << 10) / std::max<int64_t>(1, nb * int64_t(sizeof(Pack16))));
  thread_local std::vector<Pack16> pack;
  if (pack.size() < size_t(groups * nb)) pack.resize(size_t(groups * nb));
  for (int64_t c0 = r0; c0 < r16; c0 += groups * 16) {
    const int64_t ng = std::min(groups, (r16 - c0) / 16);
    for (int64_t g = 0; g < ng; ++g) pack16_q4_K(nb, A + (c0 + 16 * g) * lda, lda, &pack[size_t(g * nb)]);
    for (int64_t j = 0; j < n_gemm; j += 4)
      for (int64_t g = 0; g < ng; ++g)
        tile16_q4_K_avx512<true, 4>(nb, &pack[size_t(g * nb)], B + j * ldb, ldb, C + j * ldc + c0 + 16 * g, ldc);
    for (int64_t j = n_gemm; j < n; ++j)
      for (int64_t g = 0; g < ng; ++g)
        tile16_q4_K_avx512<false, 1>(nb, &pack[size_t(g * nb)], B + j * ldb, ldb, C + j * ldc + c0 + 16 * g, ldc);
  }
  if (r16 < r1) matmul_q4_K_repack_avx2(r16, r1, n, k, A, lda, B, ldb, C, ldc);
}
#pragma GCC diagnostic pop
}  // namespace

void matmul_q4_K_repack(int64_t m, int64_t n, int64_t k, const BlockQ4_K* A, int64_t lda, const BlockQ8_K* B,
                        int64_t ldb, float* C, int64_t ldc, int ith, int nth) {
  const bool simd = active_isa() >= Isa::avx2;
  const int64_t n_gemm = n - n % 4;
  // Threads take whole 8-row tiles; the m % 8 leftover rows (not a repack shape upstream) go to the last thread.
  const auto [t0, t1] = split_range(static_cast<size_t>(m / 8), ith, nth);
  int64_t i0 = int64_t(t0) * 8, i1 = int64_t(t1) * 8;
  if (simd) {
    // AVX-512 packs pay off once a pack serves at least one gemm group; 1-row ops (decode) take the streaming
    // gemv (16-row groups; an 8-row remainder on the AVX2 tile); 2..3-row ops stay on AVX2 tiles.
    if (n >= 4 && active_isa() >= Isa::avx512) {
      matmul_q4_K_repack_avx512(i0, i1, n, k, A, lda, B, ldb, C, ldc);
    } else if (n == 1 && active_isa() >= Isa::avx512) {
      const int64_t nb = k / QK_K, i16 = i0 + (i1 - i0) / 16 * 16;
      thread_local std::vector<GemvQ8K> g;
      if (g.size() < size_t(nb)) g.resize(size_t(nb));
      prepare_gemv_q8_K(nb, B, g.data());
      gemv16_q4_K_avx512(i0, i16, nb, A, lda, g.data(), C);
      if (i16 < i1) matmul_q4_K_repack_avx2(i16, i1, n, k, A, lda, B, ldb, C, ldc);
    } else {
      matmul_q4_K_repack_avx2(i0, i1, n, k, A, lda, B, ldb, C, ldc);
    }
    i0 = i1;
  }
  if (ith == nth - 1) i1 = m;
  for (int64_t j = 0; j < n; ++j) {
    const bool gemm = j < n_gemm;
    for (int64_t i = i0; i < i1; ++i) {
      const BlockQ4_K* x = A + i * lda;
      const BlockQ8_K* y = B + j * ldb;
      float r;
      if (simd) r = gemm ? gemm_q4_K_avx2(k, x, y) : gemv_q4_K_avx2(k, x, y);
      else r = gemm ? gemm_q4_K_scalar(k, x, y) : gemv_q4_K_scalar(k, x, y);
      C[j * ldc + i] = r;
    }
  }
}

}  // namespace ck::kernels
