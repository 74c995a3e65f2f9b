// Scalar fp16 / bf16 conversions exactly as ggml does them on x86-64 (ggml-impl.h):
//  - fp32->fp16: ggml_compute_fp32_to_fp16 (ggml-impl.h, GGML_FP32_TO_FP16): round to nearest even, the same bits
//    as F16C `_cvtss_sh(x, 0)` except NaN, which becomes 0x7E00|sign (F16C keeps payload bits). ggml uses this
//    one where it calls GGML_FP32_TO_FP16, e.g. when ggml_cpu_init builds the GELU table; kernels that mirror
//    GGML_CPU_FP32_TO_FP16 (F16C on x86) use lib/kernels' conversions instead.
//  - fp16->fp32: exact.
//  - fp32->bf16: ggml_compute_fp32_to_bf16: NaN -> quiet NaN (top 16 bits | 64), else RNE on the top 16 bits.
//  - bf16->fp32: exact (shift).
#pragma once
#include <cstdint>
#include <cstring>

namespace ck {

float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_fp16(float f);

inline float bf16_to_fp32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline uint16_t fp32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 64);  // quiet NaN
  return static_cast<uint16_t>((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
}

}  // namespace ck
