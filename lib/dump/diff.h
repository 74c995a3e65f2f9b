// diff of two dumps (or two raw f32 files): per-tensor comparison matched by (phase, name), records present
// on one side only, the first divergence in graph order, and the text / JSON report ck-diff prints
// (docs/formats/dump.md §10). Parity gates call this too so every gate reports the same way.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dump/compare.h"
#include "dump/format.h"

namespace ck {

struct DiffOptions {
  double tol = 0;             // 0 = bitwise
  std::string filter;         // keep records whose "phase/name" contains this
  bool allow_missing = false;  // records on one side only do not fail the verdict
};

enum class DiffStatus { Ok, Diff, ShapeMismatch, DtypeMismatch };
const char* diff_status_name(DiffStatus s);  // "ok", "diff", "shape_mismatch", "dtype_mismatch"

struct TensorDiff {
  std::string phase, name;  // phase empty for raw files
  int64_t order = 0;        // A's order
  DumpDType dtype_a = DumpDType::F32, dtype_b = DumpDType::F32;
  std::vector<int64_t> shape_a, shape_b;
  DiffStatus status = DiffStatus::Ok;
  CompareResult cmp;                 // valid when status is Ok or Diff
  std::vector<int64_t> first_multi;  // cmp.first as a multi-index over shape_a
  std::string key() const { return phase.empty() ? name : phase + "/" + name; }
  bool ok() const { return status == DiffStatus::Ok; }
};

struct DiffReport {
  std::string a, b, producer_a, producer_b;
  DiffOptions options;
  std::vector<TensorDiff> tensors;            // A's graph order
  std::vector<std::string> only_a, only_b;    // "phase/name", each side's order
  int64_t first_divergence = -1;              // index into tensors, or -1
  size_t differing = 0;
  bool ok = false;
};

// Dispatches on what the paths are: two directories -> dumps; ck.prefix files (magic "CKPREFIX", or "shm:NAME")
// -> prefixes, compared per slice (a prefix against a raw f32 file uses the prefix's geometry); two other
// regular files -> raw little-endian f32. Anything else (missing path, a directory vs a file, corrupt data)
// throws ck::Error (exit 2).
DiffReport diff_paths(const std::string& a, const std::string& b, const DiffOptions& options);
DiffReport diff_dumps(const std::string& a, const std::string& b, const DiffOptions& options);
DiffReport diff_prefix(const std::string& a, const std::string& b, const DiffOptions& options);
DiffReport diff_raw_f32(const std::string& a, const std::string& b, const DiffOptions& options);

// One line per tensor (unless quiet), the FIRST DIVERGENCE line, the verdict line.
std::string diff_report_text(const DiffReport& report, bool quiet);
nlohmann::ordered_json diff_report_json(const DiffReport& report);

}  // namespace ck
