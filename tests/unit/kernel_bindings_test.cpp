// The kernel catalogue (lib/registry) and the runtime's binding tables (lib/runtime/bind_*.cpp) reconciled:
// every binding is a catalogue row, every row of a mode the build offers has a binding, and a mode is offered
// exactly when every kernel it can select is bound (so `--mode fast` appears once the fast kernels are bound).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "registry/catalogue.h"
#include "runtime/kernel_table.h"

using ck::registry::Mode;

TEST(KernelBindings, EveryBindingIsACatalogueRowOfItsOp) {
  std::set<std::string> seen;
  for (const auto* b : ck::runtime::all_bindings()) {
    EXPECT_TRUE(seen.insert(b->id).second) << "two bindings for " << b->id;
    EXPECT_NE(b->fn, nullptr) << b->id;
    EXPECT_NE(ck::registry::find_kernel_id(b->id), nullptr) << b->id << " is bound but not in the catalogue";
  }
}

TEST(KernelBindings, EveryStrictRowIsBound) {
  for (const auto& k : ck::registry::catalogue())
    if (k.mode == Mode::Strict) {
      EXPECT_NE(ck::runtime::find_binding(k.id), nullptr) << k.id << " has no binding";
    }
  EXPECT_TRUE(ck::runtime::mode_available(Mode::Strict));
}

TEST(KernelBindings, AModeIsOfferedExactlyWhenEveryKernelItCanSelectIsBound) {
  for (Mode m : {Mode::Strict, Mode::Fast}) {
    bool all = true;
    for (const auto& k : ck::registry::catalogue())
      if ((m == Mode::Fast || k.mode == Mode::Strict) && !ck::runtime::find_binding(k.id)) all = false;
    EXPECT_EQ(ck::runtime::mode_available(m), all) << ck::registry::mode_name(m);
    const auto names = ck::runtime::available_mode_names();
    EXPECT_EQ(std::count(names.begin(), names.end(), ck::registry::mode_name(m)), all ? 1 : 0);
    // the offered modes' rows are all bound: the catalogue and the bindings agree both ways for them
    if (all) {
      for (const auto& k : ck::registry::catalogue()) {
        if (m == Mode::Fast || k.mode == Mode::Strict) {
          EXPECT_NE(ck::runtime::find_binding(k.id), nullptr) << k.id;
        }
      }
    }
  }
  // every fast row is bound (lib/runtime/bind_fast.cpp): fast is offered
  EXPECT_TRUE(ck::runtime::unbound_kernels(Mode::Fast).empty());
  EXPECT_TRUE(ck::runtime::mode_available(Mode::Fast));
}
