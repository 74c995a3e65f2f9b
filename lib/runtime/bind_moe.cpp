// Bindings of the mixture-of-experts kernels (see kernel_table.h for how to add one): mul_mat_id per weight type,
// the gate softmax, the top-k expert selection, the expert weights and their weighted sum.
//
// mul_mat_id mirrors ggml_compute_forward_mul_mat_id (ggml-cpu.c, b10256) and, for the types ggml repacks on
// AVX2 x86 (Q4_K with ne[1] % 8 == 0), the CPU_REPACK forward_mul_mat_id (repack.cpp): src1 rows converted to the
// weight's vec_dot_type, rows grouped by expert in ggml's order, and each output one vec_dot (resp. one gemv row)
// of expert row i and the converted activation row (token t, slot j % ne11). ggml's chunking and thread split only
// decide which thread computes an output, never its value, so ck groups an expert's rows contiguously (gather),
// runs the per-type mat-mul kernel of lib/kernels over them and scatters the results.
//   in0 = x [T][K] F32 (ggml's ne11 = 1: every slot reads the token's row) or [T][n_used][K] (slot j reads row j)
//   in1 = ids [T][n_used] I32, w = experts [E][M][K], out = [T][n_used][M] F32
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/convert_bf16.h"
#include "kernels/convert_fp16.h"
#include "kernels/dot_f16.h"
#include "kernels/dot_f32.h"
#include "kernels/dot_kquants.h"
#include "kernels/dot_q8_0.h"
#include "kernels/matmul_q4_K_repack.h"
#include "kernels/moe.h"
#include "kernels/quantize_q8_0.h"
#include "kernels/quantize_q8_K.h"
#include "kernels/softmax.h"
#include "runtime/bindings.h"

