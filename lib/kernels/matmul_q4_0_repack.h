// Q4_0 weights through ggml's CPU_REPACK buffer (llama.cpp default on AVX2 x86: every Q4_0 weight with
// ne[1] % 8 == 0 is repacked to block_q4_0x8 = "q4_0_8x8_q8_0", ggml_repack_get_optimal_repack_type):
// ggml_gemm_q4_0_8x8_q8_0 for activation rows [0, n - n%4) in groups of 4 (activations from
// ggml_quantize_mat_q8_0_4x8), ggml_gemv_q4_0_8x8_q8_0 for the last n % 4 rows and every 1-row op (activations
// from quantize_row_q8_0). Both keep one float accumulator per output and add each 32-element block's exact
// integer dot with one FMA: acc = fmaf((float)isum_b, fp16(w.d_b) * fp16(a.d_b), acc). So, unlike Q4_K, the
// gemm and gemv rows give the same result; it differs from ggml_vec_dot_q4_0_q8_0 (8 lane accumulators + hsum).
#pragma once
#include <cstdint>

#include "kernels/blocks.h"

namespace ck::kernels {

// ggml block_q4_0x8 (repack.h block<4, 8>): the fp16 scales of 8 rows' blocks, then their nibbles interleaved
// in 8-byte chunks (chunk i = bytes (i/8)*8 .. +7 of row i%8), each byte xor 0x88 (unsigned nibble u -> the
// 4-bit two's complement of u - 8).
struct BlockQ4_0x8 {
  uint16_t d[8];
  uint8_t qs[128];
};
static_assert(sizeof(BlockQ4_0x8) == 144, "block_q4_0x8 is 144 bytes");

// ggml block_q8_0x4 (block<8, 4>): 4 rows' q8_0 scales, then their quants interleaved in 8-byte chunks.
struct BlockQ8_0x4 {
  uint16_t d[4];
  int8_t qs[128];
};
static_assert(sizeof(BlockQ8_0x4) == 136, "block_q8_0x4 is 136 bytes");

// make_block_q4_0x8(in, 8) (ggml-cpu/repack.cpp).
BlockQ4_0x8 make_block_q4_0x8(const BlockQ4_0 in[8]);
// repack_q4_0_to_q4_0_8_bl: m rows (m % 8 == 0) of k/32 blocks -> (m/8) * (k/32) block_q4_0x8, group-major.
void repack_q4_0_8x8(int64_t m, int64_t k, const BlockQ4_0* A, BlockQ4_0x8* out);
// ggml_quantize_mat_q8_0_4x8 (arch/x86/repack.cpp): 4 rows of k floats at x + r * x_stride. Per row the values of
// quantize_row_q8_0 (AVX path: d = amax / 127, id = 127 / amax, RNE, pack saturation), interleaved.
void quantize_mat_q8_0_4x8(const float* x, int64_t x_stride, BlockQ8_0x4* y, int64_t k);

// ggml_gemv_q4_0_8x8_q8_0 AVX2 (gemv_q4_b32_8x8_q8_0_lut_avx) on the interleaved layout: the 8 outputs of one
// block_q4_0x8 row group for one q8_0 activation row. out[c] = output of weight row c of the group.
void gemv_q4_0_8x8_scalar(int64_t k, const BlockQ4_0x8* x, const BlockQ8_0* y, float out[8]);
void gemv_q4_0_8x8_avx2(int64_t k, const BlockQ4_0x8* x, const BlockQ8_0* y, float out[8]);
// ggml_gemm_q4_0_8x8_q8_0 (gemm_q4_b32_8x8_q8_0_lut_avx) for 4 activation rows: out[r * ldc + c].
void gemm_q4_0_8x8_scalar(int64_t k, const BlockQ4_0x8* x, const BlockQ8_0x4* y, float* out, int64_t ldc);

// Runtime path on plain block_q4_0 rows (the mmapped GGUF data; interleaving changes memory order only): the
// same per-output arithmetic, 8 weight rows at a time (AVX2: the 8 outputs in the lanes of one ymm, as upstream;
// AVX-512: two row groups in one zmm, per-lane math unchanged).
float dot_q4_0_repack_scalar(int64_t k, const BlockQ4_0* x, const BlockQ8_0* y);
void dot8_q4_0_repack_avx2(int64_t k, const BlockQ4_0* x, int64_t lda, const BlockQ8_0* y, float out[8]);
void dot8x4_q4_0_repack_avx2(int64_t k, const BlockQ4_0* x, int64_t lda, const BlockQ8_0* y, int64_t ldb, float* out,
                             int64_t ldc);  // out[r * ldc + c]: 8 weight rows x 4 activation rows
void dot16_q4_0_repack_avx512(int64_t k, const BlockQ4_0* x, int64_t lda, const BlockQ8_0* y, float out[16]);

// C[j*ldc + i] for i < m weight rows (m % 8 == 0), j < n activation rows quantized with quantize_row_q8_0
// (identical values to quantize_mat_q8_0_4x8 per row). Rows are split over threads in groups of 8; each output is
// computed by one thread with the fixed per-output order, so results do not depend on nth.
void matmul_q4_0_repack(int64_t m, int64_t n, int64_t k, const BlockQ4_0* A, int64_t lda, const BlockQ8_0* B,
                        int64_t ldb, float* C, int64_t ldc, int ith, int nth);

}  // namespace ck::kernels
