// RMSNorm over rows, bit-exact with ggml_compute_forward_rms_norm_f32 (ops.cpp), optionally fused with the
// following ggml_mul by w (upstream fuses RMS_NORM+MUL; the result is the same as the two separate ops).
#pragma once
#include <cstdint>

namespace ck::kernels {

// y = (x * (1/sqrtf(mean(x^2) + eps))) [* w]; w may be null (length n, broadcast over rows).
void rms_norm_row_scalar(const float* x, float* y, int64_t n, float eps, const float* w);
void rms_norm_row_avx2(const float* x, float* y, int64_t n, float eps, const float* w);
void rms_norm_row(const float* x, float* y, int64_t n, float eps, const float* w);

void rms_norm_rows(const float* x, int64_t x_stride, float* y, int64_t y_stride, int64_t n, int64_t nrows, float eps,
                   const float* w, int ith, int nth);

}  // namespace ck::kernels
