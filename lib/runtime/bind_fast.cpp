// Bindings of the `.fast` kernels (catalogue rows with mode fast; DESIGN §5). Owned by the fast-kernels work;
// see kernel_table.h for how to add one. `--mode fast` is offered by ck-lower / ck-bridge only once every
// fast catalogue row has its binding here (runtime::mode_available), so adding the last row makes it
// available with no CLI change. A row looks like
//   {"mul_mat.f16.f32.fast", mul_mat_f16_fast, "K-blocked F16 GEMM"},
// with mul_mat_f16_fast(const BoundCall&, ExecContext&) defined above the table in this file.
#include "runtime/bindings.h"

namespace ck::runtime::bindings {

std::span<const KernelBinding> fast() { return {}; }  // no fast kernel is bound yet

}  // namespace ck::runtime::bindings
