// Activation quantizer fp32 -> Q8_K, bit-exact with quantize_row_q8_K (x86: quantize_row_q8_K_ref, ggml-quants.c).
#pragma once
#include <cstdint>

#include "kernels/blocks.h"

namespace ck::kernels {

// One row of k elements (k % 256 == 0) into k/256 blocks.
void quantize_row_q8_K_scalar(const float* x, BlockQ8_K* y, int64_t k);
void quantize_row_q8_K(const float* x, BlockQ8_K* y, int64_t k);

void quantize_rows_q8_K(const float* x, int64_t x_stride, BlockQ8_K* y, int64_t y_stride, int64_t k, int64_t nrows,
                        int ith, int nth);

}  // namespace ck::kernels
