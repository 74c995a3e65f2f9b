// Internal to lib/runtime: the per-concern binding tables that kernel_table.cpp joins (see kernel_table.h for
// how to add a binding).
#pragma once
#include <span>

#include "runtime/kernel_table.h"

namespace ck::runtime::bindings {

std::span<const KernelBinding> data();       // bind_data.cpp
std::span<const KernelBinding> matmul();     // bind_matmul.cpp
std::span<const KernelBinding> attention();  // bind_attention.cpp
std::span<const KernelBinding> fast();       // bind_fast.cpp
std::span<const KernelBinding> moe();        // bind_moe.cpp

// The weight's dtype must be the one the kernel id names (catalogue rows are per dtype).
void expect_dtype(const BoundCall& c, const View& v, DType want, const char* what);

}  // namespace ck::runtime::bindings
