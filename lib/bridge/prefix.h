// The ck.prefix format (docs/formats/prefix.md): the image embedding rows from ck-encode for ck-decode.
// Write to a file (atomic), to stdout, or to a POSIX shared-memory object (Boost.Interprocess); read zero-copy.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

namespace ck::bridge {

inline constexpr uint32_t kPrefixVersion = 2;  // 2 added `frames`; version 1 files (frames = 1) still read
inline constexpr uint32_t kPrefixHeaderSize = 128;

struct PrefixInfo {
  uint64_t rows = 0;
  uint64_t row_width = 0;
  uint32_t n_embd = 0;
  uint32_t n_deepstack = 0;
  uint32_t grid_nx = 0;
  uint32_t grid_ny = 0;
  uint32_t frames = 1;  // temporal frames merged into these rows (mtmd [QWEN_VIDEO]: 2 same-size images, 1 chunk)
  nlohmann::ordered_json meta;  // the JSON document (format, version, model, bridge, preprocess)
};

// Serialises header + JSON + padding; `rows_data` must hold rows*row_width floats.
// `meta` gets "format"/"version" and the "bridge" numbers filled in from `info`.
std::string prefix_header_bytes(const PrefixInfo& info);  // header + JSON + padding up to data_offset
void write_prefix_file(const std::string& path, const PrefixInfo& info, std::span<const float> rows_data);
void write_prefix_stdout(const PrefixInfo& info, std::span<const float> rows_data);
void write_prefix_shm(const std::string& name, const PrefixInfo& info, std::span<const float> rows_data);
bool remove_prefix_shm(const std::string& name);

// A validated, mapped prefix. Source "shm:NAME" reads shared memory, "-" reads stdin (copied), else a file (mmap).
class Prefix {
 public:
  static Prefix open(const std::string& source);
  const PrefixInfo& info() const { return info_; }
  std::span<const float> rows() const { return rows_; }
  std::span<const float> row(uint64_t r) const { return rows_.subspan(r * info_.row_width, info_.row_width); }
  const std::string& source() const { return source_; }

 private:
  struct Storage;
  std::shared_ptr<Storage> storage_;
  std::string source_;
  PrefixInfo info_;
  std::span<const float> rows_;
};

// Validates a complete prefix image in memory (header, JSON, sizes); throws ck::Error("<source>: ...").
PrefixInfo parse_prefix(std::span<const uint8_t> bytes, const std::string& source);

}  // namespace ck::bridge
