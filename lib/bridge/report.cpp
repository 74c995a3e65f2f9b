#include "bridge/report.h"

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/output_file.h"

namespace ck::bridge {

namespace {
// Top-level keys in the order they are written (docs/formats/bridge_report.md).
const char* const kKeys[] = {"format", "version",  "status",  "tool",     "mode",   "threads", "isa",
                             "inputs", "artifacts", "contracts", "prefix", "prompt", "output",  "timings_ms",
                             "token_counts", "tokens_per_s"};
}  // namespace

Report::Report() {
  for (const char* k : kKeys) doc_[k] = nullptr;
  doc_["format"] = kReportFormat;
  doc_["version"] = kReportVersion;
  doc_["timings_ms"] = json::object();
  for (const char* s : kReportStages) doc_["timings_ms"][s] = nullptr;
}

Report::json& Report::operator[](const std::string& key) {
  if (!doc_.contains(key)) throw Error("bridge report: unknown section '" + key + "'");
  return doc_[key];
}

void Report::set_timing(const std::string& stage, double ms) {
  if (!doc_["timings_ms"].contains(stage)) throw Error("bridge report: unknown stage '" + stage + "'");
  doc_["timings_ms"][stage] = ms;
}

// A generated text may end inside a UTF-8 character (or a synthetic model emits byte tokens that form none): JSON
// needs valid UTF-8, so such bytes become U+FFFD here; output.token_ids stay exact.
void Report::write(const std::string& path) const {
  write_text_file(path, doc_.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
}

nlohmann::ordered_json read_report(const std::string& path) {
  std::ifstream f(path);
  if (!f) fail(path, "cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(ss.str());
  } catch (const std::exception& e) {
    fail(path, std::string("not JSON: ") + e.what());
  }
  // typed: value("format", "") threw nlohmann's type_error on a member of another type
  if (!j.is_object() || !j.contains("format") || !j["format"].is_string() || j["format"] != kReportFormat)
    fail(path, "not a ck.bridge_report");
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"] != kReportVersion)
    fail(path, "unsupported ck.bridge_report version");
  for (const char* k : kKeys)
    if (!j.contains(k)) fail(path, std::string("missing key '") + k + "'");
  return j;
}

}  // namespace ck::bridge
