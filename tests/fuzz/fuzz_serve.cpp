// ck-serve's request parser (lib/serve parse_chat_request: the body of POST /v1/chat/completions, data: URI
// images base64-decoded and decoded by lib/image), then what the server does with the result: the error JSON
// of a rejection, or the stop-string filter over the message texts. parse_chat_request promises never to
// throw, so any exception (ck::Error included) is a finding here. Structure-aware (fuzz_common.h).
#include <string>
#include <string_view>
#include <variant>

#include "fuzz_common.h"
#include "serve/protocol.h"

CK_FUZZ_JSON_MUTATOR

CK_FUZZ_TARGET(serve) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  ck::serve::ParseOptions opt;
  opt.max_image_pixels = 1 << 20;  // keeps one execution cheap; the check itself is what is exercised
  try {
    const auto r = ck::serve::parse_chat_request(body, "application/json; charset=utf-8", opt);
    if (const auto* e = std::get_if<ck::serve::RequestError>(&r)) {
      if (e->message.empty() || e->status < 400 || e->status > 499) __builtin_trap();
      (void)ck::serve::error_json(*e);
    } else {
      const auto& req = std::get<ck::serve::ChatRequest>(r);
      if (req.messages.empty()) __builtin_trap();
      ck::serve::StopFilter f(req.stop);
      std::string out;
      for (const auto& m : req.messages)
        for (const auto& p : m.content) {
          if (p.kind == ck::serve::ContentPart::Kind::image && (p.image_width <= 0 || p.image_height <= 0))
            __builtin_trap();
          for (size_t i = 0; i < p.text.size() && !f.stopped(); i += 3)
            out += f.feed(std::string_view(p.text).substr(i, 3));
        }
      out += f.flush();
      ck::fuzz::keep(out);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ck-fuzz: parse_chat_request threw: %s\n", e.what());
    std::abort();
  }
  return 0;
}
