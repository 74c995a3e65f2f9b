// What ck-decode needs to know about a decoder directory (-m DIR: call.json + layout.json from ck-layout) before
// anything runs: the chat contract (call.json contracts.chat), the input row width (the "embeddings" input:
// n_embd_inp = n_embd*(1+n_deepstack)), the planned bounds (n_tokens = n_ubatch, ctx_size), the weights file
// (vocabulary for the tokenizer). Read from the JSON only; the runtime loads the same call.json to execute.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "bridge/prefix.h"
#include "decode/chat.h"

namespace ck::decode {

struct ModelInfo {
  std::string dir;        // as given
  std::string call_json;  // DIR/call.json
  std::string weights;    // the bump, resolved relative to call.json
  nlohmann::ordered_json contracts;
  ChatContract chat;
  int64_t n_embd_inp = 0;      // width of one input row (prefix row width)
  int64_t n_embd = 0;          // decoder n_embd (0 if the plan does not say)
  int64_t n_deepstack = -1;    // -1 if the plan does not say
  int64_t max_ubatch = 0;      // planned n_tokens max (the n_ubatch the plan was made for)
  int64_t max_ctx = 0;         // planned ctx_size max (--ctx-size of ck-layout)
  int64_t max_outputs = 0;     // planned n_outputs max (1 by default; ck-layout --bound n_outputs=N for more)
  std::string mode = "strict";  // numerics mode the plan was lowered for (call.json "mode")

  // Throws ck::Error("<file>: <problem>").
  static ModelInfo load(const std::string& dir);
};

// The prefix/model mismatch check: one line naming both files. Throws ck::Error.
void check_prefix(const ModelInfo& m, const bridge::PrefixInfo& p, const std::string& prefix_source);

}  // namespace ck::decode
