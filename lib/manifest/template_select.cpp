#include "manifest/template_select.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/mapped_file.h"
#include "core/sha256.h"

namespace ck::manifest {

namespace {

json parse_json_file(const std::string& path) {
  std::string text = read_text_file(path);
  try {
    return json::parse(text);
  } catch (const std::exception& e) {
    fail(path, std::string("malformed JSON: ") + e.what());
  }
}

void check_format(const std::string& path, const json& doc, const char* format, int version) {
  if (!doc.is_object() || !doc.contains("format") || doc["format"] != format)
    fail(path, std::string("not a ") + format + " file (\"format\" must be \"" + format + "\")");
  if (!doc.contains("version") || !doc["version"].is_number_integer() || doc["version"] != version)
    fail(path, std::string("unsupported ") + format + " version (this ck reads " + std::to_string(version) + ")");
}

}  // namespace

TemplateRef load_template(const std::string& templates_dir, const std::string& file) {
  TemplateRef t;
  t.file = file;
  t.path = (std::filesystem::path(templates_dir) / file).string();
  if (file.empty() || file.find('/') != std::string::npos || file[0] == '.')
    fail(templates_dir + "/index.json", "bad template file name \"" + file + "\"");
  std::string text = read_text_file(t.path);
  t.sha256 = sha256_hex({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  try {
    t.doc = json::parse(text);
  } catch (const std::exception& e) {
    fail(t.path, std::string("malformed JSON: ") + e.what());
  }
  check_format(t.path, t.doc, kTemplateFormat, kTemplateVersion);
  if (!t.doc.contains("name") || !t.doc["name"].is_string() || t.doc["name"].get<std::string>().empty())
    fail(t.path, "missing \"name\"");
  t.name = t.doc["name"].get<std::string>();
  return t;
}

std::vector<IndexEntry> read_template_index(const std::string& templates_dir) {
  const std::string index_path = (std::filesystem::path(templates_dir) / "index.json").string();
  json index = parse_json_file(index_path);
  check_format(index_path, index, kIndexFormat, kIndexVersion);
  if (!index.contains("templates") || !index["templates"].is_array()) fail(index_path, "missing \"templates\" array");
  std::vector<IndexEntry> out;
  for (const auto& e : index["templates"]) {
    if (!e.is_object() || !e.contains("key") || !e["key"].is_string() || !e.contains("equals") ||
        !e["equals"].is_string() || !e.contains("file") || !e["file"].is_string())
      fail(index_path, "each entry needs string \"key\", \"equals\" and \"file\"");
    out.push_back({e["key"].get<std::string>(), e["equals"].get<std::string>(), e["file"].get<std::string>()});
  }
  return out;
}

TemplateRef select_template(const gguf::Reader& gguf, const std::string& templates_dir) {
  const std::string index_path = (std::filesystem::path(templates_dir) / "index.json").string();
  std::string seen;  // "key = value" of every index key the GGUF has, for the error message
  std::vector<std::string> keys_reported;
  for (const auto& e : read_template_index(templates_dir)) {
    const gguf::Value* v = gguf.find(e.key);
    if (v != nullptr && v->type == gguf::ValueType::STRING) {
      if (v->s == e.equals) return load_template(templates_dir, e.file);
      if (std::find(keys_reported.begin(), keys_reported.end(), e.key) == keys_reported.end()) {
        keys_reported.push_back(e.key);
        seen += (seen.empty() ? "" : ", ") + e.key + " = \"" + v->s + "\"";
      }
    }
  }
  if (seen.empty()) {
    auto arch = gguf.get_string_opt("general.architecture");
    seen = arch ? "general.architecture = \"" + *arch + "\"" : "no general.architecture";
  }
  fail(gguf.path(), "unknown architecture (" + seen + "): no template in " + index_path + " matches");
}

}  // namespace ck::manifest
