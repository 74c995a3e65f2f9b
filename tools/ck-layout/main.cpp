// ck-layout [IR1|-] -o DIR — liveness + arena packing: writes DIR/layout.json and DIR/call.json
// (docs/formats/layout.md, docs/formats/call.md). Planned once for the worst case of the contract.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "graph/json_io.h"
#include "pipeline/steps.h"

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
  ck::pipeline::LayoutOptions opt;
  opt.plan.inplace = !no_inplace;
  opt.weights = weights;
  opt.ctx_size = ctx;
  opt.max_image_tokens = max_img;
  for (const auto& b : bounds) {
    auto eq = b.find('=');
    if (eq == std::string::npos || eq == 0) throw ck::Error("--bound " + b + ": expected NAME=N");
    try {
      size_t used = 0;
      long long v = std::stoll(b.substr(eq + 1), &used);
      if (used != b.size() - eq - 1) throw std::invalid_argument("x");
      opt.plan.bounds[b.substr(0, eq)] = v;
    } catch (const std::logic_error&) {
      throw ck::Error("--bound " + b + ": N is not an integer");
    }
  }
  auto ir = ck::graph::ir1_from_json(ck::graph::read_json(in), in == "-" ? "<stdin>" : in);
  std::vector<std::string> warnings;
  const auto r = ck::pipeline::layout_ir1(std::move(ir), in, dir, opt, &warnings);
  const double mib = 1024.0 * 1024.0;
  std::fprintf(stderr, "ck-layout: arena %.2f MiB (peak live %.2f MiB) vs naive sum %.2f MiB: saved %.1f%%\n",
               double(r.arena) / mib, double(r.peak) / mib, double(r.naive) / mib,
               r.naive ? 100.0 * (1.0 - double(r.arena) / double(r.naive)) : 0.0);
  for (const auto& w : warnings) std::fprintf(stderr, "ck-layout: warning: %s\n", w.c_str());
  return 0;
}

int main(int argc, char** argv) { return ck::run_tool("ck-layout", body, argc, argv); }
