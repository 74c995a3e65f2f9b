// Reading the parts of a weights manifest that lowering needs: arch, config, tensor table.
#include <filesystem>
#include <fstream>

#include "core/dtype.h"
#include "core/error.h"
#include "lower/lower.h"

namespace ck::lower {

Manifest parse_manifest(const json& doc, const std::string& path) {
  Manifest m;
  m.path = path;
  m.doc = doc;
  if (!doc.is_object()) fail(path, "not a JSON object");
  if (!doc.contains("format") || doc["format"] != "ck.weights_manifest")
    fail(path, "not a ck.weights_manifest file (format)");
  // Version 1 differs only in bump.file being a base name, which resolves by the same rule.
  if (!doc.contains("version") || !doc["version"].is_number_integer() || (doc["version"] != 1 && doc["version"] != 2))
    fail(path, "unsupported ck.weights_manifest version (this ck reads 1 and 2)");
  if (!doc.contains("arch") || !doc["arch"].is_string()) fail(path, "missing string \"arch\"");
  m.arch = doc["arch"].get<std::string>();
  if (!doc.contains("config") || !doc["config"].is_object()) fail(path, "missing object \"config\"");
  m.config = doc["config"];
  if (!doc.contains("tensors") || !doc["tensors"].is_array()) fail(path, "missing array \"tensors\"");
  for (const auto& t : doc["tensors"]) {
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string())
      fail(path, "tensor entry without a \"name\"");
    graph::Weight w;
    w.name = t["name"].get<std::string>();
    const std::string tw = "tensor '" + w.name + "'";
    if (!t.contains("dtype") || !t["dtype"].is_string()) fail(path, tw + " has no \"dtype\"");
    auto dt = dtype_from_name(t["dtype"].get<std::string>());
    if (!dt) fail(path, tw + " has unknown dtype '" + t["dtype"].get<std::string>() + "'");
    w.dtype = dtype_name(*dt);  // canonical ggml spelling ("q4_K")
    if (!t.contains("ne") || !t["ne"].is_array() || t["ne"].empty()) fail(path, tw + " has no \"ne\"");
    for (const auto& d : t["ne"]) {
      if (!d.is_number_integer() || d.get<int64_t>() <= 0) fail(path, tw + " has a bad dimension");
      w.shape.insert(w.shape.begin(), d.get<int64_t>());  // ggml ne (fastest first) -> row-major
    }
    if (!t.contains("offset") || !t["offset"].is_number_unsigned()) fail(path, tw + " has no \"offset\"");
    if (!t.contains("nbytes") || !t["nbytes"].is_number_unsigned()) fail(path, tw + " has no \"nbytes\"");
    w.offset = t["offset"].get<uint64_t>();
    w.nbytes = t["nbytes"].get<uint64_t>();
    for (const auto& x : m.tensors)
      if (x.name == w.name) fail(path, "duplicate " + tw);
    m.tensors.push_back(std::move(w));
  }
  return m;
}

std::string select_template(const Manifest& m, const std::string& dir) {
  namespace fs = std::filesystem;
  if (m.doc.contains("template") && m.doc["template"].is_object() && m.doc["template"].contains("file") &&
      m.doc["template"]["file"].is_string())
    return (fs::path(dir) / m.doc["template"]["file"].get<std::string>()).string();
  const std::string ip = (fs::path(dir) / "index.json").string();
  std::ifstream f(ip);
  if (!f) fail(ip, "cannot open the template index");
  json idx;
  try {
    idx = json::parse(f);
  } catch (const std::exception& e) {
    fail(ip, std::string("malformed JSON: ") + e.what());
  }
  if (!idx.contains("templates") || !idx["templates"].is_array()) fail(ip, "missing \"templates\" array");
  for (const auto& e : idx["templates"])
    if (e.is_object() && e.value("equals", std::string()) == m.arch && e.contains("file") && e["file"].is_string())
      return (fs::path(dir) / e["file"].get<std::string>()).string();
  fail(m.path, "no template for arch '" + m.arch + "' in " + ip);
}

}  // namespace ck::lower
