// Q4_K weights through ggml's CPU_REPACK buffer (llama.cpp default on AVX2 x86: every Q4_K weight with
// ne[1] % 8 == 0 is repacked to block_q4_Kx8): ggml_gemm_q4_K_8x8_q8_K for activation rows [0, n - n%4) in groups
// of 4, ggml_gemv_q4_K_8x8_q8_K for the last n % 4 rows (and for every 1-row op). Per-output arithmetic of both,
// on plain block_q4_K rows (the interleaved layout only changes memory order, not arithmetic). Variants: scalar
// (per output), AVX2 (8-row tiles), AVX-512 (16-row packs copied per L2 chunk, n >= 4; as ggml's AVX-512 build,
// whose Q4_K results equal the AVX2 build's), chosen by active_isa() (CK_KERNELS_ISA caps it).
#pragma once
#include <cstdint>

#include "kernels/blocks.h"

namespace ck::kernels {

// One output of each kernel: x = weight row (k/256 blocks), y = q8_K activation row.
float gemv_q4_K_scalar(int64_t k, const BlockQ4_K* x, const BlockQ8_K* y);
float gemv_q4_K_avx2(int64_t k, const BlockQ4_K* x, const BlockQ8_K* y);
float gemm_q4_K_scalar(int64_t k, const BlockQ4_K* x, const BlockQ8_K* y);
float gemm_q4_K_avx2(int64_t k, const BlockQ4_K* x, const BlockQ8_K* y);

// C[j*ldc + i] for i < m weight rows, j < n activation rows, with upstream's row rule (rows j < n - n%4: gemm,
// others: gemv). The result of a row depends on n (its position in the op), not on the thread count.
void matmul_q4_K_repack(int64_t m, int64_t n, int64_t k, const BlockQ4_K* A, int64_t lda, const BlockQ8_K* B,
                        int64_t ldb, float* C, int64_t ldc, int ith, int nth);

}  // namespace ck::kernels
