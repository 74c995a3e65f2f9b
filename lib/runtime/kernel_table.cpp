// The binding table (one place): catalogue id -> function. Mat-mul wrappers reproduce
// ggml_compute_forward_mul_mat's path choice (llamafile tinyBLAS when it accepts the shape, else the vec_dot
// kernel of the weight type, after rounding the activations to the weight's vec_dot_type), as
// docs/KERNELS.md describes; the arithmetic itself is lib/kernels'.
#include "runtime/kernel_table.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "kernels/blocks.h"
#include "kernels/convert_bf16.h"
#include "kernels/convert_fp16.h"
#include "kernels/dot_f16.h"
#include "kernels/dot_f32.h"
#include "kernels/dequantize.h"
#include "kernels/dot_kquants.h"
#include "kernels/dot_q8_0.h"
#include "kernels/flash_attn.h"
#include "kernels/gelu.h"
#include "kernels/layer_norm.h"
#include "kernels/matmul_q4_0_repack.h"
#include "kernels/matmul_q4_K_repack.h"
#include "kernels/matmul_tinyblas.h"
#include "kernels/quantize_q8_0.h"
#include "kernels/quantize_q8_K.h"
#include "kernels/rms_norm.h"
#include "kernels/rope.h"
#include "kernels/silu.h"
#include "runtime/layout_ops.h"
#include "runtime/program.h"

namespace ck::runtime {

// ---- View / Scratch / BoundCall -------------------------------------------------------------------------

int64_t View::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

bool View::contiguous() const {
  int64_t s = int64_t(traits(dtype).type_size);
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] != 1 && strides[i] != s) return false;
    s *= shape[i];
  }
  return true;
}

bool View::uniform_rows() const {
  const int64_t es = int64_t(traits(dtype).type_size);
  if (shape.empty() || (shape.back() > 1 && strides.back() != es)) return false;
  if (shape.size() == 1) return true;
  // dims before the last must collapse into one constant stride: stride[i] = stride[i+1] * shape[i+1]
  for (size_t i = 0; i + 2 < shape.size(); ++i)
    if (shape[i] > 1 && strides[i] != strides[i + 1] * shape[i + 1]) return false;
  return true;
}

int64_t View::row_stride() const {
  if (shape.size() == 1) return int64_t(traits(dtype).type_size) * shape[0];
  return strides[shape.size() - 2];
}

void* Scratch::get(size_t slot, size_t bytes) {
  if (slot >= 4) fail("runtime scratch", "slot out of range");
  Buf& b = bufs_[slot];
  if (bytes > b.n) {
    if (b.p) munmap(b.p, b.n);
    const size_t n = (bytes + 4095) & ~size_t(4095);
    void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fail("runtime scratch", "cannot allocate " + std::to_string(n) + " bytes");
    b.p = p;
    b.n = n;
  }
  return b.p;
}

Scratch::~Scratch() {
  for (auto& b : bufs_)
    if (b.p) munmap(b.p, b.n);
}

const View* BoundCall::weight_opt(std::string_view role) const {
  for (size_t i = 0; i < call->weights.size(); ++i)
    if (call->weights[i].arg == role) return &w[i];
  return nullptr;
}

const View& BoundCall::weight(std::string_view role) const {
  const View* v = weight_opt(role);
  if (!v) fail("call " + call->id, "no weight with role '" + std::string(role) + "'");
  return *v;
}

namespace {
const Scalar* find_scalar(const Call& c, std::string_view name) {
  for (const auto& s : c.scalars)
    if (s.arg == name) return &s;
  return nullptr;
}
}  // namespace

bool BoundCall::has_param(std::string_view name) const { return find_scalar(*call, name) != nullptr; }

double BoundCall::param_f(std::string_view name) const {
  const Scalar* s = find_scalar(*call, name);
  if (!s) fail("call " + call->id, "missing parameter '" + std::string(name) + "'");
  if (s->sym >= 0) return double((*symbol_values)[size_t(s->sym)]);
  if (s->value.is_boolean()) return s->value.get<bool>() ? 1.0 : 0.0;
  if (!s->value.is_number()) fail("call " + call->id, "parameter '" + std::string(name) + "' is not a number");
  return s->value.get<double>();
}

