// lib/serve: the request parser (pure function) and the HTTP server against a fake engine on loopback.
#include <gtest/gtest.h>

#include <utility>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "serve/protocol.h"
#include "serve/server.h"

namespace {

using namespace ck::serve;
using json = nlohmann::json;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// A 1x1 RGB PNG.
const std::string kPng1x1 =
    std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde\0\0\0\x0cIDATx\x9c"
                "c\xf8\xcf\xc0\0\0\x03\x01\x01\0\xc9\xfe\x92\xef\0\0\0\0IEND\xae" "B`\x82",
                69);

std::string b64(const std::string& s) {
  std::string out(beast::detail::base64::encoded_size(s.size()), '\0');
  out.resize(beast::detail::base64::encode(out.data(), s.data(), s.size()));
  return out;
}

std::string image_request(const std::string& data_uri) {
  json j = {{"model", "m"},
            {"messages", json::array({{{"role", "user"},
                                       {"content", json::array({{{"type", "text"}, {"text", "hi"}},
                                                                {{"type", "image_url"}, {"image_url", {{"url", data_uri}}}}})}}})}};
  return j.dump();
}

RequestError err(std::string_view body, std::string_view ct = "application/json", ParseOptions o = {}) {
  auto r = parse_chat_request(body, ct, o);
  EXPECT_TRUE(std::holds_alternative<RequestError>(r)) << body.substr(0, 200);
  return std::holds_alternative<RequestError>(r) ? std::get<RequestError>(r) : RequestError{};
}

TEST(ServeProtocol, ParsesTextAndImageParts) {
  auto r = parse_chat_request(image_request("data:image/png;base64," + b64(kPng1x1)), "application/json; charset=utf-8");
  ASSERT_TRUE(std::holds_alternative<ChatRequest>(r)) << error_json(std::get<RequestError>(r));
  auto& c = std::get<ChatRequest>(r);
  ASSERT_EQ(c.messages.size(), 1u);
  ASSERT_EQ(c.messages[0].content.size(), 2u);
  EXPECT_EQ(c.messages[0].content[0].text, "hi");
  EXPECT_EQ(c.messages[0].content[1].kind, ContentPart::Kind::image);
  EXPECT_EQ(c.messages[0].content[1].image, kPng1x1);
  EXPECT_EQ(c.messages[0].content[1].image_width, 1);
}

TEST(ServeProtocol, ParsesSamplingFields) {
  auto r = parse_chat_request(
      R"({"messages":[{"role":"system","content":"s"},{"role":"user","content":"q"}],"max_tokens":7,"temperature":0,
          "top_p":0.5,"top_k":3,"min_p":0.1,"seed":42,"stop":["a","bc"],"stream":true,
          "stream_options":{"include_usage":true}})",
      "application/json");
  ASSERT_TRUE(std::holds_alternative<ChatRequest>(r)) << error_json(std::get<RequestError>(r));
  auto& c = std::get<ChatRequest>(r);
  EXPECT_EQ(c.max_tokens, 7);
  EXPECT_EQ(c.temperature, 0.0f);
  EXPECT_EQ(c.top_k, 3);
  EXPECT_TRUE(c.has_seed);
  EXPECT_EQ(c.seed, 42u);
  EXPECT_EQ(c.stop.size(), 2u);
  EXPECT_TRUE(c.stream && c.include_usage);
}

TEST(ServeProtocol, RejectsBadInputWith4xx) {
  EXPECT_EQ(err("{not json").status, 400);
  EXPECT_EQ(err(R"({"messages":[{"role":"user","content":"q"}]})", "text/plain").status, 415);
  EXPECT_EQ(err(R"({"messages":[{"role":"user","content":"q"}],"bogus":1})").param, "bogus");
  EXPECT_EQ(err(R"({"messages":[]})").status, 400);
  EXPECT_EQ(err(R"({"messages":[{"role":"user","content":"q"}],"max_tokens":"x"})").status, 400);
  EXPECT_EQ(err(R"({"messages":[{"role":"user","content":"q"}],"temperature":9})").status, 400);
  EXPECT_EQ(err(R"([1,2])").status, 400);
  // truncated image, non-image payload, bad base64, remote URL, local file without the flag
  std::string trunc = "data:image/png;base64," + b64(kPng1x1.substr(0, 40));
  EXPECT_NE(err(image_request(trunc)).message.find("does not decode"), std::string::npos);
  EXPECT_EQ(err(image_request("data:image/png;base64," + b64("hello, not an image"))).status, 400);
  EXPECT_NE(err(image_request("data:image/png;base64,@@@@")).message.find("base64"), std::string::npos);
  EXPECT_EQ(err(image_request("data:image/png;base64,QUJD")).status, 400);  // "ABC"
  EXPECT_EQ(err(image_request("https://example.com/a.png")).status, 400);
  EXPECT_EQ(err(image_request("/etc/hostname")).status, 403);
  // a PNG header claiming 50000 x 50000: refused before any decode
  std::string big = kPng1x1;
  big.replace(16, 8, std::string("\0\0\xc3\x50\0\0\xc3\x50", 8));
  EXPECT_NE(err(image_request("data:image/png;base64," + b64(big))).message.find("50000x50000"), std::string::npos);
}

