#include "serve/protocol.h"

#include <boost/beast/core/detail/base64.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "image/decode.h"

namespace ck::serve {
namespace {

using json = nlohmann::json;

struct Fail {
  RequestError e;
};
[[noreturn]] void fail(std::string msg, std::string param = {}, int status = 400) {
  throw Fail{RequestError{status, "invalid_request_error", std::move(msg), std::move(param)}};
}

std::string base64_decode(std::string_view s, const std::string& param) {
  namespace b64 = boost::beast::detail::base64;
  // decode() needs a multiple of 4 characters: on 4k+2 / 4k+3 it writes 1 / 2 bytes past decoded_size()
  // (a heap overflow, seen while writing the ck_fuzz_serve target), so the length is checked first.
  if ((s.size() % 4) != 0) fail("image data URI: invalid base64", param);
  std::string out(b64::decoded_size(s.size()), '\0');
  auto [written, read] = b64::decode(out.data(), s.data(), s.size());
  size_t pad = 0;
  while (read + pad < s.size() && s[read + pad] == '=') ++pad;
  if (read + pad != s.size() || pad > 2 || (s.size() % 4) != 0) fail("image data URI: invalid base64", param);
  out.resize(written);
  return out;
}

uint32_t be32(const std::string& b, size_t at) {
  return uint32_t(uint8_t(b[at])) << 24 | uint32_t(uint8_t(b[at + 1])) << 16 | uint32_t(uint8_t(b[at + 2])) << 8 |
         uint32_t(uint8_t(b[at + 3]));
}

// Rejects absurd dimensions before stb allocates anything: PNG IHDR is at a fixed offset.
void check_header(const std::string& b, const ParseOptions& opt, const std::string& param) {
  static const char png[] = "\x89PNG\r\n\x1a\n";
  if (b.size() >= 24 && b.compare(0, 8, png, 8) == 0 && b.compare(12, 4, "IHDR") == 0) {
    int64_t w = be32(b, 16), h = be32(b, 20);
    if (w * h > opt.max_image_pixels)
      fail("image is " + std::to_string(w) + "x" + std::to_string(h) + " pixels, more than the limit of " +
               std::to_string(opt.max_image_pixels),
           param);
  }
}

ContentPart image_part(const std::string& url, const ParseOptions& opt, const std::string& param) {
  ContentPart p;
  p.kind = ContentPart::Kind::image;
  if (url.rfind("data:", 0) == 0) {
    size_t comma = url.find(',');
    if (comma == std::string::npos) fail("image data URI without ','", param);
    std::string_view meta(url.data() + 5, comma - 5);
    if (meta.size() < 7 || meta.substr(meta.size() - 7) != ";base64") fail("image data URI must be base64", param);
    if (meta.rfind("image/", 0) != 0) fail("image data URI must have an image/* media type", param);
    if ((url.size() - comma - 1) / 4 * 3 > opt.max_image_bytes) fail("image larger than the limit", param, 413);
    p.image = base64_decode(std::string_view(url).substr(comma + 1), param);
  } else if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) {
    fail("remote image URLs are not fetched; send a data: URI", param);
  } else {
    if (!opt.allow_local_files) fail("local image files are not allowed (start ck-serve with --allow-local-files)", param, 403);
    std::string path = url.rfind("file://", 0) == 0 ? url.substr(7) : url;
    std::ifstream f(path, std::ios::binary);
    if (!f) fail("cannot open image file " + path, param);
    std::ostringstream ss;
    ss << f.rdbuf();
    p.image = ss.str();
    if (p.image.size() > opt.max_image_bytes) fail("image larger than the limit", param, 413);
  }
  if (p.image.empty()) fail("empty image", param);
  check_header(p.image, opt, param);
  try {
    auto span = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(p.image.data()), p.image.size());
    // every format's header against the limit (check_header above reads PNG's only, with its own message)
    auto img = ck::image::decode_image(span, "image", opt.max_image_pixels);
    p.image_width = int(img.width);
    p.image_height = int(img.height);
  } catch (const std::exception& e) {
    fail(std::string("image does not decode: ") + e.what(), param);
  }
  return p;
}

template <class T>
T number(const json& j, const char* key, double lo, double hi) {
  const json& v = j.at(key);
  if (!v.is_number()) fail(std::string(key) + " must be a number", key);
  double d = v.get<double>();
  if (!(d >= lo && d <= hi)) fail(std::string(key) + " out of range", key);
  if constexpr (std::is_integral_v<T>) {
    if (!v.is_number_integer() && !v.is_number_unsigned()) fail(std::string(key) + " must be an integer", key);
    return v.get<T>();
  } else {
    return T(d);
  }
}

