#include "manifest/manifest_read.h"

#include <filesystem>
#include <unordered_set>

#include "core/dtype.h"
#include "core/error.h"
#include "manifest/manifest.h"
#include "manifest/template_select.h"

namespace ck::manifest {

Manifest read_manifest(const json& doc, const std::string& path) {
  Manifest m;
  m.path = path;
  m.doc = doc;
  if (!doc.is_object()) fail(path, "not a JSON object");
  if (!doc.contains("format") || doc["format"] != kManifestFormat)
    fail(path, std::string("not a ") + kManifestFormat + " file (format)");
  // Version 1 differs only in bump.file being a base name, which resolves by the same rule.
  if (!doc.contains("version") || !doc["version"].is_number_integer() || doc["version"].get<int64_t>() < 1 ||
      doc["version"].get<int64_t>() > kManifestVersion)
    fail(path, std::string("unsupported ") + kManifestFormat + " version (this ck reads 1 to " +
                   std::to_string(kManifestVersion) + ")");
  if (!doc.contains("arch") || !doc["arch"].is_string()) fail(path, "missing string \"arch\"");
  m.arch = doc["arch"].get<std::string>();
  if (!doc.contains("config") || !doc["config"].is_object()) fail(path, "missing object \"config\"");
  m.config = doc["config"];
  if (!doc.contains("tensors") || !doc["tensors"].is_array()) fail(path, "missing array \"tensors\"");
  std::unordered_set<std::string> names;
  for (const auto& t : doc["tensors"]) {
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string())
      fail(path, "tensor entry without a \"name\"");
    ManifestTensor w;
    w.name = t["name"].get<std::string>();
    const std::string tw = "tensor '" + w.name + "'";
    if (!t.contains("dtype") || !t["dtype"].is_string()) fail(path, tw + " has no \"dtype\"");
    auto dt = dtype_from_name(t["dtype"].get<std::string>());
    if (!dt) fail(path, tw + " has unknown dtype '" + t["dtype"].get<std::string>() + "'");
    w.dtype = dtype_name(*dt);
    if (!t.contains("ne") || !t["ne"].is_array() || t["ne"].empty() || t["ne"].size() > 4)
      fail(path, tw + " has no \"ne\" (1 to 4 dimensions)");
    for (const auto& d : t["ne"]) {
      if (!d.is_number_integer() || d.get<int64_t>() <= 0) fail(path, tw + " has a bad dimension");
      w.ne.push_back(d.get<int64_t>());
    }
    if (!t.contains("offset") || !t["offset"].is_number_unsigned()) fail(path, tw + " has no \"offset\"");
    if (!t.contains("nbytes") || !t["nbytes"].is_number_unsigned()) fail(path, tw + " has no \"nbytes\"");
    w.offset = t["offset"].get<uint64_t>();
    w.nbytes = t["nbytes"].get<uint64_t>();
    if (!names.insert(w.name).second) fail(path, "duplicate " + tw);
    m.tensors.push_back(std::move(w));
  }
  return m;
}

std::string manifest_template_path(const Manifest& m, const std::string& dir) {
  namespace fs = std::filesystem;
  const json& t = m.doc.contains("template") ? m.doc["template"] : json();
  if (t.is_object() && t.contains("file") && t["file"].is_string())
    return load_template(dir, t["file"].get<std::string>()).path;
  for (const auto& e : read_template_index(dir))
    if (e.equals == m.arch) return (fs::path(dir) / e.file).string();
  fail(m.path, "no template for arch '" + m.arch + "' in " + (fs::path(dir) / "index.json").string());
}

}  // namespace ck::manifest
