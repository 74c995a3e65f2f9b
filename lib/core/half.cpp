// Portable bit-twiddling versions of ggml_compute_fp16_to_fp32 / ggml_compute_fp32_to_fp16
// (ggml-impl.h, the non-F16C fallback), which give the same bits as the F16C instructions with RNE.
#include "core/half.h"

namespace ck {

namespace {
inline float from_bits(uint32_t w) {
  float f;
  std::memcpy(&f, &w, 4);
  return f;
}
inline uint32_t to_bits(float f) {
  uint32_t w;
  std::memcpy(&w, &f, 4);
  return w;
}
}  // namespace

float fp16_to_fp32(uint16_t h) {
  const uint32_t w = static_cast<uint32_t>(h) << 16;
  const uint32_t sign = w & 0x80000000u;
  const uint32_t two_w = w + w;
  const uint32_t exp_offset = 0xE0u << 23;
  const float exp_scale = from_bits(0x7800000u);
  const float normalized_value = from_bits((two_w >> 4) + exp_offset) * exp_scale;
  const uint32_t magic_mask = 126u << 23;
  const float magic_bias = 0.5f;
  const float denormalized_value = from_bits((two_w >> 17) | magic_mask) - magic_bias;
  const uint32_t denormalized_cutoff = 1u << 27;
  const uint32_t result =
      sign | (two_w < denormalized_cutoff ? to_bits(denormalized_value) : to_bits(normalized_value));
  return from_bits(result);
}

uint16_t fp32_to_fp16(float f) {
  const float scale_to_inf = from_bits(0x77800000u);
  const float scale_to_zero = from_bits(0x08800000u);
  float base = ((f < 0 ? -f : f) * scale_to_inf) * scale_to_zero;
  const uint32_t w = to_bits(f);
  const uint32_t shl1_w = w + w;
  const uint32_t sign = w & 0x80000000u;
  uint32_t bias = shl1_w & 0xFF000000u;
  if (bias < 0x71000000u) bias = 0x71000000u;
  base = from_bits((bias >> 1) + 0x07800000u) + base;
  const uint32_t bits = to_bits(base);
  const uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
  const uint32_t mantissa_bits = bits & 0x00000FFFu;
  const uint32_t nonsign = exp_bits + mantissa_bits;
  return static_cast<uint16_t>((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

}  // namespace ck
