// Q8_0 x Q8_0 dot product.
//
// Mirrors ggml_vec_dot_q8_0_q8_0 (ggml/src/ggml-cpu/arch/x86/quants.c, b10256), `#if defined(__AVX2__)` branch
// without VNNI (the portable AVX2 build), and equally tinyBLAS_Q0_AVX::gemm (llamafile/sgemm.cpp), per output:
//   acc = 0 (8 lanes); per 32-block: d = fp16(x.d) * fp16(y.d) (float, weight scale first);
//   q = cvtepi32_ps(madd_epi16(1, maddubs_epi16(sign(x, x), sign(y, x)))): lane k holds the exact int32 sum of
//       elements 4k..4k+3 — with maddubs' int16 saturation of each pair sum (only reachable with -128 quants);
//   acc = fma(d, q, acc);   result = hsum_float_8(acc) = (t0 + t2) + (t1 + t3), t_k = acc[k+4] + acc[k].
#include "kernels/dot_q8_0.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/hsum.h"
#include "kernels/isa.h"
#include "kernels/prefetch.h"

namespace ck::kernels {

namespace {
inline int32_t sat16(int32_t v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : v; }
// _mm256_sign_epi8(a, b) on one byte: b < 0 -> -a (wrapping), b == 0 -> 0, else a.
inline int8_t sign8(int8_t a, int8_t b) {
  if (b < 0) return static_cast<int8_t>(-static_cast<int32_t>(a));
  return b == 0 ? int8_t{0} : a;
}
}  // namespace

float dot_q8_0_scalar(int64_t n, const BlockQ8_0* x, const BlockQ8_0* y) {
  const int64_t nb = n / QK8_0;
  float acc[8] = {};
  for (int64_t b = 0; b < nb; ++b) {
    const float d = fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d);
    for (int k = 0; k < 8; ++k) {
      int32_t s = 0;
      for (int p = 0; p < 2; ++p) {  // two maddubs pairs per int32 lane
        const int e = 4 * k + 2 * p;
        const int32_t ax0 = static_cast<uint8_t>(sign8(x[b].qs[e], x[b].qs[e]));
        const int32_t ax1 = static_cast<uint8_t>(sign8(x[b].qs[e + 1], x[b].qs[e + 1]));
        const int32_t sy0 = sign8(y[b].qs[e], x[b].qs[e]);
        const int32_t sy1 = sign8(y[b].qs[e + 1], x[b].qs[e + 1]);
        s += sat16(ax0 * sy0 + ax1 * sy1);
      }
      acc[k] = std::fmaf(d, static_cast<float>(s), acc[k]);
    }
  }
  return detail::hsum8_pairs02(acc);
}

CK_TARGET_AVX2 float dot_q8_0_avx2(int64_t n, const BlockQ8_0* x, const BlockQ8_0* y) {
  const int64_t nb = n / QK8_0;
  __m256 acc = _mm256_setzero_ps();
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b) {
    const __m256 d = _mm256_set1_ps(fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d));
    const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
    const __m256i ax = _mm256_sign_epi8(qx, qx);
    const __m256i sy = _mm256_sign_epi8(qy, qx);
    const __m256 q = _mm256_cvtepi32_ps(_mm256_madd_epi16(ones, _mm256_maddubs_epi16(ax, sy)));
    acc = _mm256_fmadd_ps(d, q, acc);
  }
  return detail::hsum8_pairs02(acc);
}

float dot_q8_0(int64_t n, const BlockQ8_0* x, const BlockQ8_0* y) {
  if (active_isa() >= Isa::avx2) return dot_q8_0_avx2(n, x, y);
  return dot_q8_0_scalar(n, x, y);
}

