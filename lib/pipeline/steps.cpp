#include "pipeline/steps.h"

#include <cstdlib>
#include <filesystem>

#include "bump/writer.h"
#include "core/error.h"
#include "core/output_file.h"
#include "core/paths.h"
#include "gguf/gguf.h"
#include "graph/json_io.h"
#include "lower/lower.h"
#include "manifest/manifest.h"
#include "manifest/manifest_read.h"
#include "manifest/resolve.h"
#include "manifest/template_select.h"

namespace ck::pipeline {

namespace fs = std::filesystem;

std::string default_templates_dir() {
  if (const char* env = std::getenv("CK_TEMPLATES"); env != nullptr && *env != '\0') return env;
  return CK_TEMPLATES_DEFAULT;
}

ConvertStep convert_gguf(const std::string& gguf_path, const std::string& bump_path, const std::string& manifest_path,
                         const std::string& templates_dir) {
  gguf::Reader gguf(gguf_path);
  auto tmpl = manifest::select_template(gguf, templates_dir);
  auto contract = manifest::resolve_contract(tmpl, gguf);
  const std::string source_name = fs::path(gguf_path).filename().string();
  OutputFile bump_out(bump_path);
  auto result = bump::write_bump(gguf, source_name, bump_out);
  ConvertStep r;
  r.manifest = manifest::build_manifest(
      {gguf, source_name, result, path_for_artifact(bump_path, manifest_path), tmpl, contract});
  r.n_tensors = result.tensors.size();
  r.bump_bytes = result.header.file_size;
  r.template_file = tmpl.file;
  const std::string text = r.manifest.dump(2) + "\n";
  if (manifest_path == "-") {
    bump_out.commit();
    write_text_file("-", text);
  } else {
    OutputFile mf(manifest_path);
    mf.write(text.data(), text.size());
    bump_out.commit();
    mf.commit();
  }
  return r;
}

graph::Ir1 lower_manifest(const json& manifest_doc, const std::string& manifest_at, const std::string& ir1_at,
                          const std::string& templates_dir, const std::string& template_path, registry::Mode mode) {
  const auto man = manifest::read_manifest(manifest_doc, manifest_at == "-" ? "<stdin>" : manifest_at);
  const std::string tpath = template_path.empty() ? manifest::manifest_template_path(man, templates_dir) : template_path;
  lower::Options opt;
  opt.mode = mode;
  auto ir = lower::lower(man, graph::read_json(tpath), tpath, opt);
  // The manifest names the bump relative to its own location; ir1 records it relative to ir1's.
  auto& b = ir.source["bump"];
  if (b.is_object() && b.contains("file") && b["file"].is_string())
    b["path"] = path_for_artifact(path_from_artifact(b["file"].get<std::string>(), manifest_at), ir1_at);
  return ir;
}

plan::Result layout_ir1(graph::Ir1 ir, const std::string& ir1_at, const std::string& dir, LayoutOptions opt,
                        std::vector<std::string>* warnings) {
  if (opt.ctx_size < 0 || opt.max_image_tokens < 0) throw Error("sizes must be positive");
  // The convenience sizes apply to graphs that have that option (a decoder has no image, an encoder no KV
  // cache), so one command line serves both; --bound names must exist (plan::plan checks).
  auto has_option = [&](const std::string& o) {
    for (const auto& s : ir.symbols)
      if (s.option == o) return true;
    return false;
  };
  if (opt.ctx_size > 0 && has_option("ctx_size")) opt.plan.bounds["ctx_size"] = opt.ctx_size;
  if (opt.max_image_tokens > 0 && has_option("max_image_tokens"))
    opt.plan.bounds["max_image_tokens"] = opt.max_image_tokens;

  // Weights are referenced, never copied: call.json names the bump relative to DIR (core/paths.h), absolute
  // only if `weights` gives it so. Without `weights` it is ir1's source.bump.path, relative to ir1's location.
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir, ec)) fail(dir, "cannot create the output directory");
  const std::string call_path = (fs::path(dir) / "call.json").string();
  std::string weights = opt.weights;
  if (weights.empty()) {
    const auto& b = ir.source.is_object() ? ir.source.value("bump", json()) : json();
    if (b.is_object() && b.contains("path") && b["path"].is_string()) {
      const std::string at = path_from_artifact(b["path"].get<std::string>(), ir1_at);
      if (!fs::is_regular_file(at, ec) && warnings)
        warnings->push_back(at + ": the bump named by " + (ir1_at == "-" ? "<stdin>" : ir1_at) + " is not there (yet)");
      weights = path_for_artifact(at, call_path);
    }
  } else if (fs::path(weights).is_relative()) {
    weights = path_for_artifact(weights, call_path);
  }
  if (weights.empty() && warnings) warnings->push_back("no weights file known (pass --weights)");
  opt.plan.weights_file = weights;
  auto r = plan::plan(std::move(ir), opt.plan);
  write_text_file((fs::path(dir) / "layout.json").string(), r.layout.dump(1) + "\n");
  write_text_file(call_path, r.call.dump(1) + "\n");
  return r;
}

}  // namespace ck::pipeline
