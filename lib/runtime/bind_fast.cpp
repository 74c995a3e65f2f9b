// Bindings of the `.fast` kernels (catalogue rows with mode fast; DESIGN §5; docs/KERNELS.md "Fast kernels").
// `--mode fast` is offered by ck-lower / ck-bridge only once every fast catalogue row has its binding here
// (runtime::mode_available). Fast results are tolerance-tested, not bit-exact; each kernel's bound is stated in
// its lib/kernels file. Where a fast kernel does not apply (no AVX512-BF16 on this CPU, a 1-row mat-vec, which
// is bandwidth-bound) the binding runs the strict kernel of the same op through its own binding: strict results
// are always acceptable in fast mode. Rows whose catalogue text says "binds the strict kernel" always do.
#include <string>

#include "core/error.h"
#include "kernels/flash_attn_fast.h"
#include "kernels/matmul_fast.h"
#include "runtime/bindings.h"

namespace ck::runtime::bindings {
namespace {

// The strict binding of `id` (same op and dtypes), run on the same call.
void run_strict(const char* id, const BoundCall& c, ExecContext& ex) {
  const KernelBinding* b = find_binding(id);
  if (!b) c.bad(std::string("no strict binding ") + id);
  b->fn(c, ex);
}

// out[j][i] = dot(W row i, activation row j), W [m][k] of the id's dtype, activations [n][k] F32 rows at a
// constant stride, out [n][m] contiguous — as the strict mul_mat bindings check.
template <DType WT, kernels::FastWeight FW>
void mul_mat_bf16dp(const BoundCall& c, ExecContext& ex, const char* strict_id) {
  const View& W = c.weight("w");
  expect_dtype(c, W, WT, "weight");
  if (W.shape.size() != 2) c.bad("weight must be 2-D");
  const View& a = c.in.at(0);
  if (a.dtype != DType::F32) c.bad("activation must be F32");
  if (!a.uniform_rows() || a.row_stride() % 4) c.bad("activation rows must be at a constant stride");
  const int64_t m = W.shape[0], k = W.shape[1], n = a.rows();
  if (a.cols() != k) c.bad("activation width " + std::to_string(a.cols()) + " != weight row " + std::to_string(k));
  if (!c.out.contiguous() || c.out.cols() != m || c.out.rows() != n) c.bad("output is not [n][m]");
  if (n < 2 || !kernels::matmul_fast_bf16_available()) return run_strict(strict_id, c, ex);
  auto* packed = static_cast<uint16_t*>(ex.scratch->get(0, kernels::matmul_fast_bf16_packed_words(n, k) * 2));
  const float* x = a.ptr<const float>();
  const int64_t ldx = a.row_stride() / 4;
  ex.pool->run([&](int ith, int nth) { kernels::matmul_fast_bf16_pack_b(n, k, x, ldx, packed, ith, nth); });
  const void* A = W.data;
  float* out = c.out.ptr<float>();
  ex.pool->run([&](int ith, int nth) { kernels::matmul_fast_bf16(FW, m, n, k, A, k, packed, out, m, ith, nth); });
}

void mul_mat_f32_fast(const BoundCall& c, ExecContext& ex) {
  mul_mat_bf16dp<DType::F32, kernels::FastWeight::f32>(c, ex, "mul_mat.f32.f32.strict");
}
void mul_mat_f16_fast(const BoundCall& c, ExecContext& ex) {
  mul_mat_bf16dp<DType::F16, kernels::FastWeight::f16>(c, ex, "mul_mat.f16.f32.strict");
}
void mul_mat_bf16_fast(const BoundCall& c, ExecContext& ex) {
  mul_mat_bf16dp<DType::BF16, kernels::FastWeight::bf16>(c, ex, "mul_mat.bf16.f32.strict");
}

// Rows that bind the strict kernel (the catalogue says so): no faster exact-enough kernel yet.
void mul_mat_q8_0_fast(const BoundCall& c, ExecContext& ex) { run_strict("mul_mat.q8_0.f32.strict", c, ex); }
void mul_mat_q4_K_fast(const BoundCall& c, ExecContext& ex) { run_strict("mul_mat.q4_K.f32.strict", c, ex); }
void mul_mat_q6_K_fast(const BoundCall& c, ExecContext& ex) { run_strict("mul_mat.q6_K.f32.strict", c, ex); }
// Fused attention for the encoder and prefill (>= kFlashAttnFastMinRows query rows); decode steps run strict.
void flash_attn_fast(const BoundCall& c, ExecContext& ex) {
  const uint16_t* mask = nullptr;
  const kernels::FlashAttnShape s = flash_attn_args(c, mask);
  if (!kernels::flash_attn_fast_applies(s)) return run_strict("flash_attn_ext.f32.strict", c, ex);
  ex.pool->run([&](int ith, int nth) {
    kernels::flash_attn_fast(s, c.in[0].ptr<const float>(), c.in[1].ptr<const uint16_t>(), c.in[2].ptr<const uint16_t>(),
                             mask, c.out.ptr<float>(), ith, nth);
  });
}

const KernelBinding kTable[] = {
    {"mul_mat.f32.f32.fast", mul_mat_f32_fast, "matmul_fast_bf16 (f32 weights -> bf16 per chunk); strict for n = 1"},
    {"mul_mat.f16.f32.fast", mul_mat_f16_fast, "matmul_fast_bf16 (f16 weights -> bf16 per chunk); strict for n = 1"},
    {"mul_mat.bf16.f32.fast", mul_mat_bf16_fast, "matmul_fast_bf16 (bf16 weights); strict for n = 1"},
    {"mul_mat.q8_0.f32.fast", mul_mat_q8_0_fast, "the strict binding (quantize_rows_q8_0 + matmul_q8_0)"},
    {"mul_mat.q4_K.f32.fast", mul_mat_q4_K_fast, "the strict binding (matmul_q4_K_repack / matmul_q4_K)"},
    {"mul_mat.q6_K.f32.fast", mul_mat_q6_K_fast, "the strict binding (matmul_q6_K)"},
    {"flash_attn_ext.f32.fast", flash_attn_fast, "flash_attn_fast (>= 16 query rows); the strict binding for decode steps"},
};

}  // namespace

std::span<const KernelBinding> fast() { return kTable; }

}  // namespace ck::runtime::bindings