// ---- tiled mat-mul ----------------------------------------------------------------------------------------------
// C tile of RM weight rows x RN activation rows. Every output keeps its own 8-lane accumulator and sees blocks
// b = 0..nb-1 in order with exactly dot_q8_0_avx2's per-block operations (the same bits); the tile only shares
// loads and hides the fmadd latency of one output's chain behind the others (tinyBLAS_Q0_AVX does the same).
// fp16 scales are widened with F16C (exact; quiets signalling NaNs as upstream's GGML_CPU_FP16_TO_FP32 does).
namespace {
template <int RM, int RN>
CK_TARGET_AVX2 void tile_q8_0_avx2(int64_t nb, const BlockQ8_0* A, int64_t lda, const BlockQ8_0* B, int64_t ldb,
                                   float* C, int64_t ldc) {
  // (Every loop over the tile unrolled: otherwise GCC 12 keeps acc[][] in memory, a store/load in every chain step.)
  __m256 acc[RM][RN];
#pragma GCC unroll 4
  for (int i = 0; i < RM; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < RN; ++j) acc[i][j] = _mm256_setzero_ps();
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b) {
    __m256i ax[RM];
    float dx[RM];
#pragma GCC unroll 4
    for (int i = 0; i < RM; ++i) {
      const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(A[i * lda + b].qs));
      ax[i] = _mm256_sign_epi8(qx, qx);
      dx[i] = _cvtsh_ss(A[i * lda + b].d);
    }
#pragma GCC unroll 4
    for (int j = 0; j < RN; ++j) {
      const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(B[j * ldb + b].qs));
      const float dy = _cvtsh_ss(B[j * ldb + b].d);
#pragma GCC unroll 4
      for (int i = 0; i < RM; ++i) {
        const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(A[i * lda + b].qs));
        const __m256i sy = _mm256_sign_epi8(qy, qx);
        const __m256 q = _mm256_cvtepi32_ps(_mm256_madd_epi16(ones, _mm256_maddubs_epi16(ax[i], sy)));
        acc[i][j] = _mm256_fmadd_ps(_mm256_set1_ps(dx[i] * dy), q, acc[i][j]);
      }
    }
  }
#pragma GCC unroll 4
  for (int j = 0; j < RN; ++j)
#pragma GCC unroll 4
    for (int i = 0; i < RM; ++i) C[j * ldc + i] = detail::hsum8_pairs02(acc[i][j]);
}

// AVX-512: one zmm holds the 8-lane accumulators of two outputs (weight row i, activation rows j and j+1). The
// 512-bit integer steps are the two 256-bit ones side by side (vpsignb has no 512-bit form: x < 0 -> 0 - y with
// wrap-around, x == 0 -> 0, as _mm256_sign_epi8(y, x); |x| via abs_epi8, whose -128 -> 0x80 equals sign(x, x)),
// and each half is reduced with the same hsum: the same bits as tile_q8_0_avx2.
// GCC 12 reports false -W(maybe-)uninitialized positives inside avx512fintrin.h's intrinsics (their "__Y = __Y"
// undefined-vector idiom) when they are inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
// Block b of activation rows j, j+1 side by side: quants (low | high 256 bits) and their fp16 scales widened.
CK_TARGET_AVX512 inline void load_q8_pair(const BlockQ8_0& y0, const BlockQ8_0& y1, __m512i& y, __m512& dy) {
  y = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y0.qs))),
                         _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y1.qs)), 1);
  dy = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(_cvtsh_ss(y0.d))), _mm256_set1_ps(_cvtsh_ss(y1.d)),
                          1);
}

