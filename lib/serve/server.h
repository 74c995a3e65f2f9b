// HTTP/1.1 server (Boost.Beast) for the OpenAI endpoints: POST /v1/chat/completions, GET /v1/models,
// /health, /metrics (Prometheus text). One thread per connection; at most `parallel` requests run in the
// engine at once, the others wait in a FIFO (never refused for load). stop() closes the listener and
// waits for in-flight requests to finish (graceful shutdown on SIGTERM).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "serve/engine.h"
#include "serve/protocol.h"

namespace ck::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see Server::port)
  int parallel = 1;
  size_t max_body = 64u << 20;
  int io_timeout_s = 60;  // a connection idle (or stalled mid-request) this long is closed
  ParseOptions parse;
};

struct Metrics {
  std::atomic<uint64_t> requests{0}, requests_ok{0}, requests_4xx{0}, requests_5xx{0}, cancelled{0};
  std::atomic<uint64_t> prompt_tokens{0}, completion_tokens{0}, cached_tokens{0}, images_encoded{0}, images_cached{0};
  std::atomic<uint64_t> generate_us{0}, encode_us{0};
  std::atomic<int> queue_depth{0}, running{0};
  std::string prometheus() const;
};

class Server {
 public:
  Server(Engine& engine, ServerOptions opt);
  ~Server();
  uint16_t port() const;    // the bound port (after construction)
  void run();               // serves until stop(); returns when in-flight requests are done
  void stop();              // thread-safe, async-signal-unsafe (call from a signal-watching thread)
  const Metrics& metrics() const { return metrics_; }

  struct Impl;

 private:
  Engine& engine_;
  ServerOptions opt_;
  Metrics metrics_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ck::serve
