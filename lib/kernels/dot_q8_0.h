// Q8_0 x Q8_0 dot product: ggml_vec_dot_q8_0_q8_0 (arch/x86/quants.c, AVX2), identical per output to llamafile's
// tinyBLAS_Q0_AVX<block_q8_0, block_q8_0, float> — so one kernel serves both ggml mat-mul paths.
#pragma once
#include <cstdint>

#include "kernels/blocks.h"

namespace ck::kernels {

// n elements (n % 32 == 0); x = weight row, y = quantized activation row.
float dot_q8_0_scalar(int64_t n, const BlockQ8_0* x, const BlockQ8_0* y);
float dot_q8_0_avx2(int64_t n, const BlockQ8_0* x, const BlockQ8_0* y);
float dot_q8_0(int64_t n, const BlockQ8_0* x, const BlockQ8_0* y);

// C[j*ldc + i] = dot_q8_0(k, A + i*lda, B + j*ldb); lda/ldb in blocks. Threads split weight rows.
void matmul_q8_0(int64_t m, int64_t n, int64_t k, const BlockQ8_0* A, int64_t lda, const BlockQ8_0* B, int64_t ldb,
                 float* C, int64_t ldc, int ith, int nth);

}  // namespace ck::kernels
