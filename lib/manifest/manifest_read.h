// Reading a weights manifest (docs/formats/weights_manifest.md) — beside its writer (manifest.h,
// kManifestFormat / kManifestVersion): the one reader of the format, used by ck-lower and lib/pipeline.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ck::manifest {

using json = nlohmann::ordered_json;

struct ManifestTensor {
  std::string name;
  std::string dtype;         // canonical ggml spelling ("q4_K")
  std::vector<int64_t> ne;   // ggml order (fastest first)
  uint64_t offset = 0;       // in the bump
  uint64_t nbytes = 0;
};

struct Manifest {
  std::string path;    // for messages ("<stdin>" for a stream)
  json doc;            // the whole manifest
  std::string arch;
  json config;         // name -> value
  std::vector<ManifestTensor> tensors;
};

// Checks format/version and the tensor table. Throws ck::Error("<path>: <problem>").
Manifest read_manifest(const json& doc, const std::string& path);

// The template file for a manifest: its "template.file" (the template ck-convert chose), else the first entry
// of templates/index.json whose "equals" is the manifest's arch. Returns the path; throws ck::Error.
std::string manifest_template_path(const Manifest& m, const std::string& templates_dir);

}  // namespace ck::manifest
