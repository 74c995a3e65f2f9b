#include "pipeline/compile.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "core/error.h"
#include "graph/ir1.h"
#include "graph/json_io.h"
#include "core/output_file.h"
#include "pipeline/steps.h"
#include "registry/catalogue.h"

namespace ck::pipeline {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

constexpr const char* kBump = "weights.bump";

// ck-convert GGUF -o DIR/weights.bump --manifest DIR/manifest.json
void convert(const std::string& gguf_path, const std::string& dir, const std::string& tdir) {
  convert_gguf(gguf_path, dir + "/" + kBump, dir + "/manifest.json", tdir);
}

// ck-lower DIR/manifest.json -o DIR/ir1.json --mode MODE
void lower_step(const std::string& dir, const json& manifest_doc, const std::string& tdir, const std::string& mode) {
  const auto m = registry::mode_from_name(mode);
  if (!m) throw Error("--mode: expected strict or fast, got '" + mode + "'");
  const std::string ir1 = dir + "/ir1.json";
  auto ir = lower_manifest(manifest_doc, dir + "/manifest.json", ir1, tdir, "", *m);
  write_text_file(ir1, graph::ir1_to_json(ir).dump(1) + "\n");
}

// ck-layout DIR/ir1.json -o DIR/plan (written to a temporary sibling directory, renamed into place: the
// bump's relative path, ../weights.bump, is the same from both)
void layout_step(const std::string& dir) {
  const std::string ir1 = dir + "/ir1.json", plan_dir = dir + "/plan";
  auto ir = graph::ir1_from_json(graph::read_json(ir1), ir1);
  const std::string tmp = plan_dir + ".tmp." + std::to_string(getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  try {
    layout_ir1(std::move(ir), ir1, tmp, {});
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  fs::remove_all(plan_dir, ec);
  fs::rename(tmp, plan_dir);
}

}  // namespace

bool CompileResult::all_cached() const {
  for (const auto& [k, v] : cached.items())
    if (!v.get<bool>()) return false;
  return true;
}

CompileResult compile(const std::string& gguf, const std::string& dir, const CompileOptions& opt) {
  if (opt.templates_dir.empty()) throw Error("compile: no templates directory");
  CompileResult r;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) fail(dir, "cannot create the plan directory");
  const std::string manifest = dir + "/manifest.json";
  if (fs::exists(manifest)) {
    r.cached["convert"] = true;
  } else {
    const auto t0 = std::chrono::steady_clock::now();
    convert(gguf, dir, opt.templates_dir);
    r.convert_ms = ms_since(t0);
    r.cached["convert"] = false;
  }
  r.manifest = graph::read_json(manifest);
  if (opt.stop_after == "convert") return r;
  if (fs::exists(dir + "/ir1.json")) {
    r.cached["lower"] = true;
  } else {
    const auto t0 = std::chrono::steady_clock::now();
    lower_step(dir, r.manifest, opt.templates_dir, opt.mode);
    r.lower_ms = ms_since(t0);
    r.cached["lower"] = false;
  }
  if (opt.stop_after == "lower") return r;
  if (fs::exists(dir + "/plan/call.json")) {
    r.cached["layout"] = true;
  } else {
    const auto t0 = std::chrono::steady_clock::now();
    layout_step(dir);
    r.layout_ms = ms_since(t0);
    r.cached["layout"] = false;
  }
  r.plan_dir = dir + "/plan";
  return r;
}

void check_model_pair(const std::string& mmproj, const json& em, const std::string& model, const json& dm) {
  if (!em.contains("preprocess"))
    fail(mmproj, "is not a vision projector (its template has no preprocess contract); pass it as --model?");
  if (!dm.contains("chat"))
    fail(model, "is not a text model (its template has no chat contract); pass it as --mmproj?");
  const json& ec = em.value("config", json::object());
  const json& dc = dm.value("config", json::object());
  if (!ec.contains("n_mmproj_embd") || !dc.contains("n_embd_inp")) return;  // nothing to compare: the Decoder checks
  const int64_t proj = ec["n_mmproj_embd"].get<int64_t>(), inp = dc["n_embd_inp"].get<int64_t>();
  if (proj == inp) return;
  const auto n_embd = dc.value("n_embd", int64_t(0)), n_ds = dc.value("n_deepstack_layers", int64_t(0));
  throw Error(mmproj + " and " + model + " are not a pair: the projector's output width is " + std::to_string(proj) +
              " but the text model expects n_embd*(1+n_deepstack) = " + std::to_string(n_embd) + "*(1+" +
              std::to_string(n_ds) + ") = " + std::to_string(inp));
}

}  // namespace ck::pipeline
