#include "runtime/layout_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/half.h"
#include "kernels/convert_fp16.h"
#include "runtime/program.h"

namespace ck::runtime::ops {

namespace {

[[noreturn]] void bad(const BoundCall& c, const std::string& what) {
  fail("call " + std::to_string(c.call->index) + " (" + c.call->id + ", " + c.call->kernel + ")", what);
}

void need_rows(const BoundCall& c, const View& v, const char* which) {
  if (!v.uniform_rows()) bad(c, std::string(which) + " must have rows at a constant stride");
}

// Row r of a View as float*, for tensors with uniform rows.
inline const float* frow(const View& v, int64_t r) { return v.row<const float>(r); }
inline float* frow_mut(const View& v, int64_t r) { return v.row<float>(r); }

// out = in0 (op) in1, where in1 is a second activation of the same shape or a weight row broadcast over the
// rows of in0 (ggml binary-ops: z[i] = x[i] op y[i % ne10], plain float arithmetic).
template <bool kMul>
void binary(const BoundCall& c, ExecContext& ex) {
  const View& a = c.in.at(0);
  const View* b = c.in.size() > 1 ? &c.in[1] : nullptr;
  if (!b) b = c.weight_opt(kMul ? "w" : "b");
  if (!b) b = c.w.empty() ? nullptr : &c.w[0];
  if (!b) bad(c, "needs a second operand");
  need_rows(c, a, "input 0");
  need_rows(c, c.out, "output");
  const int64_t n = a.cols(), nr = a.rows();
  if (c.out.cols() != n || c.out.rows() != nr) bad(c, "output shape differs from input 0");
  const bool bcast = b->numel() == n && nr != 1;
  if (!bcast) {
    need_rows(c, *b, "input 1");
    if (b->cols() != n || b->rows() != nr) bad(c, "operands do not have the same shape");
  }
  if (b->dtype != DType::F32 || a.dtype != DType::F32) bad(c, "F32 operands only");
  ex.pool->run([&](int ith, int nth) {
    auto [r0, r1] = split_range(size_t(nr), ith, nth);
    for (int64_t r = int64_t(r0); r < int64_t(r1); ++r) {
      const float* x = frow(a, r);
      const float* y = bcast ? b->ptr<const float>() : frow(*b, r);
      float* z = frow_mut(c.out, r);
      if (kMul)
        for (int64_t i = 0; i < n; ++i) z[i] = x[i] * y[i];
      else
        for (int64_t i = 0; i < n; ++i) z[i] = x[i] + y[i];
    }
  });
}

}  // namespace

void add(const BoundCall& c, ExecContext& ex) { binary<false>(c, ex); }
void mul(const BoundCall& c, ExecContext& ex) { binary<true>(c, ex); }

// ggml_conv_2d's im2col (stride = kernel = patch, no padding, dilation 1) of one planar frame of
// inp_raw [n_frames][3][H][W]: row p = py*grid_w + px, column ic*ps*ps + kh*ps + kw; F16 columns are rounded with
// GGML_CPU_FP32_TO_FP16 (RNE), F32 columns (BF16 kernels) copied. Param `frame` (default 0) picks the frame;
// a frame past the last one reads the last (build_inp_with_temporal_merge: n_batch == 1 applies both patch
// kernels to the one still, n_batch == 2 kernel k to frame k).
void im2col(const BoundCall& c, ExecContext& ex) {
  const View& img = c.in.at(0);
  const int64_t ps = c.param_i("patch_size"), gw = c.param_i("grid_w"), gh = c.param_i("grid_h");
  const int64_t W = gw * ps, H = gh * ps, K = 3 * ps * ps, N = gw * gh;
  if (!img.contiguous() || img.numel() == 0 || img.numel() % (3 * W * H) != 0)
    bad(c, "image is not [n_frames][3][grid_h*patch][grid_w*patch]");
  if (!c.out.contiguous() || c.out.numel() != N * K) bad(c, "output is not [n_patches][3*patch*patch]");
  const int64_t n_frames = img.numel() / (3 * W * H);
  const int64_t frame = std::min(c.has_param("frame") ? c.param_i("frame") : int64_t(0), n_frames - 1);
  if (frame < 0) bad(c, "frame must be >= 0");
  const float* src = img.ptr<const float>() + frame * 3 * W * H;
  const bool f16 = c.out.dtype == DType::F16;
  if (!f16 && c.out.dtype != DType::F32) bad(c, "output dtype must be f16 or f32");
  ex.pool->run([&](int ith, int nth) {
    auto [p0, p1] = split_range(size_t(N), ith, nth);
    for (int64_t p = int64_t(p0); p < int64_t(p1); ++p) {
      const int64_t py = p / gw, px = p % gw;
      for (int64_t ic = 0; ic < 3; ++ic)
        for (int64_t kh = 0; kh < ps; ++kh) {
          const float* s = src + ic * W * H + (py * ps + kh) * W + px * ps;
          const int64_t col = ic * ps * ps + kh * ps;
          if (f16) {
            uint16_t* d = c.out.ptr<uint16_t>() + p * K + col;
            for (int64_t kw = 0; kw < ps; ++kw) d[kw] = fp32_to_fp16(s[kw]);
          } else {
            std::memcpy(c.out.ptr<float>() + p * K + col, s, size_t(ps) * 4);
          }
        }
    }
  });
}

// [R][C] -> [C][R] (element copy).
void transpose(const BoundCall& c, ExecContext& ex) {
  const View& a = c.in.at(0);
  if (!a.contiguous() || !c.out.contiguous() || a.shape.size() != 2 || c.out.shape.size() != 2 ||
      a.shape[0] != c.out.shape[1] || a.shape[1] != c.out.shape[0] || a.dtype != c.out.dtype ||
      a.dtype != DType::F32)
    bad(c, "transpose needs contiguous F32 [R][C] -> [C][R]");
  const int64_t R = a.shape[0], C = a.shape[1];
  const float* x = a.ptr<const float>();
  float* y = c.out.ptr<float>();
  ex.pool->run([&](int ith, int nth) {
    auto [c0, c1] = split_range(size_t(C), ith, nth);
    for (int64_t j = int64_t(c0); j < int64_t(c1); ++j)
      for (int64_t i = 0; i < R; ++i) y[j * R + i] = x[i * C + j];
  });
}

// clip_graph_qwen3vl::build's spatial merge: tokens in raster order (y*grid_w + x) -> merge-window order
// t = m*m*(by*(grid_w/m) + bx) + m*dy + dx for patch (x = m*bx+dx, y = m*by+dy).
void merge_order(const BoundCall& c, ExecContext& ex) {
  const View& a = c.in.at(0);
  const int64_t m = c.param_i("merge"), gw = c.param_i("grid_w"), gh = c.param_i("grid_h");
  if (m <= 0 || gw % m || gh % m) bad(c, "grid is not a multiple of the merge size");
  if (!a.contiguous() || !c.out.contiguous() || a.rows() != gw * gh || c.out.rows() != gw * gh ||
      a.cols() != c.out.cols() || a.dtype != c.out.dtype)
    bad(c, "merge_order needs contiguous [grid_w*grid_h][C] tensors");
  const size_t row = size_t(a.cols()) * traits(a.dtype).type_size;
  const int64_t bw = gw / m;
  ex.pool->run([&](int ith, int nth) {
    auto [t0, t1] = split_range(size_t(gw * gh), ith, nth);
    for (int64_t t = int64_t(t0); t < int64_t(t1); ++t) {
      const int64_t blk = t / (m * m), in = t % (m * m);
      const int64_t by = blk / bw, bx = blk % bw, dy = in / m, dx = in % m;
      const int64_t src = (by * m + dy) * gw + (bx * m + dx);
      std::memcpy(c.out.data + size_t(t) * row, a.data + size_t(src) * row, row);
    }
  });
}

// ggml_cast(ggml_permute(x, 0, 2, 1, 3), F16): in [T][H][d] (any strides) -> out [H][T][d] F16, each value
// rounded with GGML_CPU_FP32_TO_FP16 (RNE).
void cpy_f16(const BoundCall& c, ExecContext& ex) {
  const View& a = c.in.at(0);
  const auto perm = c.param_list("permute");
  if (a.shape.size() != 3 || c.out.shape.size() != 3 || perm != std::vector<int64_t>{1, 0, 2})
    bad(c, "cpy supports 3-D inputs with permute [1,0,2]");
  if (c.out.dtype != DType::F16 || a.dtype != DType::F32 || !c.out.contiguous() || a.strides[2] != 4)
    bad(c, "cpy needs F32 rows -> contiguous F16");
  const int64_t T = a.shape[0], H = a.shape[1], d = a.shape[2];
  if (c.out.shape[0] != H || c.out.shape[1] != T || c.out.shape[2] != d) bad(c, "output is not the permuted input");
  ex.pool->run([&](int ith, int nth) {
    auto [r0, r1] = split_range(size_t(H * T), ith, nth);
    for (int64_t r = int64_t(r0); r < int64_t(r1); ++r) {
      const int64_t h = r / T, t = r % T;
      const float* x = reinterpret_cast<const float*>(a.data + t * a.strides[0] + h * a.strides[1]);
      kernels::fp32_to_fp16_row(x, c.out.ptr<uint16_t>() + r * d, d);
    }
  });
}

// ggml_concat along dim 0 (ggml order) = the last row-major dim: out row = [in0 row | in1 row | ...].
void concat(const BoundCall& c, ExecContext& ex) {
  need_rows(c, c.out, "output");
  int64_t total = 0;
  for (const auto& v : c.in) {
    need_rows(c, v, "input");
    if (v.rows() != c.out.rows() || v.dtype != c.out.dtype) bad(c, "concat inputs differ in rows or dtype");
    total += v.cols();
  }
  if (total != c.out.cols()) bad(c, "concat widths do not add up to the output");
  const size_t es = traits(c.out.dtype).type_size;
  ex.pool->run([&](int ith, int nth) {
    auto [r0, r1] = split_range(size_t(c.out.rows()), ith, nth);
    for (int64_t r = int64_t(r0); r < int64_t(r1); ++r) {
      uint8_t* d = c.out.data + r * c.out.row_stride();
      for (const auto& v : c.in) {
        std::memcpy(d, v.data + r * v.row_stride(), size_t(v.cols()) * es);
        d += size_t(v.cols()) * es;
      }
    }
  });
}

// clip_graph::resize_position_embeddings with GGML_SCALE_MODE_BILINEAR | GGML_SCALE_FLAG_ALIGN_CORNERS:
// the learned table [side*side][C] (row = py*side + px) seen as a side x side image of C channels, resized to
// grid_w x grid_h by ggml_compute_forward_upscale_f32, written in raster order [grid_h*grid_w][C]. When the grid
// equals the table, clip uses the table itself (no interpolation, a plain copy here).
void interpolate_pos(const BoundCall& c, ExecContext& ex) {
  const View& tab = c.weight("w");
  const int64_t gw = c.param_i("grid_w"), gh = c.param_i("grid_h");
  if (tab.dtype != DType::F32 || tab.shape.size() != 2) bad(c, "position table must be F32 [n_pos][C]");
  const int64_t npos = tab.shape[0], C = tab.shape[1];
  int64_t side = int64_t(std::llround(std::sqrt(double(npos))));
  if (side * side != npos) bad(c, "position table rows are not a square grid");
  if (!c.out.contiguous() || c.out.rows() != gw * gh || c.out.cols() != C || c.out.dtype != DType::F32)
    bad(c, "output is not [grid_h*grid_w][C] F32");
  const float* src = tab.ptr<const float>();
  float* dst = c.out.ptr<float>();
  if (gw == side && gh == side) {
    std::memcpy(dst, src, size_t(npos * C) * 4);
    return;
  }
  // ggml: ne00 = ne01 = side (x, y), ne0 = gw, ne1 = gh; align corners => pixel_offset 0 and
  // sf = (ne-1)/(ne_src-1) when both > 1, else ne/ne_src.
  const int64_t ne00 = side, ne01 = side;
  float sf0 = float(gw) / float(ne00), sf1 = float(gh) / float(ne01);
  sf0 = gw > 1 && ne00 > 1 ? float(gw - 1) / float(ne00 - 1) : sf0;
  sf1 = gh > 1 && ne01 > 1 ? float(gh - 1) / float(ne01 - 1) : sf1;
  const float pixel_offset = 0.0f;
  // Upstream threads split the channel dim (i2 = ith; i2 += nth); any split gives the same values.
  ex.pool->run([&](int ith, int nth) {
    for (int64_t i1 = 0; i1 < gh; ++i1) {
      const float y = ((float)i1 + pixel_offset) / sf1 - pixel_offset;
      int64_t y0 = (int64_t)floorf(y);
      int64_t y1 = y0 + 1;
      y0 = std::max(int64_t(0), std::min(y0, ne01 - 1));
      y1 = std::max(int64_t(0), std::min(y1, ne01 - 1));
      float dy = y - (float)y0;
      dy = std::max(0.0f, std::min(dy, 1.0f));
      for (int64_t i0 = 0; i0 < gw; ++i0) {
        const float x = ((float)i0 + pixel_offset) / sf0 - pixel_offset;
        int64_t x0 = (int64_t)floorf(x);
        int64_t x1 = x0 + 1;
        x0 = std::max(int64_t(0), std::min(x0, ne00 - 1));
        x1 = std::max(int64_t(0), std::min(x1, ne00 - 1));
        float dx = x - (float)x0;
        dx = std::max(0.0f, std::min(dx, 1.0f));
        const float* pa = src + (y0 * side + x0) * C;
        const float* pb = src + (y0 * side + x1) * C;
        const float* pc = src + (y1 * side + x0) * C;
        const float* pd = src + (y1 * side + x1) * C;
        float* o = dst + (i1 * gw + i0) * C;
        auto [c0, c1] = split_range(size_t(C), ith, nth);
        for (int64_t ch = int64_t(c0); ch < int64_t(c1); ++ch) {
          const float a = pa[ch], b = pb[ch], cc = pc[ch], d = pd[ch];
          // a*(1 - dx)*(1 - dy) + b*dx*(1 - dy) + c*(1 - dx)*dy + d*dx*dy as GCC -O3 -mfma contracts it in the
          // AVX2 build (research digest D.9, verified): the left-most product of each '+' is fused.
          const float t0 = (b * dx) * (1 - dy);
          const float t1 = std::fmaf(a * (1 - dx), (1 - dy), t0);
          const float t2 = std::fmaf(cc * (1 - dx), dy, t1);
          o[ch] = std::fmaf(d * dx, dy, t2);
        }
      }
    }
  });
}

}  // namespace ck::runtime::ops
