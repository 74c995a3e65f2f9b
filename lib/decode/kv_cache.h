// KV-cache bookkeeping of one sequence, as llama_kv_cache does it for ck's settings (b10256,
// src/llama-kv-cache.cpp; F16 K and V, non-transposed V because flash attention is on, one stream):
//   size      = GGML_PAD(n_ctx, 256)                        (llama_context rounds n_ctx up to 256)
//   slots     = next free cells in order (find_slot on a fresh single-sequence cache fills 0, 1, 2, ...)
//   n_kv      = min(size, max(256, GGML_PAD(used_max_p1, 256)))   get_n_kv, after the ubatch's cells are placed
//   mask      = F16 [n_tokens][n_kv]: 0 keep, -inf drop (empty cell; p0 > p1; p0 == p1 and the cell's 2-D
//               position (y, x) is after the query's: llama_kv_cell_ext::is_2d_gt)   set_input_kq_mask_impl
// and which flash-attention kernel ggml_compute_forward_flash_attn_ext_f16 picks for a ubatch.
#pragma once
#include <cstdint>
#include <vector>

#include "decode/positions.h"

namespace ck::decode {

inline constexpr uint16_t kMaskKeep = 0x0000;  // fp16 +0
inline constexpr uint16_t kMaskDrop = 0xFC00;  // fp16 -inf
inline constexpr int64_t kKvPad = 256;

inline int64_t pad_to(int64_t x, int64_t n) { return (x + n - 1) / n * n; }

class KvCache {
 public:
  explicit KvCache(int64_t n_ctx);  // throws ck::Error for n_ctx < 1
  int64_t size() const { return size_; }
  int64_t used() const { return used_; }

  // Places a ubatch: returns its cells (kv_slots). Throws ck::Error if the context is full.
  std::vector<int32_t> place(const std::vector<Pos4>& pos);
  // n_kv for the current contents (call after place()).
  int64_t n_kv() const;
  // The F16 mask for the queries `pos` (already placed) over the first n_kv cells.
  std::vector<uint16_t> mask(const std::vector<Pos4>& pos, int64_t n_kv) const;
  void clear() { used_ = 0; cells_.clear(); }

 private:
  struct Cell {
    int32_t pos, x, y;  // t plane; ext = {x: w plane, y: h plane}
  };
  int64_t size_ = 0, used_ = 0;
  std::vector<Cell> cells_;
};

enum class FlashAttnKernel { Tiled, OneChunk, SplitKV };
const char* to_string(FlashAttnKernel k);

// ggml_compute_forward_flash_attn_ext_f16 (ops.cpp): 1 query and n_kv >= 512 -> split-KV (its result depends
// on the thread count: one slice of ceil(n_kv/nth) cells per thread); >= 64 queries and head_dim_v a multiple of
// the F32 SIMD width (8 on the AVX2 build) -> tiled; otherwise one_chunk.
FlashAttnKernel flash_attn_kernel(int64_t n_queries, int64_t n_kv, int64_t head_dim_v, int64_t f32_epr = 8);

// Deepstack: the slice of an input row added after layer `layer` (ggml_view_2d at (layer+1)*n_embd floats), or
// -1 when the layer has none. Text ubatches carry zeros there (ggml_pad), so the add is a no-op for them.
inline int64_t deepstack_offset(int64_t layer, int64_t n_embd, int64_t n_deepstack) {
  return layer < n_deepstack ? (layer + 1) * n_embd : -1;
}

}  // namespace ck::decode
