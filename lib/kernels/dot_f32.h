// ggml_vec_dot_f32 and ggml_vec_dot_bf16 (ggml-cpu/vec.cpp, AVX2 build) and the mat-muls made of them: ggml's
// mul_mat for F32 / BF16 weights when llamafile declines (n == 1 activation rows, k % 8 != 0, m % 4 != 0), and
// the non-flash-attention kq product.
#pragma once
#include <cstdint>

namespace ck::kernels {

float dot_f32_scalar(int64_t n, const float* x, const float* y);
float dot_f32_avx2(int64_t n, const float* x, const float* y);
float dot_f32(int64_t n, const float* x, const float* y);

// bf16 bits as uint16_t.
float dot_bf16_scalar(int64_t n, const uint16_t* x, const uint16_t* y);
float dot_bf16_avx2(int64_t n, const uint16_t* x, const uint16_t* y);
float dot_bf16(int64_t n, const uint16_t* x, const uint16_t* y);

// C[j*ldc + i] = dot(k, A + i*lda, B + j*ldb); threads split weight rows.
void matmul_vecdot_f32(int64_t m, int64_t n, int64_t k, const float* A, int64_t lda, const float* B, int64_t ldb,
                       float* C, int64_t ldc, int ith, int nth);
void matmul_vecdot_bf16(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                        int64_t ldb, float* C, int64_t ldc, int ith, int nth);

}  // namespace ck::kernels
