// ggml_vec_dot_f16 (ggml-cpu/vec.cpp, AVX2 build) and the mat-mul made of it (ggml's non-llamafile path, and the
// path llamafile declines: n == 1 rows, k % 8 != 0, m % 4 != 0).
#pragma once
#include <cstdint>

namespace ck::kernels {

float dot_f16_scalar(int64_t n, const uint16_t* x, const uint16_t* y);
float dot_f16_avx2(int64_t n, const uint16_t* x, const uint16_t* y);
float dot_f16(int64_t n, const uint16_t* x, const uint16_t* y);

// C[j*ldc + i] = dot_f16(k, A + i*lda, B + j*ldb) for i < m (weight rows), j < n (activation rows).
// Threads split the m x n outputs; every output is one dot_f16 call (thread-count independent).
void matmul_vecdot_f16(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                       int64_t ldb, float* C, int64_t ldc, int ith, int nth);

}  // namespace ck::kernels
