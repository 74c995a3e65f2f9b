// Fast-mode (`.fast`, tolerance-tested, NOT bit-exact) weight mat-muls. See matmul_fast_bf16.cpp for the
// arithmetic and its error bound, docs/KERNELS.md "Fast kernels" for the list.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ck::kernels {

// Storage type of the weight matrix A of a fast bf16 mat-mul.
enum class FastWeight { f32, f16, bf16 };

// Whether this CPU runs the bf16 dot-product kernels (AVX512-BF16 vdpbf16ps on top of AVX-512, unless
// CK_KERNELS_BF16=0 or CK_KERNELS_ISA caps below avx512). When false, callers use the strict kernel instead
// (strict results are always acceptable in fast mode).
bool matmul_fast_bf16_available();

// B (the F32 activations, n rows of k at stride ldx floats) rounded to bf16 (RNE) and packed in the layout the
// kernel reads: matmul_fast_bf16_packed_words(n, k) uint16 words. Threads split column tiles.
size_t matmul_fast_bf16_packed_words(int64_t n, int64_t k);
void matmul_fast_bf16_pack_b(int64_t n, int64_t k, const float* X, int64_t ldx, uint16_t* packed, int ith, int nth);

// C[j*ldc + i] ~= sum over l < k of A[i*lda + l] * X[j][l] for i < m (weight rows), j < n (activation rows), from
// the packed B. A's rows are converted to bf16 (RNE) per L2-sized chunk of rows by the thread that
// uses them (never a second copy of the whole weight), products by vdpbf16ps with f32 accumulation. Threads split rows
// (tiles of 4); results do not depend on the thread count. Requires matmul_fast_bf16_available().
void matmul_fast_bf16(FastWeight wt, int64_t m, int64_t n, int64_t k, const void* A, int64_t lda,
                      const uint16_t* packed, float* C, int64_t ldc, int ith, int nth);

// A (m rows of k, storage type wt, row stride lda elements) rounded to bf16 (RNE) once, in the kernel's own
// layout: matmul_fast_bf16_packed_a_words(m, k) uint16 words (rows padded to a multiple of 4, k to 16: about the
// F16 size of the matrix). Threads split row tiles. matmul_fast_bf16_prepacked then gives exactly the bits of
// matmul_fast_bf16 on the original A, without converting A per call.
size_t matmul_fast_bf16_packed_a_words(int64_t m, int64_t k);
void matmul_fast_bf16_pack_a(FastWeight wt, int64_t m, int64_t k, const void* A, int64_t lda, uint16_t* packed_a,
                             int ith, int nth);
void matmul_fast_bf16_prepacked(int64_t m, int64_t n, int64_t k, const uint16_t* packed_a, const uint16_t* packed,
                                float* C, int64_t ldc, int ith, int nth);

// The bound stated in matmul_fast_bf16.cpp, per output: |C_fast - C_exact| <= matmul_fast_bf16_rel_bound(k, wt) * S + T,
// S = sum_l |A_il| |X_jl|, T = 2^-126 (k + sum_l |A_il| + sum_l |X_jl|) (denormal flushing). Used by the tests and the docs.
double matmul_fast_bf16_rel_bound(int64_t k, FastWeight wt);

}  // namespace ck::kernels
