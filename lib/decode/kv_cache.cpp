#include "decode/kv_cache.h"

#include <algorithm>

#include "core/error.h"

namespace ck::decode {

KvCache::KvCache(int64_t n_ctx) {
  if (n_ctx < 1) throw ck::Error("--ctx-size must be at least 1");
  size_ = pad_to(n_ctx, kKvPad);
  cells_.reserve(size_t(size_));
}

std::vector<int32_t> KvCache::place(const std::vector<Pos4>& pos) {
  const int64_t n = int64_t(pos.size());
  if (used_ + n > size_)
    throw ck::Error("context full: " + std::to_string(used_ + n) + " tokens > --ctx-size " + std::to_string(size_) +
                    " (cells)");
  std::vector<int32_t> slots(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    slots[size_t(i)] = int32_t(used_ + i);
    cells_.push_back({pos[size_t(i)].t, pos[size_t(i)].w, pos[size_t(i)].h});
  }
  used_ += n;
  return slots;
}

int64_t KvCache::n_kv() const { return std::min(size_, std::max(kKvPad, pad_to(used_, kKvPad))); }

std::vector<uint16_t> KvCache::mask(const std::vector<Pos4>& pos, int64_t n_kv) const {
  std::vector<uint16_t> m(pos.size() * size_t(n_kv), kMaskDrop);
  for (size_t i = 0; i < pos.size(); ++i) {
    const int32_t p1 = pos[i].t, x1 = pos[i].w, y1 = pos[i].h;
    uint16_t* row = m.data() + i * size_t(n_kv);
    for (int64_t j = 0; j < std::min<int64_t>(n_kv, used_); ++j) {
      const Cell& c = cells_[size_t(j)];
      if (c.pos > p1) continue;                                            // future token
      if (c.pos == p1 && ((c.y > y1) || (c.y == y1 && c.x > x1))) continue;  // is_2d_gt
      row[j] = kMaskKeep;
    }
  }
  return m;
}

const char* to_string(FlashAttnKernel k) {
  switch (k) {
    case FlashAttnKernel::Tiled: return "tiled";
    case FlashAttnKernel::OneChunk: return "one_chunk";
    case FlashAttnKernel::SplitKV: return "split_kv";
  }
  return "?";
}

FlashAttnKernel flash_attn_kernel(int64_t n_queries, int64_t n_kv, int64_t head_dim_v, int64_t f32_epr) {
  if (n_queries == 1 && n_kv >= 512) return FlashAttnKernel::SplitKV;
  if (n_queries >= 64 && head_dim_v % f32_epr == 0) return FlashAttnKernel::Tiled;
  return FlashAttnKernel::OneChunk;
}

}  // namespace ck::decode
