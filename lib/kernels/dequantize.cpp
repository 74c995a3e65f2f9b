// Row dequantization (get_rows of weight tables, e.g. token_embd).
//
// Mirrors dequantize_row_{q4_0,q8_0,q4_K,q5_K,q6_K} (ggml/src/ggml-quants.c, b10256), which ggml-base compiles
// for baseline x86-64 (no FMA contraction, as here):
//   Q4_0: y = (q - 8) * d;  Q8_0: y = q * d                          (exact products)
//   Q4_K: d1 = d * sc, m1 = dmin * m (get_scale_min_k4); y = d1 * q - m1   (two roundings at most: product, sub)
//   Q5_K: same with q = low4 + 16*hbit
//   Q6_K: y = (d * sc) * (q6 - 32)                                    (left to right, float)
// and ggml_compute_forward_get_rows_{f16,bf16,f32,q} (ggml-cpu/ops.cpp): exact widening for F16/BF16.
#include "kernels/dequantize.h"

#include <cstring>
#include <stdexcept>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/convert_bf16.h"
#include "kernels/convert_fp16.h"

namespace ck::kernels {

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
  const int64_t nb = n / QK4_0;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < QK4_0 / 2; ++j) {
      const int x0 = (x[i].qs[j] & 0x0F) - 8;
      const int x1 = (x[i].qs[j] >> 4) - 8;
      y[i * QK4_0 + j] = static_cast<float>(x0) * d;
      y[i * QK4_0 + j + QK4_0 / 2] = static_cast<float>(x1) * d;
    }
  }
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
  const int64_t nb = n / QK8_0;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < QK8_0; ++j) y[i * QK8_0 + j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

void dequantize_row_q4_K(const BlockQ4_K* x, float* y, int64_t n) {
  const int64_t nb = n / QK_K;
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* q = x[i].qs;
    const float d = fp16_to_fp32(x[i].d);
    const float min = fp16_to_fp32(x[i].dmin);
    int is = 0;
    uint8_t sc, m;
    for (int j = 0; j < QK_K; j += 64) {
      get_scale_min_k4(is + 0, x[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
      q += 32;
      is += 2;
    }
  }
}

void dequantize_row_q5_K(const BlockQ5_K* x, float* y, int64_t n) {
  const int64_t nb = n / QK_K;
  for (int64_t i = 0; i < nb; ++i) {
    const uint8_t* ql = x[i].qs;
    const uint8_t* qh = x[i].qh;
    const float d = fp16_to_fp32(x[i].d);
    const float min = fp16_to_fp32(x[i].dmin);
    int is = 0;
    uint8_t sc, m;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < QK_K; j += 64) {
      get_scale_min_k4(is + 0, x[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
      ql += 32;
      is += 2;
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}

void dequantize_row_q6_K(const BlockQ6_K* x, float* y, int64_t n) {
  const int64_t nb = n / QK_K;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    for (int n0 = 0; n0 < QK_K; n0 += 128) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int8_t q1 = static_cast<int8_t>((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int8_t q2 = static_cast<int8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int8_t q3 = static_cast<int8_t>((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int8_t q4 = static_cast<int8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l + 0] = d * sc[is + 0] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}

void dequantize_row(DType type, const void* x, float* y, int64_t n) {
  switch (type) {
    case DType::F32: std::memcpy(y, x, static_cast<size_t>(n) * 4); return;
    case DType::F16: fp16_to_fp32_row(static_cast<const uint16_t*>(x), y, n); return;
    case DType::BF16: bf16_to_fp32_row(static_cast<const uint16_t*>(x), y, n); return;
    case DType::Q4_0: dequantize_row_q4_0(static_cast<const BlockQ4_0*>(x), y, n); return;
    case DType::Q8_0: dequantize_row_q8_0(static_cast<const BlockQ8_0*>(x), y, n); return;
    case DType::Q4_K: dequantize_row_q4_K(static_cast<const BlockQ4_K*>(x), y, n); return;
    case DType::Q5_K: dequantize_row_q5_K(static_cast<const BlockQ5_K*>(x), y, n); return;
    case DType::Q6_K: dequantize_row_q6_K(static_cast<const BlockQ6_K*>(x), y, n); return;
    default: break;
  }
  throw std::invalid_argument(std::string("dequantize_row: unsupported type ") + dtype_name(type));
}

void get_rows(DType type, const void* src, int64_t src_row_bytes, int64_t ncols, const int32_t* ids, int64_t n_ids,
              float* dst, int64_t dst_stride, int ith, int nth) {
  const auto [r0, r1] = split_range(static_cast<size_t>(n_ids), ith, nth);
  const auto* base = static_cast<const uint8_t*>(src);
  for (size_t i = r0; i < r1; ++i)
    dequantize_row(type, base + static_cast<int64_t>(ids[i]) * src_row_bytes, dst + static_cast<int64_t>(i) * dst_stride,
                   ncols);
}

}  // namespace ck::kernels
