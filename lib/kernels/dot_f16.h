// ggml_vec_dot_f16 (ggml-cpu/vec.cpp, AVX2 build) and the mat-mul made of it (ggml's non-llamafile path, and the
// path llamafile declines: n == 1 rows, k % 8 != 0, m % 4 != 0).
#pragma once
#include <cstdint>

namespace ck::kernels {

float dot_f16_scalar(int64_t n, const uint16_t* x, const uint16_t* y);
float dot_f16_avx2(int64_t n, const uint16_t* x, const uint16_t* y);
float dot_f16(int64_t n, const uint16_t* x, const uint16_t* y);

// out[r] = dot_f16(n, x + r*ldx, y) for r < nrows, bit for bit, given yf = y widened to F32 (exact): several rows
// per pass share the widened y (AVX-512: one zmm FMA per 16 elements of a row).
void dot_f16_rows(int64_t n, const uint16_t* x, int64_t ldx, int64_t nrows, const uint16_t* y, const float* yf,
                  float* out);

// C[j*ldc + i] = dot_f16(k, A + i*lda, B + j*ldb) for i < m (weight rows), j < n (activation rows).
// Threads split the m x n outputs; every output is one dot_f16 call (thread-count independent).
void matmul_vecdot_f16(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                       int64_t ldb, float* C, int64_t ldc, int ith, int nth);

}  // namespace ck::kernels
