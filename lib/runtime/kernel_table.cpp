// The binding table: the per-concern tables (bindings.h) joined, looked up by catalogue id, and checked
// against the catalogue for the modes a command line may offer.
#include "runtime/kernel_table.h"

#include <array>
#include <string>

#include "core/error.h"
#include "runtime/bindings.h"

namespace ck::runtime {

namespace bindings {

void expect_dtype(const BoundCall& c, const View& v, DType want, const char* what) {
  if (v.dtype != want)
    c.bad(std::string(what) + " is " + dtype_name(v.dtype) + ", the kernel id needs " + dtype_name(want));
}

}  // namespace bindings

namespace {

using Table = std::span<const KernelBinding> (*)();
constexpr std::array<Table, 5> kTables = {bindings::data, bindings::matmul, bindings::attention, bindings::fast,
                                          bindings::moe};

const std::vector<const KernelBinding*>& joined() {
  static const std::vector<const KernelBinding*> all = [] {
    std::vector<const KernelBinding*> v;
    for (Table t : kTables)
      for (const auto& b : t()) {
        for (const auto* x : v)
          if (std::string_view(x->id) == b.id) fail("kernel bindings", std::string("two bindings for ") + b.id);
        v.push_back(&b);
      }
    return v;
  }();
  return all;
}

}  // namespace

const KernelBinding* find_binding(std::string_view id) {
  for (const auto* b : joined())
    if (id == b->id) return b;
  return nullptr;
}

std::vector<const KernelBinding*> all_bindings() { return joined(); }

std::vector<const char*> unbound_kernels(registry::Mode mode) {
  std::vector<const char*> out;
  for (const auto& k : registry::catalogue())
    if ((mode == registry::Mode::Fast || k.mode == registry::Mode::Strict) && !find_binding(k.id)) out.push_back(k.id);
  return out;
}

std::vector<std::string> available_mode_names() {
  std::vector<std::string> v;
  for (auto m : {registry::Mode::Strict, registry::Mode::Fast})
    if (mode_available(m)) v.push_back(registry::mode_name(m));
  return v;
}

}  // namespace ck::runtime
