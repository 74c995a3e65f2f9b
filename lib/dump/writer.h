// DumpWriter — writes a ck.dump v1 directory (docs/formats/dump.md). Everything goes into "DIR.tmp.<pid>";
// index.json is written last and commit() renames the directory to DIR, so DIR is either absent, the previous
// dump, or complete. Destroyed without commit(), the temporary directory is removed.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dump/format.h"

namespace ck {

struct DumpWriterOptions {
  bool overwrite = false;  // replace an existing DIR if it is a dump (has index.json) or empty
  int zstd_level = 3;
};

class DumpWriter {
 public:
  DumpWriter(std::string dir, std::string producer, DumpWriterOptions options = {});
  ~DumpWriter();
  DumpWriter(const DumpWriter&) = delete;
  DumpWriter& operator=(const DumpWriter&) = delete;

  // Phase of the records added from now on ("encode", "prefill", "gen0", ...). Required before add().
  void set_phase(std::string phase);
  const std::string& phase() const { return phase_; }

  // Appends one record. `name` is the callback name as ggml/ck gives it; a repeat within the phase gets
  // "__k" appended here. `ne` is ggml order (fastest first, 1..4 dims); `data` holds nbytes raw bytes in
  // logical order. Returns the stored record (its final name, file, order).
  const DumpRecord& add(std::string_view name, DumpDType dtype, std::span<const int64_t> ne, const void* data,
                        size_t nbytes);

  void commit();  // writes index.json, renames DIR.tmp.<pid> to DIR
  const std::vector<DumpRecord>& records() const { return records_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_, tmp_, producer_, phase_;
  DumpWriterOptions options_;
  std::vector<DumpRecord> records_;
  std::map<std::pair<std::string, std::string>, int> seen_;  // (phase, callback name) -> occurrences
  int64_t next_order_ = 0;
  bool committed_ = false;
};

}  // namespace ck
