// llamafile tinyBLAS mat-mul (ggml-cpu/llamafile/sgemm.cpp, AVX2 instantiations) for F32, F16 and BF16 operands.
// ggml uses it for every F32/F16 weight mat-mul of n >= 2 activation rows when k % 8 == 0 and m % 4 == 0
// (see tinyblas_applies); F16 weights get their F32 activations rounded to F16 first (fp32_to_fp16_row).
#pragma once
#include <cstdint>

namespace ck::kernels {

// llamafile_sgemm's acceptance test on the AVX2 build (KN = 8): n >= 2, k % 8 == 0, m % 4 == 0.
inline bool tinyblas_applies(int64_t m, int64_t n, int64_t k) { return n >= 2 && k % 8 == 0 && m % 4 == 0; }

// C[j*ldc + i] = sum over l < k of A[i*lda + l] * B[j*ldb + l] for i < m (weight rows), j < n (activation rows),
// with tinyBLAS's per-output arithmetic. Requires k % 8 == 0 (any m, n accepted; the caller checks
// tinyblas_applies to decide whether ggml would take this path). Threads split output tiles.
void matmul_tinyblas_f32_scalar(int64_t m, int64_t n, int64_t k, const float* A, int64_t lda, const float* B,
                                int64_t ldb, float* C, int64_t ldc, int ith, int nth);
void matmul_tinyblas_f32_avx2(int64_t m, int64_t n, int64_t k, const float* A, int64_t lda, const float* B,
                              int64_t ldb, float* C, int64_t ldc, int ith, int nth);
void matmul_tinyblas_f32_avx512(int64_t m, int64_t n, int64_t k, const float* A, int64_t lda, const float* B,
                                int64_t ldb, float* C, int64_t ldc, int ith, int nth);
void matmul_tinyblas_f32(int64_t m, int64_t n, int64_t k, const float* A, int64_t lda, const float* B, int64_t ldb,
                         float* C, int64_t ldc, int ith, int nth);

void matmul_tinyblas_f16_scalar(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                                int64_t ldb, float* C, int64_t ldc, int ith, int nth);
void matmul_tinyblas_f16_avx2(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                              int64_t ldb, float* C, int64_t ldc, int ith, int nth);
void matmul_tinyblas_f16_avx512(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                                int64_t ldb, float* C, int64_t ldc, int ith, int nth);
void matmul_tinyblas_f16(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                         int64_t ldb, float* C, int64_t ldc, int ith, int nth);

// BF16 weights and BF16-rounded activations (fp32_to_bf16_row), bf16 bits as uint16_t.
void matmul_tinyblas_bf16_scalar(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                                 int64_t ldb, float* C, int64_t ldc, int ith, int nth);
void matmul_tinyblas_bf16_avx2(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                               int64_t ldb, float* C, int64_t ldc, int ith, int nth);
void matmul_tinyblas_bf16_avx512(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                                 int64_t ldb, float* C, int64_t ldc, int ith, int nth);
// The same outputs with AVX512-BF16 vdpbf16ps (matmul_tinyblas_bf16_dp.cpp): returns false, having written nothing,
// when this CPU or the data's exponent range does not allow it to be exact (same decision in every thread).
bool matmul_tinyblas_bf16_avx512dp(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda,
                                   const uint16_t* B, int64_t ldb, float* C, int64_t ldc, int ith, int nth);
void matmul_tinyblas_bf16(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                          int64_t ldb, float* C, int64_t ldc, int ith, int nth);

}  // namespace ck::kernels
