// fp32 <-> bf16 rows, bit-exact with ggml_cpu_fp32_to_bf16 / ggml_cpu_bf16_to_fp32 (ggml-cpu.c).
#pragma once
#include <cstdint>

namespace ck::kernels {

void fp32_to_bf16_row_scalar(const float* x, uint16_t* y, int64_t n);
void fp32_to_bf16_row_avx2(const float* x, uint16_t* y, int64_t n);
void fp32_to_bf16_row(const float* x, uint16_t* y, int64_t n);

void bf16_to_fp32_row_scalar(const uint16_t* x, float* y, int64_t n);
void bf16_to_fp32_row_avx2(const uint16_t* x, float* y, int64_t n);
void bf16_to_fp32_row(const uint16_t* x, float* y, int64_t n);

void fp32_to_bf16_rows(const float* x, int64_t x_stride, uint16_t* y, int64_t y_stride, int64_t n, int64_t nrows,
                       int ith, int nth);
void bf16_to_fp32_rows(const uint16_t* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n, int64_t nrows,
                       int ith, int nth);

}  // namespace ck::kernels
