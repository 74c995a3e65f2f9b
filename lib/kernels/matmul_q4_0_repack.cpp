// Q4_0 x q8_0 through ggml's CPU_REPACK path (q4_0_8x8_q8_0).
//
// Mirrors, from ggml/src/ggml-cpu (b10256):
//   repack.cpp        make_block_q4_0x8 (interleave 8, xor 0x88), repack_q4_0_to_q4_0_8_bl, forward_mul_mat
//                     (gemm for activation rows < n - n%4, gemv for the rest);
//   arch/x86/repack.cpp  ggml_quantize_mat_q8_0_4x8 (AVX2), ggml_gemv_q4_0_8x8_q8_0 / ggml_gemm_q4_0_8x8_q8_0 ->
//                     gemv_q4_b32_8x8_q8_0_lut_avx / gemm_q4_b32_8x8_q8_0_lut_avx (AVX2 branch; the AVX-512
//                     branch of the gemm computes the same lanes 16 columns at a time).
// Per output (weight row c, activation row r), blocks b in order:
//   isum_b = sum_{e<32} signed_nibble(w_e) * a_e                (exact: maddubs(|w|, sign(a, w)) + madd)
//   acc    = fmaf((float)isum_b, fp16(w.d_b) * fp16(a.d_b), acc) (_mm256_fmadd_ps(cvtepi32(iacc), col*row, acc))
// identical in the gemv and the gemm. The weight nibble u (0..15, value u - 8) is stored as u ^ 8 and sign-extended
// by a 16-entry table, giving the same int8 u - 8 that ck computes as (u - 8) on plain rows.
#include "kernels/matmul_q4_0_repack.h"

#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/isa.h"
#include "kernels/quantize_q8_0.h"

