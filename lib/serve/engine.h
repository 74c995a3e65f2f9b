// What ck-serve needs from a model: run one chat request, streaming text pieces. lib/pipeline provides the
// real one (tools/ck-serve); tests use a fake. generate() is called from several threads at once, at most
// --parallel of them concurrently; on_piece returning false (client gone, stop string) stops generation.
#pragma once
#include <functional>
#include <string>
#include <string_view>

#include "serve/protocol.h"

namespace ck::serve {

struct GenerateResult {
  Usage usage;
  std::string finish_reason = "stop";  // "stop" | "length"
  double encode_ms = 0;
  int images_encoded = 0, images_cached = 0;  // image parts run through the encoder / taken from its cache
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string model_id() const = 0;
  // Cheap checks before the request waits for a slot (and, streaming, before the 200 header goes out): throws
  // RequestError for what can be refused without running anything (max_tokens above the limit, ...).
  virtual void validate(const ChatRequest&) const {}
  // Throws RequestError for requests the model cannot take (prompt longer than the context, ...).
  virtual GenerateResult generate(const ChatRequest& req, const std::function<bool(std::string_view)>& on_piece) = 0;
};

}  // namespace ck::serve