template <int RM, int RP>
CK_TARGET_AVX512 void tile2_q8_0_avx512(int64_t nb, const BlockQ8_0* A, int64_t lda, const BlockQ8_0* B, int64_t ldb,
                                        float* C, int64_t ldc) {
  __m512 acc[RM][RP];
  for (int i = 0; i < RM; ++i)
    for (int p = 0; p < RP; ++p) acc[i][p] = _mm512_setzero_ps();
  const __m512i ones = _mm512_set1_epi16(1), zero = _mm512_setzero_si512();
  for (int64_t b = 0; b < nb; ++b) {
    __m512i ax[RM];
    __mmask64 neg[RM], nz[RM];
    float dx[RM];
    for (int i = 0; i < RM; ++i) {
      const __m512i x = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(A[i * lda + b].qs)));
      ax[i] = _mm512_abs_epi8(x);
      neg[i] = _mm512_movepi8_mask(x);
      nz[i] = _mm512_test_epi8_mask(x, x);
      dx[i] = _cvtsh_ss(A[i * lda + b].d);
    }
    for (int p = 0; p < RP; ++p) {
      __m512i y;
      __m512 dy;
      load_q8_pair(B[(2 * p) * ldb + b], B[(2 * p + 1) * ldb + b], y, dy);
      for (int i = 0; i < RM; ++i) {
        const __m512i sy = _mm512_maskz_mov_epi8(nz[i], _mm512_mask_sub_epi8(y, neg[i], zero, y));
        const __m512 q = _mm512_cvtepi32_ps(_mm512_madd_epi16(ones, _mm512_maddubs_epi16(ax[i], sy)));
        acc[i][p] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(dx[i]), dy), q, acc[i][p]);
      }
    }
  }
  for (int p = 0; p < RP; ++p)
    for (int i = 0; i < RM; ++i) {
      C[(2 * p) * ldc + i] = detail::hsum8_pairs02(_mm512_castps512_ps256(acc[i][p]));
      C[(2 * p + 1) * ldc + i] = detail::hsum8_pairs02(_mm512_extractf32x8_ps(acc[i][p], 1));
    }
}

// AVX-512 VNNI: per lane sum_e x_e * y_e = sum_e (x_e ^ 0x80) * y_e - 128 * sum_e y_e, where x ^ 0x80 is x + 128
// as an unsigned byte; vpdpbusd forms both sums exactly in int32 (it does not saturate). That equals tile2's
// madd(1, maddubs(|x|, sign(y, x))) lane for lane whenever the activation block has no -128 quant: then
// |x| <= 128 and |sign(y, x)| <= 127, so no maddubs pair sum (<= 2 * 128 * 127 = 32512) can saturate and
// |x| * sign(y, x) = x * y. Quantized activations (quantize_row_q8_0: |q| <= 127 for finite inputs) qualify;
// calls whose activations hold a -128 (from NaN inputs) take tile2 (matmul_q8_0 checks). 5 instead of 8 vector
// steps per block and output pair.
template <int RM, int RP>
CK_TARGET_AVX512_VNNI void tile2_q8_0_vnni(int64_t nb, const BlockQ8_0* A, int64_t lda, const BlockQ8_0* B,
                                           int64_t ldb, float* C, int64_t ldc) {
  __m512 acc[RM][RP];
  for (int i = 0; i < RM; ++i)
    for (int p = 0; p < RP; ++p) acc[i][p] = _mm512_setzero_ps();
  const __m512i x80 = _mm512_set1_epi8(static_cast<char>(0x80)), ones8 = _mm512_set1_epi8(1);
  const __m512i zero = _mm512_setzero_si512();
  for (int64_t b = 0; b < nb; ++b) {
    __m512i xu[RM];
    float dx[RM];
    for (int i = 0; i < RM; ++i) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(A[i * lda + b].qs));
      xu[i] = _mm512_xor_si512(_mm512_broadcast_i64x4(x), x80);
      dx[i] = _cvtsh_ss(A[i * lda + b].d);
    }
    for (int p = 0; p < RP; ++p) {
      __m512i y;
      __m512 dy;
      load_q8_pair(B[(2 * p) * ldb + b], B[(2 * p + 1) * ldb + b], y, dy);
      const __m512i corr = _mm512_slli_epi32(_mm512_dpbusd_epi32(zero, ones8, y), 7);  // 128 * sum of 4 y
      for (int i = 0; i < RM; ++i) {
        const __m512 q = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_dpbusd_epi32(zero, xu[i], y), corr));
        acc[i][p] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(dx[i]), dy), q, acc[i][p]);
      }
    }
  }
  for (int p = 0; p < RP; ++p)
    for (int i = 0; i < RM; ++i) {
      C[(2 * p) * ldc + i] = detail::hsum8_pairs02(_mm512_castps512_ps256(acc[i][p]));
      C[(2 * p + 1) * ldc + i] = detail::hsum8_pairs02(_mm512_extractf32x8_ps(acc[i][p], 1));
    }
}

