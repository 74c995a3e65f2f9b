// fp32 <-> fp16 rows, bit-exact with ggml_cpu_fp32_to_fp16 / ggml_cpu_fp16_to_fp32 (ggml-cpu.c) of the
// portable AVX2 build. See convert_fp16.cpp for the exact semantics (they differ only for NaN payloads).
#pragma once
#include <cstdint>

namespace ck::kernels {

// One row of n elements.
void fp32_to_fp16_row_scalar(const float* x, uint16_t* y, int64_t n);
void fp32_to_fp16_row_avx2(const float* x, uint16_t* y, int64_t n);
void fp32_to_fp16_row(const float* x, uint16_t* y, int64_t n);  // best variant for this CPU

void fp16_to_fp32_row_scalar(const uint16_t* x, float* y, int64_t n);
void fp16_to_fp32_row_avx2(const uint16_t* x, float* y, int64_t n);
void fp16_to_fp32_row(const uint16_t* x, float* y, int64_t n);

// nrows rows of n elements (strides in elements); thread ith of nth converts a contiguous range of rows.
void fp32_to_fp16_rows(const float* x, int64_t x_stride, uint16_t* y, int64_t y_stride, int64_t n, int64_t nrows,
                       int ith, int nth);
void fp16_to_fp32_rows(const uint16_t* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n, int64_t nrows,
                       int ith, int nth);

}  // namespace ck::kernels
