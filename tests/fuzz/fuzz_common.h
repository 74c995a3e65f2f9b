// Shared pieces of the libFuzzer targets (tests/fuzz/README.md): the error policy, in-memory files for the
// readers that take a path, and the structure-aware JSON mutator.
//
// Error policy: a reader may reject any input, but only the way ck's tools expect -- by throwing ck::Error
// (one line, exit 2). Any other escape is a finding: a crash or sanitizer report (libFuzzer stops), or an
// exception that is not ck::Error (a raw nlohmann/std message without the file name), which guarded() turns
// into abort() so libFuzzer records the input.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "core/error.h"

namespace ck::fuzz {

template <class F>
void guarded(F&& f) {
  try {
    f();
  } catch (const ck::Error&) {
    // the expected rejection
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ck-fuzz: an exception that is not ck::Error escaped: %s\n", e.what());
    std::abort();
  }
}

// Keeps a value computed from the bytes a reader handed out (so the reads are not optimised away).
template <class T>
inline void keep(const T& v) {
  asm volatile("" : : "g"(&v) : "memory");
}

// A file whose content is replaced on every iteration: an anonymous memfd, named by /proc/self/fd/N, so readers
// that mmap a path see exactly `size` bytes (no disk, no stale tail).
class MemFile {
 public:
  explicit MemFile(const char* name);
  ~MemFile();
  const std::string& set(const uint8_t* data, size_t size);  // returns the path
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

// Directory for targets whose reader takes a directory (call.json next to its bump); removed at exit.
std::string scratch_dir(const char* name);

// The source tree (CK_SOURCE_DIR, compiled in) -- templates/ and fixtures/ used by some targets at start-up.
const char* source_dir();

}  // namespace ck::fuzz

// The entry point of a target. With libFuzzer (build-fuzz, CK_FUZZ) it is LLVMFuzzerTestOneInput; in the main
// build (CK_FUZZ_REPLAY, tests/CMakeLists.txt) every target is compiled into one binary, ck_fuzz_replay, which
// runs the committed corpus and the regression inputs through the same code under ctest (and under make asan).
//   CK_FUZZ_TARGET(gguf) { ... return 0; }
using TargetFn = int (*)(const uint8_t*, size_t);
namespace ck::fuzz {
bool register_target(const char* name, TargetFn fn);
}
#ifdef CK_FUZZ_REPLAY
#define CK_FUZZ_TARGET(name)                                                              \
  static int ck_fuzz_target_##name(const uint8_t* data, size_t size);                    \
  [[maybe_unused]] static const bool ck_fuzz_registered_##name =                         \
      ck::fuzz::register_target(#name, ck_fuzz_target_##name);                           \
  static int ck_fuzz_target_##name(const uint8_t* data, size_t size)
#define CK_FUZZ_JSON_MUTATOR
#else
#define CK_FUZZ_TARGET(name) extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
// A target's structure-aware mutator (the JSON artifacts); nothing in the replay build.
#define CK_FUZZ_JSON_MUTATOR                                                                              \
  extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) { \
    return ck_fuzz_json_mutate(data, size, max_size, seed);                                                 \
  }
#endif

// Structure-aware mutation for the JSON artifacts: a target that writes CK_FUZZ_JSON_MUTATOR gets an
// LLVMFuzzerCustomMutator that parses the input, changes one node of the document (a number
// to an edge value, a type swapped, a key or element dropped or duplicated, a string's bytes mutated) and
// writes it back; inputs that do not parse are mutated as bytes.
size_t ck_fuzz_json_mutate(uint8_t* data, size_t size, size_t max_size, unsigned int seed);