int64_t BoundCall::param_i(std::string_view name) const {
  const Scalar* s = find_scalar(*call, name);
  if (!s) fail("call " + call->id, "missing parameter '" + std::string(name) + "'");
  if (s->sym >= 0) return (*symbol_values)[size_t(s->sym)];
  if (!s->value.is_number_integer()) fail("call " + call->id, "parameter '" + std::string(name) + "' is not an integer");
  return s->value.get<int64_t>();
}

std::vector<int64_t> BoundCall::param_list(std::string_view name) const {
  const Scalar* s = find_scalar(*call, name);
  if (!s || !s->value.is_array()) fail("call " + call->id, "missing list parameter '" + std::string(name) + "'");
  std::vector<int64_t> out;
  for (const auto& v : s->value) {
    if (!v.is_number_integer()) fail("call " + call->id, "parameter '" + std::string(name) + "' must list integers");
    out.push_back(v.get<int64_t>());
  }
  return out;
}

// ---- kernels over lib/kernels ---------------------------------------------------------------------------

namespace {

[[noreturn]] void bad(const BoundCall& c, const std::string& what) {
  fail("call " + std::to_string(c.call->index) + " (" + c.call->id + ", " + c.call->kernel + ")", what);
}

// The activation operand of a mat-mul: n rows of k floats at a constant row stride.
struct Rows {
  const float* x;
  int64_t stride;  // floats
  int64_t n, k;
};

Rows act_rows(const BoundCall& c, const View& a) {
  if (a.dtype != DType::F32) bad(c, "activation must be F32");
  if (!a.uniform_rows() || a.row_stride() % 4) bad(c, "activation rows must be at a constant stride");
  return {a.ptr<const float>(), a.row_stride() / 4, a.rows(), a.cols()};
}

// out[j][i] = dot(W row i, activation row j): ggml_compute_forward_mul_mat with src0 = W [m][k] (weights,
// any supported type), src1 = activations [n][k] F32, dst [n][m].
void mul_mat_impl(const BoundCall& c, ExecContext& ex, const View& W, const Rows& a, float* out, int64_t ldc) {
  const int64_t m = W.shape[0], k = W.shape[1], n = a.n;
  if (a.k != k) bad(c, "activation width " + std::to_string(a.k) + " != weight row " + std::to_string(k));
  switch (W.dtype) {
    case DType::F32: {
      // vec_dot_type F32: llamafile_sgemm on src1 as stored (needs contiguous src1), else ggml_vec_dot_f32.
      const bool contiguous = a.stride == k;
      if (contiguous && kernels::tinyblas_applies(m, n, k))
        ex.pool->run([&](int ith, int nth) {
          kernels::matmul_tinyblas_f32(m, n, k, W.ptr<const float>(), k, a.x, a.stride, out, ldc, ith, nth);
        });
      else
        ex.pool->run([&](int ith, int nth) {
          kernels::matmul_vecdot_f32(m, n, k, W.ptr<const float>(), k, a.x, a.stride, out, ldc, ith, nth);
        });
      return;
    }
    case DType::F16:
    case DType::BF16: {
      // src1 rounded to the weight type (ggml_cpu_fp32_to_fp16 / _bf16) into wdata, then tinyBLAS or vec_dot.
      auto* b = static_cast<uint16_t*>(ex.scratch->get(0, size_t(n * k) * 2));
      const bool f16 = W.dtype == DType::F16;
      ex.pool->run([&](int ith, int nth) {
        if (f16) kernels::fp32_to_fp16_rows(a.x, a.stride, b, k, k, n, ith, nth);
        else kernels::fp32_to_bf16_rows(a.x, a.stride, b, k, k, n, ith, nth);
      });
      const bool tb = kernels::tinyblas_applies(m, n, k);
      ex.pool->run([&](int ith, int nth) {
        const auto* A = W.ptr<const uint16_t>();
        if (f16 && tb) kernels::matmul_tinyblas_f16(m, n, k, A, k, b, k, out, ldc, ith, nth);
        else if (f16) kernels::matmul_vecdot_f16(m, n, k, A, k, b, k, out, ldc, ith, nth);
        else if (tb) kernels::matmul_tinyblas_bf16(m, n, k, A, k, b, k, out, ldc, ith, nth);
        else kernels::matmul_vecdot_bf16(m, n, k, A, k, b, k, out, ldc, ith, nth);
      });
      return;
    }
    case DType::Q8_0: {
      if (k % kernels::QK8_0) bad(c, "Q8_0 row length must be a multiple of 32");
      const int64_t kb = k / kernels::QK8_0;
      auto* b = static_cast<kernels::BlockQ8_0*>(ex.scratch->get(0, size_t(n * kb) * sizeof(kernels::BlockQ8_0)));
      ex.pool->run([&](int ith, int nth) { kernels::quantize_rows_q8_0(a.x, a.stride, b, kb, k, n, ith, nth); });
      ex.pool->run([&](int ith, int nth) {
        kernels::matmul_q8_0(m, n, k, W.ptr<const kernels::BlockQ8_0>(), kb, b, kb, out, ldc, ith, nth);
      });
      return;
    }
    case DType::Q4_0:
    case DType::Q5_0: {
      // vec_dot_type Q8_0: activations through quantize_row_q8_0, then ggml_vec_dot_q{4,5}_0_q8_0 per output
      // (identical per output to tinyBLAS_Q0_AVX). ggml has no repack for Q5_0; Q4_0 weights with ne[1] % 8 == 0
      // sit in the CPU_REPACK buffer (ggml_repack_get_optimal_repack_type, AVX2: q4_0_8x8_q8_0), computed by
      // ggml_gemm/gemv_q4_0_8x8_q8_0: one FMA per block and output (same for gemm and gemv rows; the gemm rows'
      // ggml_quantize_mat_q8_0_4x8 gives quantize_row_q8_0's values).
      if (k % kernels::QK8_0) bad(c, "Q4_0/Q5_0 row length must be a multiple of 32");
      const bool repack = W.dtype == DType::Q4_0 && m % 8 == 0;
      const int64_t kb = k / kernels::QK8_0;
      auto* b = static_cast<kernels::BlockQ8_0*>(ex.scratch->get(0, size_t(n * kb) * sizeof(kernels::BlockQ8_0)));
      ex.pool->run([&](int ith, int nth) { kernels::quantize_rows_q8_0(a.x, a.stride, b, kb, k, n, ith, nth); });
      ex.pool->run([&](int ith, int nth) {
        if (repack)
          kernels::matmul_q4_0_repack(m, n, k, W.ptr<const kernels::BlockQ4_0>(), kb, b, kb, out, ldc, ith, nth);
        else if (W.dtype == DType::Q4_0)
          kernels::matmul_q4_0(m, n, k, W.ptr<const kernels::BlockQ4_0>(), kb, b, kb, out, ldc, ith, nth);
        else
          kernels::matmul_q5_0(m, n, k, W.ptr<const kernels::BlockQ5_0>(), kb, b, kb, out, ldc, ith, nth);
      });
      return;
    }
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K: {
      // vec_dot_type Q8_K: activations through quantize_row_q8_K; no tinyBLAS for K-quants on AVX2. Q4_K
      // weights sit in the CPU_REPACK buffer when ne[1] % 8 == 0 (ggml_repack_get_optimal_repack_type, AVX2:
      // q4_K_8x8_q8_K), which computes with ggml_gemm/gemv_q4_K_8x8_q8_K; the others use ggml_vec_dot_*_q8_K.
      if (k % kernels::QK_K) bad(c, "K-quant row length must be a multiple of 256");
      const int64_t kb = k / kernels::QK_K;
      auto* b = static_cast<kernels::BlockQ8_K*>(ex.scratch->get(0, size_t(n * kb) * sizeof(kernels::BlockQ8_K)));
      ex.pool->run([&](int ith, int nth) { kernels::quantize_rows_q8_K(a.x, a.stride, b, kb, k, n, ith, nth); });
      ex.pool->run([&](int ith, int nth) {
        if (W.dtype == DType::Q4_K && m % 8 == 0)
          kernels::matmul_q4_K_repack(m, n, k, W.ptr<const kernels::BlockQ4_K>(), kb, b, kb, out, ldc, ith, nth);
        else if (W.dtype == DType::Q4_K)
          kernels::matmul_q4_K(m, n, k, W.ptr<const kernels::BlockQ4_K>(), kb, b, kb, out, ldc, ith, nth);
        else if (W.dtype == DType::Q5_K)
          kernels::matmul_q5_K(m, n, k, W.ptr<const kernels::BlockQ5_K>(), kb, b, kb, out, ldc, ith, nth);
        else
          kernels::matmul_q6_K(m, n, k, W.ptr<const kernels::BlockQ6_K>(), kb, b, kb, out, ldc, ith, nth);
      });
      return;
    }
    default:
      bad(c, std::string("no strict mat-mul for weight type ") + dtype_name(W.dtype));
  }
}

void mul_mat(const BoundCall& c, ExecContext& ex) {
  const View& W = c.weight("w");
  if (W.shape.size() != 2) bad(c, "weight must be 2-D");
  const Rows a = act_rows(c, c.in.at(0));
  if (!c.out.contiguous() || c.out.cols() != W.shape[0] || c.out.rows() != a.n) bad(c, "output is not [n][m]");
  mul_mat_impl(c, ex, W, a, c.out.ptr<float>(), W.shape[0]);
}

// ggml_conv_2d's mul_mat: src0 = im2col [N][K] (F16), src1 = kernel [C][K] (F32 rounded to F16, or F16),
// dst [C][N]: dst[oc][p] = dot(im2col row p, kernel row oc). tinyBLAS F16 with A = im2col (m = N), B = kernel
// (n = C) when it accepts (N % 4 == 0, K % 8 == 0, C >= 2), else ggml_vec_dot_f16.
void conv2d_mm(const BoundCall& c, ExecContext& ex) {
  const View& cols = c.in.at(0);
  const View& Wk = c.weight("w");
  if (cols.dtype != DType::F16 || !cols.contiguous()) bad(c, "im2col columns must be contiguous F16");
  const int64_t N = cols.rows(), K = cols.cols(), C = Wk.shape[0];
  if (Wk.numel() != C * K) bad(c, "kernel does not match the im2col width");
  if (!c.out.contiguous() || c.out.numel() != C * N || c.out.dtype != DType::F32) bad(c, "output is not [C][N] F32");
  const uint16_t* B = nullptr;
  if (Wk.dtype == DType::F16) {
    B = Wk.ptr<const uint16_t>();
  } else if (Wk.dtype == DType::F32) {
    auto* b = static_cast<uint16_t*>(ex.scratch->get(0, size_t(C * K) * 2));
    ex.pool->run([&](int ith, int nth) { kernels::fp32_to_fp16_rows(Wk.ptr<const float>(), K, b, K, K, C, ith, nth); });
    B = b;
  } else {
    bad(c, "kernel must be F32 or F16");
  }
  const uint16_t* A = cols.ptr<const uint16_t>();
  float* out = c.out.ptr<float>();
  const bool tb = kernels::tinyblas_applies(N, C, K);
  ex.pool->run([&](int ith, int nth) {
    if (tb) kernels::matmul_tinyblas_f16(N, C, K, A, K, B, K, out, N, ith, nth);
    else kernels::matmul_vecdot_f16(N, C, K, A, K, B, K, out, N, ith, nth);
  });
}

// ggml_norm (no weight; the graph applies ggml_mul / ggml_add as their own ops).
void norm(const BoundCall& c, ExecContext& ex) {
  const View& a = c.in.at(0);
  if (!a.uniform_rows() || !c.out.uniform_rows() || a.dtype != DType::F32) bad(c, "norm needs F32 rows");
  const float eps = float(c.param_f("eps"));
  ex.pool->run([&](int ith, int nth) {
    kernels::layer_norm_rows(a.ptr<const float>(), a.row_stride() / 4, c.out.ptr<float>(), c.out.row_stride() / 4,
                             a.cols(), a.rows(), eps, nullptr, nullptr, ith, nth);
  });
}

void gelu(const BoundCall& c, ExecContext& ex) {
  const View& a = c.in.at(0);
  if (!a.uniform_rows() || !c.out.uniform_rows() || a.dtype != DType::F32) bad(c, "gelu needs F32 rows");
  ex.pool->run([&](int ith, int nth) {
    kernels::gelu_rows(a.ptr<const float>(), a.row_stride() / 4, c.out.ptr<float>(), c.out.row_stride() / 4, a.cols(),
                       a.rows(), ith, nth);
  });
}

// ggml_rope_multi: in0 [T][H][d] (possibly a column view of qkv), in1 positions [4][T] i32, out [T][H][d].
void rope_multi(const BoundCall& c, ExecContext& ex) {
  const View& x = c.in.at(0);
  const View& pos = c.in.at(1);
  if (x.shape.size() != 3 || x.dtype != DType::F32 || x.strides[2] != 4) bad(c, "rope input must be F32 [T][H][d]");
  if (pos.dtype != DType::I32 || !pos.contiguous()) bad(c, "positions must be contiguous I32");
  if (!c.out.contiguous() || c.out.shape != x.shape) bad(c, "rope output must be contiguous, shaped like the input");
  const int64_t T = x.shape[0], H = x.shape[1], d = x.shape[2];
  if (pos.numel() != 4 * T) bad(c, "positions must hold 4 planes of n_tokens");
  if (c.param_f("ext_factor") != 0.0) bad(c, "ext_factor != 0 (YaRN) is not implemented");
  kernels::RopeParams p;
  p.n_dims = int(c.param_i("n_dims"));
  p.mode = int(c.param_i("mode"));
  const auto sec = c.param_list("sections");
  if (sec.size() != 4) bad(c, "sections must have 4 entries");
  for (int i = 0; i < 4; ++i) p.sections[i] = int(sec[size_t(i)]);
  p.freq_base = float(c.param_f("freq_base"));
  p.freq_scale = float(c.param_f("freq_scale"));
  p.attn_factor = float(c.param_f("attn_factor"));
  const float* src = x.ptr<const float>();
  if (!x.contiguous()) {  // gather the view into contiguous rows first (a copy; ggml reads it through nb[])
    auto* g = static_cast<float*>(ex.scratch->get(1, size_t(T * H * d) * 4));
    ex.pool->run([&](int ith, int nth) {
      auto [r0, r1] = split_range(size_t(T * H), ith, nth);
      for (int64_t r = int64_t(r0); r < int64_t(r1); ++r)
        std::memcpy(g + r * d, x.data + (r / H) * x.strides[0] + (r % H) * x.strides[1], size_t(d) * 4);
    });
    src = g;
  }
  ex.pool->run([&](int ith, int nth) {
    kernels::rope_multi_rows(p, src, c.out.ptr<float>(), d, H, T, pos.ptr<const int32_t>(), ith, nth);
  });
}

// ---- decoder ops ----------------------------------------------------------------------------------------

// ggml_compute_forward_get_rows: out row i = dequantize(table row ids[i]). Either the table is a weight
// ("w", in0 = ids: token embeddings) or an activation (in0 = data, in1 = ids: inp_out_ids row selection).
void get_rows(const BoundCall& c, ExecContext& ex) {
  const View* w = c.weight_opt("w");
  const View& table = w ? *w : c.in.at(0);
  const View& ids = w ? c.in.at(0) : c.in.at(1);
  if (ids.dtype != DType::I32 || !ids.contiguous()) bad(c, "row ids must be contiguous I32");
  if (c.out.dtype != DType::F32 || !c.out.uniform_rows() || c.out.cols() != table.cols()) bad(c, "output is not F32 [n][cols]");
  if (!table.uniform_rows()) bad(c, "table rows must be at a constant stride");
  const int64_t n = ids.numel(), nrows = table.rows();
  const int32_t* id = ids.ptr<const int32_t>();
  for (int64_t i = 0; i < n; ++i)
    if (id[i] < 0 || id[i] >= nrows) bad(c, "row id " + std::to_string(id[i]) + " out of range");
  const int64_t row_bytes = table.row_stride();
  ex.pool->run([&](int ith, int nth) {
    kernels::get_rows(table.dtype, table.data, row_bytes, table.cols(), id, n, c.out.ptr<float>(),
                      c.out.row_stride() / 4, ith, nth);
  });
}

// ggml_pad (zeros after each row): [n][k] -> [n][m], m >= k.
void pad(const BoundCall& c, ExecContext& ex) {
  const View& a = c.in.at(0);
  if (a.dtype != DType::F32 || c.out.dtype != DType::F32 || !a.uniform_rows() || !c.out.uniform_rows() ||
      a.rows() != c.out.rows() || a.cols() > c.out.cols())
    bad(c, "pad needs F32 rows [n][k] -> [n][m >= k]");
  const int64_t k = a.cols(), m = c.out.cols();
  ex.pool->run([&](int ith, int nth) {
    auto [r0, r1] = split_range(size_t(a.rows()), ith, nth);
    for (int64_t r = int64_t(r0); r < int64_t(r1); ++r) {
      float* y = c.out.row<float>(r);
      std::memmove(y, a.row<const float>(r), size_t(k) * 4);
      std::memset(y + k, 0, size_t(m - k) * 4);
    }
  });
}

// ggml_rms_norm (no weight; the graph's ggml_mul is its own call).
void rms_norm(const BoundCall& c, ExecContext& ex) {
  const View& a = c.in.at(0);
  if (a.dtype != DType::F32 || !a.uniform_rows() || !c.out.uniform_rows() || a.cols() != c.out.cols())
    bad(c, "rms_norm needs F32 rows");
  const float eps = float(c.param_f("eps"));
  // rows of the last dim (the planned shapes are [n][heads][d] for Q/K norms: rows = n*heads)
  ex.pool->run([&](int ith, int nth) {
    kernels::rms_norm_rows(a.ptr<const float>(), a.row_stride() / 4, c.out.ptr<float>(), c.out.row_stride() / 4,
                           a.cols(), a.rows(), eps, nullptr, ith, nth);
  });
}

// ggml_swiglu_split(gate = in0, up = in1): y = silu(gate) * up (ggml_vec_swiglu_f32).
void swiglu(const BoundCall& c, ExecContext& ex) {
  const View& g = c.in.at(0);
  const View& u = c.in.at(1);
  if (!g.uniform_rows() || !u.uniform_rows() || !c.out.uniform_rows() || g.cols() != u.cols()) bad(c, "swiglu needs F32 rows");
  ex.pool->run([&](int ith, int nth) {
    kernels::swiglu_rows(g.ptr<const float>(), g.row_stride() / 4, u.ptr<const float>(), u.row_stride() / 4,
                         c.out.ptr<float>(), c.out.row_stride() / 4, g.cols(), g.rows(), ith, nth);
  });
}

// ggml_set_rows(cache, cur, kv_slots): cache row slots[i] = cur row i, F32 -> F16 (ggml_cpu_fp32_to_fp16).
// in0 [n][heads][d] (contiguous per token), in1 slots [n] I32, out = the cache [ctx][heads*d] F16.
void set_rows(const BoundCall& c, ExecContext& ex) {
  const View& a = c.in.at(0);
  const View& slots = c.in.at(1);
  if (a.dtype != DType::F32 || slots.dtype != DType::I32 || !slots.contiguous()) bad(c, "set_rows needs F32 rows, I32 slots");
  const int64_t n = slots.numel();
  const int64_t w = n ? a.numel() / n : 0;
  if (n && a.shape[0] != n) bad(c, "row count does not match the slots");
  if (c.out.dtype != DType::F16 || !c.out.uniform_rows() || c.out.cols() != w) bad(c, "cache must be F16 [ctx][width]");
  // one token's row must be contiguous (w floats); tokens at a constant stride
  if (!a.uniform_rows() || (a.shape.size() > 1 && a.strides[0] != a.row_stride() * (w / a.cols())))
    bad(c, "set_rows source rows must be contiguous per token");
  const int64_t src_stride = a.strides[0];
  const int32_t* s = slots.ptr<const int32_t>();
  const int64_t cap = c.out.rows();
  for (int64_t i = 0; i < n; ++i)
    if (s[i] < 0 || s[i] >= cap) bad(c, "kv slot " + std::to_string(s[i]) + " outside the cache");
  ex.pool->run([&](int ith, int nth) {
    auto [r0, r1] = split_range(size_t(n), ith, nth);
    for (int64_t r = int64_t(r0); r < int64_t(r1); ++r)
      kernels::fp32_to_fp16_row(reinterpret_cast<const float*>(a.data + r * src_stride), c.out.row<uint16_t>(s[r]), w);
  });
}

// ggml_flash_attn_ext(q, k, v, mask) over the F16 KV cache: q = in0 [T][H][d] F32, k = in1 / v = in2
// [n_kv][Hk][d] F16 (views of the cache), mask = in3 F16 [T][n_kv], out [T][H*dv].
void flash_attn_masked(const BoundCall& c, ExecContext& ex) {
  const View& q = c.in.at(0);
  const View& k = c.in.at(1);
  const View& v = c.in.at(2);
  const View& m = c.in.at(3);
  if (q.shape.size() != 3 || q.dtype != DType::F32 || !q.contiguous()) bad(c, "q must be contiguous F32 [T][H][d]");
  if (k.shape.size() != 3 || v.shape.size() != 3 || k.dtype != DType::F16 || v.dtype != DType::F16 ||
      k.strides[2] != 2 || v.strides[2] != 2)
    bad(c, "k, v must be F16 [n_kv][Hk][d]");
  if (m.dtype != DType::F16 || !m.uniform_rows()) bad(c, "mask must be F16 rows");
  const int64_t T = q.shape[0], H = q.shape[1], d = q.shape[2];
  if (k.shape[0] != v.shape[0] || k.shape[1] != v.shape[1] || H % k.shape[1] || k.shape[2] != d)
    bad(c, "k/v shapes do not match q");
  if (m.rows() < T || m.cols() < k.shape[0]) bad(c, "mask is smaller than [T][n_kv]");
  if (c.param_f("max_bias") != 0.0 || c.param_f("softcap") != 0.0) bad(c, "ALiBi / softcap are not implemented");
  if (!c.out.contiguous() || c.out.numel() != T * H * v.shape[2]) bad(c, "output is not [T][H*dv]");
  kernels::FlashAttnShape s;
  s.DK = d;
  s.DV = v.shape[2];
  s.N = T;
  s.KV = k.shape[0];
  s.H = H;
  s.Hk = k.shape[1];
  s.scale = float(c.param_f("scale"));
  s.q_si = H * d;
  s.q_sh = d;
  s.k_sj = k.strides[0] / 2;
  s.k_sg = k.strides[1] / 2;
  s.v_sj = v.strides[0] / 2;
  s.v_sg = v.strides[1] / 2;
  s.mask_si = m.row_stride() / 2;
  const int kv_chunks = ex.pool->size();  // split-KV only (1-token queries): the oracle's -t
  ex.pool->run([&](int ith, int nth) {
    kernels::flash_attn_ext(s, q.ptr<const float>(), k.ptr<const uint16_t>(), v.ptr<const uint16_t>(),
                            m.ptr<const uint16_t>(), c.out.ptr<float>(), kv_chunks, ith, nth);
  });
}

// ggml_flash_attn_ext(q, k, v, no mask): q = in0 [T][H][d] F32 (rope output), k = in1 / v = in2 [H][T][d] F16
// (ggml_cast of the permuted K/V), out [T][H*d] (ggml's permuted dst, reshaped to [T][C]).
void flash_attn(const BoundCall& c, ExecContext& ex) {
  const View& q = c.in.at(0);
  const View& k = c.in.at(1);
  const View& v = c.in.at(2);
  if (c.in.size() > 3) return flash_attn_masked(c, ex);
  if (q.shape.size() != 3 || q.dtype != DType::F32 || !q.contiguous()) bad(c, "q must be contiguous F32 [T][H][d]");
  if (k.shape.size() != 3 || v.shape.size() != 3 || k.dtype != DType::F16 || v.dtype != DType::F16 || !k.contiguous() ||
      !v.contiguous())
    bad(c, "k, v must be contiguous F16 [H][T][d]");
  const int64_t T = q.shape[0], H = q.shape[1], d = q.shape[2];
  if (k.shape[0] != v.shape[0] || k.shape[1] != v.shape[1] || H % k.shape[0] || k.shape[2] != d)
    bad(c, "k/v shapes do not match q");
  if (c.param_f("max_bias") != 0.0 || c.param_f("softcap") != 0.0) bad(c, "ALiBi / softcap are not implemented");
  if (c.has_param("causal") && c.param_f("causal") != 0.0) bad(c, "causal attention needs a mask input");
  if (!c.out.contiguous() || c.out.numel() != T * H * v.shape[2]) bad(c, "output is not [T][H*dv]");
  kernels::FlashAttnShape s;
  s.DK = d;
  s.DV = v.shape[2];
  s.N = T;
  s.KV = k.shape[1];
  s.H = H;
  s.Hk = k.shape[0];
  s.scale = float(c.param_f("scale"));
  s.q_si = H * d;
  s.q_sh = d;
  s.k_sj = d;
  s.k_sg = k.shape[1] * d;
  s.v_sj = s.DV;
  s.v_sg = v.shape[1] * s.DV;
  const int kv_chunks = ex.pool->size();  // split-KV only (1-token queries): the oracle's -t
  ex.pool->run([&](int ith, int nth) {
    kernels::flash_attn_ext(s, q.ptr<const float>(), k.ptr<const uint16_t>(), v.ptr<const uint16_t>(), nullptr,
                            c.out.ptr<float>(), kv_chunks, ith, nth);
  });
}

const KernelBinding kBindings[] = {
    {"get_rows.f16.i32.strict", get_rows, "kernels::get_rows (token embeddings)"},
    {"get_rows.f32.i32.strict", get_rows, "kernels::get_rows"},
    {"get_rows.q8_0.i32.strict", get_rows, "kernels::get_rows"},
    {"get_rows.bf16.i32.strict", get_rows, "kernels::get_rows"},
    {"get_rows.q4_K.i32.strict", get_rows, "kernels::get_rows"},
    {"get_rows.q5_K.i32.strict", get_rows, "kernels::get_rows"},
    {"get_rows.q6_K.i32.strict", get_rows, "kernels::get_rows"},
    {"get_rows.q4_0.i32.strict", get_rows, "kernels::get_rows"},
    {"get_rows.f32.f32.strict", get_rows, "kernels::get_rows (inp_out_ids rows)"},
    {"pad.f32.strict", pad, "zero-padded row copy"},
    {"rms_norm.f32.strict", rms_norm, "rms_norm_rows (no w)"},
    {"swiglu.f32.strict", swiglu, "swiglu_rows"},
    {"set_rows.f32.strict", set_rows, "fp32_to_fp16_row into the KV cache"},
    {"flash_attn_ext.f32.strict", flash_attn, "flash_attn_ext (one_chunk / tiled / split-KV as ggml chooses)"},
    {"im2col.f32.f32.strict", ops::im2col, "runtime ops::im2col (F16 columns)"},
    {"im2col.f16.f32.strict", ops::im2col, "runtime ops::im2col (F16 columns)"},
    {"conv2d_mm.f32.f16.strict", conv2d_mm, "fp32_to_fp16_rows(kernel) + matmul_tinyblas_f16 / matmul_vecdot_f16"},
    {"conv2d_mm.f16.f16.strict", conv2d_mm, "matmul_tinyblas_f16 / matmul_vecdot_f16"},
    {"interpolate_pos.f32.strict", ops::interpolate_pos, "runtime ops::interpolate_pos"},
    {"transpose.f32.strict", ops::transpose, "runtime ops::transpose"},
    {"merge_order.f32.strict", ops::merge_order, "runtime ops::merge_order"},
    {"cpy.f32.strict", ops::cpy_f16, "fp32_to_fp16_row per permuted row"},
    {"concat.f32.strict", ops::concat, "runtime ops::concat"},
    {"add.f32.strict", ops::add, "runtime ops::add"},
    {"add.f32.f32.strict", ops::add, "runtime ops::add (bias broadcast)"},
    {"mul.f32.f32.strict", ops::mul, "runtime ops::mul (weight broadcast)"},
    {"gelu.f32.strict", gelu, "gelu_rows"},
    {"norm.f32.strict", norm, "layer_norm_rows (no w, b)"},
    {"rope_multi.f32.strict", rope_multi, "rope_multi_rows"},
    {"mul_mat.f32.f32.strict", mul_mat, "matmul_tinyblas_f32 / matmul_vecdot_f32"},
    {"mul_mat.f16.f32.strict", mul_mat, "fp32_to_fp16_rows + matmul_tinyblas_f16 / matmul_vecdot_f16"},
    {"mul_mat.bf16.f32.strict", mul_mat, "fp32_to_bf16_rows + matmul_tinyblas_bf16 / matmul_vecdot_bf16"},
    {"mul_mat.q4_K.f32.strict", mul_mat, "quantize_rows_q8_K + matmul_q4_K_repack (ne[1] % 8 == 0) / matmul_q4_K"},
    {"mul_mat.q5_K.f32.strict", mul_mat, "quantize_rows_q8_K + matmul_q5_K"},
    {"mul_mat.q6_K.f32.strict", mul_mat, "quantize_rows_q8_K + matmul_q6_K"},
    {"mul_mat.q8_0.f32.strict", mul_mat, "quantize_rows_q8_0 + matmul_q8_0"},
    {"mul_mat.q4_0.f32.strict", mul_mat, "quantize_rows_q8_0 + matmul_q4_0"},
    {"mul_mat.q5_0.f32.strict", mul_mat, "quantize_rows_q8_0 + matmul_q5_0"},
};

}  // namespace

const KernelBinding* find_binding(std::string_view id) {
  for (const auto& b : kBindings)
    if (id == b.id) return &b;
  return nullptr;
}

std::vector<const KernelBinding*> all_bindings() {
  std::vector<const KernelBinding*> v;
  for (const auto& b : kBindings) v.push_back(&b);
  return v;
}

}  // namespace ck::runtime