ChatRequest parse(std::string_view body, std::string_view content_type, const ParseOptions& opt) {
  std::string ct(content_type.substr(0, content_type.find(';')));
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  for (auto& c : ct) c = char(std::tolower(uint8_t(c)));
  if (ct != "application/json") fail("Content-Type must be application/json", {}, 415);
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) fail("body is not valid JSON");
  if (!j.is_object()) fail("body must be a JSON object");
  static const std::set<std::string> known = {"model", "messages", "max_tokens", "max_completion_tokens", "temperature",
                                              "top_p", "top_k", "min_p", "seed", "stop", "stream", "stream_options",
                                              "n", "user"};
  for (auto& [k, v] : j.items())
    if (!known.count(k)) fail("unknown field '" + k + "'", k);

  ChatRequest r;
  if (j.contains("model")) {
    if (!j["model"].is_string()) fail("model must be a string", "model");
    r.model = j["model"].get<std::string>();
  }
  if (!j.contains("messages") || !j["messages"].is_array() || j["messages"].empty())
    fail("messages must be a non-empty array", "messages");
  if (j["messages"].size() > opt.max_messages) fail("too many messages", "messages");
  for (size_t i = 0; i < j["messages"].size(); ++i) {
    const json& m = j["messages"][i];
    std::string param = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) fail(param + " must be an object", param);
    for (auto& [k, v] : m.items())
      if (k != "role" && k != "content" && k != "name") fail("unknown field '" + k + "' in " + param, param);
    Message msg;
    if (!m.contains("role") || !m["role"].is_string()) fail(param + ".role must be a string", param);
    msg.role = m["role"].get<std::string>();
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant" && msg.role != "developer")
      fail(param + ".role '" + msg.role + "' is not system, user or assistant", param);
    if (msg.role == "developer") msg.role = "system";
    if (!m.contains("content")) fail(param + ".content is missing", param);
    const json& c = m["content"];
    if (c.is_string()) {
      msg.content.push_back({ContentPart::Kind::text, c.get<std::string>(), {}, 0, 0});
    } else if (c.is_array()) {
      for (size_t k = 0; k < c.size(); ++k) {
        const json& part = c[k];
        std::string pp = param + ".content[" + std::to_string(k) + "]";
        if (!part.is_object() || !part.contains("type") || !part["type"].is_string())
          fail(pp + " must be an object with a type", pp);
        std::string type = part["type"].get<std::string>();
        if (type == "text") {
          if (!part.contains("text") || !part["text"].is_string()) fail(pp + ".text must be a string", pp);
          msg.content.push_back({ContentPart::Kind::text, part["text"].get<std::string>(), {}, 0, 0});
        } else if (type == "image_url") {
          if (msg.role != "user") fail(pp + ": images only in user messages", pp);
          if (!part.contains("image_url")) fail(pp + ".image_url is missing", pp);
          const json& iu = part["image_url"];
          std::string url;
          if (iu.is_string()) url = iu.get<std::string>();
          else if (iu.is_object() && iu.contains("url") && iu["url"].is_string()) url = iu["url"].get<std::string>();
          else fail(pp + ".image_url.url must be a string", pp);
          msg.content.push_back(image_part(url, opt, pp));
        } else {
          fail(pp + ": content part type '" + type + "' is not supported (text, image_url)", pp);
        }
      }
    } else if (!c.is_null()) {
      fail(param + ".content must be a string or an array of parts", param);
    }
    r.messages.push_back(std::move(msg));
  }
  if (r.messages.back().role == "assistant") fail("the last message must not be the assistant's", "messages");

  for (const char* k : {"max_tokens", "max_completion_tokens"})
    if (j.contains(k) && !j[k].is_null()) r.max_tokens = number<int>(j, k, 1, 1 << 20);
  if (j.contains("temperature") && !j["temperature"].is_null()) r.temperature = number<float>(j, "temperature", 0, 2);
  if (j.contains("top_p") && !j["top_p"].is_null()) r.top_p = number<float>(j, "top_p", 0, 1);
  if (j.contains("min_p") && !j["min_p"].is_null()) r.min_p = number<float>(j, "min_p", 0, 1);
  if (j.contains("top_k") && !j["top_k"].is_null()) r.top_k = number<int>(j, "top_k", 0, 1 << 20);
  if (j.contains("seed") && !j["seed"].is_null()) {
    if (!j["seed"].is_number_integer() && !j["seed"].is_number_unsigned()) fail("seed must be an integer", "seed");
    r.seed = j["seed"].is_number_unsigned() ? j["seed"].get<uint64_t>() : uint64_t(j["seed"].get<int64_t>());
    r.has_seed = true;
  }
  if (j.contains("n") && !j["n"].is_null() && number<int>(j, "n", 1, 1) != 1) fail("n must be 1", "n");
  if (j.contains("stop") && !j["stop"].is_null()) {
    const json& s = j["stop"];
    if (s.is_string()) r.stop.push_back(s.get<std::string>());
    else if (s.is_array()) {
      for (auto& e : s) {
        if (!e.is_string()) fail("stop must be a string or an array of strings", "stop");
        r.stop.push_back(e.get<std::string>());
      }
    } else fail("stop must be a string or an array of strings", "stop");
    if (r.stop.size() > opt.max_stop) fail("at most " + std::to_string(opt.max_stop) + " stop strings", "stop");
    for (auto& e : r.stop)
      if (e.empty()) fail("stop strings must not be empty", "stop");
  }
  if (j.contains("stream") && !j["stream"].is_null()) {
    if (!j["stream"].is_boolean()) fail("stream must be a boolean", "stream");
    r.stream = j["stream"].get<bool>();
  }
  if (j.contains("stream_options") && !j["stream_options"].is_null()) {
    const json& so = j["stream_options"];
    if (!so.is_object()) fail("stream_options must be an object", "stream_options");
    if (so.contains("include_usage")) {
      if (!so["include_usage"].is_boolean()) fail("stream_options.include_usage must be a boolean", "stream_options");
      r.include_usage = so["include_usage"].get<bool>();
    }
  }
  return r;
}

}  // namespace

