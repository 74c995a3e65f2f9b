// fp32 -> Q8_K activation quantizer (the vec_dot_type of every K-quant weight).
//
// Mirrors quantize_row_q8_K_ref (ggml/src/ggml-quants.c, b10256), which is what x86 builds run: the x86
// quantize_row_q8_K in arch/x86/quants.c just calls it ("placeholder implementation"). ggml-quants.c lives in
// ggml-base, compiled for baseline x86-64, so nothing is contracted. Per 256-element block:
//   amax/max: sequential scan, first element with the strictly largest |x| (max keeps its sign);
//   amax == 0: d = 0, qs = 0 — upstream leaves bsums untouched (uninitialized); ck writes 0 there;
//   iscale = -127.f / max;  q = min(127, nearest_int(iscale * x))  with nearest_int(f) = bits(f + 12582912.f)
//   & 0x7fffff - 0x400000 (round to nearest even); bsums[j] = sum of q[16j..16j+15]; d = 1 / iscale (float).
// Sequential scalar code upstream; a SIMD version would gain little (this runs once per activation row), so
// there is only the scalar variant.
#include "kernels/quantize_q8_K.h"

#include <cmath>
#include <cstring>

#include "core/thread_pool.h"

namespace ck::kernels {

namespace {
inline int nearest_int(float fval) {
  const float val = fval + 12582912.f;
  int i;
  std::memcpy(&i, &val, sizeof(int));
  return (i & 0x007fffff) - 0x00400000;
}
}  // namespace

void quantize_row_q8_K_scalar(const float* x, BlockQ8_K* y, int64_t k) {
  const int64_t nb = k / QK_K;
  for (int64_t i = 0; i < nb; i++, x += QK_K) {
    float max = 0, amax = 0;
    for (int j = 0; j < QK_K; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (!amax) {
      y[i].d = 0;
      std::memset(y[i].qs, 0, QK_K);
      std::memset(y[i].bsums, 0, sizeof(y[i].bsums));
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < QK_K; ++j) {
      const int v = nearest_int(iscale * x[j]);
      y[i].qs[j] = static_cast<int8_t>(v < 127 ? v : 127);
    }
    for (int j = 0; j < QK_K / 16; ++j) {
      int sum = 0;
      for (int ii = 0; ii < 16; ++ii) sum += y[i].qs[j * 16 + ii];
      y[i].bsums[j] = static_cast<int16_t>(sum);
    }
    y[i].d = 1 / iscale;
  }
}

void quantize_row_q8_K(const float* x, BlockQ8_K* y, int64_t k) { quantize_row_q8_K_scalar(x, y, k); }

void quantize_rows_q8_K(const float* x, int64_t x_stride, BlockQ8_K* y, int64_t y_stride, int64_t k, int64_t nrows,
                        int ith, int nth) {
  const auto [r0, r1] = split_range(static_cast<size_t>(nrows), ith, nth);
  for (size_t r = r0; r < r1; ++r) quantize_row_q8_K(x + r * x_stride, y + r * y_stride, k);
}

}  // namespace ck::kernels
