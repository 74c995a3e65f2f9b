// weights_manifest.json (docs/formats/weights_manifest.md): what ck-convert tells ck-lower about a model.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "bump/writer.h"
#include "gguf/gguf.h"
#include "manifest/template_select.h"

namespace ck::manifest {

inline constexpr const char* kManifestFormat = "ck.weights_manifest";
inline constexpr int kManifestVersion = 2;  // 2: bump.file is a path relative to the manifest's location (1: a base name)

struct ManifestInputs {
  const gguf::Reader& gguf;
  std::string source_name;  // GGUF file name (no directories)
  const bump::WriteResult& bump;
  std::string bump_name;  // the bump relative to the manifest's location (core/paths.h)
  const TemplateRef& tmpl;
  const json& contract;  // resolve_contract() output
};

json build_manifest(const ManifestInputs& in);

}  // namespace ck::manifest
