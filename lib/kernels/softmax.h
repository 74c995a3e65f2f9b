// Row softmax, bit-exact with ggml_compute_forward_soft_max_f32 (ggml-cpu/ops.cpp, b10256), AVX2 build, without
// ALiBi (max_bias = 0) and without sinks. Qwen3-VL graphs use flash attention instead; this is the non-FA path.
#pragma once
#include <cstdint>

namespace ck::kernels {

// y = softmax(x*scale + mask): mask is F16 (mask_f16) or F32 (mask_f32) or none (both null), length n.
void soft_max_row_scalar(const float* x, float* y, int64_t n, float scale, const uint16_t* mask_f16,
                         const float* mask_f32);
void soft_max_row_avx2(const float* x, float* y, int64_t n, float scale, const uint16_t* mask_f16,
                       const float* mask_f32);
void soft_max_row(const float* x, float* y, int64_t n, float scale, const uint16_t* mask_f16, const float* mask_f32);

// nrows rows; row r uses mask row (r % mask_rows) (mask_stride in elements; masks may be null). Threads take
// rows r = ith, ith + nth, ... (as ggml); rows are independent.
void soft_max_rows(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n, int64_t nrows, float scale,
                   const uint16_t* mask_f16, const float* mask_f32, int64_t mask_stride, int64_t mask_rows, int ith,
                   int nth);

}  // namespace ck::kernels
