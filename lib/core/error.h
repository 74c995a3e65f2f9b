// ck::Error — the one exception type of ck. Its message is a complete, single-line description
// (file, offset, tensor name, problem); CLIs print it as "<tool>: error: <message>" and exit 2.
#pragma once
#include <stdexcept>
#include <string>

namespace ck {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throw ck::Error("<path>: <what>"). Keeps the "file: problem" shape of every message uniform.
[[noreturn]] void fail(const std::string& path, const std::string& what);

// Exit codes shared by every tool: 0 ok, 1 "checked and found different" (ck-diff, --check), 2 bad input.
inline constexpr int kExitOk = 0;
inline constexpr int kExitMismatch = 1;
inline constexpr int kExitBadInput = 2;

// Runs a CLI body; ck::Error and std::exception become one line on stderr and exit code 2.
int run_tool(const char* tool, int (*body)(int, char**), int argc, char** argv);

}  // namespace ck
