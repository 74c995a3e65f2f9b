// Profile — where an executor run spends its time, per kernel (catalogue id): call count and wall ms.
// Filled by Executor::run when RunOptions::profile is set (a steady_clock read around each call; the calls
// themselves are unchanged). `ck-encode --profile` prints it; --json reports carry it.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace ck::runtime {

struct Profile {
  struct Entry {
    int64_t calls = 0;
    double ms = 0;
  };
  std::map<std::string, Entry> by_kernel;

  void add(const std::string& kernel, double ms);
  double total_ms() const;
  // Rows sorted by time, descending: [{"kernel", "calls", "ms", "share"}].
  nlohmann::ordered_json to_json() const;
  // The same as an aligned text table (one line per kernel), for stderr.
  std::string to_table() const;
};

}  // namespace ck::runtime
