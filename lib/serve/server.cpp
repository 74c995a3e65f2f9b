#include "serve/server.h"

#include <utility>  // before asio: Boost 1.74 awaitable.hpp uses std::exchange without it
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <sstream>
#include <map>
#include <set>
#include <poll.h>
#include <sys/socket.h>
#include <thread>

namespace ck::serve {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

std::string Metrics::prometheus() const {
  std::ostringstream o;
  auto line = [&](const char* name, const char* type, const char* help, double v) {
    o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n' << name << ' ' << v << '\n';
  };
  line("ck_requests_total", "counter", "HTTP requests received", double(requests));
  line("ck_requests_ok_total", "counter", "chat completions answered", double(requests_ok));
  line("ck_requests_4xx_total", "counter", "requests refused with a 4xx error", double(requests_4xx));
  line("ck_requests_5xx_total", "counter", "requests failed with a 5xx error", double(requests_5xx));
  line("ck_requests_cancelled_total", "counter", "generations stopped because the client went away", double(cancelled));
  line("ck_prompt_tokens_total", "counter", "prompt tokens processed", double(prompt_tokens));
  line("ck_prompt_tokens_cached_total", "counter", "prompt tokens whose KV cache was reused", double(cached_tokens));
  line("ck_images_encoded_total", "counter", "image parts run through the encoder", double(images_encoded));
  line("ck_images_cached_total", "counter", "image parts taken from the content-hash cache", double(images_cached));
  line("ck_completion_tokens_total", "counter", "tokens generated", double(completion_tokens));
  line("ck_generate_seconds_total", "counter", "time spent in the engine", double(generate_us) / 1e6);
  line("ck_encode_seconds_total", "counter", "time spent encoding images", double(encode_us) / 1e6);
  double s = double(generate_us) / 1e6;
  line("ck_tokens_per_second", "gauge", "completion tokens / engine seconds since start",
       s > 0 ? double(completion_tokens) / s : 0.0);
  line("ck_queue_depth", "gauge", "requests waiting for an engine slot", double(queue_depth));
  line("ck_running", "gauge", "requests in the engine", double(running));
  return o.str();
}

struct Server::Impl {
  // Connections in a blocking read or write, since when: the reaper shuts those stalled past io_timeout_s (an idle
  // keep-alive, a header or body that stops coming, a client that stops reading), so their threads end.
  std::map<int, std::chrono::steady_clock::time_point> io_since;
  std::unique_ptr<net::steady_timer> reaper;
  net::io_context io;
  tcp::acceptor acceptor{io};
  std::mutex mu;
  std::condition_variable cv;
  int free_slots = 1;
  int connections = 0;
  std::set<int> fds;  // open connections, shut for reading on stop() so idle keep-alives end
  bool stopping = false;
};

namespace {

// Marks a blocking read/write on fd for the reaper (Server::Impl::io_since) while it lives.
struct IoWatch {
  Server::Impl& I;
  int fd;
  IoWatch(Server::Impl& i, int f) : I(i), fd(f) {
    std::lock_guard lk(I.mu);
    I.io_since[fd] = std::chrono::steady_clock::now();
  }
  ~IoWatch() {
    std::lock_guard lk(I.mu);
    I.io_since.erase(fd);
  }
};

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The client closed its end (EOF pending on the socket). Data a client pipelined is not a close.
bool peer_closed(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) return true;
  char c;
  return ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

// Length of the longest prefix of s that does not end inside a UTF-8 sequence (a token may be half a character).
size_t utf8_complete(std::string_view s) {
  size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const uint8_t c = uint8_t(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back
    const size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return len > back ? n - back : n;
  }
  return n;
}

std::string new_id() {
  static std::atomic<uint64_t> n{0};
  return "chatcmpl-ck" + std::to_string(now_s()) + "-" + std::to_string(++n);
}

using Request = http::request<http::string_body>;

http::response<http::string_body> reply(const Request& req, http::status st, std::string body,
                                        const char* type = "application/json") {
  http::response<http::string_body> res{st, req.version()};
  res.set(http::field::server, "ck-serve");
  res.set(http::field::content_type, type);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace

Server::Server(Engine& engine, ServerOptions opt) : engine_(engine), opt_(std::move(opt)), impl_(std::make_unique<Impl>()) {
  impl_->free_slots = std::max(1, opt_.parallel);
  tcp::endpoint ep{net::ip::make_address(opt_.host), opt_.port};
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(net::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
}

Server::~Server() { stop(); }

uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::stop() {
  net::post(impl_->io, [this] {
    std::lock_guard lk(impl_->mu);
    impl_->stopping = true;
    beast::error_code ec;
    impl_->acceptor.close(ec);
    if (impl_->reaper) impl_->reaper->cancel();
    for (int fd : impl_->fds) ::shutdown(fd, SHUT_RD);
  });
}

void Server::run() {
  Impl& I = *impl_;
  Engine& engine = engine_;
  const ServerOptions& opt = opt_;
  Metrics& m = metrics_;

  // One request in, one response out; returns false when the connection must close.
  auto handle = [&](tcp::socket& sock, Request& req) -> bool {
    ++m.requests;
    std::string target(req.target());
    auto send = [&](http::response<http::string_body>&& res) {
      beast::error_code ec;
      {
        IoWatch w(I, sock.native_handle());
        http::write(sock, res, ec);
      }
      return !ec && res.keep_alive();
    };
    auto error = [&](const RequestError& e) {
      ++m.requests_4xx;
      return send(reply(req, http::status(e.status), error_json(e)));
    };
    if (target == "/health") return send(reply(req, http::status::ok, R"({"status":"ok"})"));
    if (target == "/metrics") return send(reply(req, http::status::ok, m.prometheus(), "text/plain; version=0.0.4"));
    if (target == "/v1/models") {
      if (req.method() != http::verb::get) return error({405, "invalid_request_error", "use GET", {}});
      return send(reply(req, http::status::ok, models_json(engine.model_id(), now_s())));
    }
    if (target != "/v1/chat/completions") return error({404, "invalid_request_error", "no such endpoint: " + target, {}});
    if (req.method() != http::verb::post) return error({405, "invalid_request_error", "use POST", {}});

    auto ct = req[http::field::content_type];
    auto parsed = parse_chat_request(req.body(), std::string_view(ct.data(), ct.size()), opt.parse);
    if (auto* e = std::get_if<RequestError>(&parsed)) return error(*e);
    ChatRequest& cr = std::get<ChatRequest>(parsed);
    try {
      engine.validate(cr);
    } catch (const RequestError& e) {
      return error(e);
    }
    req.body().clear();
    req.body().shrink_to_fit();

    {  // wait for an engine slot (FIFO enough for a condition variable; requests never fail for load)
      std::unique_lock lk(I.mu);
      ++m.queue_depth;
      I.cv.wait(lk, [&] { return I.free_slots > 0; });
      --m.queue_depth;
      --I.free_slots;
    }
    ++m.running;
    struct Release {
      Server::Impl& I;
      Metrics& m;
      ~Release() {
        --m.running;
        std::lock_guard lk(I.mu);
        ++I.free_slots;
        I.cv.notify_one();
      }
    } release{I, m};

    const std::string id = new_id(), model = engine.model_id();
    const int64_t created = now_s();
    StopFilter filter(cr.stop);
    std::string text, utf8;
    bool client_gone = false;
    GenerateResult result;
    auto t0 = std::chrono::steady_clock::now();

    std::optional<http::response<http::empty_body>> head;
    std::optional<http::response_serializer<http::empty_body>> ser;
    bool first = true;
    auto write_chunk = [&](const std::string& s) {
      beast::error_code ec;
      {
        IoWatch w(I, sock.native_handle());
        net::write(sock, http::make_chunk(net::buffer(s)), ec);
      }
      if (ec) client_gone = true;
      return !ec;
    };
    if (cr.stream) {
      head.emplace(http::status::ok, req.version());
      head->set(http::field::server, "ck-serve");
      head->set(http::field::content_type, "text/event-stream");
      head->set(http::field::cache_control, "no-cache");
      head->chunked(true);
      head->keep_alive(req.keep_alive());
      ser.emplace(*head);
      beast::error_code ec;
      {
        IoWatch w(I, sock.native_handle());
        http::write_header(sock, *ser, ec);
      }
      if (ec) return false;
    }
    auto emit = [&](const std::string& s) {
      if (s.empty()) return true;
      if (!cr.stream) {
        text += s;
        return true;
      }
      bool ok = write_chunk(chunk_event(id, model, created, first, s, ""));
      first = false;
      return ok;
    };
    try {
      const int fd = sock.native_handle();
      result = engine.generate(cr, [&](std::string_view piece) {
        // Whole UTF-8 characters only, so every SSE delta is valid text and the deltas add up to the message.
        utf8 += piece;
        const size_t n = utf8_complete(utf8);
        const bool ok = emit(filter.feed(std::string_view(utf8).substr(0, n))) && !filter.stopped();
        utf8.erase(0, n);
        if (!ok) return false;
        bool stopping;
        {
          std::lock_guard lk(I.mu);
          stopping = I.stopping;  // stop() shuts the read side: EOF then says nothing about the client
        }
        if (!stopping && peer_closed(fd)) client_gone = true;
        return !client_gone;
      });
    } catch (const RequestError& e) {
      if (!cr.stream) return error(e);
      ++m.requests_4xx;
      write_chunk("data: " + error_json(e) + "\n\n");
      write_chunk("data: [DONE]\n\n");
      beast::error_code ec;
      {
        IoWatch w(I, sock.native_handle());
        net::write(sock, http::make_chunk_last(), ec);
      }
      return false;
    } catch (const std::exception& e) {
      ++m.requests_5xx;
      RequestError err{500, "server_error", e.what(), {}};
      if (!cr.stream) return send(reply(req, http::status::internal_server_error, error_json(err)));
      write_chunk("data: " + error_json(err) + "\n\n");
      return false;
    }
    m.generate_us += uint64_t(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count());
    m.encode_us += uint64_t(result.encode_ms * 1000);
    m.prompt_tokens += uint64_t(result.usage.prompt_tokens);
    m.cached_tokens += uint64_t(result.usage.cached_tokens);
    m.images_encoded += uint64_t(result.images_encoded);
    m.images_cached += uint64_t(result.images_cached);
    m.completion_tokens += uint64_t(result.usage.completion_tokens);
    if (filter.stopped()) result.finish_reason = "stop";
    if (!filter.stopped() && !utf8.empty()) emit(filter.feed(utf8));
    emit(filter.flush());
    if (client_gone) {
      ++m.cancelled;
      return false;
    }
    ++m.requests_ok;
    if (!cr.stream) return send(reply(req, http::status::ok, completion_json(id, model, created, text, result.finish_reason, result.usage)));
    if (first) write_chunk(chunk_event(id, model, created, true, "", ""));
    write_chunk(chunk_event(id, model, created, false, "", result.finish_reason));
    if (cr.include_usage) write_chunk(usage_chunk_event(id, model, created, result.usage));
    write_chunk("data: [DONE]\n\n");
    beast::error_code ec;
    {
      IoWatch w(I, sock.native_handle());
      net::write(sock, http::make_chunk_last(), ec);
    }
    return !ec && req.keep_alive();
  };

  auto session = [&](tcp::socket& sock) {
    beast::flat_buffer buf;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(opt.max_body);
      parser.header_limit(64 * 1024);
      beast::error_code ec;
      {
        IoWatch w(I, sock.native_handle());
        http::read(sock, buf, parser, ec);
      }
      if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset) break;
      if (ec) {
        ++m.requests;
        ++m.requests_4xx;
        bool too_big = ec == http::error::body_limit || ec == http::error::header_limit;
        RequestError e{too_big ? 413 : 400, "invalid_request_error",
                       too_big ? "request larger than the limit of " + std::to_string(opt.max_body) + " bytes"
                               : "malformed HTTP request: " + ec.message(),
                       {}};
        http::response<http::string_body> res{http::status(e.status), 11};
        res.set(http::field::content_type, "application/json");
        res.keep_alive(false);
        res.body() = error_json(e);
        res.prepare_payload();
        {
          IoWatch w(I, sock.native_handle());
          http::write(sock, res, ec);
        }
        break;
      }
      Request req = parser.release();
      if (!handle(sock, req)) break;
      std::lock_guard lk(I.mu);
      if (I.stopping) break;
    }
    beast::error_code ec;
    sock.shutdown(tcp::socket::shutdown_both, ec);
  };

  std::function<void()> accept = [&] {
    I.acceptor.async_accept([&](beast::error_code ec, tcp::socket sock) {
      if (ec) return;  // closed by stop()
      {
        std::lock_guard lk(I.mu);
        ++I.connections;
        I.fds.insert(sock.native_handle());
      }
      // The socket lives on the heap and is destroyed inside the thread body, before the connection count
      // drops: run() may return (and the io_context die) the moment it reaches 0, and a socket destroyed after
      // that deregisters from a freed reactor (CI: "free(): double free detected" in BadRequestsAre4xx...).
      auto owned = std::make_unique<tcp::socket>(std::move(sock));
      std::thread([&, p = std::move(owned)]() mutable {
        std::unique_ptr<tcp::socket> s = std::move(p);
        const int fd = s->native_handle();
        session(*s);
        {
          std::lock_guard lk(I.mu);
          I.fds.erase(fd);  // before close: a new connection may get the same fd number
        }
        s.reset();
        std::lock_guard lk(I.mu);
        --I.connections;
        I.cv.notify_all();
      }).detach();
      accept();
    });
  };
  accept();
  I.reaper = std::make_unique<net::steady_timer>(I.io);
  std::function<void()> reap = [&] {
    I.reaper->expires_after(std::chrono::seconds(1));
    I.reaper->async_wait([&](beast::error_code ec) {
      if (ec) return;  // cancelled by stop()
      {
        std::lock_guard lk(I.mu);
        const auto limit = std::chrono::steady_clock::now() - std::chrono::seconds(opt.io_timeout_s);
        for (const auto& [fd, since] : I.io_since)
          if (since < limit) ::shutdown(fd, SHUT_RDWR);
      }
      reap();
    });
  };
  reap();
  I.io.run();
  std::unique_lock lk(I.mu);
  I.cv.wait(lk, [&] { return I.connections == 0; });
}

}  // namespace ck::serve
