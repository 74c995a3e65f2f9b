#include "decode/ubatch.h"

#include <algorithm>

#include "core/error.h"

namespace ck::decode {

Schedule schedule_prompt(const std::vector<Chunk>& chunks, int32_t n_past0, int64_t n_batch, int64_t n_ubatch,
                         bool all_outputs) {
  if (n_batch <= 0 || n_ubatch <= 0) throw ck::Error("n_batch and n_ubatch must be positive");
  n_ubatch = std::min(n_ubatch, n_batch);
  Schedule s;
  int32_t n_past = n_past0;
  for (size_t c = 0; c < chunks.size(); ++c) {
    const Chunk& ch = chunks[c];
    const bool last_chunk = c + 1 == chunks.size();
    const int64_t n = ch.n_tokens();
    // Positions of the whole chunk first (the image ones are fixed by pos0 = n_past before the chunk).
    std::vector<Pos4> pos(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      pos[size_t(i)] = ch.type == ChunkType::Text ? text_pos(n_past + int32_t(i)) : image_pos(n_past, ch.nx, i);
    for (int64_t b0 = 0; b0 < n; b0 += n_batch) {           // llama_decode calls
      const int64_t b1 = std::min(n, b0 + n_batch);
      for (int64_t u0 = b0; u0 < b1; u0 += n_ubatch) {      // split_simple
        Ubatch u;
        u.chunk = c;
        u.type = ch.type;
        u.image = ch.image;
        u.offset = u0;
        u.n_tokens = std::min(b1, u0 + n_ubatch) - u0;
        u.pos.assign(pos.begin() + u0, pos.begin() + u0 + u.n_tokens);
        if (ch.type == ChunkType::Text) u.tokens.assign(ch.tokens.begin() + u0, ch.tokens.begin() + u0 + u.n_tokens);
        if (all_outputs)
          for (int64_t r = 0; r < u.n_tokens; ++r) u.out_rows.push_back(int32_t(r));
        else if (last_chunk && u0 + u.n_tokens == n)
          u.out_rows.push_back(int32_t(u.n_tokens - 1));
        s.ubatches.push_back(std::move(u));
      }
    }
    n_past += ch.type == ChunkType::Text ? int32_t(n) : image_n_pos(ch.nx, ch.ny);
    s.n_prompt_tokens += n;
  }
  s.n_past = n_past;
  return s;
}

Ubatch generation_ubatch(int32_t token, int32_t pos) {
  Ubatch u;
  u.type = ChunkType::Text;
  u.n_tokens = 1;
  u.tokens = {token};
  u.pos = {text_pos(pos)};
  u.out_rows = {0};
  return u;
}

}  // namespace ck::decode
