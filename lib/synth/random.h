// Deterministic pseudo-random weights without libm or floating-point state: the same bits on every x86-64
// (and any IEEE-754 machine), whatever compiler flags or thread count.
//
//  - Stream: splitmix64 (Steele/Lea/Flood 2014, the constants of Vigna's splitmix64.c), keyed by
//    (seed, FNV-1a 64 of the tensor name, chunk index). Tensors are generated in fixed chunks of kChunk
//    elements, each with its own stream, so chunks can be filled by any thread in any order.
//  - Normal(0,1) approximation: Irwin-Hall with 4 uniforms. One 64-bit draw = four 16-bit uniforms a_i;
//    k = sum(a_i) - 2*65535 is an integer in [-131070, 131070] with mean 0 and variance ~4*65536^2/12, so
//    z = k * sqrt(3)/65536 has unit variance (support +-3.46 sigma).
//  - value = mean + k * scale with scale = float(std*sqrt(3)/65536): k (18 bits) times a float (24 bits) is
//    exact in double, and adding mean in {0, 1} stays exact for any std used here (< 53 significant bits),
//    so the only rounding is the final double -> float, and FMA contraction cannot change a bit.
#pragma once
#include <cstdint>
#include <string_view>

namespace ck::synth {

inline constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;
inline constexpr uint64_t kChunk = 1u << 16;  // elements per independent stream; multiple of every block size

inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

// Key of a tensor's random streams: depends on the seed and the name only (not on order or shape).
inline uint64_t tensor_key(uint64_t seed, std::string_view name) { return mix64(fnv1a64(name) ^ mix64(seed + kGolden)); }

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t state) : s_(state) {}
  uint64_t next() { return mix64(s_ += kGolden); }

 private:
  uint64_t s_;
};

// The stream of chunk `chunk` of the tensor with key `key`.
inline SplitMix64 chunk_stream(uint64_t key, uint64_t chunk) { return SplitMix64(mix64(key ^ mix64(chunk + 1))); }

// Centred Irwin-Hall integer of one 64-bit draw, in [-131070, 131070].
inline int32_t irwin_hall4(uint64_t r) {
  const uint64_t pairs = (r & 0x0000FFFF0000FFFFull) + ((r >> 16) & 0x0000FFFF0000FFFFull);  // two 17-bit sums
  const uint32_t s = static_cast<uint32_t>(pairs & 0xFFFFFFFFull) + static_cast<uint32_t>(pairs >> 32);
  return static_cast<int32_t>(s) - 2 * 65535;
}

// N(mean, std) approximation; see the header comment for why this is exact up to one final rounding.
struct NormalParams {
  double mean;
  double scale;  // float(std * sqrt(3) / 65536), widened
  static NormalParams make(float mean, float std) {
    constexpr double kSqrt3 = 1.7320508075688772935;  // correctly rounded sqrt(3)
    return {static_cast<double>(mean), static_cast<double>(static_cast<float>(static_cast<double>(std) * kSqrt3 / 65536.0))};
  }
  float operator()(uint64_t r) const { return static_cast<float>(mean + static_cast<double>(irwin_hall4(r)) * scale); }
};

}  // namespace ck::synth
