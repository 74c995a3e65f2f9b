#include "core/error.h"

#include <cstdio>
#include <new>

namespace ck {

void fail(const std::string& path, const std::string& what) { throw Error(path + ": " + what); }

int run_tool(const char* tool, int (*body)(int, char**), int argc, char** argv) {
  try {
    return body(argc, argv);
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: error: %s\n", tool, e.what());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%s: error: out of memory\n", tool);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", tool, e.what());
  }
  return kExitBadInput;
}

}  // namespace ck
