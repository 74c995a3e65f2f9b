// Bindings for data movement, element-wise ops, norms and row gathers/scatters (see kernel_table.h for how to
// add one). The arithmetic is lib/kernels' or, for pure data movement, runtime/layout_ops.
#include <cstring>

#include "kernels/convert_fp16.h"
#include "kernels/dequantize.h"
#include "kernels/gelu.h"
#include "kernels/layer_norm.h"
#include "kernels/rms_norm.h"
#include "kernels/silu.h"
#include "runtime/bindings.h"
#include "runtime/layout_ops.h"

namespace ck::runtime::bindings {
namespace {

// ggml_norm (no weight; the graph applies ggml_mul / ggml_add as their own ops).
void norm(const BoundCall& c, ExecContext& ex) {
  const View& a = c.in.at(0);
  if (!a.uniform_rows() || !c.out.uniform_rows() || a.dtype != DType::F32) c.bad("norm needs F32 rows");
  const float eps = float(c.param_f("eps"));
  ex.pool->run([&](int ith, int nth) {
    kernels::layer_norm_rows(a.ptr<const float>(), a.row_stride() / 4, c.out.ptr<float>(), c.out.row_stride() / 4,
                             a.cols(), a.rows(), eps, nullptr, nullptr, ith, nth);
  });
}

void gelu(const BoundCall& c, ExecContext& ex) {
  const View& a = c.in.at(0);
  if (!a.uniform_rows() || !c.out.uniform_rows() || a.dtype != DType::F32) c.bad("gelu needs F32 rows");
  ex.pool->run([&](int ith, int nth) {
    kernels::gelu_rows(a.ptr<const float>(), a.row_stride() / 4, c.out.ptr<float>(), c.out.row_stride() / 4, a.cols(),
                       a.rows(), ith, nth);
  });
}

// ggml_compute_forward_get_rows: out row i = dequantize(table row ids[i]). Either the table is a weight
// ("w", in0 = ids: token embeddings) or an activation (in0 = data, in1 = ids: inp_out_ids row selection).
void get_rows(const BoundCall& c, ExecContext& ex) {
  const View* w = c.weight_opt("w");
  const View& table = w ? *w : c.in.at(0);
  const View& ids = w ? c.in.at(0) : c.in.at(1);
  if (ids.dtype != DType::I32 || !ids.contiguous()) c.bad("row ids must be contiguous I32");
  if (c.out.dtype != DType::F32 || !c.out.uniform_rows() || c.out.cols() != table.cols()) c.bad("output is not F32 [n][cols]");
  if (!table.uniform_rows()) c.bad("table rows must be at a constant stride");
  const int64_t n = ids.numel(), nrows = table.rows();
  const int32_t* id = ids.ptr<const int32_t>();
  for (int64_t i = 0; i < n; ++i)
    if (id[i] < 0 || id[i] >= nrows) c.bad("row id " + std::to_string(id[i]) + " out of range");
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
    c.bad("pad needs F32 rows [n][k] -> [n][m >= k]");
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
    c.bad("rms_norm needs F32 rows");
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
  if (!g.uniform_rows() || !u.uniform_rows() || !c.out.uniform_rows() || g.cols() != u.cols()) c.bad("swiglu needs F32 rows");
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
  if (a.dtype != DType::F32 || slots.dtype != DType::I32 || !slots.contiguous()) c.bad("set_rows needs F32 rows, I32 slots");
  const int64_t n = slots.numel();
  const int64_t w = n ? a.numel() / n : 0;
  if (n && a.shape[0] != n) c.bad("row count does not match the slots");
  if (c.out.dtype != DType::F16 || !c.out.uniform_rows() || c.out.cols() != w) c.bad("cache must be F16 [ctx][width]");
  // one token's row must be contiguous (w floats); tokens at a constant stride
  if (!a.uniform_rows() || (a.shape.size() > 1 && a.strides[0] != a.row_stride() * (w / a.cols())))
    c.bad("set_rows source rows must be contiguous per token");
  const int64_t src_stride = a.strides[0];
  const int32_t* s = slots.ptr<const int32_t>();
  const int64_t cap = c.out.rows();
  for (int64_t i = 0; i < n; ++i)
    if (s[i] < 0 || s[i] >= cap) c.bad("kv slot " + std::to_string(s[i]) + " outside the cache");
  ex.pool->run([&](int ith, int nth) {
    auto [r0, r1] = split_range(size_t(n), ith, nth);
    for (int64_t r = int64_t(r0); r < int64_t(r1); ++r)
      kernels::fp32_to_fp16_row(reinterpret_cast<const float*>(a.data + r * src_stride), c.out.row<uint16_t>(s[r]), w);
  });
}

const KernelBinding kTable[] = {
    {"get_rows.f32.i32.strict", get_rows, "kernels::get_rows"},
    {"get_rows.f16.i32.strict", get_rows, "kernels::get_rows (token embeddings)"},
    {"get_rows.bf16.i32.strict", get_rows, "kernels::get_rows"},
    {"get_rows.q8_0.i32.strict", get_rows, "kernels::get_rows"},
    {"get_rows.q4_0.i32.strict", get_rows, "kernels::get_rows"},
    {"get_rows.q4_K.i32.strict", get_rows, "kernels::get_rows"},
    {"get_rows.q5_K.i32.strict", get_rows, "kernels::get_rows"},
    {"get_rows.q6_K.i32.strict", get_rows, "kernels::get_rows"},
    {"get_rows.f32.f32.strict", get_rows, "kernels::get_rows (inp_out_ids rows)"},
    {"set_rows.f32.strict", set_rows, "fp32_to_fp16_row into the KV cache"},
    {"pad.f32.strict", pad, "zero-padded row copy"},
    {"im2col.f32.f32.strict", ops::im2col, "runtime ops::im2col (F16 columns)"},
    {"im2col.f16.f32.strict", ops::im2col, "runtime ops::im2col (F16 columns)"},
    {"interpolate_pos.f32.strict", ops::interpolate_pos, "runtime ops::interpolate_pos"},
    {"transpose.f32.strict", ops::transpose, "runtime ops::transpose"},
    {"merge_order.f32.strict", ops::merge_order, "runtime ops::merge_order"},
    {"cpy.f32.strict", ops::cpy_f16, "fp32_to_fp16_row per permuted row"},
    {"concat.f32.strict", ops::concat, "runtime ops::concat"},
    {"add.f32.strict", ops::add, "runtime ops::add"},
    {"add.f32.f32.strict", ops::add, "runtime ops::add (bias broadcast)"},
    {"mul.f32.f32.strict", ops::mul, "runtime ops::mul (weight broadcast)"},
    {"gelu.f32.strict", gelu, "gelu_rows"},
    {"swiglu.f32.strict", swiglu, "swiglu_rows"},
    {"norm.f32.strict", norm, "layer_norm_rows (no w, b)"},
    {"rms_norm.f32.strict", rms_norm, "rms_norm_rows (no w)"},
};

}  // namespace

std::span<const KernelBinding> data() { return kTable; }

}  // namespace ck::runtime::bindings
