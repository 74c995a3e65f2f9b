// K-quant x q8_K dot products (ggml/src/ggml-cpu/arch/x86/quants.c, b10256, `#if defined __AVX2__` branches,
// used unchanged by AVX-512 builds) and Q4_0 x Q8_0. These are the per-output kernels of ggml's mul_mat for
// Q5_K / Q6_K weights (always), Q4_K weights without repack (--no-repack), and Q4_0 weights without repack.
#pragma once
#include <cstdint>

#include "kernels/blocks.h"

namespace ck::kernels {

// n elements (multiple of 256, resp. 32 for Q4_0); x = weight row, y = activation row quantized with
// quantize_row_q8_K (resp. quantize_row_q8_0).
float dot_q4_K_scalar(int64_t n, const BlockQ4_K* x, const BlockQ8_K* y);
float dot_q4_K_avx2(int64_t n, const BlockQ4_K* x, const BlockQ8_K* y);
float dot_q4_K(int64_t n, const BlockQ4_K* x, const BlockQ8_K* y);

float dot_q5_K_scalar(int64_t n, const BlockQ5_K* x, const BlockQ8_K* y);
float dot_q5_K_avx2(int64_t n, const BlockQ5_K* x, const BlockQ8_K* y);
float dot_q5_K(int64_t n, const BlockQ5_K* x, const BlockQ8_K* y);

float dot_q6_K_scalar(int64_t n, const BlockQ6_K* x, const BlockQ8_K* y);
float dot_q6_K_avx2(int64_t n, const BlockQ6_K* x, const BlockQ8_K* y);
// Same lanes and bits with two 32-element chunks per zmm (AVX-512 F/BW/VL hosts).
float dot_q6_K_avx512(int64_t n, const BlockQ6_K* x, const BlockQ8_K* y);
float dot_q6_K(int64_t n, const BlockQ6_K* x, const BlockQ8_K* y);

float dot_q4_0_scalar(int64_t n, const BlockQ4_0* x, const BlockQ8_0* y);
float dot_q4_0_avx2(int64_t n, const BlockQ4_0* x, const BlockQ8_0* y);
float dot_q4_0(int64_t n, const BlockQ4_0* x, const BlockQ8_0* y);
// Q5_0 x Q8_0: ggml_vec_dot_q5_0_q8_0 (AVX2 branch), equal per output to tinyBLAS_Q0_AVX<block_q5_0, block_q8_0>.
float dot_q5_0_scalar(int64_t n, const BlockQ5_0* x, const BlockQ8_0* y);
float dot_q5_0_avx2(int64_t n, const BlockQ5_0* x, const BlockQ8_0* y);
float dot_q5_0(int64_t n, const BlockQ5_0* x, const BlockQ8_0* y);

// C[j*ldc + i] = dot(k, A row i, B row j) for i < m weight rows, j < n activation rows; lda/ldb in blocks.
// Threads split weight rows; every output is one dot call (thread-count independent).
void matmul_q4_K(int64_t m, int64_t n, int64_t k, const BlockQ4_K* A, int64_t lda, const BlockQ8_K* B, int64_t ldb,
                 float* C, int64_t ldc, int ith, int nth);
void matmul_q5_K(int64_t m, int64_t n, int64_t k, const BlockQ5_K* A, int64_t lda, const BlockQ8_K* B, int64_t ldb,
                 float* C, int64_t ldc, int ith, int nth);
void matmul_q6_K(int64_t m, int64_t n, int64_t k, const BlockQ6_K* A, int64_t lda, const BlockQ8_K* B, int64_t ldb,
                 float* C, int64_t ldc, int ith, int nth);
void matmul_q4_0(int64_t m, int64_t n, int64_t k, const BlockQ4_0* A, int64_t lda, const BlockQ8_0* B, int64_t ldb,
                 float* C, int64_t ldc, int ith, int nth);
void matmul_q5_0(int64_t m, int64_t n, int64_t k, const BlockQ5_0* A, int64_t lda, const BlockQ8_0* B, int64_t ldb,
                 float* C, int64_t ldc, int ith, int nth);

}  // namespace ck::kernels
