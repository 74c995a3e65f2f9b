// Picks the template for a GGUF from templates/index.json: the first entry whose (GGUF key, string value)
// matches. No model names in code: the index is data (docs/formats/weights_manifest.md "Template index").
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gguf/gguf.h"

namespace ck::manifest {

using json = nlohmann::ordered_json;

inline constexpr const char* kTemplateFormat = "ck.template";
inline constexpr int kTemplateVersion = 1;
inline constexpr const char* kIndexFormat = "ck.template_index";
inline constexpr int kIndexVersion = 1;

struct TemplateRef {
  std::string path;    // as opened (for error messages)
  std::string file;    // file name inside the templates directory, e.g. "qwen3vl.json"
  std::string name;    // the template's "name"
  std::string sha256;  // of the template file's bytes
  json doc;
};

// templates/index.json, read and checked (format/version, every entry's string key/equals/file).
struct IndexEntry {
  std::string key, equals, file;
};
std::vector<IndexEntry> read_template_index(const std::string& templates_dir);

// Throws ck::Error naming the GGUF and its architecture keys when no entry matches (ck-convert exits 2).
TemplateRef select_template(const gguf::Reader& gguf, const std::string& templates_dir);
// Loads and checks one template file (format/version/name).
TemplateRef load_template(const std::string& templates_dir, const std::string& file);

}  // namespace ck::manifest
