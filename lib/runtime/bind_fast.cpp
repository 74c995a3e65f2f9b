// Bindings of the `.fast` kernels (catalogue rows with mode fast; DESIGN §5; docs/KERNELS.md "Fast kernels").
// `--mode fast` is offered by ck-lower / ck-bridge only once every fast catalogue row has its binding here
// (runtime::mode_available). Fast results are tolerance-tested, not bit-exact; each kernel's bound is stated in
// its lib/kernels file. Where a fast kernel does not apply (no AVX512-BF16 on this CPU, a 1-row mat-vec, which
// is bandwidth-bound) the binding runs the strict kernel of the same op through its own binding: strict results
// are always acceptable in fast mode. Rows whose catalogue text says "binds the strict kernel" always do.
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/flash_attn_fast.h"
#include "kernels/matmul_fast.h"
#include "runtime/bindings.h"
#include "runtime/program.h"
#include "runtime/weight_packs.h"

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
  // The weight converted at load (pack_fast_weights below) when the plan lets this call see n >= 2; same bits.
  if (const uint16_t* pa = ex.packs ? ex.packs->slice(A) : nullptr) {
    ex.pool->run([&](int ith, int nth) { kernels::matmul_fast_bf16_prepacked(m, n, k, pa, packed, out, m, ith, nth); });
    return;
  }
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
    {"mul_mat.f32.f32.fast", mul_mat_f32_fast, "matmul_fast_bf16_prepacked (f32 weights -> bf16 at load); strict for n = 1"},
    {"mul_mat.f16.f32.fast", mul_mat_f16_fast, "matmul_fast_bf16_prepacked (f16 weights -> bf16 at load); strict for n = 1"},
    {"mul_mat.bf16.f32.fast", mul_mat_bf16_fast, "matmul_fast_bf16 (bf16 weights); strict for n = 1"},
    {"mul_mat.q8_0.f32.fast", mul_mat_q8_0_fast, "the strict binding (quantize_rows_q8_0 + matmul_q8_0)"},
    {"mul_mat.q4_K.f32.fast", mul_mat_q4_K_fast, "the strict binding (matmul_q4_K_repack / matmul_q4_K)"},
    {"mul_mat.q6_K.f32.fast", mul_mat_q6_K_fast, "the strict binding (matmul_q6_K)"},
    {"flash_attn_ext.f32.fast", flash_attn_fast, "flash_attn_fast (>= 16 query rows); the strict binding for decode steps"},
};

}  // namespace

std::span<const KernelBinding> fast() { return kTable; }

// F32 / F16 weights of the fast mat-muls, converted to the kernel's packed bf16 once, at load: a prefill ubatch
// (n = a few hundred tokens, often a handful for a prompt's text chunks) then reads bf16 tiles instead of
// converting every weight chunk on every call. A call whose activation rows are 1 at the planned maximum (the
// lm_head with one output row) only ever runs the strict gemv on the bump, so its weight is not packed; BF16
// weights are already bf16 (re-laid out per chunk, a copy; not packed: no second copy in memory).
std::unique_ptr<WeightPacks> pack_fast_weights(const Program& p, ThreadPool& pool) {
  if (!kernels::matmul_fast_bf16_available()) return nullptr;
  struct Job {
    const void* w;
    kernels::FastWeight fw;
    int64_t m, k;
  };
  std::vector<Job> jobs;
  std::set<const void*> seen;
  for (const Call& c : p.calls()) {
    kernels::FastWeight fw;
    if (c.kernel == "mul_mat.f16.f32.fast") fw = kernels::FastWeight::f16;
    else if (c.kernel == "mul_mat.f32.f32.fast") fw = kernels::FastWeight::f32;
    else continue;
    const TensorRef* w = nullptr;
    for (const auto& t : c.weights)
      if (t.arg == "w") w = &t;
    if (!w || w->shape.size() != 2 || !w->strides.empty() || c.ins.empty() || c.ins[0].shape.empty()) continue;
    int64_t rows = 1;  // at the planned maximum (Dim::value)
    for (size_t d = 0; d + 1 < c.ins[0].shape.size(); ++d) rows *= c.ins[0].shape[d].value;
    if (rows < 2) continue;
    const void* data = p.weight_base() + w->byte_offset;
    if (!seen.insert(data).second) continue;
    jobs.push_back({data, fw, w->shape[0].value, w->shape[1].value});
  }
  if (jobs.empty()) return nullptr;
  std::vector<std::pair<const void*, size_t>> sizes;
  for (const auto& j : jobs) sizes.emplace_back(j.w, kernels::matmul_fast_bf16_packed_a_words(j.m, j.k));
  const auto t0 = std::chrono::steady_clock::now();
  auto packs = std::make_unique<WeightPacks>(sizes);
  for (const auto& j : jobs) {
    uint16_t* d = packs->slice(j.w);
    pool.run([&](int ith, int nth) { kernels::matmul_fast_bf16_pack_a(j.fw, j.m, j.k, j.w, j.k, d, ith, nth); });
  }
  packs->pack_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return packs;
}

}  // namespace ck::runtime::bindings