namespace ck::kernels {

// ---- layouts ------------------------------------------------------------------------------------------------------

BlockQ4_0x8 make_block_q4_0x8(const BlockQ4_0 in[8]) {
  BlockQ4_0x8 out;
  for (int i = 0; i < 8; ++i) out.d[i] = in[i].d;
  const uint64_t xor_mask = 0x8888888888888888ull;
  for (int i = 0; i < 16; ++i) {  // QK4_0 * 4 / blck_size_interleave(8) chunks of 8 bytes
    const int src_id = i % 8, src_offset = (i / 8) * 8, dst_offset = i * 8;
    uint64_t elems;
    std::memcpy(&elems, &in[src_id].qs[src_offset], 8);
    elems ^= xor_mask;
    std::memcpy(&out.qs[dst_offset], &elems, 8);
  }
  return out;
}

void repack_q4_0_8x8(int64_t m, int64_t k, const BlockQ4_0* A, BlockQ4_0x8* out) {
  const int64_t nb = k / QK4_0;
  BlockQ4_0 tmp[8];
  for (int64_t r = 0; r < m; r += 8) {
    for (int64_t x = 0; x < nb; ++x) {
      for (int i = 0; i < 8; ++i) tmp[i] = A[(r + i) * nb + x];
      *out++ = make_block_q4_0x8(tmp);
    }
  }
}

void quantize_mat_q8_0_4x8(const float* x, int64_t x_stride, BlockQ8_0x4* y, int64_t k) {
  // The AVX2 quantizer computes each row exactly as quantize_row_q8_0 (same amax, d = amax/127.f,
  // id = 127.f/amax, _mm256_round_ps RNE, packs), then stores chunk j of 8 values of row r at qs[32*j' + 8*r].
  const int64_t nb = k / QK8_0;
  BlockQ8_0 row[4];
  for (int64_t i = 0; i < nb; ++i) {
    for (int r = 0; r < 4; ++r) quantize_row_q8_0(x + r * x_stride + i * QK8_0, &row[r], QK8_0);
    for (int r = 0; r < 4; ++r) y[i].d[r] = row[r].d;
    for (int j = 0; j < 4; ++j)      // 4 chunks of 8 values per row
      for (int r = 0; r < 4; ++r) std::memcpy(&y[i].qs[32 * j + 8 * r], &row[r].qs[8 * j], 8);
  }
}

// ---- scalar models ------------------------------------------------------------------------------------------------

namespace {

// One product of mul_sum_i8_pairs_acc_int32x8(x = weight, y = activation): maddubs(sign(x, x), sign(y, x)). The
// int8 negation of -128 wraps (as _mm256_sign_epi8); pair sums stay far inside int16 (|x| <= 8).
inline int32_t sign_product(int8_t w, int8_t a) {
  const int ax = w < 0 ? -w : w;
  const int8_t sy = w < 0 ? static_cast<int8_t>(static_cast<uint8_t>(-static_cast<uint8_t>(a))) : (w == 0 ? int8_t(0) : a);
  return ax * sy;
}

inline int32_t block_isum_plain(const BlockQ4_0& x, const BlockQ8_0& y) {
  int32_t s = 0;
  for (int j = 0; j < 16; ++j) {
    s += sign_product(static_cast<int8_t>((x.qs[j] & 15) - 8), y.qs[j]);
    s += sign_product(static_cast<int8_t>((x.qs[j] >> 4) - 8), y.qs[j + 16]);
  }
  return s;
}

// The signed nibble of interleaved byte `byte` (0..127), low (hi=false) or high half: the sign-extension table
// of gemv_q4_b32_8x8_q8_0_lut_avx.
inline int8_t nib(uint8_t byte, bool hi) {
  const int v = hi ? (byte >> 4) : (byte & 15);
  return static_cast<int8_t>(v < 8 ? v : v - 16);
}

// Weight value e (0..31) of column c in an interleaved block: nibble chunk i = (e % 16) / 8 * 8 + c holds
// elements (e%16) of row c in its low (e < 16) or high (e >= 16) nibbles.
inline int8_t x8_value(const BlockQ4_0x8& x, int c, int e) {
  const int j = e % 16;
  return nib(x.qs[(j / 8) * 64 + c * 8 + j % 8], e >= 16);
}

}  // namespace

float dot_q4_0_repack_scalar(int64_t k, const BlockQ4_0* x, const BlockQ8_0* y) {
  float acc = 0.0f;
  for (int64_t b = 0; b < k / QK4_0; ++b) {
    const float scale = fp16_to_fp32(x[b].d) * fp16_to_fp32(y[b].d);
    acc = std::fmaf(static_cast<float>(block_isum_plain(x[b], y[b])), scale, acc);
  }
  return acc;
}

void gemv_q4_0_8x8_scalar(int64_t k, const BlockQ4_0x8* x, const BlockQ8_0* y, float out[8]) {
  for (int c = 0; c < 8; ++c) {
    float acc = 0.0f;
    for (int64_t b = 0; b < k / QK4_0; ++b) {
      int32_t s = 0;
      for (int e = 0; e < 32; ++e) s += sign_product(x8_value(x[b], c, e), y[b].qs[e]);
      acc = std::fmaf(static_cast<float>(s), fp16_to_fp32(x[b].d[c]) * fp16_to_fp32(y[b].d), acc);
    }
    out[c] = acc;
  }
}

void gemm_q4_0_8x8_scalar(int64_t k, const BlockQ4_0x8* x, const BlockQ8_0x4* y, float* out, int64_t ldc) {
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 8; ++c) {
      float acc = 0.0f;
      for (int64_t b = 0; b < k / QK4_0; ++b) {
        int32_t s = 0;
        for (int e = 0; e < 32; ++e) s += sign_product(x8_value(x[b], c, e), y[b].qs[32 * (e / 8) + 8 * r + e % 8]);
        acc = std::fmaf(static_cast<float>(s), fp16_to_fp32(x[b].d[c]) * fp16_to_fp32(y[b].d[r]), acc);
      }
      out[r * ldc + c] = acc;
    }
}

// ---- AVX2 -----------------------------------------------------------------------------------------------------------

namespace {

CK_TARGET_AVX2 inline __m256i mul_sum_i8_pairs_acc(__m256i acc, __m256i x, __m256i y) {
  const __m256i ax = _mm256_sign_epi8(x, x);
  const __m256i sy = _mm256_sign_epi8(y, x);
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_set1_epi16(1), _mm256_maddubs_epi16(ax, sy)));
}

}  // namespace

