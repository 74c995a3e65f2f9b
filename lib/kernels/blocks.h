// ggml block layouts used by the strict kernels (ggml-common.h, b10256). Byte-compatible with GGUF data.
#pragma once
#include <cstdint>

namespace ck::kernels {

constexpr int QK8_0 = 32;
constexpr int QK_K = 256;

struct BlockQ8_0 {
  uint16_t d;        // fp16 scale
  int8_t qs[QK8_0];  // quants
};
static_assert(sizeof(BlockQ8_0) == 34, "block_q8_0 is 34 bytes");

struct BlockQ8_K {
  float d;                 // fp32 scale (not fp16)
  int8_t qs[QK_K];         // quants
  int16_t bsums[QK_K / 16];  // sums of 16 quants
};
static_assert(sizeof(BlockQ8_K) == 292, "block_q8_K is 292 bytes");

}  // namespace ck::kernels
