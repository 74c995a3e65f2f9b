// The prompt's decode schedule, as mtmd_helper_eval_chunks + llama_decode produce it (b10256):
//   one llama_decode per chunk and per n_batch slice of it (mtmd_helper_eval_chunk_single for text,
//   mtmd_helper_decode_image_chunk_impl for images), each split by split_simple(n_ubatch) into consecutive
//   ubatches of at most n_ubatch tokens. A ubatch is never mixed text+image.
//   Logits: only the last token of the last chunk (logits_last), i.e. one output row in the last ubatch.
// Every ubatch knows its tokens or image rows, its positions and its output rows; the KV cache (kv_cache.h)
// adds the cells, n_kv and the mask.
#pragma once
#include <cstdint>
#include <vector>

#include "decode/chunks.h"
#include "decode/positions.h"

namespace ck::decode {

struct Ubatch {
  size_t chunk = 0;                 // index into the chunk list
  ChunkType type = ChunkType::Text;
  int32_t image = -1;               // image ubatches: which image's rows (Chunk::image)
  int64_t offset = 0;               // first token (text) / image row of this ubatch within its chunk
  int64_t n_tokens = 0;
  std::vector<int32_t> tokens;      // text ubatches
  std::vector<Pos4> pos;            // n_tokens entries
  std::vector<int32_t> out_rows;    // ubatch rows whose logits are wanted (inp_out_ids); 0 or 1 entries,
                                    // every row with all_outputs
};

struct Schedule {
  std::vector<Ubatch> ubatches;
  int32_t n_past = 0;               // position of the first generated token
  int64_t n_prompt_tokens = 0;      // text tokens + image rows (= KV cells used by the prompt)
};

// n_batch/n_ubatch as llama.cpp's context (n_ubatch is clamped to n_batch, as llama_context does).
// all_outputs: every prompt token is an output row (batch.logits = 1 everywhere, as ref_decode
// --prompt-logits-out); the ubatch partition is the same, but the last layer then runs on all rows.
Schedule schedule_prompt(const std::vector<Chunk>& chunks, int32_t n_past0, int64_t n_batch, int64_t n_ubatch,
                         bool all_outputs = false);

// The ubatch of one generated token (common_batch_add(token, n_past, logits=true)).
Ubatch generation_ubatch(int32_t token, int32_t pos);

}  // namespace ck::decode