namespace ck::runtime::bindings {
namespace {

struct IdArgs {
  const View& W;
  const View& x;
  const View& ids;
  int64_t E, M, K, T, ne11, n_used;
};

IdArgs id_args(const BoundCall& c, DType wtype) {
  const View& W = c.weight("w");
  expect_dtype(c, W, wtype, "experts");
  if (W.shape.size() != 3) c.bad("experts must be 3-D [n_expert][rows][cols]");
  if (c.in.size() != 2) c.bad("mul_mat_id needs the activations and the expert ids");
  const View& x = c.in[0];
  const View& ids = c.in[1];
  if (x.dtype != DType::F32 || (x.shape.size() != 2 && x.shape.size() != 3) || !x.uniform_rows() || x.row_stride() % 4)
    c.bad("activations must be F32 [tokens][cols] or [tokens][n_used][cols] rows at a constant stride");
  if (ids.dtype != DType::I32 || ids.shape.size() != 2 || !ids.contiguous()) c.bad("expert ids must be contiguous I32 [tokens][n_used]");
  const int64_t E = W.shape[0], M = W.shape[1], K = W.shape[2];
  const int64_t T = x.shape[0], ne11 = x.shape.size() == 3 ? x.shape[1] : 1, n_used = ids.shape[1];
  if (x.cols() != K) c.bad("activation width " + std::to_string(x.cols()) + " != expert row " + std::to_string(K));
  if (ids.shape[0] != T) c.bad("expert ids and activations differ in token count");
  if (ne11 != 1 && ne11 != n_used) c.bad("activations must have 1 or n_used rows per token");
  if (W.strides[1] != W.strides[0] / M || W.strides[0] % M) c.bad("expert rows must be contiguous");
  if (c.out.dtype != DType::F32 || !c.out.contiguous() || c.out.shape.size() != 3 || c.out.shape[0] != T ||
      c.out.shape[1] != n_used || c.out.shape[2] != M)
    c.bad("output is not F32 [tokens][n_used][rows]");
  return {W, x, ids, E, M, K, T, ne11, n_used};
}

// One expert's rows: C[j*M + i] = dot(expert row i, B row j) for j < n. B / C are the gathered rows.
template <class WB, class XB>
using ExpertMatMul = void (*)(int64_t m, int64_t n, int64_t k, const WB* A, int64_t lda, const XB* B, int64_t ldb,
                              float* C, int64_t ldc, int ith, int nth);

// Converts src1 with `convert` (rows of `xrow` blocks of XB), routes, gathers, computes, scatters.
template <class WB, class XB, class Convert>
void run_mul_mat_id(const BoundCall& c, ExecContext& ex, const IdArgs& a, int64_t wrow, int64_t xrow, Convert convert,
                    ExpertMatMul<WB, XB> mm) {
  const int64_t nx = a.T * a.ne11;
  auto* xq = static_cast<XB*>(ex.scratch->get(0, size_t(nx * xrow) * sizeof(XB)));
  ex.pool->run([&](int ith, int nth) { convert(a.x.template ptr<const float>(), a.x.row_stride() / 4, xq, xrow, a.K, nx, ith, nth); });

  kernels::MoeRoute r;
  const int64_t bad = kernels::moe_route(a.ids.ptr<const int32_t>(), a.n_used, a.n_used, a.T, a.E, r);
  if (bad >= 0)
    c.bad("expert id " + std::to_string(a.ids.ptr<const int32_t>()[bad]) + " out of range (" + std::to_string(a.E) + " experts)");
  const int64_t R = a.T * a.n_used;
  auto* xs = static_cast<XB*>(ex.scratch->get(1, size_t(R * xrow) * sizeof(XB)));
  auto* cs = static_cast<float*>(ex.scratch->get(2, size_t(R * a.M) * sizeof(float)));
  for (int64_t q = 0; q < R; ++q) {
    const int64_t src = int64_t(r.token[size_t(q)]) * a.ne11 + (a.ne11 == 1 ? 0 : r.slot[size_t(q)]);  // i11 = id % ne11
    std::memcpy(xs + q * xrow, xq + src * xrow, size_t(xrow) * sizeof(XB));
  }
  const auto* W0 = a.W.data;
  const int64_t wstride = a.W.strides[0];
  ex.pool->run([&](int ith, int nth) {
    for (int64_t e = 0; e < a.E; ++e) {
      const int64_t b = r.begin[size_t(e)], n = r.begin[size_t(e + 1)] - b;
      if (n == 0) continue;  // an expert no token chose: skipped, as ggml does
      mm(a.M, n, a.K, reinterpret_cast<const WB*>(W0 + e * wstride), wrow, xs + b * xrow, xrow, cs + b * a.M, a.M, ith, nth);
    }
  });
  float* out = c.out.ptr<float>();
  ex.pool->run([&](int ith, int nth) {
    for (int64_t q = ith; q < R; q += nth)
      std::memcpy(out + (int64_t(r.token[size_t(q)]) * a.n_used + r.slot[size_t(q)]) * a.M, cs + q * a.M,
                  size_t(a.M) * sizeof(float));
  });
}

// src1 conversions as the vec_dot_type's from_float (ggml_cpu_fp32_to_fp16 / _bf16, quantize_row_q8_0 / _q8_K).
void conv_f16(const float* x, int64_t xs, uint16_t* y, int64_t ys, int64_t k, int64_t n, int ith, int nth) {
  kernels::fp32_to_fp16_rows(x, xs, y, ys, k, n, ith, nth);
}
void conv_bf16(const float* x, int64_t xs, uint16_t* y, int64_t ys, int64_t k, int64_t n, int ith, int nth) {
  kernels::fp32_to_bf16_rows(x, xs, y, ys, k, n, ith, nth);
}
void conv_q8_0(const float* x, int64_t xs, kernels::BlockQ8_0* y, int64_t ys, int64_t k, int64_t n, int ith, int nth) {
  kernels::quantize_rows_q8_0(x, xs, y, ys, k, n, ith, nth);
}
void conv_q8_K(const float* x, int64_t xs, kernels::BlockQ8_K* y, int64_t ys, int64_t k, int64_t n, int ith, int nth) {
  kernels::quantize_rows_q8_K(x, xs, y, ys, k, n, ith, nth);
}

void need_blocks(const BoundCall& c, int64_t K, int64_t blk) {
  if (K % blk) c.bad("expert row length " + std::to_string(K) + " must be a multiple of " + std::to_string(blk));
}

void mul_mat_id_f16(const BoundCall& c, ExecContext& ex) {
  const IdArgs a = id_args(c, DType::F16);
  run_mul_mat_id<uint16_t, uint16_t>(c, ex, a, a.K, a.K, conv_f16, kernels::matmul_vecdot_f16);
}

void mul_mat_id_bf16(const BoundCall& c, ExecContext& ex) {
  const IdArgs a = id_args(c, DType::BF16);
  run_mul_mat_id<uint16_t, uint16_t>(c, ex, a, a.K, a.K, conv_bf16, kernels::matmul_vecdot_bf16);
}

void mul_mat_id_q8_0(const BoundCall& c, ExecContext& ex) {
  const IdArgs a = id_args(c, DType::Q8_0);
  need_blocks(c, a.K, kernels::QK8_0);
  const int64_t kb = a.K / kernels::QK8_0;
  run_mul_mat_id<kernels::BlockQ8_0, kernels::BlockQ8_0>(c, ex, a, kb, kb, conv_q8_0, kernels::matmul_q8_0);
}

// CPU_REPACK's forward_mul_mat_id calls ggml_gemv_q4_K_8x8_q8_K once per routed row (never the gemm, whatever
// the row count): matmul_q4_K_repack with n = 1 is exactly that gemv.
void gemv_rows_q4_K(int64_t m, int64_t n, int64_t k, const kernels::BlockQ4_K* A, int64_t lda, const kernels::BlockQ8_K* B,
                    int64_t ldb, float* C, int64_t ldc, int ith, int nth) {
  for (int64_t j = 0; j < n; ++j) kernels::matmul_q4_K_repack(m, 1, k, A, lda, B + j * ldb, ldb, C + j * ldc, ldc, ith, nth);
}

void mul_mat_id_q4_K(const BoundCall& c, ExecContext& ex) {
  const IdArgs a = id_args(c, DType::Q4_K);
  need_blocks(c, a.K, kernels::QK_K);
  const int64_t kb = a.K / kernels::QK_K;
  // ggml_repack_get_optimal_repack_type (AVX2): Q4_K experts with ne[1] % 8 == 0 sit in CPU_REPACK.
  if (a.M % 8 == 0) run_mul_mat_id<kernels::BlockQ4_K, kernels::BlockQ8_K>(c, ex, a, kb, kb, conv_q8_K, gemv_rows_q4_K);
  else run_mul_mat_id<kernels::BlockQ4_K, kernels::BlockQ8_K>(c, ex, a, kb, kb, conv_q8_K, kernels::matmul_q4_K);
}

void mul_mat_id_q5_K(const BoundCall& c, ExecContext& ex) {
  const IdArgs a = id_args(c, DType::Q5_K);
  need_blocks(c, a.K, kernels::QK_K);
  const int64_t kb = a.K / kernels::QK_K;
  run_mul_mat_id<kernels::BlockQ5_K, kernels::BlockQ8_K>(c, ex, a, kb, kb, conv_q8_K, kernels::matmul_q5_K);
}

void mul_mat_id_q6_K(const BoundCall& c, ExecContext& ex) {
  const IdArgs a = id_args(c, DType::Q6_K);
  need_blocks(c, a.K, kernels::QK_K);
  const int64_t kb = a.K / kernels::QK_K;
  run_mul_mat_id<kernels::BlockQ6_K, kernels::BlockQ8_K>(c, ex, a, kb, kb, conv_q8_K, kernels::matmul_q6_K);
}

// ggml_soft_max(logits): scale 1, no mask, rows split as ggml (r = ith, ith + nth, ...).
void soft_max(const BoundCall& c, ExecContext& ex) {
  const View& a = c.in.at(0);
  if (a.dtype != DType::F32 || !a.uniform_rows() || !c.out.uniform_rows() || c.out.cols() != a.cols() ||
      c.out.rows() != a.rows())
    c.bad("soft_max needs F32 rows of equal shape");
  ex.pool->run([&](int ith, int nth) {
    kernels::soft_max_rows(a.ptr<const float>(), a.row_stride() / 4, c.out.ptr<float>(), c.out.row_stride() / 4, a.cols(),
                           a.rows(), 1.0f, nullptr, nullptr, 0, 1, ith, nth);
  });
}

// ggml_argsort_top_k: k = the output's width.
void argsort_top_k(const BoundCall& c, ExecContext& ex) {
  const View& a = c.in.at(0);
  if (a.dtype != DType::F32 || !a.uniform_rows()) c.bad("argsort_top_k needs F32 rows");
  if (c.out.dtype != DType::I32 || !c.out.uniform_rows() || c.out.rows() != a.rows() || c.out.cols() > a.cols())
    c.bad("output is not I32 [rows][k <= n]");
  const int64_t n = a.cols();
  auto* work = static_cast<int32_t*>(ex.scratch->get(3, size_t(ex.pool->size()) * size_t(n) * 4));
  ex.pool->run([&](int ith, int nth) {
    kernels::argsort_top_k_rows(a.ptr<const float>(), a.row_stride() / 4, c.out.ptr<int32_t>(), c.out.row_stride() / 4, n,
                                c.out.cols(), a.rows(), work, ith, nth);
  });
}

// in0 = probs [T][E], in1 = selected [T][k] I32 -> weights [T][k]; params norm (bool), clamp_min.
void moe_weights(const BoundCall& c, ExecContext& ex) {
  const View& p = c.in.at(0);
  const View& s = c.in.at(1);
  if (p.dtype != DType::F32 || !p.uniform_rows()) c.bad("probabilities must be F32 rows");
  if (s.dtype != DType::I32 || !s.uniform_rows() || s.rows() != p.rows()) c.bad("selection must be I32 [rows][k]");
  if (c.out.dtype != DType::F32 || !c.out.uniform_rows() || c.out.rows() != s.rows() || c.out.cols() != s.cols())
    c.bad("output is not F32 [rows][k]");
  const int64_t E = p.cols();
  for (int64_t r = 0; r < s.rows(); ++r)
    for (int64_t j = 0; j < s.cols(); ++j) {
      const int32_t e = s.row<const int32_t>(r)[j];
      if (e < 0 || e >= E) c.bad("expert id " + std::to_string(e) + " out of range (" + std::to_string(E) + " experts)");
    }
  const bool norm = c.param_f("norm") != 0.0;
  const float clamp_min = float(c.param_f("clamp_min"));
  ex.pool->run([&](int ith, int nth) {
    kernels::moe_weights_rows(p.ptr<const float>(), p.row_stride() / 4, s.ptr<const int32_t>(), s.row_stride() / 4,
                              c.out.ptr<float>(), c.out.row_stride() / 4, s.cols(), s.rows(), norm, clamp_min, ith, nth);
  });
}

// in0 = experts [T][k][n], in1 = weights [T][k] -> [T][n].
void moe_sum(const BoundCall& c, ExecContext& ex) {
  const View& e = c.in.at(0);
  const View& w = c.in.at(1);
  if (e.dtype != DType::F32 || e.shape.size() != 3 || !e.contiguous()) c.bad("experts must be contiguous F32 [tokens][k][n]");
  if (w.dtype != DType::F32 || !w.uniform_rows() || w.rows() != e.shape[0] || w.cols() != e.shape[1])
    c.bad("weights must be F32 [tokens][k]");
  if (c.out.dtype != DType::F32 || !c.out.uniform_rows() || c.out.rows() != e.shape[0] || c.out.cols() != e.shape[2])
    c.bad("output is not F32 [tokens][n]");
  const int64_t k = e.shape[1], n = e.shape[2];
  ex.pool->run([&](int ith, int nth) {
    kernels::moe_weighted_sum_rows(e.ptr<const float>(), k * n, n, w.ptr<const float>(), w.row_stride() / 4,
                                   c.out.ptr<float>(), c.out.row_stride() / 4, n, k, e.shape[0], ith, nth);
  });
}

const KernelBinding kTable[] = {
    {"mul_mat_id.f16.f32.strict", mul_mat_id_f16, "fp32_to_fp16_rows + moe_route + matmul_vecdot_f16 per expert"},
    {"mul_mat_id.bf16.f32.strict", mul_mat_id_bf16, "fp32_to_bf16_rows + moe_route + matmul_vecdot_bf16 per expert"},
    {"mul_mat_id.q8_0.f32.strict", mul_mat_id_q8_0, "quantize_rows_q8_0 + moe_route + matmul_q8_0 per expert"},
    {"mul_mat_id.q4_K.f32.strict", mul_mat_id_q4_K,
     "quantize_rows_q8_K + moe_route + matmul_q4_K_repack (n = 1 per row: gemv; ne[1] % 8 == 0) / matmul_q4_K"},
    {"mul_mat_id.q5_K.f32.strict", mul_mat_id_q5_K, "quantize_rows_q8_K + moe_route + matmul_q5_K per expert"},
    {"mul_mat_id.q6_K.f32.strict", mul_mat_id_q6_K, "quantize_rows_q8_K + moe_route + matmul_q6_K per expert"},
    {"soft_max.f32.strict", soft_max, "soft_max_rows (scale 1, no mask)"},
    {"argsort_top_k.f32.strict", argsort_top_k, "argsort_top_k_rows"},
    {"moe_weights.f32.strict", moe_weights, "moe_weights_rows"},
    {"moe_sum.f32.strict", moe_sum, "moe_weighted_sum_rows"},
};

}  // namespace

std::span<const KernelBinding> moe() { return kTable; }

}  // namespace ck::runtime::bindings
