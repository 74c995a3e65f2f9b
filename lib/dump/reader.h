// DumpReader — opens a ck.dump v1 directory (docs/formats/dump.md §8). The constructor validates index.json
// (format, version, every record field, limits, uniqueness, order, file names) and that each data file exists;
// read() decompresses one record and checks it yields exactly nbytes. Errors: ck::Error, one line naming
// the offending file.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dump/format.h"

namespace ck {

class DumpReader {
 public:
  explicit DumpReader(std::string dir);

  const std::string& dir() const { return dir_; }
  const std::string& producer() const { return producer_; }
  const std::vector<DumpRecord>& records() const { return records_; }  // ascending order
  const DumpRecord* find(std::string_view phase, std::string_view name) const;

  std::string path_of(const DumpRecord& r) const { return dir_ + "/" + r.file; }
  // The raw little-endian bytes of a record (exactly r.nbytes).
  std::vector<uint8_t> read(const DumpRecord& r) const;
  // f32 and f16 (exactly converted, ck::fp16_to_fp32) as f32; i32 is an error here.
  std::vector<float> read_f32(const DumpRecord& r) const;

 private:
  std::string dir_, producer_;
  std::vector<DumpRecord> records_;
  std::map<std::pair<std::string, std::string>, size_t> by_key_;
};

// Decompresses a whole zstd file that must yield exactly `nbytes` bytes (used by the reader; exposed for tests).
std::vector<uint8_t> zstd_read_exact(const std::string& path, uint64_t nbytes);
void zstd_read_exact_into(const std::string& path, void* dst, uint64_t nbytes);

}  // namespace ck
