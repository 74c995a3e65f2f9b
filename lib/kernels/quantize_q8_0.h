// Activation quantizer fp32 -> Q8_0, bit-exact with quantize_row_q8_0 (ggml-cpu/arch/x86/quants.c, AVX2 path).
#pragma once
#include <cstdint>

#include "kernels/blocks.h"

namespace ck::kernels {

// One row of k elements (k % 32 == 0) into k/32 blocks.
void quantize_row_q8_0_scalar(const float* x, BlockQ8_0* y, int64_t k);
void quantize_row_q8_0_avx2(const float* x, BlockQ8_0* y, int64_t k);
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t k);

// nrows rows (x_stride in floats, y_stride in blocks); thread ith of nth does a contiguous range of rows.
void quantize_rows_q8_0(const float* x, int64_t x_stride, BlockQ8_0* y, int64_t y_stride, int64_t k, int64_t nrows,
                        int ith, int nth);

}  // namespace ck::kernels
