// SiLU and SwiGLU, bit-exact with ggml_vec_silu_f32 / ggml_vec_swiglu_f32 (ggml-cpu/vec.cpp) of the AVX2 build.
#pragma once
#include <cstdint>

namespace ck::kernels {

void silu_row_scalar(const float* x, float* y, int64_t n);
void silu_row_avx2(const float* x, float* y, int64_t n);
void silu_row(const float* x, float* y, int64_t n);

// y = silu(x) * g   (x = gate, g = up, as ggml_swiglu_split(ctx, gate, up))
void swiglu_row_scalar(const float* x, const float* g, float* y, int64_t n);
void swiglu_row_avx2(const float* x, const float* g, float* y, int64_t n);
void swiglu_row(const float* x, const float* g, float* y, int64_t n);

void silu_rows(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n, int64_t nrows, int ith,
               int nth);
void swiglu_rows(const float* x, int64_t x_stride, const float* g, int64_t g_stride, float* y, int64_t y_stride,
                 int64_t n, int64_t nrows, int ith, int nth);

}  // namespace ck::kernels
