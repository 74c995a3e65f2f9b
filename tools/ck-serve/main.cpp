// ck-serve: an OpenAI-compatible HTTP server for images + text (lib/serve over lib/pipeline).
//   ck-serve --mmproj M.gguf --model T.gguf [--host 127.0.0.1] [--port 8080] [--parallel N] [-t N]
//            [--ctx-size N] [--max-tokens N] [--max-body BYTES] [--max-image-bytes BYTES]
//            [--max-image-pixels N] [--allow-local-files] [--alias NAME] [--cache-dir DIR] [-q]
// Endpoints: POST /v1/chat/completions (stream or not), GET /v1/models, /health, /metrics. docs/SERVE.md.
// The plans are compiled (or found in the plan cache) and loaded before the port opens; then one line
// "ck-serve: listening on http://HOST:PORT" on stderr (--port 0: a free port, the line says which).
// SIGTERM / SIGINT: stop accepting, let the requests already received finish, exit 0.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <pthread.h>
#include <thread>

#include <CLI/CLI.hpp>

#include "core/error.h"
#include "core/thread_pool.h"
#include "pipeline/plan_cache.h"
#include "pipeline/steps.h"
#include "runtime/kernel_table.h"
#include "serve/pipeline_engine.h"
#include "serve/server.h"

namespace {

namespace fs = std::filesystem;

std::string templates_dir(const std::string& flag) { return flag.empty() ? ck::pipeline::default_templates_dir() : flag; }

int body(int argc, char** argv) {
  CLI::App app{"ck-serve: OpenAI-compatible chat completions (text + images) over the ck pipeline"};
  std::string mmproj, model, alias, cache_dir, tflag, mode = "strict";
  ck::serve::ServerOptions so;
  ck::serve::PipelineEngineOptions eo;
  bool quiet = false;
  app.add_option("--mmproj", mmproj, "vision projector GGUF")->required();
  app.add_option("--model", model, "text model GGUF")->required();
  app.add_option("--host", so.host, "address to listen on")->capture_default_str();
  app.add_option("--port", so.port, "TCP port (0: any free one)")->capture_default_str();
  app.add_option("--parallel", eo.parallel, "sequences decoded at once (each its own KV cache); others wait")
      ->check(CLI::Range(1, 64))->capture_default_str();
  app.add_option("-t,--threads", eo.threads, "threads per sequence (default: physical cores / --parallel)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--ctx-size", eo.ctx_size, "KV cache size per sequence, tokens")->capture_default_str();
  app.add_option("--max-tokens", eo.max_tokens, "default and largest max_tokens of a request")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--max-body", so.max_body, "largest request body, bytes (larger: 413)")->capture_default_str();
  app.add_option("--max-image-bytes", so.parse.max_image_bytes, "largest image file, bytes")->capture_default_str();
  app.add_option("--max-image-pixels", so.parse.max_image_pixels, "largest image, width x height")
      ->capture_default_str();
  app.add_option("--timeout", so.io_timeout_s, "seconds a connection may sit idle or stalled before it is closed")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--image-cache", eo.image_cache, "encoded images kept, by content hash")->capture_default_str();
  app.add_flag("--allow-local-files", so.parse.allow_local_files, "image_url may name a file on this machine");
  app.add_option("--alias", alias, "model id in responses and /v1/models (default: the model file's name)");
  app.add_option("--cache-dir", cache_dir, "plan cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/ck)");
  app.add_option("--mode", mode, "numerics mode (the modes this build binds)")
      ->check(CLI::IsMember(ck::runtime::available_mode_names()));
  app.add_option("--templates", tflag, "templates directory (default $CK_TEMPLATES, else the source tree's)");
  app.add_flag("-q,--quiet", quiet, "no startup line except the listening one");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    throw ck::Error(std::string(e.what()) + " (see ck-serve --help)");
  }
  so.parallel = eo.parallel;

  // Signals go to one thread (sigwait) from the start, so no worker thread is interrupted by them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::error_code ec;
  const std::string exe = fs::read_symlink("/proc/self/exe", ec).string();
  if (ec) throw ck::Error("ck-serve: cannot locate its own executable (/proc/self/exe)");
  ck::serve::PlanInputs pi;
  pi.mmproj = mmproj;
  pi.model = model;
  pi.cache_root = cache_dir.empty() ? ck::pipeline::default_cache_root() : cache_dir;
  pi.templates_dir = templates_dir(tflag);
  pi.mode = mode;
  ck::pipeline::PlanCache exe_cache(pi.cache_root);
  pi.salt = exe_cache.file_sha256(exe).sha256;
  const auto plans = ck::serve::prepare_plans(pi);
  eo.encoder_plan = plans.encoder;
  eo.decoder_plan = plans.decoder;
  eo.model_id = alias.empty() ? fs::path(model).stem().string() : alias;
  ck::serve::PipelineEngine engine(eo);
  ck::serve::Server server(engine, so);
  if (!quiet)
    std::fprintf(stderr, "ck-serve: model %s, %d sequence(s), plans %s\n", eo.model_id.c_str(), eo.parallel,
                 plans.cached ? "from the cache" : "compiled");
  std::fprintf(stderr, "ck-serve: listening on http://%s:%u\n", so.host.c_str(), unsigned(server.port()));
  std::fflush(stderr);

  std::thread watcher([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    if (sig == 0) return;  // woken by the exit path below
    std::fprintf(stderr, "ck-serve: %s: finishing the requests in flight\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server.stop();
  });
  server.run();
  // run() only returns after stop(): the watcher has already returned.
  watcher.join();
  if (!quiet) {
    const auto& m = server.metrics();
    std::fprintf(stderr, "ck-serve: stopped after %llu requests (%llu answered)\n",
                 (unsigned long long)m.requests.load(), (unsigned long long)m.requests_ok.load());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return ck::run_tool("ck-serve", body, argc, argv); }
