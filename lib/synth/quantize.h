// Encoding fp32 weight values into a GGUF tensor type, as llama.cpp's converter / ggml reference code does:
//  F32 as is, F16 via ck::fp32_to_fp16 (RNE), BF16 via ck::fp32_to_bf16 (ggml_compute_fp32_to_bf16), and
//  Q8_0 via quantize_row_q8_0_ref (ggml-quants.c; also what gguf-py's Q8_0.quantize_blocks computes).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/dtype.h"

namespace ck::synth {

// ggml block_q8_0: fp16 scale + 32 int8.
inline constexpr int kQK8_0 = 32;
struct BlockQ8_0Bytes {
  uint16_t d;
  int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0Bytes) == 34, "block_q8_0 is 34 bytes");

// quantize_row_q8_0_ref: per block d = amax/127, id = d ? 1/d : 0, q = roundf(x*id), d stored as fp16.
// k must be a multiple of 32; `out` receives k/32*34 bytes.
void quantize_row_q8_0_ref(const float* x, uint8_t* out, int64_t k);

// Bytes of n values of type t (n a multiple of the block size).
uint64_t encoded_bytes(DType t, uint64_t n);
// Encodes x into `out` (exactly encoded_bytes(t, x.size()) bytes). Types: F32, F16, BF16, Q8_0.
void encode(DType t, std::span<const float> x, uint8_t* out);
// Whether encode() supports t.
bool can_encode(DType t);

}  // namespace ck::synth
