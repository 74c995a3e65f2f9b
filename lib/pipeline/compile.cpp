#include "pipeline/compile.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "bump/writer.h"
#include "core/error.h"
#include "core/output_file.h"
#include "gguf/gguf.h"
#include "graph/ir1.h"
#include "graph/json_io.h"
#include "lower/lower.h"
#include "manifest/manifest.h"
#include "manifest/resolve.h"
#include "manifest/template_select.h"
#include "plan/plan.h"
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
  gguf::Reader gguf(gguf_path);
  // Everything that can reject the model (template choice, required keys, checks) runs before any output.
  auto tmpl = manifest::select_template(gguf, tdir);
  auto contract = manifest::resolve_contract(tmpl, gguf);
  const std::string source_name = fs::path(gguf_path).filename().string();
  OutputFile bump_out(dir + "/" + kBump);
  auto result = bump::write_bump(gguf, source_name, bump_out);
  // The manifest sits next to the bump: it names it by file name.
  auto doc = manifest::build_manifest({gguf, source_name, result, kBump, tmpl, contract});
  const std::string text = doc.dump(2) + "\n";
  OutputFile mf(dir + "/manifest.json");
  mf.write(text.data(), text.size());
  bump_out.commit();
  mf.commit();
}

// ck-lower DIR/manifest.json -o DIR/ir1.json --mode MODE
void lower_step(const std::string& dir, const json& manifest_doc, const std::string& tdir, const std::string& mode) {
  const auto m = registry::mode_from_name(mode);
  if (!m) throw Error("--mode: expected strict or fast, got '" + mode + "'");
  const std::string mpath = dir + "/manifest.json";
  auto man = lower::parse_manifest(manifest_doc, mpath);
  const std::string tmpl = lower::select_template(man, tdir);
  auto t = graph::read_json(tmpl);
  lower::Options opt;
  opt.mode = *m;
  auto ir = lower::lower(man, t, tmpl, opt);
  // ir1 sits next to the manifest and the bump.
  if (ir.source["bump"].is_object() && ir.source["bump"].contains("file") && ir.source["bump"]["file"].is_string())
    ir.source["bump"]["path"] = ir.source["bump"]["file"];
  write_text_file(dir + "/ir1.json", graph::ir1_to_json(ir).dump(1) + "\n");
}

// ck-layout DIR/ir1.json -o DIR/plan (written to a temporary directory, renamed into place)
void layout_step(const std::string& dir) {
  const std::string ir1 = dir + "/ir1.json", plan_dir = dir + "/plan";
  auto ir = graph::ir1_from_json(graph::read_json(ir1), ir1);
  plan::Options opt;
  opt.weights_file = std::string("../") + kBump;  // call.json names the bump relative to its directory
  auto r = plan::plan(std::move(ir), opt);
  const std::string tmp = plan_dir + ".tmp." + std::to_string(getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp);
  try {
    write_text_file(tmp + "/layout.json", r.layout.dump(1) + "\n");
    write_text_file(tmp + "/call.json", r.call.dump(1) + "\n");
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

}  // namespace ck::pipeline
