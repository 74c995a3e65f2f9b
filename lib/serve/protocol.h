// The OpenAI /v1/chat/completions protocol as ck-serve speaks it: request body -> ChatRequest (a pure
// function, no I/O unless local files are allowed, so it can be fuzzed), and the JSON of responses, SSE
// chunks and errors. JSON is nlohmann_json; base64 is Boost.Beast's.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ck::serve {

struct ContentPart {
  enum class Kind { text, image } kind = Kind::text;
  std::string text;   // kind == text
  std::string image;  // kind == image: the encoded file bytes (PNG/JPEG/...), already checked to decode
  int image_width = 0, image_height = 0;
};

struct Message {
  std::string role;  // system | user | assistant
  std::vector<ContentPart> content;
};

struct ChatRequest {
  std::string model;
  std::vector<Message> messages;
  int max_tokens = -1;  // -1: until a stop token or the context is full
  float temperature = 1.0f, top_p = 1.0f, min_p = 0.0f;
  int top_k = 0;
  uint64_t seed = 0;
  bool has_seed = false;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

// A 4xx answer: HTTP status, OpenAI error type ("invalid_request_error"), message, offending parameter.
struct RequestError {
  int status = 400;
  std::string type = "invalid_request_error";
  std::string message;
  std::string param;
};

struct ParseOptions {
  bool allow_local_files = false;   // image_url "file://..." or a plain path
  size_t max_image_bytes = 32u << 20;
  int64_t max_image_pixels = 0x7fffffff / 3;  // ck::image::kMaxInputPixels
  size_t max_messages = 1024;
  size_t max_stop = 4;
};

// Parses a POST /v1/chat/completions body. `content_type` is the request's Content-Type header.
// Never throws: every malformed input gives a RequestError.
std::variant<ChatRequest, RequestError> parse_chat_request(std::string_view body, std::string_view content_type,
                                                           const ParseOptions& opt = {});

std::string error_json(const RequestError& e);

struct Usage {
  int prompt_tokens = 0, completion_tokens = 0;
  int cached_tokens = 0;  // prompt tokens whose KV was reused (usage.prompt_tokens_details.cached_tokens)
};

std::string completion_json(const std::string& id, const std::string& model, int64_t created,
                             const std::string& text, const std::string& finish_reason, const Usage& usage);
// One SSE event "data: {...}\n\n". `delta_text` empty and `finish_reason` set: the final chunk.
std::string chunk_event(const std::string& id, const std::string& model, int64_t created, bool first,
                        const std::string& delta_text, const std::string& finish_reason);
std::string usage_chunk_event(const std::string& id, const std::string& model, int64_t created, const Usage& usage);
std::string models_json(const std::string& model, int64_t created);

// Incremental stop-string matcher: feed pieces, get the text that is safe to emit (text that could still
// become the start of a stop string is held back). After a match, `stopped()` and the rest is dropped.
class StopFilter {
 public:
  explicit StopFilter(std::vector<std::string> stops) : stops_(std::move(stops)) {}
  std::string feed(std::string_view piece);
  std::string flush();  // at the end of generation: whatever was held back
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

}  // namespace ck::serve
