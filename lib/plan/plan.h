// ck-layout's library: liveness over call order + packing into one 64-B aligned arena, then call.json.
// Specs: docs/formats/layout.md, docs/formats/call.md.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "graph/ir1.h"

namespace ck::plan {

struct Options {
  // Worst-case overrides: key = a symbol's "option" (e.g. "ctx_size", "max_image_tokens") or a symbol name.
  std::map<std::string, int64_t> bounds;
  // How call.json refers to the weights file (relative to the output directory), decided by the caller.
  std::string weights_file;
  uint64_t alignment = 64;
  bool inplace = true;  // in-place reuse where the catalogue allows it
};

struct Result {
  graph::json layout;
  graph::json call;
  uint64_t arena = 0, peak = 0, naive = 0;
};

// Applies bounds to the symbols of `ir` (derived symbols follow), then plans.
Result plan(graph::Ir1 ir, const Options& opt);

// Symbol bounds after overrides (exposed for tests).
void apply_bounds(graph::Ir1& ir, const std::map<std::string, int64_t>& bounds);

}  // namespace ck::plan
