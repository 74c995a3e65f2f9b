// The kernel binding table: catalogue id (lib/registry) -> C++ function with one uniform signature
// (bound_call.h). Every catalogue row has exactly one binding and every binding a row
// (tests/unit/kernel_bindings_test.cpp checks both ways); a numerics mode is offered on a command line only
// when this build binds every kernel that mode can select (mode_available below).
//
// How to add a binding (one file, one place):
//   * The bindings are grouped by concern, one table per file:
//       bind_data.cpp       data movement, element-wise, norms, get_rows / set_rows (and layout_ops.h's ops)
//       bind_matmul.cpp     strict weight mat-muls and conv2d_mm: one function per kernel id
//       bind_attention.cpp  rope_multi, flash_attn_ext (one FlashAttnShape builder)
//       bind_fast.cpp       the `.fast` kernels (owned by the fast-kernels work)
//       bind_moe.cpp        mul_mat_id and the other MoE kernels (owned by the MoE work)
//   * Write the wrapper (validate the Views with c.bad(...), then ex.pool->run the lib/kernels function) in
//     the file of its concern and add one row {"<catalogue id>", fn, "what it runs"} to that file's table.
//     The id must be a catalogue row (lib/registry/catalogue.cpp) — the unit test fails otherwise — and a
//     binding runs exactly one id's arithmetic: no switch on the weight dtype inside (c.weight("w").dtype is
//     what the id says; check it with expect_dtype).
//   * A new concern gets a new bind_*.cpp with its table function declared in bindings.h and listed once in
//     kernel_table.cpp's kTables (and the file in lib/runtime/CMakeLists.txt).
#pragma once
#include <string_view>
#include <vector>

#include "registry/catalogue.h"
#include "runtime/bound_call.h"

namespace ck::runtime {

using KernelFn = void (*)(const BoundCall& c, ExecContext& ex);

struct KernelBinding {
  const char* id;  // catalogue id
  KernelFn fn;
  const char* impl;  // which ck function(s) it runs (doc)
};

// The binding for a catalogue id, or nullptr if this build has none (the call cannot run).
const KernelBinding* find_binding(std::string_view id);
std::vector<const KernelBinding*> all_bindings();

// The catalogue ids that `mode` can select for which this build has no binding (empty: the mode can run
// whatever it lowers). In fast mode every fast row and every strict row can be chosen (strict is the fallback).
std::vector<const char*> unbound_kernels(registry::Mode mode);
inline bool mode_available(registry::Mode mode) { return unbound_kernels(mode).empty(); }
// The modes this build can run, in order ("strict", then "fast" once every fast kernel is bound): what
// ck-lower / ck-bridge offer for --mode.
std::vector<std::string> available_mode_names();

}  // namespace ck::runtime
