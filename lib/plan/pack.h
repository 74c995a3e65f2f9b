// Interval packing: place buffers with known live ranges [first, last] (inclusive op indices) in one arena so
// that no two buffers whose live ranges intersect overlap in memory. Greedy best-fit: largest first; each
// buffer goes into the smallest gap between already-placed, time-overlapping buffers that fits it, else on top.
// Deterministic: ties are broken by first use, then by input index.
#pragma once
#include <cstdint>
#include <vector>

namespace ck::plan {

struct Interval {
  uint64_t bytes = 0;
  int first = 0, last = 0;
};

struct Packing {
  std::vector<uint64_t> offsets;  // per interval, multiples of `alignment`
  uint64_t arena = 0;             // max(offset + aligned size)
  uint64_t peak = 0;              // max over time of the aligned bytes live at once (lower bound of arena)
  uint64_t naive = 0;             // sum of aligned sizes (no reuse at all)
};

inline uint64_t align_up(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

Packing pack(const std::vector<Interval>& buffers, uint64_t alignment = 64);

}  // namespace ck::plan
