// The three compile steps, each exactly as its stage tool runs it: ck-convert, ck-lower and ck-layout are thin
// CLIs over these, and compile() (compile.h) chains them into one directory. Artifact locations follow one rule
// (core/paths.h): a recorded path is relative to the artifact's own location ("-" = a stream: the working
// directory), so the same functions serve a pipe and a plan directory.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/ir1.h"
#include "plan/plan.h"
#include "registry/catalogue.h"

namespace ck::pipeline {

using json = nlohmann::ordered_json;

// $CK_TEMPLATES if set, else the source tree's templates/ (the build's default).
std::string default_templates_dir();

// GGUF -> bump (at bump_path) + weights manifest (at manifest_path, "-" = stdout). Everything that can reject
// the model runs before any output exists; both files appear atomically (the bump first). Throws ck::Error.
struct ConvertStep {
  json manifest;
  size_t n_tensors = 0;
  uint64_t bump_bytes = 0;
  std::string template_file;
};
ConvertStep convert_gguf(const std::string& gguf_path, const std::string& bump_path, const std::string& manifest_path,
                         const std::string& templates_dir);

// Manifest (read from manifest_at, "-" = a stream) + template -> ir1 that will be written to ir1_at: the bump
// is recorded relative to ir1_at. template_path "" = the manifest's own (manifest_template_path).
graph::Ir1 lower_manifest(const json& manifest_doc, const std::string& manifest_at, const std::string& ir1_at,
                          const std::string& templates_dir, const std::string& template_path, registry::Mode mode);

// ir1 (read from ir1_at) -> DIR/layout.json + DIR/call.json (DIR created). `weights` "" = the ir1's bump;
// a relative `weights` is taken from the working directory. ctx_size / max_image_tokens (0 = the contract's)
// apply to graphs that have that option. Returns the plan; `warnings` gets one line per problem that does not
// stop the step (e.g. the bump is not there yet).
struct LayoutOptions {
  plan::Options plan;
  std::string weights;
  int64_t ctx_size = 0, max_image_tokens = 0;
};
plan::Result layout_ir1(graph::Ir1 ir, const std::string& ir1_at, const std::string& dir, LayoutOptions opt,
                        std::vector<std::string>* warnings = nullptr);

}  // namespace ck::pipeline
