// The kernel catalogue: every kernel id ck-lower may choose, as data. One row = one kernel:
// which graph op it implements, for which weight dtype and activation (input 0) dtype, in which numerics mode,
// what dtype it writes, whether its output may alias input 0 (in-place), and which upstream ggml function it
// mirrors bit for bit (strict) or replaces (fast). Kernel code lives in lib/kernels/, keyed by these ids —
// ids are stable: add rows, never rename.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ck::registry {

enum class Mode { Strict, Fast };
const char* mode_name(Mode m);
std::optional<Mode> mode_from_name(std::string_view s);

struct KernelInfo {
  const char* id;          // e.g. "mul_mat.q8_0.f32.strict"
  const char* op;          // graph op (template "op")
  const char* weight;      // weight dtype ("f32", "f16", "q8_0", ...) or "none" for ops without a weight
  const char* act;         // dtype of activation input 0
  const char* out;         // dtype written, or "same" (= input 0's dtype)
  Mode mode;
  bool inplace_safe;       // output may share input 0's memory (element i read before element i written)
  const char* mirrors;     // upstream function reproduced (strict) / replaced (fast)
};

// All rows, in a fixed order.
std::span<const KernelInfo> catalogue();

// Looks up the kernel for (op, weight dtype, activation dtype, mode). In fast mode a fast kernel is preferred
// and the strict one is used when no fast kernel exists (strict results are always acceptable in fast mode).
const KernelInfo* find_kernel(std::string_view op, std::string_view weight, std::string_view act, Mode mode);
const KernelInfo* find_kernel_id(std::string_view id);
bool has_op(std::string_view op);

// The catalogue as JSON (ck-lower --list-kernels): {"format":"ck.kernels","version":1,"kernels":[...]}.
nlohmann::ordered_json catalogue_json();

}  // namespace ck::registry