// Whether any quant of activation rows [0, n) is -128 (then the VNNI tile would not equal maddubs').
CK_TARGET_AVX512 bool has_q8_min(const BlockQ8_0* B, int64_t ldb, int64_t n, int64_t nb) {
  const __m256i m128 = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t j = 0; j < n; ++j)
    for (int64_t b = 0; b < nb; ++b)
      if (_mm256_cmpeq_epi8_mask(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(B[j * ldb + b].qs)), m128))
        return true;
  return false;
}

CK_TARGET_AVX512 void matmul_q8_0_avx512(bool vnni, int64_t i0, int64_t i1, int64_t n, int64_t k, const BlockQ8_0* A,
                                         int64_t lda, const BlockQ8_0* B, int64_t ldb, float* C, int64_t ldc) {
  const int64_t nb = k / QK8_0;
  constexpr int RM = 4, RP = 3;  // 4 weight rows x 6 activation rows = 12 zmm accumulators
  const int64_t chunk = std::max<int64_t>(RM, (int64_t(256) << 10) / std::max<int64_t>(1, nb * 34) / RM * RM);
  for (int64_t c0 = i0; c0 < i1; c0 += chunk) {
    const int64_t c1 = std::min(i1, c0 + chunk);
    int64_t j = 0;
    for (; j + 2 * RP <= n; j += 2 * RP) {
      int64_t i = c0;
      if (vnni) {
        for (; i + RM <= c1; i += RM)
          tile2_q8_0_vnni<RM, RP>(nb, A + i * lda, lda, B + j * ldb, ldb, C + j * ldc + i, ldc);
        for (; i < c1; ++i) tile2_q8_0_vnni<1, RP>(nb, A + i * lda, lda, B + j * ldb, ldb, C + j * ldc + i, ldc);
      }
      for (; i + RM <= c1; i += RM)
        tile2_q8_0_avx512<RM, RP>(nb, A + i * lda, lda, B + j * ldb, ldb, C + j * ldc + i, ldc);
      for (; i < c1; ++i) tile2_q8_0_avx512<1, RP>(nb, A + i * lda, lda, B + j * ldb, ldb, C + j * ldc + i, ldc);
    }
    for (; j + 2 <= n; j += 2) {
      int64_t i = c0;
      if (vnni) {
        for (; i + RM <= c1; i += RM)
          tile2_q8_0_vnni<RM, 1>(nb, A + i * lda, lda, B + j * ldb, ldb, C + j * ldc + i, ldc);
        for (; i < c1; ++i) tile2_q8_0_vnni<1, 1>(nb, A + i * lda, lda, B + j * ldb, ldb, C + j * ldc + i, ldc);
      }
      for (; i + RM <= c1; i += RM)
        tile2_q8_0_avx512<RM, 1>(nb, A + i * lda, lda, B + j * ldb, ldb, C + j * ldc + i, ldc);
      for (; i < c1; ++i) tile2_q8_0_avx512<1, 1>(nb, A + i * lda, lda, B + j * ldb, ldb, C + j * ldc + i, ldc);
    }
    for (; j < n; ++j)
      for (int64_t i = c0; i < c1; ++i) tile_q8_0_avx2<1, 1>(nb, A + i * lda, lda, B + j * ldb, ldb, C + j * ldc + i, ldc);
  }
}

#pragma GCC diagnostic pop

// Mat-vec (decode): rows [i0, i1) against one activation row. S stretches of rows [i0 + s*h, i0 + (s+1)*h) are
// read side by side, one row of each at a time: S independent accumulator chains (per row exactly dot_q8_0_avx2's
// one 8-lane chain, blocks in order) over S sequential streams, each with the linear prefetch of prefetch.h.
// Measured on the Zen 5 host over a 2B decode step's 1.8 GB of Q8_0 rows: 42 GB/s with 2-4 stretches, 33 with one
// (its single fmadd chain is latency-bound), 12-18 with 2-4 ADJACENT rows interleaved. Rows left over after S*h go
// one at a time.
template <int S>
CK_TARGET_AVX2 void gemv_rows_q8_0_avx2(int64_t i0, int64_t h, int64_t nb, const BlockQ8_0* A, int64_t lda,
                                        const BlockQ8_0* y, float* C) {
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t i = i0; i < i0 + h; ++i) {
    __m256 acc[S];
#pragma GCC unroll 4
    for (int s = 0; s < S; ++s) acc[s] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const __m256i qy = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs));
      const float dy = _cvtsh_ss(y[b].d);
