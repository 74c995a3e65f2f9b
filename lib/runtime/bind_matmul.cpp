// Strict weight mat-muls and the patch-embedding conv2d_mm: one binding per catalogue id (see kernel_table.h
// for how to add one). Each reproduces ggml_compute_forward_mul_mat's path choice for its weight type: the
// activations rounded to the weight's vec_dot_type into scratch (ggml's wdata), then llamafile tinyBLAS when it
// accepts the shape, or the CPU_REPACK gemm/gemv when ggml repacks that type, else the vec_dot kernel — as
// docs/KERNELS.md describes; the arithmetic itself is lib/kernels'.
#include "kernels/blocks.h"
#include "kernels/convert_bf16.h"
#include "kernels/convert_fp16.h"
#include "kernels/dot_f16.h"
#include "kernels/dot_f32.h"
#include "kernels/dot_kquants.h"
#include "kernels/dot_q8_0.h"
#include "kernels/matmul_q4_0_repack.h"
#include "kernels/matmul_q4_K_repack.h"
#include "kernels/matmul_tinyblas.h"
#include "kernels/quantize_q8_0.h"
#include "kernels/quantize_q8_K.h"
#include "runtime/bindings.h"

namespace ck::runtime::bindings {
namespace {

// out[j][i] = dot(W row i, activation row j): ggml_compute_forward_mul_mat with src0 = W [m][k] (the weight),
// src1 = activations [n][k] F32 (rows at a constant stride), dst [n][m] contiguous.
struct MatMul {
  const View& W;
  const float* x;
  int64_t x_stride;  // floats
  int64_t m, n, k;
  float* out;
};

MatMul mat_mul_args(const BoundCall& c, DType wtype) {
  const View& W = c.weight("w");
  expect_dtype(c, W, wtype, "weight");
  if (W.shape.size() != 2) c.bad("weight must be 2-D");
  const View& a = c.in.at(0);
  if (a.dtype != DType::F32) c.bad("activation must be F32");
  if (!a.uniform_rows() || a.row_stride() % 4) c.bad("activation rows must be at a constant stride");
  const int64_t m = W.shape[0], k = W.shape[1];
  if (a.cols() != k) c.bad("activation width " + std::to_string(a.cols()) + " != weight row " + std::to_string(k));
  if (!c.out.contiguous() || c.out.cols() != m || c.out.rows() != a.rows()) c.bad("output is not [n][m]");
  return {W, a.ptr<const float>(), a.row_stride() / 4, m, a.rows(), k, c.out.ptr<float>()};
}

// src1 through quantize_row_q8_0 (vec_dot_type Q8_0) / quantize_row_q8_K (Q8_K) into scratch slot 0.
const kernels::BlockQ8_0* to_q8_0(const BoundCall& c, ExecContext& ex, const MatMul& mm) {
  if (mm.k % kernels::QK8_0) c.bad("row length must be a multiple of 32 for this weight type");
  const int64_t kb = mm.k / kernels::QK8_0;
  auto* b = static_cast<kernels::BlockQ8_0*>(ex.scratch->get(0, size_t(mm.n * kb) * sizeof(kernels::BlockQ8_0)));
  ex.pool->run([&](int ith, int nth) { kernels::quantize_rows_q8_0(mm.x, mm.x_stride, b, kb, mm.k, mm.n, ith, nth); });
  return b;
}

const kernels::BlockQ8_K* to_q8_K(const BoundCall& c, ExecContext& ex, const MatMul& mm) {
  if (mm.k % kernels::QK_K) c.bad("K-quant row length must be a multiple of 256");
  const int64_t kb = mm.k / kernels::QK_K;
  auto* b = static_cast<kernels::BlockQ8_K*>(ex.scratch->get(0, size_t(mm.n * kb) * sizeof(kernels::BlockQ8_K)));
  ex.pool->run([&](int ith, int nth) { kernels::quantize_rows_q8_K(mm.x, mm.x_stride, b, kb, mm.k, mm.n, ith, nth); });
  return b;
}

// src1 rounded to F16 / BF16 (ggml_cpu_fp32_to_fp16 / _bf16) into scratch slot 0, rows of k.
using RoundRows = void (*)(const float*, int64_t, uint16_t*, int64_t, int64_t, int64_t, int, int);
const uint16_t* to_16(ExecContext& ex, const MatMul& mm, RoundRows round) {
  auto* b = static_cast<uint16_t*>(ex.scratch->get(0, size_t(mm.n * mm.k) * 2));
  ex.pool->run([&](int ith, int nth) { round(mm.x, mm.x_stride, b, mm.k, mm.k, mm.n, ith, nth); });
  return b;
}

// vec_dot_type F32: llamafile_sgemm on src1 as stored (it needs contiguous src1), else ggml_vec_dot_f32.
void mul_mat_f32(const BoundCall& c, ExecContext& ex) {
  const MatMul mm = mat_mul_args(c, DType::F32);
  const bool tb = mm.x_stride == mm.k && kernels::tinyblas_applies(mm.m, mm.n, mm.k);
  const auto* A = mm.W.ptr<const float>();
  ex.pool->run([&](int ith, int nth) {
    if (tb) kernels::matmul_tinyblas_f32(mm.m, mm.n, mm.k, A, mm.k, mm.x, mm.x_stride, mm.out, mm.m, ith, nth);
    else kernels::matmul_vecdot_f32(mm.m, mm.n, mm.k, A, mm.k, mm.x, mm.x_stride, mm.out, mm.m, ith, nth);
  });
}

void mul_mat_f16(const BoundCall& c, ExecContext& ex) {
  const MatMul mm = mat_mul_args(c, DType::F16);
  const uint16_t* b = to_16(ex, mm, kernels::fp32_to_fp16_rows);
  const bool tb = kernels::tinyblas_applies(mm.m, mm.n, mm.k);
  const auto* A = mm.W.ptr<const uint16_t>();
  ex.pool->run([&](int ith, int nth) {
    if (tb) kernels::matmul_tinyblas_f16(mm.m, mm.n, mm.k, A, mm.k, b, mm.k, mm.out, mm.m, ith, nth);
    else kernels::matmul_vecdot_f16(mm.m, mm.n, mm.k, A, mm.k, b, mm.k, mm.out, mm.m, ith, nth);
  });
}

void mul_mat_bf16(const BoundCall& c, ExecContext& ex) {
  const MatMul mm = mat_mul_args(c, DType::BF16);
  const uint16_t* b = to_16(ex, mm, kernels::fp32_to_bf16_rows);
  const bool tb = kernels::tinyblas_applies(mm.m, mm.n, mm.k);
  const auto* A = mm.W.ptr<const uint16_t>();
  ex.pool->run([&](int ith, int nth) {
    if (tb) kernels::matmul_tinyblas_bf16(mm.m, mm.n, mm.k, A, mm.k, b, mm.k, mm.out, mm.m, ith, nth);
    else kernels::matmul_vecdot_bf16(mm.m, mm.n, mm.k, A, mm.k, b, mm.k, mm.out, mm.m, ith, nth);
  });
}

void mul_mat_q8_0(const BoundCall& c, ExecContext& ex) {
  const MatMul mm = mat_mul_args(c, DType::Q8_0);
  const auto* b = to_q8_0(c, ex, mm);
  const int64_t kb = mm.k / kernels::QK8_0;
  const auto* A = mm.W.ptr<const kernels::BlockQ8_0>();
  ex.pool->run([&](int ith, int nth) { kernels::matmul_q8_0(mm.m, mm.n, mm.k, A, kb, b, kb, mm.out, mm.m, ith, nth); });
}

// ggml_vec_dot_q4_0_q8_0 per output (identical per output to tinyBLAS_Q0_AVX). Q4_0 weights with ne[1] % 8 == 0
// sit in the CPU_REPACK buffer (ggml_repack_get_optimal_repack_type, AVX2: q4_0_8x8_q8_0), computed by
// ggml_gemm/gemv_q4_0_8x8_q8_0: one FMA per block and output (same for gemm and gemv rows; the gemm rows'
// ggml_quantize_mat_q8_0_4x8 gives quantize_row_q8_0's values).
void mul_mat_q4_0(const BoundCall& c, ExecContext& ex) {
  const MatMul mm = mat_mul_args(c, DType::Q4_0);
  const auto* b = to_q8_0(c, ex, mm);
  const int64_t kb = mm.k / kernels::QK8_0;
  const bool repack = mm.m % 8 == 0;
  const auto* A = mm.W.ptr<const kernels::BlockQ4_0>();
  ex.pool->run([&](int ith, int nth) {
    if (repack) kernels::matmul_q4_0_repack(mm.m, mm.n, mm.k, A, kb, b, kb, mm.out, mm.m, ith, nth);
    else kernels::matmul_q4_0(mm.m, mm.n, mm.k, A, kb, b, kb, mm.out, mm.m, ith, nth);
  });
}

// ggml has no repack for Q5_0: ggml_vec_dot_q5_0_q8_0 per output.
void mul_mat_q5_0(const BoundCall& c, ExecContext& ex) {
  const MatMul mm = mat_mul_args(c, DType::Q5_0);
  const auto* b = to_q8_0(c, ex, mm);
  const int64_t kb = mm.k / kernels::QK8_0;
  const auto* A = mm.W.ptr<const kernels::BlockQ5_0>();
  ex.pool->run([&](int ith, int nth) { kernels::matmul_q5_0(mm.m, mm.n, mm.k, A, kb, b, kb, mm.out, mm.m, ith, nth); });
}

// vec_dot_type Q8_K; no tinyBLAS for K-quants on AVX2. Q4_K weights sit in the CPU_REPACK buffer when
// ne[1] % 8 == 0 (ggml_repack_get_optimal_repack_type, AVX2: q4_K_8x8_q8_K): ggml_gemm/gemv_q4_K_8x8_q8_K.
void mul_mat_q4_K(const BoundCall& c, ExecContext& ex) {
  const MatMul mm = mat_mul_args(c, DType::Q4_K);
  const auto* b = to_q8_K(c, ex, mm);
  const int64_t kb = mm.k / kernels::QK_K;
  const bool repack = mm.m % 8 == 0;
  const auto* A = mm.W.ptr<const kernels::BlockQ4_K>();
  ex.pool->run([&](int ith, int nth) {
    if (repack) kernels::matmul_q4_K_repack(mm.m, mm.n, mm.k, A, kb, b, kb, mm.out, mm.m, ith, nth);
    else kernels::matmul_q4_K(mm.m, mm.n, mm.k, A, kb, b, kb, mm.out, mm.m, ith, nth);
  });
}

void mul_mat_q5_K(const BoundCall& c, ExecContext& ex) {
  const MatMul mm = mat_mul_args(c, DType::Q5_K);
  const auto* b = to_q8_K(c, ex, mm);
  const int64_t kb = mm.k / kernels::QK_K;
  const auto* A = mm.W.ptr<const kernels::BlockQ5_K>();
  ex.pool->run([&](int ith, int nth) { kernels::matmul_q5_K(mm.m, mm.n, mm.k, A, kb, b, kb, mm.out, mm.m, ith, nth); });
}

void mul_mat_q6_K(const BoundCall& c, ExecContext& ex) {
  const MatMul mm = mat_mul_args(c, DType::Q6_K);
  const auto* b = to_q8_K(c, ex, mm);
  const int64_t kb = mm.k / kernels::QK_K;
  const auto* A = mm.W.ptr<const kernels::BlockQ6_K>();
  ex.pool->run([&](int ith, int nth) { kernels::matmul_q6_K(mm.m, mm.n, mm.k, A, kb, b, kb, mm.out, mm.m, ith, nth); });
}

// ggml_conv_2d's mul_mat: src0 = im2col [N][K] (F16), src1 = kernel [C][K] (F32 rounded to F16, or F16),
// dst [C][N]: dst[oc][p] = dot(im2col row p, kernel row oc). tinyBLAS F16 with A = im2col (m = N), B = kernel
// (n = C) when it accepts (N % 4 == 0, K % 8 == 0, C >= 2), else ggml_vec_dot_f16.
struct Conv {
  const uint16_t* cols;
  int64_t N, K, C;
  float* out;
};

Conv conv_args(const BoundCall& c, DType ktype) {
  const View& cols = c.in.at(0);
  const View& Wk = c.weight("w");
  expect_dtype(c, Wk, ktype, "kernel");
  if (cols.dtype != DType::F16 || !cols.contiguous()) c.bad("im2col columns must be contiguous F16");
  const int64_t N = cols.rows(), K = cols.cols(), C = Wk.shape[0];
  if (Wk.numel() != C * K) c.bad("kernel does not match the im2col width");
  if (!c.out.contiguous() || c.out.numel() != C * N || c.out.dtype != DType::F32) c.bad("output is not [C][N] F32");
  return {cols.ptr<const uint16_t>(), N, K, C, c.out.ptr<float>()};
}

void conv_f16(ExecContext& ex, const Conv& cv, const uint16_t* B) {
  const bool tb = kernels::tinyblas_applies(cv.N, cv.C, cv.K);
  ex.pool->run([&](int ith, int nth) {
    if (tb) kernels::matmul_tinyblas_f16(cv.N, cv.C, cv.K, cv.cols, cv.K, B, cv.K, cv.out, cv.N, ith, nth);
    else kernels::matmul_vecdot_f16(cv.N, cv.C, cv.K, cv.cols, cv.K, B, cv.K, cv.out, cv.N, ith, nth);
  });
}

void conv2d_mm_f32(const BoundCall& c, ExecContext& ex) {
  const Conv cv = conv_args(c, DType::F32);
  const View& Wk = c.weight("w");
  auto* b = static_cast<uint16_t*>(ex.scratch->get(0, size_t(cv.C * cv.K) * 2));
  ex.pool->run([&](int ith, int nth) {
    kernels::fp32_to_fp16_rows(Wk.ptr<const float>(), cv.K, b, cv.K, cv.K, cv.C, ith, nth);
  });
  conv_f16(ex, cv, b);
}

void conv2d_mm_f16(const BoundCall& c, ExecContext& ex) {
  const Conv cv = conv_args(c, DType::F16);
  conv_f16(ex, cv, c.weight("w").ptr<const uint16_t>());
}

const KernelBinding kTable[] = {
    {"mul_mat.f32.f32.strict", mul_mat_f32, "matmul_tinyblas_f32 / matmul_vecdot_f32"},
    {"mul_mat.f16.f32.strict", mul_mat_f16, "fp32_to_fp16_rows + matmul_tinyblas_f16 / matmul_vecdot_f16"},
    {"mul_mat.bf16.f32.strict", mul_mat_bf16, "fp32_to_bf16_rows + matmul_tinyblas_bf16 / matmul_vecdot_bf16"},
    {"mul_mat.q8_0.f32.strict", mul_mat_q8_0, "quantize_rows_q8_0 + matmul_q8_0"},
    {"mul_mat.q4_0.f32.strict", mul_mat_q4_0, "quantize_rows_q8_0 + matmul_q4_0_repack (ne[1] % 8 == 0) / matmul_q4_0"},
    {"mul_mat.q5_0.f32.strict", mul_mat_q5_0, "quantize_rows_q8_0 + matmul_q5_0"},
    {"mul_mat.q4_K.f32.strict", mul_mat_q4_K, "quantize_rows_q8_K + matmul_q4_K_repack (ne[1] % 8 == 0) / matmul_q4_K"},
    {"mul_mat.q5_K.f32.strict", mul_mat_q5_K, "quantize_rows_q8_K + matmul_q5_K"},
    {"mul_mat.q6_K.f32.strict", mul_mat_q6_K, "quantize_rows_q8_K + matmul_q6_K"},
    {"conv2d_mm.f32.f16.strict", conv2d_mm_f32, "fp32_to_fp16_rows(kernel) + matmul_tinyblas_f16 / matmul_vecdot_f16"},
    {"conv2d_mm.f16.f16.strict", conv2d_mm_f16, "matmul_tinyblas_f16 / matmul_vecdot_f16"},
};

}  // namespace

std::span<const KernelBinding> matmul() { return kTable; }

}  // namespace ck::runtime::bindings
