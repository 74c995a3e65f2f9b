// Weights converted once, when an Executor is built, into a kernel's own layout, so that the kernel does not
// convert them on every call. Today only fast mode has such a layout: the F32/F16 weights of its bf16 mat-muls
// (lib/kernels/matmul_fast.h, bind_fast.cpp's pack_fast_weights; docs/KERNELS.md "Fast kernels" says why at load
// and not in the bump). Strict plans pack nothing: their kernels read the bump mapping in place.
// Memory: one anonymous mapping, about the F16 size of every packed weight (the resident cost of fast mode).
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ck::runtime {

class WeightPacks {
 public:
  // One slice of `words` uint16 per weight address (64-byte aligned), uninitialised; the caller fills them.
  explicit WeightPacks(const std::vector<std::pair<const void*, size_t>>& weights);
  ~WeightPacks();
  WeightPacks(const WeightPacks&) = delete;
  WeightPacks& operator=(const WeightPacks&) = delete;

  uint16_t* slice(const void* weight) const;  // nullptr: this weight is not packed
  size_t bytes() const { return bytes_; }
  size_t count() const { return slices_.size(); }
  double pack_ms = 0;  // time the packing took (set by the builder)

 private:
  std::unordered_map<const void*, uint16_t*> slices_;
  void* base_ = nullptr;
  size_t bytes_ = 0, mapped_ = 0;
};

}  // namespace ck::runtime