TEST(ServeProtocol, ErrorJsonIsOpenAIShaped) {
  json j = json::parse(error_json({400, "invalid_request_error", "bad", "x"}));
  EXPECT_EQ(j["error"]["message"], "bad");
  EXPECT_EQ(j["error"]["param"], "x");
}

TEST(ServeProtocol, StopFilterHoldsBackPrefixes) {
  StopFilter f({"END"});
  EXPECT_EQ(f.feed("abcE"), "abc");
  EXPECT_EQ(f.feed("N"), "");
  EXPECT_EQ(f.feed("Dxyz"), "");
  EXPECT_TRUE(f.stopped());
  StopFilter g({"END"});
  EXPECT_EQ(g.feed("aE"), "a");
  EXPECT_EQ(g.feed("x"), "Ex");
  EXPECT_EQ(g.flush(), "");
}

// Echoes the last user text back, one byte per piece, counting image parts as 10 prompt tokens each.
struct FakeEngine : Engine {
  std::atomic<int> running{0}, peak{0};
  int delay_ms = 0;
  std::string model_id() const override { return "fake"; }
  GenerateResult generate(const ChatRequest& r, const std::function<bool(std::string_view)>& on) override {
    int now = ++running;
    for (int p = peak; now > p && !peak.compare_exchange_weak(p, now);) {}
    GenerateResult g;
    std::string text;
    for (auto& m : r.messages)
      for (auto& c : m.content) {
        g.usage.prompt_tokens += c.kind == ContentPart::Kind::image ? 10 : int(c.text.size());
        if (c.kind == ContentPart::Kind::text) text = c.text;
      }
    for (char ch : text) {
      if (r.max_tokens >= 0 && g.usage.completion_tokens >= r.max_tokens) {
        g.finish_reason = "length";
        break;
      }
      if (delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      ++g.usage.completion_tokens;
      if (!on(std::string_view(&ch, 1))) break;
    }
    --running;
    return g;
  }
};

struct Reply {
  int status;
  std::string body, type;
};

Reply call(uint16_t port, http::verb verb, const std::string& target, const std::string& body = {},
           const std::string& type = "application/json") {
  net::io_context io;
  beast::tcp_stream s(io);
  s.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!body.empty()) req.set(http::field::content_type, type);
  req.body() = body;
  req.prepare_payload();
  // A server that refuses an oversized body answers and closes while we are still writing (EPIPE/ECONNRESET
  // here): the reply it sent first is still readable, so a write error is not fatal on its own.
  beast::error_code wec;
  http::write(s, req, wec);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> p;
  p.body_limit(1 << 30);
  beast::error_code ec;
  http::read(s, buf, p, ec);
  if (ec && wec) ec = wec;
  if (ec) return {0, ec.message(), ""};
  auto res = p.release();
  return {int(res.result_int()), res.body(), std::string(res[http::field::content_type].data(), res[http::field::content_type].size())};
}

struct Running {
  FakeEngine engine;
  std::unique_ptr<Server> server;
  std::thread thread;
  explicit Running(int parallel = 1, int delay_ms = 0, int io_timeout_s = 60) {
    engine.delay_ms = delay_ms;
    ServerOptions o;
    o.port = 0;
    o.io_timeout_s = io_timeout_s;
    o.parallel = parallel;
    o.max_body = 1 << 20;
    server = std::make_unique<Server>(engine, o);
    thread = std::thread([this] { server->run(); });
  }
  ~Running() {
    server->stop();
    thread.join();
  }
  uint16_t port() const { return server->port(); }
};

