// Bindings of the mixture-of-experts kernels (mul_mat_id and friends). Owned by the MoE work; see
// kernel_table.h for how to add one: define the wrapper here and list it in a table
//   const KernelBinding kTable[] = {{"mul_mat_id.q8_0.f32.strict", mul_mat_id_q8_0, "..."}, ...};
// returned by moe() below.
#include "runtime/bindings.h"

namespace ck::runtime::bindings {

std::span<const KernelBinding> moe() { return {}; }  // no MoE kernel is bound yet

}  // namespace ck::runtime::bindings
