// GELU (tanh approximation through ggml's fp16 lookup table), bit-exact with ggml_vec_gelu_f32 (vec.h).
#pragma once
#include <cstdint>

namespace ck::kernels {

// The 65536-entry table ggml_table_gelu_f16 as ggml_cpu_init builds it (built once, thread-safe).
const uint16_t* gelu_table_f16();

void gelu_row_scalar(const float* x, float* y, int64_t n);
void gelu_row_avx2(const float* x, float* y, int64_t n);
void gelu_row(const float* x, float* y, int64_t n);

// nrows rows of n (strides in floats); in place allowed (x == y). Threads split rows.
void gelu_rows(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n, int64_t nrows, int ith,
               int nth);

}  // namespace ck::kernels