#pragma GCC unroll 4  // (without it GCC keeps acc[] in memory: a store/load inside every chain step)
      for (int s = 0; s < S; ++s) {
        const BlockQ8_0* x = A + (i + s * h) * lda + b;
        if ((b & 1) == 0) prefetch_stream_ahead(x);  // two 34-byte blocks per 64-byte line
        const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x->qs));
        const __m256 q = _mm256_cvtepi32_ps(
            _mm256_madd_epi16(ones, _mm256_maddubs_epi16(_mm256_sign_epi8(qx, qx), _mm256_sign_epi8(qy, qx))));
        acc[s] = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(x->d) * dy), q, acc[s]);
      }
    }
#pragma GCC unroll 4
    for (int s = 0; s < S; ++s) C[i + s * h] = detail::hsum8_pairs02(acc[s]);
  }
}

CK_TARGET_AVX2 void gemv_q8_0_avx2(int64_t i0, int64_t i1, int64_t nb, const BlockQ8_0* A, int64_t lda,
                                   const BlockQ8_0* y, float* C) {
  constexpr int S = 4;
  const int64_t h = (i1 - i0) / S;
  if (h > 0) gemv_rows_q8_0_avx2<S>(i0, h, nb, A, lda, y, C);
  gemv_rows_q8_0_avx2<1>(i0 + S * h, i1 - i0 - S * h, nb, A, lda, y, C);
}

// The same mat-vec with AVX512-VNNI: the four stretches two per zmm (lanes 0-7 one row, 8-15 the other). Per row
// it is dot_q8_0_avx2's chain: vpdpbusd of the sign trick's operands |x| and sign(y, x) (-128 wrapping exactly as
// vpsignb wraps it) gives maddubs + madd's int32 lane sums, because maddubs' pair sums lie in
// [2*128*-128, 2*128*127] and never saturate; then cvt and fmadd with d_x * d_y over the row's 8 lanes.
// No guard needed (unlike tile2_q8_0_vnni's offset trick). Half the vector instructions of the ymm kernel.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
CK_TARGET_AVX512_VNNI void gemv_rows_q8_0_vnni(int64_t i0, int64_t h, int64_t nb, const BlockQ8_0* A, int64_t lda,
                                               const BlockQ8_0* y, float* C) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i halves = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  for (int64_t i = i0; i < i0 + h; ++i) {
    const BlockQ8_0* r[4] = {A + i * lda, A + (i + h) * lda, A + (i + 2 * h) * lda, A + (i + 3 * h) * lda};
    __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int64_t b = 0; b < nb; ++b) {
      const __m512i qy = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[b].qs)));
      const __m128 dy = _mm_set1_ps(_cvtsh_ss(y[b].d));
#pragma GCC unroll 2
      for (int p = 0; p < 2; ++p) {
        const BlockQ8_0* xa = r[2 * p] + b;
        const BlockQ8_0* xb = r[2 * p + 1] + b;
        if ((b & 1) == 0) {
          prefetch_stream_ahead(xa);
          prefetch_stream_ahead(xb);
        }
        const __m512i qx = _mm512_inserti64x4(
            _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(xa->qs))),
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb->qs)), 1);
        const __m512i ax = _mm512_abs_epi8(qx);
        const __m512i sy = _mm512_mask_sub_epi8(qy, _mm512_movepi8_mask(qx), zero, qy);
        const __m512 q = _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(zero, ax, sy));
        const __m128 d2 = _mm_mul_ps(_mm_cvtph_ps(_mm_insert_epi16(_mm_cvtsi32_si128(xa->d), xb->d, 1)), dy);
        acc[p] = _mm512_fmadd_ps(_mm512_permutexvar_ps(halves, _mm512_castps128_ps512(d2)), q, acc[p]);
      }
    }
