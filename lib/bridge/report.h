// bridge_report.json (`ck.bridge_report`, version 2; docs/formats/bridge_report.md): what one ck-bridge run
// used and produced — versions and hashes of every input, the contracts as resolved, prefix shape, prompt and
// generated token ids, stop reason, per-stage timings. Writer fixes the top-level key order so reports diff well.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace ck::bridge {

inline constexpr const char* kReportFormat = "ck.bridge_report";
inline constexpr int kReportVersion = 2;

// The stages a report times, in pipeline order (keys of "timings_ms").
inline constexpr const char* kReportStages[] = {"convert", "lower", "layout", "plans",  "load",
                                                "preprocess", "encode", "prefill", "decode"};

class Report {
 public:
  using json = nlohmann::ordered_json;
  Report();
  // Top-level section (one of the keys created by the constructor; anything else throws ck::Error).
  json& operator[](const std::string& key);
  void set_timing(const std::string& stage, double ms);  // stage from kReportStages
  const json& doc() const { return doc_; }
  // Atomic write (ck::write_text_file): never a partial report.
  void write(const std::string& path) const;

 private:
  json doc_;
};

// Reader side: checks format/version and the required top-level keys; throws ck::Error naming `path`.
nlohmann::ordered_json read_report(const std::string& path);

}  // namespace ck::bridge
