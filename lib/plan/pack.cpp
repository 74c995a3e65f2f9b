#include "plan/pack.h"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>

namespace ck::plan {

Packing pack(const std::vector<Interval>& bufs, uint64_t alignment) {
  const size_t n = bufs.size();
  Packing r;
  r.offsets.assign(n, 0);
  std::vector<uint64_t> size(n);
  for (size_t i = 0; i < n; ++i) {
    size[i] = align_up(std::max<uint64_t>(bufs[i].bytes, 1), alignment);
    r.naive += size[i];
  }
  // Peak: sweep over op indices.
  std::map<int, int64_t> delta;
  for (size_t i = 0; i < n; ++i) {
    delta[bufs[i].first] += int64_t(size[i]);
    delta[bufs[i].last + 1] -= int64_t(size[i]);
  }
  int64_t cur = 0;
  for (const auto& [t, d] : delta) {
    cur += d;
    r.peak = std::max<uint64_t>(r.peak, uint64_t(cur));
  }

  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (size[a] != size[b]) return size[a] > size[b];
    if (bufs[a].first != bufs[b].first) return bufs[a].first < bufs[b].first;
    return a < b;
  });
  std::vector<size_t> placed;
  for (size_t i : order) {
    // Memory ranges of placed buffers live at the same time as i, by offset.
    std::vector<std::pair<uint64_t, uint64_t>> busy;
    for (size_t j : placed)
      if (bufs[j].first <= bufs[i].last && bufs[i].first <= bufs[j].last)
        busy.push_back({r.offsets[j], r.offsets[j] + size[j]});
    std::sort(busy.begin(), busy.end());
    uint64_t best = 0, best_gap = std::numeric_limits<uint64_t>::max(), pos = 0;
    bool found = false;
    for (const auto& [lo, hi] : busy) {
      if (lo > pos && lo - pos >= size[i] && lo - pos < best_gap) {
        best = pos;
        best_gap = lo - pos;
        found = true;
      }
      pos = std::max(pos, hi);
    }
    r.offsets[i] = found ? best : pos;  // `pos` = top of everything live alongside i
    r.arena = std::max(r.arena, r.offsets[i] + size[i]);
    placed.push_back(i);
  }
  return r;
}

}  // namespace ck::plan
