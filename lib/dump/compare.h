// Element-wise comparison of two tensors, with the metrics every parity gate prints (docs/formats/dump.md §10):
// max_abs, mean_abs, rmse, cosine, count of unequal elements, first unequal index.
//   tol == 0: bitwise — equal iff the bit patterns are equal (NaN == NaN only with identical bits; -0 != +0).
//   tol  > 0: equal iff bits identical or |a - b| <= tol (so a NaN with different bits is always unequal).
// Metrics are accumulated in double over pairs where neither side is NaN; identical bits contribute 0.
#pragma once
#include <cstdint>
#include <optional>
#include <span>

namespace ck {

struct CompareResult {
  uint64_t n = 0;          // elements compared
  uint64_t n_diff = 0;     // unequal elements (NaN pairs included)
  double max_abs = 0, mean_abs = 0, rmse = 0, cosine = 1;
  std::optional<uint64_t> first;  // flat index of the first unequal element
  double first_a = 0, first_b = 0;  // the two values there
  bool ok() const { return n_diff == 0; }
};

// Sizes must match (the caller checks shapes first).
CompareResult compare_f32(std::span<const float> a, std::span<const float> b, double tol);
// Integers are compared exactly; the metrics use the values as doubles.
CompareResult compare_i32(std::span<const int32_t> a, std::span<const int32_t> b);

}  // namespace ck