// Literal port of gemv_q4_b32_8x8_q8_0_lut_avx for one row group (nr = 1, nc = 8).
CK_TARGET_AVX2 void gemv_q4_0_8x8_avx2(int64_t k, const BlockQ4_0x8* x, const BlockQ8_0* y, float out[8]) {
  __m256i signextendlut = _mm256_castsi128_si256(_mm_set_epi8(-1, -2, -3, -4, -5, -6, -7, -8, 7, 6, 5, 4, 3, 2, 1, 0));
  signextendlut = _mm256_permute2f128_si256(signextendlut, signextendlut, 0);
  const __m256i finalpermutemask = _mm256_set_epi32(7, 5, 3, 1, 6, 4, 2, 0);
  const __m256i m4b = _mm256_set1_epi8(0x0F);
  const __m128i changemask = _mm_set_epi8(15, 14, 7, 6, 13, 12, 5, 4, 11, 10, 3, 2, 9, 8, 1, 0);
  __m256 acc_row = _mm256_setzero_ps();
  for (int64_t b = 0; b < k / QK4_0; ++b) {
    const __m256i* q = reinterpret_cast<const __m256i*>(x[b].qs);
    const __m256i raw_0123_0 = _mm256_loadu_si256(q), raw_4567_0 = _mm256_loadu_si256(q + 1);
    const __m256i raw_0123_1 = _mm256_loadu_si256(q + 2), raw_4567_1 = _mm256_loadu_si256(q + 3);
    const __m256i v0123_0 = _mm256_shuffle_epi8(signextendlut, _mm256_and_si256(raw_0123_0, m4b));
    const __m256i v4567_0 = _mm256_shuffle_epi8(signextendlut, _mm256_and_si256(raw_4567_0, m4b));
    const __m256i v0123_1 = _mm256_shuffle_epi8(signextendlut, _mm256_and_si256(raw_0123_1, m4b));
    const __m256i v4567_1 = _mm256_shuffle_epi8(signextendlut, _mm256_and_si256(raw_4567_1, m4b));
    const __m256i v0123_2 = _mm256_shuffle_epi8(signextendlut, _mm256_and_si256(_mm256_srli_epi16(raw_0123_0, 4), m4b));
    const __m256i v4567_2 = _mm256_shuffle_epi8(signextendlut, _mm256_and_si256(_mm256_srli_epi16(raw_4567_0, 4), m4b));
    const __m256i v0123_3 = _mm256_shuffle_epi8(signextendlut, _mm256_and_si256(_mm256_srli_epi16(raw_0123_1, 4), m4b));
    const __m256i v4567_3 = _mm256_shuffle_epi8(signextendlut, _mm256_and_si256(_mm256_srli_epi16(raw_4567_1, 4), m4b));
    const __m256 col_scale = _mm256_cvtph_ps(_mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].d)), changemask));
    const __m256 row_scale = _mm256_set1_ps(fp16_to_fp32(y[b].d));
    __m256i l0 = _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y[b].qs)));
    __m256i l1 = _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y[b].qs + 16)));
    l0 = _mm256_permute2f128_si256(l0, l0, 0);
    l1 = _mm256_permute2f128_si256(l1, l1, 0);
    __m256i iacc = _mm256_setzero_si256();
    iacc = mul_sum_i8_pairs_acc(iacc, _mm256_blend_epi32(v0123_0, _mm256_shuffle_epi32(v4567_0, 177), 170), _mm256_shuffle_epi32(l0, 0));
    iacc = mul_sum_i8_pairs_acc(iacc, _mm256_blend_epi32(_mm256_shuffle_epi32(v0123_0, 177), v4567_0, 170), _mm256_shuffle_epi32(l0, 85));
    iacc = mul_sum_i8_pairs_acc(iacc, _mm256_blend_epi32(v0123_1, _mm256_shuffle_epi32(v4567_1, 177), 170), _mm256_shuffle_epi32(l0, 170));
    iacc = mul_sum_i8_pairs_acc(iacc, _mm256_blend_epi32(_mm256_shuffle_epi32(v0123_1, 177), v4567_1, 170), _mm256_shuffle_epi32(l0, 255));
    iacc = mul_sum_i8_pairs_acc(iacc, _mm256_blend_epi32(v0123_2, _mm256_shuffle_epi32(v4567_2, 177), 170), _mm256_shuffle_epi32(l1, 0));
    iacc = mul_sum_i8_pairs_acc(iacc, _mm256_blend_epi32(_mm256_shuffle_epi32(v0123_2, 177), v4567_2, 170), _mm256_shuffle_epi32(l1, 85));
    iacc = mul_sum_i8_pairs_acc(iacc, _mm256_blend_epi32(v0123_3, _mm256_shuffle_epi32(v4567_3, 177), 170), _mm256_shuffle_epi32(l1, 170));
    iacc = mul_sum_i8_pairs_acc(iacc, _mm256_blend_epi32(_mm256_shuffle_epi32(v0123_3, 177), v4567_3, 170), _mm256_shuffle_epi32(l1, 255));
    acc_row = _mm256_fmadd_ps(_mm256_cvtepi32_ps(iacc), _mm256_mul_ps(col_scale, row_scale), acc_row);
  }
  _mm256_storeu_ps(out, _mm256_permutevar8x32_ps(acc_row, finalpermutemask));
}

