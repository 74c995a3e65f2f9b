#include "dump/compare.h"

#include <cmath>
#include <cstring>

namespace ck {

namespace {

// Running sums of one comparison; the same for floats and integers.
struct Accum {
  CompareResult r;
  uint64_t n_finite = 0;  // pairs without NaN, the denominator of the means
  double sum_abs = 0, sum_sq = 0, dot = 0, norm_a = 0, norm_b = 0;

  void pair(double a, double b, bool same_bits) {
    double d = same_bits ? 0.0 : std::fabs(a - b);
    if (d > r.max_abs) r.max_abs = d;
    sum_abs += d;
    sum_sq += d * d;
    dot += a * b;
    norm_a += a * a;
    norm_b += b * b;
    ++n_finite;
  }
  void unequal(uint64_t i, double a, double b) {
    if (r.n_diff++ == 0) {
      r.first = i;
      r.first_a = a;
      r.first_b = b;
    }
  }
  CompareResult finish(uint64_t n) {
    r.n = n;
    if (n_finite > 0) {
      r.mean_abs = sum_abs / static_cast<double>(n_finite);
      r.rmse = std::sqrt(sum_sq / static_cast<double>(n_finite));
    }
    if (norm_a == 0 && norm_b == 0) r.cosine = 1;
    else if (norm_a == 0 || norm_b == 0) r.cosine = 0;
    else r.cosine = dot / (std::sqrt(norm_a) * std::sqrt(norm_b));
    return r;
  }
};

}  // namespace

CompareResult compare_f32(std::span<const float> a, std::span<const float> b, double tol) {
  Accum acc;
  const uint64_t n = a.size() < b.size() ? a.size() : b.size();
  for (uint64_t i = 0; i < n; ++i) {
    uint32_t ua, ub;
    std::memcpy(&ua, &a[i], 4);
    std::memcpy(&ub, &b[i], 4);
    const bool same = ua == ub;
    const double x = a[i], y = b[i];
    const bool nan = std::isnan(x) || std::isnan(y);
    if (!nan) acc.pair(x, y, same);
    bool equal = same || (tol > 0 && !nan && std::fabs(x - y) <= tol);
    if (!equal) acc.unequal(i, x, y);
  }
  return acc.finish(n);
}

CompareResult compare_i32(std::span<const int32_t> a, std::span<const int32_t> b) {
  Accum acc;
  const uint64_t n = a.size() < b.size() ? a.size() : b.size();
  for (uint64_t i = 0; i < n; ++i) {
    const bool same = a[i] == b[i];
    acc.pair(a[i], b[i], same);
    if (!same) acc.unequal(i, a[i], b[i]);
  }
  return acc.finish(n);
}

}  // namespace ck
