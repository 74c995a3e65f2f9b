// ck.dump v1 — activation dumps (docs/formats/dump.md): the record type and the rules shared by the
// writer, the reader and ck-diff (dtype sizes, file naming, shape equivalence, limits).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ck {

inline constexpr const char* kDumpFormat = "ck.dump";
inline constexpr int kDumpVersion = 1;
inline constexpr const char* kDumpIndex = "index.json";

// Limits of docs/formats/dump.md §7.
inline constexpr uint64_t kDumpMaxIndexBytes = 256ull << 20;
inline constexpr size_t kDumpMaxRecords = 1'000'000;
inline constexpr size_t kDumpMaxName = 127;
inline constexpr size_t kDumpMaxPhase = 32;
inline constexpr size_t kDumpMaxDims = 4;
inline constexpr int64_t kDumpMaxNe = int64_t{1} << 40;
inline constexpr uint64_t kDumpMaxNbytes = uint64_t{1} << 34;
inline constexpr int64_t kDumpMaxOrder = int64_t{1} << 31;

enum class DumpDType { F32, F16, I32 };

const char* dump_dtype_name(DumpDType t);        // "f32" / "f16" / "i32"
size_t dump_dtype_size(DumpDType t);             // 4 / 2 / 4
std::optional<DumpDType> dump_dtype_from_name(std::string_view name);  // exact lower-case names only

struct DumpRecord {
  int64_t order = 0;
  std::string name;   // ggml callback name, with "__k" for the k-th repeat within the phase
  std::string phase;  // "encode", "prefill", "gen0", ...
  DumpDType dtype = DumpDType::F32;
  std::vector<int64_t> ne;     // ggml ne, fastest first
  std::vector<int64_t> shape;  // row-major, outermost first (= ne reversed)
  std::string file;            // data file name inside the dump directory
  uint64_t nbytes = 0;         // raw size

  uint64_t elements() const;   // product(ne)
  std::string key() const { return phase + "/" + name; }  // ck-diff's matching key and display name
};

// Every byte not in [A-Za-z0-9.-] becomes '_' (§5).
std::string dump_sanitize(std::string_view name);
// "%05d_<sanitized name>.zst" (§5).
std::string dump_file_name(int64_t order, std::string_view name);
// Shapes equal after dropping leading 1s (§8).
bool dump_shapes_equivalent(const std::vector<int64_t>& a, const std::vector<int64_t>& b);
// "[1,3,224,224]"
std::string dump_shape_string(const std::vector<int64_t>& shape);
// Flat row-major index -> multi-index over `shape` (outermost first).
std::vector<int64_t> dump_unflatten(uint64_t flat, const std::vector<int64_t>& shape);

// Checks name/phase against §2 rules; returns the problem or "" if fine.
std::string dump_check_name(std::string_view name);
std::string dump_check_phase(std::string_view phase);

}  // namespace ck
