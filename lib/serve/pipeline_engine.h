// The real Engine of ck-serve: lib/pipeline's Encoder and Decoder behind the chat-completions protocol.
//
//   auto plans = ck::serve::prepare_plans({mmproj, model, cache_root, templates, "strict", exe_sha});
//   ck::serve::PipelineEngine engine({plans.encoder, plans.decoder, "model-id", /*parallel=*/2});
//   ck::serve::Server server(engine, {...});
//
// Sequences: `parallel` slots, each a Decoder with its own executor, arena and KV cache. A request takes a free
// slot (the server never runs more than `parallel` at once); among the free ones it prefers the slot whose KV
// cache holds a prefix of the request's prompt (tokens and images), and then prefills only the rest: a next turn
// of a conversation (the history as sent back by the client = the previous request + the answer it got) skips
// the turns already in the cache. The prompt is always formatted from the whole message list with the model's
// chat shell (decode/chat.h) and tokenized as mtmd does, so the tokens do not depend on which slot it lands on.
// Images: grouped into chunks as ck-bridge does (Decoder::frame_groups: two same-size images at adjacent markers =
// one 2-frame chunk, as mtmd b10256), one Encoder shared by all slots (serialised), each chunk's result cached by
// the sha256 of its image bytes (LRU; a 2-frame chunk by both hashes in order).
// Greedy (temperature 0) output of a single user message [text, image] equals ck-bridge's for that prompt and
// image, byte for byte (tests/cli/serve.bats).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "serve/engine.h"

namespace ck::serve {

// Compiles (or finds in the plan cache) the plans of both GGUFs, as ck-bridge does (pipeline/compile.h,
// pipeline/plan_cache.h). `salt` joins the cache key (the sha256 of the executable that compiles).
struct PlanInputs {
  std::string mmproj, model, cache_root, templates_dir, mode = "strict", salt;
};
struct Plans {
  std::string encoder, decoder;  // plan directories (call.json + layout.json)
  bool cached = false;           // every step of both was already there
};
Plans prepare_plans(const PlanInputs& in);  // throws ck::Error("<file>: <problem>")

struct PipelineEngineOptions {
  std::string encoder_plan, decoder_plan;
  std::string model_id = "ck";
  int parallel = 1;
  int threads = 0;          // per sequence (and the encoder); 0: physical cores / parallel, at least 1
  int encoder_threads = 0;  // 0: physical cores
  int64_t ctx_size = 4096, n_batch = 2048, n_ubatch = 512;
  int max_tokens = 1024;    // default max_tokens and the largest a request may ask for
  size_t image_cache = 32;  // encoded images kept (LRU by content hash)
  int image_min_tokens = 0, image_max_tokens = 0;
};

class PipelineEngine : public Engine {
 public:
  explicit PipelineEngine(const PipelineEngineOptions& o);  // loads everything; throws ck::Error
  ~PipelineEngine() override;
  std::string model_id() const override { return opt_.model_id; }
  void validate(const ChatRequest& req) const override;
  GenerateResult generate(const ChatRequest& req, const std::function<bool(std::string_view)>& on_piece) override;

  struct Impl;

 private:
  PipelineEngineOptions opt_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ck::serve
