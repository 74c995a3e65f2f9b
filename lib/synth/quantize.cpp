#include "synth/quantize.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/half.h"

namespace ck::synth {

void quantize_row_q8_0_ref(const float* x, uint8_t* out, int64_t k) {
  if (k % kQK8_0 != 0) throw Error("quantize_row_q8_0_ref: k = " + std::to_string(k) + " is not a multiple of 32");
  const int64_t nb = k / kQK8_0;
  for (int64_t i = 0; i < nb; ++i) {
    const float* xb = x + i * kQK8_0;
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) {
      const float v = std::fabs(xb[j]);
      amax = amax > v ? amax : v;  // ggml: amax = MAX(amax, fabsf(v))
    }
    const float d = amax / ((1 << 7) - 1);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ8_0Bytes b;
    b.d = fp32_to_fp16(d);
    for (int j = 0; j < kQK8_0; ++j) b.qs[j] = static_cast<int8_t>(std::roundf(xb[j] * id));  // half away from 0
    std::memcpy(out + i * sizeof(BlockQ8_0Bytes), &b, sizeof b);
  }
}

bool can_encode(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::Q8_0; }

uint64_t encoded_bytes(DType t, uint64_t n) {
  const auto& tr = traits(t);
  return n / tr.block_size * tr.type_size;
}

void encode(DType t, std::span<const float> x, uint8_t* out) {
  const size_t n = x.size();
  switch (t) {
    case DType::F32: std::memcpy(out, x.data(), n * 4); return;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) {
        const uint16_t h = fp32_to_fp16(x[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      return;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) {
        const uint16_t h = fp32_to_bf16(x[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      return;
    case DType::Q8_0: quantize_row_q8_0_ref(x.data(), out, static_cast<int64_t>(n)); return;
    default: throw Error(std::string("synth: cannot encode weights as ") + dtype_name(t));
  }
}

}  // namespace ck::synth
