// Attention bindings: rope_multi and flash_attn_ext (see kernel_table.h for how to add one). Both flash
// attention forms — the encoder's (no mask, K/V cast to F16 as [H][T][d]) and the decoder's (a mask, K/V views
// of the F16 cache as [n_kv][Hk][d]) — go through one FlashAttnShape builder over the Views' strides.
#include <cstring>

#include "kernels/flash_attn.h"
#include "kernels/rope.h"
#include "runtime/bindings.h"

namespace ck::runtime::bindings {
namespace {

// ggml_rope_multi: in0 [T][H][d] (possibly a column view of qkv), in1 positions [4][T] i32, out [T][H][d].
void rope_multi(const BoundCall& c, ExecContext& ex) {
  const View& x = c.in.at(0);
  const View& pos = c.in.at(1);
  if (x.shape.size() != 3 || x.dtype != DType::F32 || x.strides[2] != 4) c.bad("rope input must be F32 [T][H][d]");
  if (pos.dtype != DType::I32 || !pos.contiguous()) c.bad("positions must be contiguous I32");
  if (!c.out.contiguous() || c.out.shape != x.shape) c.bad("rope output must be contiguous, shaped like the input");
  const int64_t T = x.shape[0], H = x.shape[1], d = x.shape[2];
  if (pos.numel() != 4 * T) c.bad("positions must hold 4 planes of n_tokens");
  if (c.param_f("ext_factor") != 0.0) c.bad("ext_factor != 0 (YaRN) is not implemented");
  kernels::RopeParams p;
  p.n_dims = int(c.param_i("n_dims"));
  p.mode = int(c.param_i("mode"));
  const auto sec = c.param_list("sections");
  if (sec.size() != 4) c.bad("sections must have 4 entries");
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

// The kernel's shape from q = in0 [T][H][d] F32 (contiguous), k = in1 / v = in2 F16 with the key index on
// dim `kv_axis` and the kv head on the other of dims 0/1 (the head dim d last, contiguous), out [T][H*dv].
// Strides come from the Views, so cache views and contiguous casts are described the same way.
kernels::FlashAttnShape attn_shape(const BoundCall& c, int kv_axis) {
  const View& q = c.in.at(0);
  const View& k = c.in.at(1);
  const View& v = c.in.at(2);
  const int head_axis = 1 - kv_axis;
  if (q.shape.size() != 3 || q.dtype != DType::F32 || !q.contiguous()) c.bad("q must be contiguous F32 [T][H][d]");
  if (k.shape.size() != 3 || v.shape.size() != 3 || k.dtype != DType::F16 || v.dtype != DType::F16 ||
      k.strides[2] != 2 || v.strides[2] != 2)
    c.bad(kv_axis == 0 ? "k, v must be F16 [n_kv][Hk][d]" : "k, v must be F16 [H][T][d]");
  const int64_t T = q.shape[0], H = q.shape[1], d = q.shape[2];
  if (k.shape[0] != v.shape[0] || k.shape[1] != v.shape[1] || H % k.shape[head_axis] || k.shape[2] != d)
    c.bad("k/v shapes do not match q");
  if (c.param_f("max_bias") != 0.0 || c.param_f("softcap") != 0.0) c.bad("ALiBi / softcap are not implemented");
  if (!c.out.contiguous() || c.out.numel() != T * H * v.shape[2]) c.bad("output is not [T][H*dv]");
  kernels::FlashAttnShape s;
  s.DK = d;
  s.DV = v.shape[2];
  s.N = T;
  s.KV = k.shape[kv_axis];
  s.H = H;
  s.Hk = k.shape[head_axis];
  s.scale = float(c.param_f("scale"));
  s.q_si = H * d;
  s.q_sh = d;
  s.k_sj = k.strides[kv_axis] / 2;
  s.k_sg = k.strides[head_axis] / 2;
  s.v_sj = v.strides[kv_axis] / 2;
  s.v_sg = v.strides[head_axis] / 2;
  return s;
}

void run_flash_attn(const BoundCall& c, ExecContext& ex, const kernels::FlashAttnShape& s, const uint16_t* mask) {
  const int kv_chunks = ex.pool->size();  // split-KV only (1-token queries): the oracle's -t
  ex.pool->run([&](int ith, int nth) {
    kernels::flash_attn_ext(s, c.in[0].ptr<const float>(), c.in[1].ptr<const uint16_t>(), c.in[2].ptr<const uint16_t>(),
                            mask, c.out.ptr<float>(), kv_chunks, ith, nth);
  });
}

}  // namespace

// ggml_flash_attn_ext(q, k, v, mask?). With a mask (in3, F16 [T][n_kv] rows): the decoder over the F16 KV
// cache, k/v = views [n_kv][Hk][d]. Without: the encoder, k/v = ggml_cast of the permuted K/V, contiguous
// [H][T][d]; out is ggml's permuted dst reshaped to [T][C].
kernels::FlashAttnShape flash_attn_args(const BoundCall& c, const uint16_t*& mask) {
  mask = nullptr;
  if (c.in.size() > 3) {
    kernels::FlashAttnShape s = attn_shape(c, 0);
    const View& m = c.in[3];
    if (m.dtype != DType::F16 || !m.uniform_rows()) c.bad("mask must be F16 rows");
    if (m.rows() < s.N || m.cols() < s.KV) c.bad("mask is smaller than [T][n_kv]");
    s.mask_si = m.row_stride() / 2;
    mask = m.ptr<const uint16_t>();
    return s;
  }
  if (!c.in.at(1).contiguous() || !c.in.at(2).contiguous()) c.bad("k, v must be contiguous F16 [H][T][d]");
  if (c.has_param("causal") && c.param_f("causal") != 0.0) c.bad("causal attention needs a mask input");
  return attn_shape(c, 1);
}

namespace {

void flash_attn(const BoundCall& c, ExecContext& ex) {
  const uint16_t* mask = nullptr;
  const kernels::FlashAttnShape s = flash_attn_args(c, mask);
  run_flash_attn(c, ex, s, mask);
}

const KernelBinding kTable[] = {
    {"rope_multi.f32.strict", rope_multi, "rope_multi_rows"},
    {"flash_attn_ext.f32.strict", flash_attn, "flash_attn_ext (one_chunk / tiled / split-KV as ggml chooses)"},
};

}  // namespace

std::span<const KernelBinding> attention() { return kTable; }

}  // namespace ck::runtime::bindings