namespace {

// 32 signed weights (u - 8) of a plain block, element order (low nibbles = elements 0..15, high = 16..31).
CK_TARGET_AVX2 inline __m256i q4_0_values(const BlockQ4_0& x) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x.qs));
  const __m256i v = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F));
  return _mm256_sub_epi8(v, _mm256_set1_epi8(8));
}

// Lane c = sum of the 8 int32 lanes of p[c] (exact).
CK_TARGET_AVX2 inline __m256i hsum8x8(const __m256i p[8]) {
  const __m256i t01 = _mm256_hadd_epi32(p[0], p[1]), t23 = _mm256_hadd_epi32(p[2], p[3]);
  const __m256i t45 = _mm256_hadd_epi32(p[4], p[5]), t67 = _mm256_hadd_epi32(p[6], p[7]);
  const __m256i u0 = _mm256_hadd_epi32(t01, t23), u1 = _mm256_hadd_epi32(t45, t67);  // [s0..s3 lo | s0..s3 hi]
  return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20), _mm256_permute2x128_si256(u0, u1, 0x31));
}

// Exact int32 block dots of 8 weight rows with one activation block, lane c = row c.
CK_TARGET_AVX2 inline __m256i isum8(const BlockQ4_0* x, int64_t lda, int64_t b, const BlockQ8_0& y) {
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.qs));
  __m256i p[8];
  for (int c = 0; c < 8; ++c) p[c] = mul_sum_i8_pairs_acc(_mm256_setzero_si256(), q4_0_values(x[c * lda + b]), a);
  return hsum8x8(p);
}

CK_TARGET_AVX2 inline __m256 scales8(const BlockQ4_0* x, int64_t lda, int64_t b) {
  const __m128i h = _mm_setr_epi16(static_cast<short>(x[b].d), static_cast<short>(x[lda + b].d),
                                   static_cast<short>(x[2 * lda + b].d), static_cast<short>(x[3 * lda + b].d),
                                   static_cast<short>(x[4 * lda + b].d), static_cast<short>(x[5 * lda + b].d),
                                   static_cast<short>(x[6 * lda + b].d), static_cast<short>(x[7 * lda + b].d));
  return _mm256_cvtph_ps(h);
}

}  // namespace

CK_TARGET_AVX2 void dot8_q4_0_repack_avx2(int64_t k, const BlockQ4_0* x, int64_t lda, const BlockQ8_0* y, float out[8]) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < k / QK4_0; ++b) {
    const __m256 scale = _mm256_mul_ps(scales8(x, lda, b), _mm256_set1_ps(fp16_to_fp32(y[b].d)));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum8(x, lda, b, y[b])), scale, acc);
  }
  _mm256_storeu_ps(out, acc);
}