TEST(ServeServer, CompletionModelsHealthMetrics) {
  Running r;
  auto res = call(r.port(), http::verb::post, "/v1/chat/completions",
                  R"({"messages":[{"role":"user","content":"hello"}],"max_tokens":3})");
  ASSERT_EQ(res.status, 200) << res.body;
  json j = json::parse(res.body);
  EXPECT_EQ(j["choices"][0]["message"]["content"], "hel");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 3);
  EXPECT_EQ(j["usage"]["total_tokens"], 8);
  EXPECT_EQ(json::parse(call(r.port(), http::verb::get, "/v1/models").body)["data"][0]["id"], "fake");
  EXPECT_EQ(call(r.port(), http::verb::get, "/health").status, 200);
  auto m = call(r.port(), http::verb::get, "/metrics");
  EXPECT_NE(m.body.find("ck_completion_tokens_total 3"), std::string::npos) << m.body;
  EXPECT_EQ(call(r.port(), http::verb::get, "/nope").status, 404);
}

TEST(ServeServer, StreamsSseChunksAndStops) {
  Running r;
  auto res = call(r.port(), http::verb::post, "/v1/chat/completions",
                  R"({"messages":[{"role":"user","content":"abcXYZ"}],"stream":true,"stop":"XY",
                      "stream_options":{"include_usage":true}})");
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.type, "text/event-stream");
  std::string text, finish;
  size_t events = 0;
  for (size_t at = 0; (at = res.body.find("data: ", at)) != std::string::npos; at += 6) {
    std::string ev = res.body.substr(at + 6, res.body.find("\n\n", at) - at - 6);
    ++events;
    if (ev == "[DONE]") break;
    json j = json::parse(ev);
    EXPECT_EQ(j["object"], "chat.completion.chunk");
    if (j["choices"].empty()) continue;
    auto& d = j["choices"][0]["delta"];
    if (d.contains("content")) text += d["content"].get<std::string>();
    if (!j["choices"][0]["finish_reason"].is_null()) finish = j["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(text, "abc");
  EXPECT_EQ(finish, "stop");
  EXPECT_NE(res.body.find("\"usage\""), std::string::npos);
  EXPECT_NE(res.body.find("data: [DONE]\n\n"), std::string::npos);
}

TEST(ServeServer, BadRequestsAre4xxAndServerKeepsServing) {
  Running r;
  EXPECT_EQ(call(r.port(), http::verb::post, "/v1/chat/completions", "{oops").status, 400);
  EXPECT_EQ(call(r.port(), http::verb::post, "/v1/chat/completions", "{}", "text/plain").status, 415);
  auto big = call(r.port(), http::verb::post, "/v1/chat/completions", std::string(2 << 20, 'x'));
  EXPECT_TRUE(big.status == 413 || big.status == 0) << big.status;  // the server may close before we finish writing
  auto e = call(r.port(), http::verb::post, "/v1/chat/completions", R"({"messages":[{"role":"user","content":"q"}],"x":1})");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(json::parse(e.body)["error"]["param"], "x");
  EXPECT_EQ(call(r.port(), http::verb::post, "/v1/chat/completions", R"({"messages":[{"role":"user","content":"ok"}]})").status, 200);
}

TEST(ServeServer, ConcurrentRequestsWaitAndNeverFail) {
  Running r(2, 2);
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 12; ++i)
    ts.emplace_back([&] {
      auto res = call(r.port(), http::verb::post, "/v1/chat/completions", R"({"messages":[{"role":"user","content":"abcde"}]})");
      if (res.status == 200 && json::parse(res.body)["choices"][0]["message"]["content"] == "abcde") ++ok;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok, 12);
  EXPECT_LE(r.engine.peak, 2);
}

TEST(ServeServer, StalledConnectionsAreClosedAfterTheTimeout) {
  Running r(1, 0, 1);
  net::io_context io;
  net::ip::tcp::socket idle(io), partial(io);
  const net::ip::tcp::endpoint ep(net::ip::make_address("127.0.0.1"), r.port());
  idle.connect(ep);
  partial.connect(ep);
  net::write(partial, net::buffer(std::string("POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")));
  const auto t0 = std::chrono::steady_clock::now();
  char c;
  beast::error_code e1, e2;
  idle.read_some(net::buffer(&c, 1), e1);  // blocks until the server closes it
  partial.read_some(net::buffer(&c, 1), e2);
  EXPECT_TRUE(e1 == net::error::eof || e1 == net::error::connection_reset) << e1.message();
  EXPECT_TRUE(e2 == net::error::eof || e2 == net::error::connection_reset) << e2.message();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  // and it still serves
  EXPECT_EQ(call(r.port(), http::verb::get, "/health").status, 200);
}

}  // namespace
