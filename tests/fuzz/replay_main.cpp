// ck_fuzz_replay TARGET [--if-exists] PATH...: runs every file (a directory: every file in it, sorted)
// through the fuzz target TARGET, compiled with GCC into the main build (CK_FUZZ_REPLAY, fuzz_common.h).
// ctest replays the committed seed corpus and the regression inputs of every crash the fuzzers found
// (tests/fuzz/regressions), so a fixed reader bug that comes back fails `make test` (and `make asan`, with
// the sanitizers).
// --if-exists: the next path may be missing (a target without regression inputs yet).
// Exit: 0 every input handled; a finding aborts (guarded(), __builtin_trap) with the input named on stderr.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "fuzz_common.h"

namespace {

std::map<std::string, TargetFn>& targets() {
  static std::map<std::string, TargetFn> t;
  return t;
}

}  // namespace

namespace ck::fuzz {
bool register_target(const char* name, TargetFn fn) {
  targets()[name] = fn;
  return true;
}
}  // namespace ck::fuzz

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc < 3) {
    std::fprintf(stderr, "usage: ck_fuzz_replay TARGET PATH...\n");
    return 2;
  }
  const auto it = targets().find(argv[1]);
  if (it == targets().end()) {
    std::fprintf(stderr, "ck_fuzz_replay: no target '%s'\n", argv[1]);
    return 2;
  }
  std::vector<std::string> files;
  for (int i = 2; i < argc; ++i) {
    std::error_code ec;
    if (std::string(argv[i]) == "--if-exists") {
      if (++i == argc) break;
      if (!fs::exists(argv[i], ec)) continue;
    }
    if (fs::is_directory(argv[i], ec)) {
      std::vector<std::string> in;
      for (const auto& e : fs::directory_iterator(argv[i]))
        if (e.is_regular_file()) in.push_back(e.path().string());
      std::sort(in.begin(), in.end());
      files.insert(files.end(), in.begin(), in.end());
    } else if (fs::is_regular_file(argv[i], ec)) {
      files.emplace_back(argv[i]);
    } else {
      std::fprintf(stderr, "ck_fuzz_replay: %s: no such file or directory\n", argv[i]);
      return 2;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "ck_fuzz_replay: no inputs\n");
    return 2;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "%s: %s (%zu bytes)\n", argv[1], f.c_str(), bytes.size());
    it->second(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("ck_fuzz_replay %s: %zu inputs, no finding\n", argv[1], files.size());
  return 0;
}
