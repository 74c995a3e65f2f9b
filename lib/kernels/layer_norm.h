// LayerNorm over rows, bit-exact with ggml_compute_forward_norm_f32 (ops.cpp) of the AVX2 build, optionally
// followed by ggml_mul(., w) and ggml_add(., b) (separate float ops upstream; same bits here).
#pragma once
#include <cstdint>

namespace ck::kernels {

// y = (x - mean) * (1/sqrtf(var + eps)) [* w] [+ b]; w, b may be null (length n, broadcast over rows).
void layer_norm_row_scalar(const float* x, float* y, int64_t n, float eps, const float* w, const float* b);
void layer_norm_row_avx2(const float* x, float* y, int64_t n, float eps, const float* w, const float* b);
void layer_norm_row(const float* x, float* y, int64_t n, float eps, const float* w, const float* b);

void layer_norm_rows(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n, int64_t nrows,
                     float eps, const float* w, const float* b, int ith, int nth);

}  // namespace ck::kernels
