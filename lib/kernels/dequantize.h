// Row dequantization and get_rows, bit-exact with ggml's to_float functions (ggml-base ggml-quants.c
// dequantize_row_*, compiled baseline x86-64: no FMA) and ggml_compute_forward_get_rows (ggml-cpu/ops.cpp).
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "kernels/blocks.h"

namespace ck::kernels {

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n);
void dequantize_row_q4_K(const BlockQ4_K* x, float* y, int64_t n);
void dequantize_row_q5_K(const BlockQ5_K* x, float* y, int64_t n);
void dequantize_row_q6_K(const BlockQ6_K* x, float* y, int64_t n);

// One row of n elements of any supported type (F32, F16, BF16, Q4_0, Q8_0, Q4_K, Q5_K, Q6_K) to f32.
// Throws std::invalid_argument for other types.
void dequantize_row(DType type, const void* x, float* y, int64_t n);

// get_rows: dst row i = dequantize(src row ids[i]); src rows are src_row_bytes apart, dst rows dst_stride floats.
// Threads take contiguous ranges of the n_ids output rows.
void get_rows(DType type, const void* src, int64_t src_row_bytes, int64_t ncols, const int32_t* ids, int64_t n_ids,
              float* dst, int64_t dst_stride, int ith, int nth);

}  // namespace ck::kernels
