// Greedy argmax, see argmax.h. Sequential scans (no SIMD: one pass over a vocabulary row is memory-bound and the
// tie rule must stay exactly upstream's).
#include "kernels/argmax.h"

#include <cmath>

namespace ck::kernels {

int64_t argmax_first(const float* x, int64_t n) {
  int64_t sel = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[sel]) sel = i;
  return sel;
}

int64_t argmax_last(const float* x, int64_t n) {
  float max = -INFINITY;
  int64_t idx = 0;
  for (int64_t i = 0; i < n; ++i) {
    max = max > x[i] ? max : x[i];  // MAX(max, x[i])
    if (max == x[i]) idx = i;
  }
  return idx;
}

}  // namespace ck::kernels
