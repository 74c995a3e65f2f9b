#include "runtime/weight_packs.h"

#include <sys/mman.h>

#include <string>

#include "core/error.h"

namespace ck::runtime {

WeightPacks::WeightPacks(const std::vector<std::pair<const void*, size_t>>& weights) {
  std::vector<size_t> offs;
  for (const auto& [w, words] : weights) {
    offs.push_back(bytes_);
    bytes_ += (words * 2 + 63) & ~size_t(63);
  }
  if (!bytes_) return;
  mapped_ = (bytes_ + 4095) & ~size_t(4095);
  void* p = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) fail("runtime", "cannot allocate " + std::to_string(bytes_) + " bytes for packed weights");
  madvise(p, mapped_, MADV_HUGEPAGE);  // fewer page faults and TLB misses over GBs of weights (a hint only)
  base_ = p;
  for (size_t i = 0; i < weights.size(); ++i)
    slices_[weights[i].first] = reinterpret_cast<uint16_t*>(static_cast<uint8_t*>(base_) + offs[i]);
}

WeightPacks::~WeightPacks() {
  if (base_) munmap(base_, mapped_);
}

uint16_t* WeightPacks::slice(const void* weight) const {
  const auto it = slices_.find(weight);
  return it == slices_.end() ? nullptr : it->second;
}

}  // namespace ck::runtime