#pragma GCC unroll 2
    for (int p = 0; p < 2; ++p) {
      C[i + 2 * p * h] = detail::hsum8_pairs02(_mm512_castps512_ps256(acc[p]));
      C[i + (2 * p + 1) * h] = detail::hsum8_pairs02(_mm512_extractf32x8_ps(acc[p], 1));
    }
  }
}

CK_TARGET_AVX512_VNNI void gemv_q8_0_vnni(int64_t i0, int64_t i1, int64_t nb, const BlockQ8_0* A, int64_t lda,
                                          const BlockQ8_0* y, float* C) {
  const int64_t h = (i1 - i0) / 4;
  if (h > 0) gemv_rows_q8_0_vnni(i0, h, nb, A, lda, y, C);
  gemv_rows_q8_0_avx2<1>(i0 + 4 * h, i1 - i0 - 4 * h, nb, A, lda, y, C);
}
#pragma GCC diagnostic pop

// Rows [i0, i1) x columns [0, n): weight rows in chunks that stay in L2 while every activation column passes.
CK_TARGET_AVX2 void matmul_q8_0_avx2(int64_t i0, int64_t i1, int64_t n, int64_t k, const BlockQ8_0* A, int64_t lda,
                                     const BlockQ8_0* B, int64_t ldb, float* C, int64_t ldc) {
  const int64_t nb = k / QK8_0;
  constexpr int RM = 4, RN = 2;
  const int64_t chunk = std::max<int64_t>(RM, (int64_t(256) << 10) / std::max<int64_t>(1, nb * 34) / RM * RM);
  for (int64_t c0 = i0; c0 < i1; c0 += chunk) {
    const int64_t c1 = std::min(i1, c0 + chunk);
    int64_t j = 0;
    for (; j + RN <= n; j += RN) {
      int64_t i = c0;
      for (; i + RM <= c1; i += RM) tile_q8_0_avx2<RM, RN>(nb, A + i * lda, lda, B + j * ldb, ldb, C + j * ldc + i, ldc);
      for (; i < c1; ++i) tile_q8_0_avx2<1, RN>(nb, A + i * lda, lda, B + j * ldb, ldb, C + j * ldc + i, ldc);
    }
    for (; j < n; ++j) {  // last odd column (and every gemv): 8 rows at a time
      int64_t i = c0;
      for (; i + 1 <= c1; i += 1) tile_q8_0_avx2<1, 1>(nb, A + i * lda, lda, B + j * ldb, ldb, C + j * ldc + i, ldc);
      for (; i < c1; ++i) tile_q8_0_avx2<1, 1>(nb, A + i * lda, lda, B + j * ldb, ldb, C + j * ldc + i, ldc);
    }
  }
}
}  // namespace

void matmul_q8_0(int64_t m, int64_t n, int64_t k, const BlockQ8_0* A, int64_t lda, const BlockQ8_0* B, int64_t ldb,
                 float* C, int64_t ldc, int ith, int nth) {
  const auto [i0, i1] = split_range(static_cast<size_t>(m), ith, nth);
  if (n == 1 && use_avx512_vnni()) {
    gemv_q8_0_vnni(int64_t(i0), int64_t(i1), k / QK8_0, A, lda, B, C);
    return;
  }
  if (active_isa() >= Isa::avx2 && n == 1) {
    gemv_q8_0_avx2(int64_t(i0), int64_t(i1), k / QK8_0, A, lda, B, C);
    return;
  }
  if (active_isa() >= Isa::avx512 && n >= 2) {
    const bool vnni = use_avx512_vnni() && !has_q8_min(B, ldb, n, k / QK8_0);
    matmul_q8_0_avx512(vnni, int64_t(i0), int64_t(i1), n, k, A, lda, B, ldb, C, ldc);
    return;
  }
  if (active_isa() >= Isa::avx2) {
    matmul_q8_0_avx2(int64_t(i0), int64_t(i1), n, k, A, lda, B, ldb, C, ldc);
    return;
  }
  for (int64_t j = 0; j < n; ++j)
    for (size_t i = i0; i < i1; ++i) C[j * ldc + static_cast<int64_t>(i)] = dot_q8_0_scalar(k, A + i * lda, B + j * ldb);
}

}  // namespace ck::kernels
