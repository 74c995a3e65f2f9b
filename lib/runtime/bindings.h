// Internal to lib/runtime: the per-concern binding tables that kernel_table.cpp joins (see kernel_table.h for
// how to add a binding).
#pragma once
#include <memory>
#include <span>

#include "kernels/flash_attn.h"
#include "runtime/kernel_table.h"
#include "runtime/program.h"
#include "runtime/weight_packs.h"

namespace ck::runtime::bindings {

std::span<const KernelBinding> data();       // bind_data.cpp
std::span<const KernelBinding> matmul();     // bind_matmul.cpp
std::span<const KernelBinding> attention();  // bind_attention.cpp
std::span<const KernelBinding> fast();       // bind_fast.cpp
std::span<const KernelBinding> moe();        // bind_moe.cpp

// Fast mode's weights converted once, when an Executor is built (bind_fast.cpp); nullptr when nothing applies
// (strict plans, no AVX512-BF16).
std::unique_ptr<WeightPacks> pack_fast_weights(const Program& p, ThreadPool& pool);

// The weight's dtype must be the one the kernel id names (catalogue rows are per dtype).
void expect_dtype(const BoundCall& c, const View& v, DType want, const char* what);

// flash_attn_ext's inputs checked and described (bind_attention.cpp; shared by the strict and fast bindings):
// the kernel shape, and the F16 mask rows (nullptr for the encoder's unmasked attention).
kernels::FlashAttnShape flash_attn_args(const BoundCall& c, const uint16_t*& mask);

}  // namespace ck::runtime::bindings