// 8 weight rows x 4 activation rows: the weights of a block are widened once and used for 4 activation rows;
// every output keeps dot8_q4_0_repack_avx2's arithmetic.
CK_TARGET_AVX2 void dot8x4_q4_0_repack_avx2(int64_t k, const BlockQ4_0* x, int64_t lda, const BlockQ8_0* y,
                                            int64_t ldb, float* out, int64_t ldc) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t b = 0; b < k / QK4_0; ++b) {
    __m256i w[8];
    for (int c = 0; c < 8; ++c) w[c] = q4_0_values(x[c * lda + b]);
    const __m256 ws = scales8(x, lda, b);
    for (int r = 0; r < 4; ++r) {
      const BlockQ8_0& yb = y[r * ldb + b];
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(yb.qs));
      __m256i p[8];
      for (int c = 0; c < 8; ++c) p[c] = mul_sum_i8_pairs_acc(_mm256_setzero_si256(), w[c], a);
      const __m256 scale = _mm256_mul_ps(ws, _mm256_set1_ps(fp16_to_fp32(yb.d)));
      acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(hsum8x8(p)), scale, acc[r]);
    }
  }
  for (int r = 0; r < 4; ++r) _mm256_storeu_ps(out + r * ldc, acc[r]);
}

// Two row groups per zmm (lanes 0-7: rows 0-7, lanes 8-15: rows 8-15); each lane runs the AVX2 lane's math.
// (GCC 12 flags the _mm512_undefined_* placeholders inside immintrin.h as maybe-uninitialized.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
CK_TARGET_AVX512 void dot16_q4_0_repack_avx512(int64_t k, const BlockQ4_0* x, int64_t lda, const BlockQ8_0* y,
                                               float out[16]) {
  __m512 acc = _mm512_setzero_ps();
  for (int64_t b = 0; b < k / QK4_0; ++b) {
    const __m512i is = _mm512_inserti64x4(_mm512_castsi256_si512(isum8(x, lda, b, y[b])), isum8(x + 8 * lda, lda, b, y[b]), 1);
    const __m512 ws = _mm512_insertf32x8(_mm512_castps256_ps512(scales8(x, lda, b)), scales8(x + 8 * lda, lda, b), 1);
    const __m512 scale = _mm512_mul_ps(ws, _mm512_set1_ps(fp16_to_fp32(y[b].d)));
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is), scale, acc);
  }
  _mm512_storeu_ps(out, acc);
}
#pragma GCC diagnostic pop

void matmul_q4_0_repack(int64_t m, int64_t n, int64_t k, const BlockQ4_0* A, int64_t lda, const BlockQ8_0* B,
                        int64_t ldb, float* C, int64_t ldc, int ith, int nth) {
  const auto [g0, g1] = split_range(static_cast<size_t>(m / 8), ith, nth);
  const Isa isa = active_isa();
  float r[16];
  if (isa < Isa::avx2) {
    for (size_t g = g0; g < g1; ++g)
      for (int64_t j = 0; j < n; ++j)
        for (int c = 0; c < 8; ++c) {
          const int64_t i = static_cast<int64_t>(g) * 8 + c;
          C[j * ldc + i] = dot_q4_0_repack_scalar(k, A + i * lda, B + j * ldb);
        }
    return;
  }
  const int64_t n4 = n - n % 4;
  for (size_t g = g0; g < g1; ++g) {  // activation rows in fours: weights widened once per block
    const int64_t i = static_cast<int64_t>(g) * 8;
    for (int64_t j = 0; j < n4; j += 4) dot8x4_q4_0_repack_avx2(k, A + i * lda, lda, B + j * ldb, ldb, C + j * ldc + i, ldc);
  }
  for (size_t g = g0; g < g1;) {  // the other rows (all of them for n < 4, e.g. every generated token)
    const int64_t i = static_cast<int64_t>(g) * 8;
    const bool two = isa >= Isa::avx512 && g + 1 < g1;
    for (int64_t j = n4; j < n; ++j) {
      if (two) dot16_q4_0_repack_avx512(k, A + i * lda, lda, B + j * ldb, r);
      else dot8_q4_0_repack_avx2(k, A + i * lda, lda, B + j * ldb, r);
      std::memcpy(C + j * ldc + i, r, (two ? 16 : 8) * sizeof(float));
    }
    g += two ? 2 : 1;
  }
}

}  // namespace ck::kernels
