// compile — one GGUF to a runnable plan, in process: convert (GGUF -> bump + weights manifest), lower (manifest +
// template -> ir1), layout (ir1 -> layout.json + call.json). The same library calls as ck-convert | ck-lower |
// ck-layout, with the same outputs (docs/formats/: bump, weights_manifest, ir1, layout, call).
//
// A compiled directory DIR holds
//   DIR/weights.bump  DIR/manifest.json  DIR/ir1.json  DIR/plan/{call.json,layout.json}   (plan/ names ../weights.bump)
// Each step is skipped when its output is already there; every output appears atomically (files by temp +
// rename, plan/ as a renamed directory), so a present file is a complete one. DIR can be moved as a whole.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace ck::pipeline {

struct CompileOptions {
  std::string templates_dir;  // required
  std::string mode = "strict";
  std::string stop_after;     // "", "convert", "lower" or "layout" ("" = all three)
};

struct CompileResult {
  nlohmann::ordered_json manifest;                             // the weights manifest
  nlohmann::ordered_json cached = nlohmann::ordered_json::object();  // step -> true when skipped (already there)
  double convert_ms = 0, lower_ms = 0, layout_ms = 0;          // 0 for a skipped step
  std::string plan_dir;                                        // DIR/plan (after layout)
  bool all_cached() const;
};

// Runs the steps of `gguf` into `dir` (created). Throws ck::Error("<file>: <problem>"); a failed step leaves no
// output of its own.
CompileResult compile(const std::string& gguf, const std::string& dir, const CompileOptions& opt);

// A GGUF in the wrong role, or a pair whose widths differ: checked on the two weights manifests (compile with
// stop_after = "convert"), before anything is lowered. Throws ck::Error naming both files.
void check_model_pair(const std::string& mmproj, const nlohmann::ordered_json& mmproj_manifest,
                      const std::string& model, const nlohmann::ordered_json& model_manifest);

}  // namespace ck::pipeline
