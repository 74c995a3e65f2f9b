// One ck-decode run, independent of how the decoder graph is executed: the prompt schedule turned into the
// runtime's per-ubatch inputs (the roles of templates/qwen3vl.json: tokens, embeddings, mrope_positions,
// kv_slots, kq_mask_causal, output_rows, and the symbols n_tokens / n_kv / n_outputs / ctx_size), then the
// sample -> feed loop until n_predict tokens or an end-of-generation token. The graph itself runs behind
// DecoderBackend (lib/runtime when wired; fakes in tests).
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "decode/kv_cache.h"
#include "decode/sampling.h"
#include "decode/ubatch.h"

namespace ck::decode {

struct UbatchInputs {
  std::string phase;                 // "prefill" or "gen<i>" (dump phases, as the oracle's)
  ChunkType type = ChunkType::Text;  // which input is fed: "tokens" or "embeddings"
  int64_t n_tokens = 0, n_kv = 0, n_outputs = 0, ctx_size = 0;
  std::vector<int32_t> tokens;       // text: n_tokens ids
  const float* embd = nullptr;       // image: n_tokens rows of embd_row_width floats (zero copy from the prefix)
  int64_t embd_row_width = 0;
  std::vector<int32_t> positions;    // 4 planes of n_tokens
  std::vector<int32_t> kv_slots;     // n_tokens cells
  std::vector<uint16_t> kq_mask;     // F16 [n_tokens][n_kv]
  std::vector<int32_t> out_ids;      // n_outputs rows
  FlashAttnKernel fa = FlashAttnKernel::OneChunk;  // what ggml would run (for stats/dumps)
};

class DecoderBackend {
 public:
  virtual ~DecoderBackend() = default;
  // Runs the graph for one ubatch (updating the KV cache it owns); when n_outputs > 0, returns the logits of
  // the output rows in out_ids order (n_outputs x n_vocab floats; valid until the next call).
  virtual std::span<const float> run(const UbatchInputs& in) = 0;
};

struct SessionOptions {
  int64_t n_ctx = 4096, n_batch = 2048, n_ubatch = 512;
  int64_t head_dim_v = 128;  // only for the FA kernel label
  int32_t n_predict = -1;    // -1: until EOG or the context is full
  bool all_logits = false;   // keep every output row: the prompt's (schedule made with all_outputs) and each step's
  // Feed the last sampled token back when n_predict is reached (llama-mtmd-cli's generate_response does; ref_decode
  // and single-turn ck-decode do not). A chat that continues in the same KV cache needs it.
  bool feed_last = false;
};

// Inputs of one ubatch; places it in the KV cache.
UbatchInputs make_inputs(KvCache& kv, const Ubatch& u, const float* image_rows, int64_t row_width,
                         const std::string& phase, int64_t head_dim_v);

struct GenerateResult {
  std::vector<int32_t> tokens;    // generated, including a final EOG token if one was sampled
  bool hit_eog = false;
  std::vector<float> first_logits;  // logits after the prompt
  int64_t n_prompt_ubatches = 0;
  // all_logits: [n_prompt_outputs][n_vocab] of the prompt, then one row per sampled token (the row it was taken
  // from, so the first equals the prompt's last) - the layout of ref_decode --prompt-logits-out ++ --logits-all-out.
  std::vector<float> all_logits;
  int64_t n_vocab = 0;
  int64_t n_prompt_tokens = 0;   // tokens + image rows fed during prefill
  double prefill_ms = 0;         // every prompt ubatch
  double decode_ms = 0;          // the generation loop: sampling + one forward pass per fed-back token
  int64_t n_decode_passes = 0;   // forward passes during generation (generated tokens fed back)
  int32_t n_past = 0;            // position after the last token in the KV cache (where a next turn starts)
  bool stopped = false;          // on_token asked to stop
};

// on_token(id) is called for each generated non-EOG token (streaming). images[k]: the rows of image k (prefix k;
// an image ubatch reads images[Ubatch::image], or images[0] when the chunk carries no index).
GenerateResult generate(DecoderBackend& be, const Schedule& s, const std::vector<const float*>& images,
                        int64_t row_width, Sampler& sampler, const std::vector<int32_t>& stop_ids,
                        const SessionOptions& o, const std::function<void(int32_t)>& on_token);
// The same on a KV cache that may already hold earlier turns (the schedule then starts at their n_past); kv is
// left holding this turn. on_token returns false to stop generating (e.g. a client went away).
GenerateResult generate(DecoderBackend& be, KvCache& kv, const Schedule& s, const std::vector<const float*>& images,
                        int64_t row_width, Sampler& sampler, const std::vector<int32_t>& stop_ids,
                        const SessionOptions& o, const std::function<bool(int32_t)>& on_token);
// One image (or none: image_rows null).
GenerateResult generate(DecoderBackend& be, const Schedule& s, const float* image_rows, int64_t row_width,
                        Sampler& sampler, const std::vector<int32_t>& stop_ids, const SessionOptions& o,
                        const std::function<void(int32_t)>& on_token);

}  // namespace ck::decode
