// ck-layout [IR1|-] -o DIR — liveness + arena packing: writes DIR/layout.json and DIR/call.json
// (docs/formats/layout.md, docs/formats/call.md). Planned once for the worst case of the contract.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/output_file.h"
#include "core/paths.h"
#include "graph/json_io.h"
#include "plan/plan.h"

namespace fs = std::filesystem;

static int body(int argc, char** argv) {
  CLI::App app{"ck-layout: ir1.json -> DIR/layout.json + DIR/call.json"};
  std::string in = "-", dir, weights;
  std::vector<std::string> bounds;
  int64_t ctx = 0, max_img = 0;
  bool no_inplace = false;
  app.add_option("IR1", in, "ir1.json from ck-lower, - = stdin");
  app.add_option("-o,--output-dir", dir, "output directory (created if missing)")->required();
  app.add_option("--ctx-size", ctx, "decoder: KV cache cells to plan for (symbols with option ctx_size)");
  app.add_option("--max-image-tokens", max_img, "encoder: merged image tokens to plan for (option max_image_tokens)");
  app.add_option("--bound", bounds, "NAME=N: worst case of a symbol or option (repeatable)");
  app.add_option("--weights", weights, "weights (.bump) file the runtime maps (default: the manifest's bump)");
  app.add_flag("--no-inplace", no_inplace, "never let an output reuse its input's memory");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    throw ck::Error(std::string(e.what()) + " (see ck-layout --help)");
  }
  ck::plan::Options opt;
  opt.inplace = !no_inplace;
  if (ctx < 0 || max_img < 0) throw ck::Error("sizes must be positive");
  for (const auto& b : bounds) {
    auto eq = b.find('=');
    if (eq == std::string::npos || eq == 0) throw ck::Error("--bound " + b + ": expected NAME=N");
    try {
      size_t used = 0;
      long long v = std::stoll(b.substr(eq + 1), &used);
      if (used != b.size() - eq - 1) throw std::invalid_argument("x");
      opt.bounds[b.substr(0, eq)] = v;
    } catch (const std::logic_error&) {
      throw ck::Error("--bound " + b + ": N is not an integer");
    }
  }
  const std::string where = in == "-" ? "<stdin>" : in;
  auto ir = ck::graph::ir1_from_json(ck::graph::read_json(in), where);
  // The convenience flags apply to graphs that have that option (a decoder has no image, an encoder no KV
  // cache), so one command line serves both; --bound names must exist.
  auto has_option = [&](const std::string& o) {
    for (const auto& s : ir.symbols)
      if (s.option == o) return true;
    return false;
  };
  if (ctx > 0 && has_option("ctx_size")) opt.bounds["ctx_size"] = ctx;
  if (max_img > 0 && has_option("max_image_tokens")) opt.bounds["max_image_tokens"] = max_img;

  // Weights are referenced, never copied: call.json names the bump relative to DIR (core/paths.h), absolute
  // only if --weights gives it so. Without --weights it is the ir1's source.bump.path, which is relative to
  // the ir1's location (its file's directory, or the working directory for stdin).
  fs::create_directories(dir);
  const std::string call_path = (fs::path(dir) / "call.json").string();
  if (weights.empty()) {
    const auto& b = ir.source.is_object() ? ir.source.value("bump", ck::graph::json()) : ck::graph::json();
    if (b.is_object() && b.contains("path") && b["path"].is_string()) {
      const std::string at = ck::path_from_artifact(b["path"].get<std::string>(), in);
      std::error_code ec;
      if (!fs::is_regular_file(at, ec))
        std::fprintf(stderr, "ck-layout: warning: %s: the bump named by %s is not there (yet)\n", at.c_str(),
                     where.c_str());
      weights = ck::path_for_artifact(at, call_path);
    }
  } else if (fs::path(weights).is_relative()) {
    weights = ck::path_for_artifact(weights, call_path);
  }
  opt.weights_file = weights;

  auto r = ck::plan::plan(std::move(ir), opt);
  ck::write_text_file((fs::path(dir) / "layout.json").string(), r.layout.dump(1) + "\n");
  ck::write_text_file((fs::path(dir) / "call.json").string(), r.call.dump(1) + "\n");
  const double mib = 1024.0 * 1024.0;
  std::fprintf(stderr, "ck-layout: arena %.2f MiB (peak live %.2f MiB) vs naive sum %.2f MiB: saved %.1f%%\n",
               double(r.arena) / mib, double(r.peak) / mib, double(r.naive) / mib,
               r.naive ? 100.0 * (1.0 - double(r.arena) / double(r.naive)) : 0.0);
  if (weights.empty()) std::fprintf(stderr, "ck-layout: warning: no weights file known (pass --weights)\n");
  return 0;
}

int main(int argc, char** argv) { return ck::run_tool("ck-layout", body, argc, argv); }