std::variant<ChatRequest, RequestError> parse_chat_request(std::string_view body, std::string_view content_type,
                                                           const ParseOptions& opt) {
  try {
    return parse(body, content_type, opt);
  } catch (const Fail& f) {
    return f.e;
  } catch (const std::exception& e) {  // nlohmann type errors and the like: still the client's input
    return RequestError{400, "invalid_request_error", std::string("invalid request: ") + e.what(), {}};
  }
}

std::string error_json(const RequestError& e) {
  json j = {{"error",
             {{"message", e.message}, {"type", e.type}, {"param", e.param.empty() ? json(nullptr) : json(e.param)},
              {"code", e.status}}}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string completion_json(const std::string& id, const std::string& model, int64_t created, const std::string& text,
                            const std::string& finish_reason, const Usage& u) {
  json j = {{"id", id},
            {"object", "chat.completion"},
            {"created", created},
            {"model", model},
            {"choices",
             json::array({{{"index", 0},
                           {"message", {{"role", "assistant"}, {"content", text}}},
                           {"finish_reason", finish_reason}}})},
            {"usage",
             {{"prompt_tokens", u.prompt_tokens},
              {"completion_tokens", u.completion_tokens},
              {"total_tokens", u.prompt_tokens + u.completion_tokens},
              {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}}}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string chunk_event(const std::string& id, const std::string& model, int64_t created, bool first,
                        const std::string& delta_text, const std::string& finish_reason) {
  json delta = json::object();
  if (first) delta["role"] = "assistant";
  if (!delta_text.empty() || (first && finish_reason.empty())) delta["content"] = delta_text;
  json j = {{"id", id},
            {"object", "chat.completion.chunk"},
            {"created", created},
            {"model", model},
            {"choices", json::array({{{"index", 0},
                                      {"delta", delta},
                                      {"finish_reason", finish_reason.empty() ? json(nullptr) : json(finish_reason)}}})}};
  return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

std::string usage_chunk_event(const std::string& id, const std::string& model, int64_t created, const Usage& u) {
  json j = {{"id", id},
            {"object", "chat.completion.chunk"},
            {"created", created},
            {"model", model},
            {"choices", json::array()},
            {"usage",
             {{"prompt_tokens", u.prompt_tokens},
              {"completion_tokens", u.completion_tokens},
              {"total_tokens", u.prompt_tokens + u.completion_tokens},
              {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}}}};
  return "data: " + j.dump() + "\n\n";
}

std::string models_json(const std::string& model, int64_t created) {
  json j = {{"object", "list"},
            {"data", json::array({{{"id", model}, {"object", "model"}, {"created", created}, {"owned_by", "ck"}}})}};
  return j.dump();
}

std::string StopFilter::feed(std::string_view piece) {
  if (stopped_) return {};
  pending_ += piece;
  for (auto& s : stops_) {
    size_t at = pending_.find(s);
    if (at != std::string::npos) {
      stopped_ = true;
      std::string out = pending_.substr(0, at);
      pending_.clear();
      return out;
    }
  }
  // hold back the longest suffix of pending_ that is a proper prefix of some stop string
  size_t hold = 0;
  for (auto& s : stops_)
    for (size_t n = std::min(s.size() - 1, pending_.size()); n > hold; --n)
      if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StopFilter::flush() {
  std::string out;
  if (!stopped_) out.swap(pending_);
  return out;
}

}  // namespace ck::serve
