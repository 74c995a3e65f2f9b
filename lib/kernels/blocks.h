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

constexpr int QK4_0 = 32;
constexpr int K_SCALE_SIZE = 12;

struct BlockQ4_0 {
  uint16_t d;               // fp16 scale
  uint8_t qs[QK4_0 / 2];    // nibbles: element j in the low half of qs[j], element j+16 in the high half
};
static_assert(sizeof(BlockQ4_0) == 18, "block_q4_0 is 18 bytes");

constexpr int QK5_0 = 32;
struct BlockQ5_0 {
  uint16_t d;               // fp16 scale
  uint8_t qh[4];            // 5th bit of element j in bit j (little-endian uint32)
  uint8_t qs[QK5_0 / 2];    // low nibbles, laid out as in BlockQ4_0
};
static_assert(sizeof(BlockQ5_0) == 22, "block_q5_0 is 22 bytes");

struct BlockQ4_K {
  uint16_t d;                     // fp16 super-block scale of the scales
  uint16_t dmin;                  // fp16 super-block scale of the mins
  uint8_t scales[K_SCALE_SIZE];   // 8 scales + 8 mins, 6 bits each (get_scale_min_k4)
  uint8_t qs[QK_K / 2];           // 4-bit quants
};
static_assert(sizeof(BlockQ4_K) == 144, "block_q4_K is 144 bytes");

struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qh[QK_K / 8];   // high bits
  uint8_t qs[QK_K / 2];   // low 4 bits
};
static_assert(sizeof(BlockQ5_K) == 176, "block_q5_K is 176 bytes");

struct BlockQ6_K {
  uint8_t ql[QK_K / 2];      // low 4 bits
  uint8_t qh[QK_K / 4];      // high 2 bits
  int8_t scales[QK_K / 16];  // 8-bit scales
  uint16_t d;                // fp16 super-block scale
};
static_assert(sizeof(BlockQ6_K) == 210, "block_q6_K is 210 bytes");

// get_scale_min_k4 (ggml-quants.c): 6-bit scale and min j (< 8) of a Q4_K / Q5_K super-block.
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
  }
}

}  // namespace ck::kernels
