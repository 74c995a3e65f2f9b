// Golden generator for lib/kernels: runs the oracle's own ggml (llama.cpp b10256, portable AVX2 build) on the
// deterministic inputs of kernel_cases.h and writes tests/fixtures/kernels/<group>.ckg.zst.
// Build and run with ./build.sh (links ${CK_ORACLE_BUILD}/lib/libggml-cpu.a etc.); not part of `make test`.
//
// Ops are run the way llama.cpp runs them: row conversions / quantizers / vec_dot through the public
// ggml-cpu entry points (ggml_cpu_fp32_to_fp16, type_traits_cpu from_float and vec_dot), everything else as
// one-op ggml graphs computed by ggml_graph_compute_with_ctx on 2 threads (GGML_USE_LLAMAFILE, as the oracle).
#include <ggml-alloc.h>
#include <ggml-backend.h>
#include <ggml-cpu.h>
#include <ggml.h>
#include <llama.h>
#include <zstd.h>

#include <cstdio>
#include <functional>

#include "kernel_cases.h"

using namespace ck_kernel_cases;

namespace {

struct Group {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> recs;
  template <typename T>
  void add(const std::string& name, const std::vector<T>& v) { recs.emplace_back(name, bytes_of(v)); }
  void fingerprint(const std::string& c, std::initializer_list<std::pair<const void*, size_t>> inputs) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (auto [p, n] : inputs) h = fnv1a(p, n, h);
    add(c + "/inputs_fnv", std::vector<uint64_t>{h});
  }
  void write(const std::string& path) {
    const std::vector<uint8_t> raw = serialize(recs);
    std::vector<uint8_t> comp(ZSTD_compressBound(raw.size()));
    const size_t n = ZSTD_compress(comp.data(), comp.size(), raw.data(), raw.size(), 19);
    if (ZSTD_isError(n)) throw std::runtime_error("zstd");
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw std::runtime_error(path + ": cannot write");
    std::fwrite(comp.data(), 1, n, f);
    std::fclose(f);
    std::printf("%s: %zu records, %zu -> %zu bytes\n", path.c_str(), recs.size(), raw.size(), n);
  }
};

struct Ctx {
  ggml_context* ctx;
  Ctx() {
    ggml_init_params p = {size_t(512) << 20, nullptr, false};
    ctx = ggml_init(p);
  }
  ~Ctx() { ggml_free(ctx); }
  ggml_tensor* f32(int64_t n0, int64_t n1, const std::vector<float>& v) {
    ggml_tensor* t = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, n0, n1);
    std::memcpy(t->data, v.data(), v.size() * 4);
    return t;
  }
  std::vector<float> run(ggml_tensor* out, int nth = 2) {
    ggml_cgraph* gf = ggml_new_graph(ctx);
    ggml_build_forward_expand(gf, out);
    if (ggml_graph_compute_with_ctx(ctx, gf, nth) != GGML_STATUS_SUCCESS) throw std::runtime_error("compute");
    std::vector<float> r(ggml_nelements(out));
    std::memcpy(r.data(), out->data, r.size() * 4);
    return r;
  }
};

void gen_convert(const std::string& dir) {
  Group g;
  for (size_t n : {size_t(1027), size_t(4096)}) {
    const std::string c = "fp32_to_fp16/n=" + std::to_string(n);
    auto x = special_vec(c, n);
    std::vector<uint16_t> y(n);
    ggml_cpu_fp32_to_fp16(x.data(), reinterpret_cast<ggml_fp16_t*>(y.data()), n);
    g.fingerprint(c, {{x.data(), n * 4}});
    g.add(c + "/y", y);
    const std::string cb = "fp32_to_bf16/n=" + std::to_string(n);
    auto xb = special_vec(cb, n);
    std::vector<uint16_t> yb(n);
    ggml_cpu_fp32_to_bf16(xb.data(), reinterpret_cast<ggml_bf16_t*>(yb.data()), n);
    g.fingerprint(cb, {{xb.data(), n * 4}});
    g.add(cb + "/y", yb);
  }
  std::vector<uint16_t> all(65536);
  for (int i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> y(65536);
  ggml_cpu_fp16_to_fp32(reinterpret_cast<const ggml_fp16_t*>(all.data()), y.data(), 65536);
  g.add("fp16_to_fp32/all/fnv", std::vector<uint64_t>{fnv1a(y.data(), y.size() * 4)});
  ggml_cpu_bf16_to_fp32(reinterpret_cast<const ggml_bf16_t*>(all.data()), y.data(), 65536);
  g.add("bf16_to_fp32/all/fnv", std::vector<uint64_t>{fnv1a(y.data(), y.size() * 4)});
  g.write(dir + "/convert.ckg.zst");
}

void gen_quantize(const std::string& dir) {
  Group g;
  {
    const size_t rows = 4, k = 4096;
    const std::string c = "q8_0/r=4,k=4096";
    auto x = quant_input(c, rows, k, 32);
    std::vector<uint8_t> y(rows * k / 32 * 34, 0);
    for (size_t r = 0; r < rows; ++r)
      ggml_get_type_traits_cpu(GGML_TYPE_Q8_0)->from_float(x.data() + r * k, y.data() + r * k / 32 * 34, k);
    g.fingerprint(c, {{x.data(), x.size() * 4}});
    g.add(c + "/y", y);
  }
  {
    const size_t rows = 4, k = 4096;
    const std::string c = "q8_K/r=4,k=4096";
    auto x = quant_input(c, rows, k, 256);
    std::vector<uint8_t> y(rows * k / 256 * 292, 0);  // zero-filled: upstream leaves bsums of all-zero blocks alone
    for (size_t r = 0; r < rows; ++r)
      ggml_get_type_traits_cpu(GGML_TYPE_Q8_K)->from_float(x.data() + r * k, y.data() + r * k / 256 * 292, k);
    g.fingerprint(c, {{x.data(), x.size() * 4}});
    g.add(c + "/y", y);
  }
  g.write(dir + "/quantize.ckg.zst");
}

void gen_act(const std::string& dir) {
  Group g;
  {  // every fp16 value as input: checks the whole GELU table
    std::vector<float> x(65536);
    for (int i = 0; i < 65536; ++i) x[i] = ggml_fp16_to_fp32(static_cast<ggml_fp16_t>(i));
    Ctx c;
    auto y = c.run(ggml_gelu(c.ctx, c.f32(65536, 1, x)));
    g.fingerprint("gelu/all_f16", {{x.data(), x.size() * 4}});
    g.add("gelu/all_f16/y", y);
  }
  for (auto [rows, n] : {std::pair<int, int>{3, 4096}, {2, 1027}}) {
    const std::string sfx = "/r=" + std::to_string(rows) + ",n=" + std::to_string(n);
    {
      const std::string c = "gelu" + sfx;
      auto x = act_vec(c, size_t(rows) * n);
      Ctx cx;
      auto y = cx.run(ggml_gelu(cx.ctx, cx.f32(n, rows, x)));
      g.fingerprint(c, {{x.data(), x.size() * 4}});
      g.add(c + "/y", y);
    }
    {
      const std::string c = "silu" + sfx;
      auto x = act_vec(c, size_t(rows) * n);
      Ctx cx;
      auto y = cx.run(ggml_silu(cx.ctx, cx.f32(n, rows, x)));
      g.fingerprint(c, {{x.data(), x.size() * 4}});
      g.add(c + "/y", y);
    }
    {
      const std::string c = "swiglu" + sfx;
      auto x = act_vec(c + "/gate", size_t(rows) * n);
      auto u = act_vec(c + "/up", size_t(rows) * n, -3.0f, 3.0f);
      Ctx cx;
      auto y = cx.run(ggml_swiglu_split(cx.ctx, cx.f32(n, rows, x), cx.f32(n, rows, u)));
      g.fingerprint(c, {{x.data(), x.size() * 4}, {u.data(), u.size() * 4}});
      g.add(c + "/y", y);
    }
  }
  g.write(dir + "/act.ckg.zst");
}

void gen_norm(const std::string& dir) {
  Group g;
  const float eps = 1e-6f;
  for (auto [rows, n] : {std::pair<int, int>{3, 1024}, {3, 1152}, {2, 1027}, {2, 4096}}) {
    const std::string c = "norm/r=" + std::to_string(rows) + ",n=" + std::to_string(n);
    auto x = uniform_vec(c + "/x", size_t(rows) * n, -2.5f, 4.0f);
    auto w = uniform_vec(c + "/w", n, 0.5f, 1.5f);
    auto b = uniform_vec(c + "/b", n, -0.5f, 0.5f);
    Ctx cx;
    ggml_tensor* xt = cx.f32(n, rows, x);
    auto y_plain = cx.run(ggml_norm(cx.ctx, xt, eps));
    Ctx cx2;
    auto y_wb = cx2.run(ggml_add(cx2.ctx, ggml_mul(cx2.ctx, ggml_norm(cx2.ctx, cx2.f32(n, rows, x), eps), cx2.f32(n, 1, w)),
                                 cx2.f32(n, 1, b)));
    g.fingerprint(c, {{x.data(), x.size() * 4}, {w.data(), w.size() * 4}, {b.data(), b.size() * 4}});
    g.add(c + "/y", y_plain);
    g.add(c + "/y_wb", y_wb);
  }
  for (auto [rows, n] : {std::pair<int, int>{3, 2048}, {8, 128}, {2, 1027}}) {
    const std::string c = "rms/r=" + std::to_string(rows) + ",n=" + std::to_string(n);
    auto x = uniform_vec(c + "/x", size_t(rows) * n, -3.0f, 3.0f);
    auto w = uniform_vec(c + "/w", n, 0.5f, 1.5f);
    Ctx cx;
    auto y_plain = cx.run(ggml_rms_norm(cx.ctx, cx.f32(n, rows, x), eps));
    Ctx cx2;
    auto y_w = cx2.run(ggml_mul(cx2.ctx, ggml_rms_norm(cx2.ctx, cx2.f32(n, rows, x), eps), cx2.f32(n, 1, w)));
    g.fingerprint(c, {{x.data(), x.size() * 4}, {w.data(), w.size() * 4}});
    g.add(c + "/y", y_plain);
    g.add(c + "/y_w", y_w);
  }
  g.write(dir + "/norm.ckg.zst");
}

void gen_dot(const std::string& dir) {
  Group g;
  for (int n : {64, 72, 768, 1027, 4096, 4304, 6144}) {
    const std::string c = "dot_f16/n=" + std::to_string(n);
    auto x = f16_weights(c + "/x", n);
    auto y = f16_weights(c + "/y", n);
    float s = 0;
    ggml_get_type_traits_cpu(GGML_TYPE_F16)->vec_dot(n, &s, 0, x.data(), 0, y.data(), 0, 1);
    g.fingerprint(c, {{x.data(), x.size() * 2}, {y.data(), y.size() * 2}});
    g.add(c + "/s", std::vector<float>{s});
  }
  for (int n : {32, 1024, 4096, 6144}) {
    for (int qmin : {-127, -128}) {
      const std::string c = "dot_q8_0/n=" + std::to_string(n) + ",qmin=" + std::to_string(qmin);
      auto x = q8_0_blocks(c + "/x", n / 32, qmin);
      auto y = q8_0_blocks(c + "/y", n / 32, qmin);
      float s = 0;
      ggml_get_type_traits_cpu(GGML_TYPE_Q8_0)->vec_dot(n, &s, 0, x.data(), 0, y.data(), 0, 1);
      g.fingerprint(c, {{x.data(), x.size()}, {y.data(), y.size()}});
      g.add(c + "/s", std::vector<float>{s});
    }
  }
  g.write(dir + "/dot.ckg.zst");
}

void gen_matmul(const std::string& dir) {
  Group g;
  struct MM { const char* type; int m, n, k; };
  const MM cases[] = {{"f16", 64, 7, 1024}, {"f16", 64, 1, 1024}, {"f16", 30, 5, 1024}, {"f16", 32, 9, 4096},
                      {"f16", 16, 2, 6144}, {"f16", 8, 3, 1020},  {"f32", 32, 5, 1024}, {"f32", 20, 2, 768},
                      {"q8_0", 32, 5, 1024}, {"q8_0", 32, 1, 4096}, {"q8_0", 12, 3, 4096}};
  for (const MM& mm : cases) {
    const std::string c = std::string("mm_") + mm.type + "/m=" + std::to_string(mm.m) + ",n=" + std::to_string(mm.n) +
                          ",k=" + std::to_string(mm.k);
    auto x = uniform_vec(c + "/x", size_t(mm.n) * mm.k, -2.0f, 2.0f);
    Ctx cx;
    ggml_tensor* w;
    uint64_t h = 0xcbf29ce484222325ull;
    if (std::string(mm.type) == "f16") {
      auto wv = f16_weights(c + "/w", size_t(mm.m) * mm.k);
      w = ggml_new_tensor_2d(cx.ctx, GGML_TYPE_F16, mm.k, mm.m);
      std::memcpy(w->data, wv.data(), wv.size() * 2);
      h = fnv1a(wv.data(), wv.size() * 2, h);
    } else if (std::string(mm.type) == "f32") {
      auto wv = uniform_vec(c + "/w", size_t(mm.m) * mm.k, -0.1f, 0.1f);
      w = cx.f32(mm.k, mm.m, wv);
      h = fnv1a(wv.data(), wv.size() * 4, h);
    } else {
      auto wv = q8_0_blocks(c + "/w", size_t(mm.m) * mm.k / 32, -127);
      w = ggml_new_tensor_2d(cx.ctx, GGML_TYPE_Q8_0, mm.k, mm.m);
      std::memcpy(w->data, wv.data(), wv.size());
      h = fnv1a(wv.data(), wv.size(), h);
    }
    h = fnv1a(x.data(), x.size() * 4, h);
    auto y = cx.run(ggml_mul_mat(cx.ctx, w, cx.f32(mm.k, mm.n, x)));
    g.add(c + "/inputs_fnv", std::vector<uint64_t>{h});
    g.add(c + "/y", y);
  }
  g.write(dir + "/matmul.ckg.zst");
}


void gen_rope(const std::string& dir) {
  Group g;
  for (const RopeCase& rc : rope_cases()) {
    const std::string c = std::string("rope/") + rc.name;
    auto x = uniform_vec(c + "/x", size_t(rc.d_head) * rc.n_heads * rc.n_tokens, -3.0f, 3.0f);
    auto pos = rope_positions(rc);
    Ctx cx;
    ggml_tensor* xt = ggml_new_tensor_3d(cx.ctx, GGML_TYPE_F32, rc.d_head, rc.n_heads, rc.n_tokens);
    std::memcpy(xt->data, x.data(), x.size() * 4);
    ggml_tensor* pt = ggml_new_tensor_1d(cx.ctx, GGML_TYPE_I32, 4 * rc.n_tokens);
    std::memcpy(pt->data, pos.data(), pos.size() * 4);
    int sections[4] = {rc.sections[0], rc.sections[1], rc.sections[2], rc.sections[3]};
    auto y = cx.run(ggml_rope_multi(cx.ctx, xt, pt, nullptr, rc.n_dims, sections, rc.mode, 32768, rc.freq_base, 1.0f,
                                    0.0f, 1.0f, 32.0f, 1.0f));
    g.fingerprint(c, {{x.data(), x.size() * 4}, {pos.data(), pos.size() * 4}});
    g.add(c + "/y", y);
  }
  g.write(dir + "/rope.ckg.zst");
}

void gen_softmax(const std::string& dir) {
  Group g;
  struct SM { int rows, n; float scale; int mask; };  // mask: 0 none, 1 f16, 2 f32
  for (const SM& sm : {SM{3, 1027, 0.125f, 1}, SM{2, 4096, 1.0f, 0}, SM{4, 77, 0.5f, 2}, SM{2, 64, 0.0883883476f, 1}}) {
    const std::string c = "soft_max/r=" + std::to_string(sm.rows) + ",n=" + std::to_string(sm.n) +
                          ",mask=" + std::to_string(sm.mask);
    auto x = act_vec(c + "/x", size_t(sm.rows) * sm.n, -20.0f, 20.0f);
    auto m = uniform_vec(c + "/m", size_t(sm.rows) * sm.n, -4.0f, 0.0f);
    for (size_t i = 0; i < m.size(); i += 7) m[i] = -INFINITY;
    Ctx cx;
    ggml_tensor* xt = cx.f32(sm.n, sm.rows, x);
    ggml_tensor* mt = nullptr;
    if (sm.mask == 1) {
      mt = ggml_new_tensor_2d(cx.ctx, GGML_TYPE_F16, sm.n, sm.rows);
      ggml_cpu_fp32_to_fp16(m.data(), static_cast<ggml_fp16_t*>(mt->data), m.size());
    } else if (sm.mask == 2) {
      mt = cx.f32(sm.n, sm.rows, m);
    }
    auto y = cx.run(ggml_soft_max_ext(cx.ctx, xt, mt, sm.scale, 0.0f));
    g.fingerprint(c, {{x.data(), x.size() * 4}, {m.data(), m.size() * 4}});
    g.add(c + "/y", y);
  }
  // argmax: ggml_argmax (ggml_vec_argmax_f32, last of tied maxima) and llama's greedy sampler (first maximum).
  for (int n : {1000, 151936}) {
    const std::string c = "argmax/n=" + std::to_string(n);
    auto x = uniform_vec(c + "/x", size_t(n), -10.0f, 10.0f);
    x[n / 3] = 30.0f, x[n / 2] = 30.0f, x[n - 2] = 29.0f;  // tied maximum
    Ctx cx;
    ggml_tensor* out = ggml_argmax(cx.ctx, cx.f32(n, 1, x));
    ggml_cgraph* gf = ggml_new_graph(cx.ctx);
    ggml_build_forward_expand(gf, out);
    if (ggml_graph_compute_with_ctx(cx.ctx, gf, 2) != GGML_STATUS_SUCCESS) throw std::runtime_error("compute");
    const int32_t last = static_cast<const int32_t*>(out->data)[0];
    std::vector<llama_token_data> td(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) td[size_t(i)] = {i, x[size_t(i)], 0.0f};
    llama_token_data_array arr{td.data(), size_t(n), -1, false};
    llama_sampler* smpl = llama_sampler_init_greedy();
    llama_sampler_apply(smpl, &arr);
    llama_sampler_free(smpl);
    g.fingerprint(c, {{x.data(), x.size() * 4}});
    g.add(c + "/ggml_argmax", std::vector<int64_t>{last});
    g.add(c + "/greedy", std::vector<int64_t>{arr.selected});
  }
  g.write(dir + "/softmax.ckg.zst");
}

// Weight table of `type` (rows x ncols) for get_rows / mat-mul cases, as raw bytes.
std::vector<uint8_t> weight_table(const std::string& c, const std::string& type, size_t rows, size_t ncols) {
  if (type == "f32") return bytes_of(uniform_vec(c + "/w", rows * ncols, -1.0f, 1.0f));
  if (type == "f16") return bytes_of(f16_weights(c + "/w", rows * ncols));
  if (type == "bf16") return bytes_of(bf16_vec(c + "/w", rows * ncols, -1.0f, 1.0f));
  if (type == "q4_0") return q4_0_blocks(c + "/w", rows * ncols / 32);
  if (type == "q8_0") return q8_0_blocks(c + "/w", rows * ncols / 32, -127);
  if (type == "q4_K") return q4_K_blocks(c + "/w", rows * ncols / 256);
  if (type == "q5_K") return q5_K_blocks(c + "/w", rows * ncols / 256);
  if (type == "q6_K") return q6_K_blocks(c + "/w", rows * ncols / 256);
  throw std::runtime_error("type " + type);
}
ggml_type ggml_type_of(const std::string& t) {
  if (t == "f32") return GGML_TYPE_F32;
  if (t == "f16") return GGML_TYPE_F16;
  if (t == "bf16") return GGML_TYPE_BF16;
  if (t == "q4_0") return GGML_TYPE_Q4_0;
  if (t == "q8_0") return GGML_TYPE_Q8_0;
  if (t == "q4_K") return GGML_TYPE_Q4_K;
  if (t == "q5_K") return GGML_TYPE_Q5_K;
  if (t == "q6_K") return GGML_TYPE_Q6_K;
  throw std::runtime_error("type " + t);
}

void gen_getrows(const std::string& dir) {
  Group g;
  const std::vector<int32_t> ids = {3, 0, 5, 5, 1, 6};
  for (const char* type : {"f32", "f16", "bf16", "q4_0", "q8_0", "q4_K", "q5_K", "q6_K"}) {
    const std::string c = std::string("get_rows/") + type;
    const size_t rows = 7, ncols = 512;
    auto w = weight_table(c, type, rows, ncols);
    Ctx cx;
    ggml_tensor* wt = ggml_new_tensor_2d(cx.ctx, ggml_type_of(type), ncols, rows);
    std::memcpy(wt->data, w.data(), w.size());
    ggml_tensor* it = ggml_new_tensor_1d(cx.ctx, GGML_TYPE_I32, int64_t(ids.size()));
    std::memcpy(it->data, ids.data(), ids.size() * 4);
    auto y = cx.run(ggml_get_rows(cx.ctx, wt, it));
    g.fingerprint(c, {{w.data(), w.size()}, {ids.data(), ids.size() * 4}});
    g.add(c + "/y", y);
  }
  g.write(dir + "/getrows.ckg.zst");
}

void gen_dotq(const std::string& dir) {
  Group g;
  // vec_dot of K-quants x q8_K and Q4_0 / Q5_0 x Q8_0 on raw blocks.
  for (const char* type : {"q4_K", "q5_K", "q6_K"}) {
    for (int n : {256, 1024, 4096}) {
      const std::string c = std::string("dot_") + type + "/n=" + std::to_string(n);
      auto x = weight_table(c, type, 1, size_t(n));
      auto y = q8_K_blocks(c + "/y", size_t(n) / 256);
      float s = 0;
      ggml_get_type_traits_cpu(ggml_type_of(type))->vec_dot(n, &s, 0, x.data(), 0, y.data(), 0, 1);
      g.fingerprint(c, {{x.data(), x.size()}, {y.data(), y.size()}});
      g.add(c + "/s", std::vector<float>{s});
    }
  }
  for (int n : {32, 1024, 4096}) {
    const std::string c = "dot_q4_0/n=" + std::to_string(n);
    auto x = q4_0_blocks(c + "/x", size_t(n) / 32);
    auto y = q8_0_blocks(c + "/y", size_t(n) / 32, -127);
    float s = 0;
    ggml_get_type_traits_cpu(GGML_TYPE_Q4_0)->vec_dot(n, &s, 0, x.data(), 0, y.data(), 0, 1);
    g.fingerprint(c, {{x.data(), x.size()}, {y.data(), y.size()}});
    g.add(c + "/s", std::vector<float>{s});
  }
  for (int qmin : {-127, -128}) {  // -128 activations exercise sign_epi8's wrap
    for (int n : {32, 64, 1024, 4096}) {
      const std::string c = "dot_q5_0/n=" + std::to_string(n) + ",qmin=" + std::to_string(qmin);
      auto x = q5_0_blocks(c + "/x", size_t(n) / 32);
      auto y = q8_0_blocks(c + "/y", size_t(n) / 32, qmin);
      float s = 0;
      ggml_get_type_traits_cpu(GGML_TYPE_Q5_0)->vec_dot(n, &s, 0, x.data(), 0, y.data(), 0, 1);
      g.fingerprint(c, {{x.data(), x.size()}, {y.data(), y.size()}});
      g.add(c + "/s", std::vector<float>{s});
    }
  }
  for (int n : {64, 72, 1027, 4096}) {
    const std::string c = "dot_f32/n=" + std::to_string(n);
    auto x = uniform_vec(c + "/x", size_t(n), -2.0f, 2.0f);
    auto y = uniform_vec(c + "/y", size_t(n), -2.0f, 2.0f);
    float s = 0;
    ggml_get_type_traits_cpu(GGML_TYPE_F32)->vec_dot(n, &s, 0, x.data(), 0, y.data(), 0, 1);
    g.fingerprint(c, {{x.data(), x.size() * 4}, {y.data(), y.size() * 4}});
    g.add(c + "/s", std::vector<float>{s});
  }
  for (int n : {64, 72, 1027, 4304}) {
    const std::string c = "dot_bf16/n=" + std::to_string(n);
    auto x = bf16_vec(c + "/x", size_t(n), -2.0f, 2.0f);
    auto y = bf16_vec(c + "/y", size_t(n), -2.0f, 2.0f);
    float s = 0;
    ggml_get_type_traits_cpu(GGML_TYPE_BF16)->vec_dot(n, &s, 0, x.data(), 0, y.data(), 0, 1);
    g.fingerprint(c, {{x.data(), x.size() * 2}, {y.data(), y.size() * 2}});
    g.add(c + "/s", std::vector<float>{s});
  }
  // Whole ggml_mul_mat ops (plain CPU buffer: no repack), F32 activations.
  for (const DotqMM& mm : dotq_matmul_cases()) {
    const std::string c = dotq_matmul_name(mm);
    auto w = weight_table(c, mm.type, size_t(mm.m), size_t(mm.k));
    auto x = uniform_vec(c + "/x", size_t(mm.n) * mm.k, -2.0f, 2.0f);
    Ctx cx;
    ggml_tensor* wt = ggml_new_tensor_2d(cx.ctx, ggml_type_of(mm.type), mm.k, mm.m);
    std::memcpy(wt->data, w.data(), w.size());
    auto y = cx.run(ggml_mul_mat(cx.ctx, wt, cx.f32(mm.k, mm.n, x)));
    g.fingerprint(c, {{w.data(), w.size()}, {x.data(), x.size() * 4}});
    g.add(c + "/y", y);
  }
  // BF16 operands by exponent band, around the range where ck may use vdpbf16ps (kernel_cases.h kBfExp).
  for (const BfExpMM& mm : kBfExpFixtures) {
    const std::string c = bf16_exp_name(mm);
    auto w = bf16_exp_weights(c + "/w", kBfExp[mm.band], mm.m, mm.k);
    auto x = bf16_exp_act(c + "/x", kBfExp[mm.band], mm.n, mm.k);
    Ctx cx;
    ggml_tensor* wt = ggml_new_tensor_2d(cx.ctx, GGML_TYPE_BF16, mm.k, mm.m);
    std::memcpy(wt->data, w.data(), w.size() * 2);
    auto y = cx.run(ggml_mul_mat(cx.ctx, wt, cx.f32(mm.k, mm.n, x)));
    g.fingerprint(c, {{w.data(), w.size() * 2}, {x.data(), x.size() * 4}});
    g.add(c + "/y", y);
  }
  g.write(dir + "/dotq.ckg.zst");
}

// Q4_K mat-muls as llama.cpp runs them by default: weights in the CPU_REPACK extra buffer (repacked to
// block_q4_Kx8 on upload), computed by the CPU backend (gemm for rows < n - n%4, gemv for the rest).
void gen_repack(const std::string& dir) {
  Group g;
  ggml_backend_t be = ggml_backend_cpu_init();
  ggml_backend_cpu_set_n_threads(be, 2);
  ggml_backend_dev_t dev = ggml_backend_get_device(be);
  auto get_extra = reinterpret_cast<ggml_backend_dev_get_extra_bufts_t>(
      ggml_backend_reg_get_proc_address(ggml_backend_cpu_reg(), "ggml_backend_dev_get_extra_bufts"));
  ggml_backend_buffer_type_t repack = nullptr;
  for (ggml_backend_buffer_type_t* b = get_extra(dev); b && *b; ++b)
    if (std::string(ggml_backend_buft_name(*b)) == "CPU_REPACK") repack = *b;
  if (!repack) throw std::runtime_error("no CPU_REPACK buffer type");
  for (const RepackMM& mm : repack_cases()) {
    const std::string c = repack_name(mm);
    auto w = q4_K_blocks(c + "/w", size_t(mm.m) * mm.k / 256);
    auto x = uniform_vec(c + "/x", size_t(mm.n) * mm.k, -2.0f, 2.0f);
    ggml_init_params wp = {ggml_tensor_overhead() * 4, nullptr, true};
    ggml_context* cw = ggml_init(wp);
    ggml_tensor* wt = ggml_new_tensor_2d(cw, GGML_TYPE_Q4_K, mm.k, mm.m);
    ggml_backend_buffer_t wb = ggml_backend_alloc_ctx_tensors_from_buft(cw, repack);
    ggml_backend_tensor_set(wt, w.data(), 0, w.size());
    ggml_init_params ap = {ggml_tensor_overhead() * 8 + ggml_graph_overhead(), nullptr, true};
    ggml_context* ca = ggml_init(ap);
    ggml_tensor* xt = ggml_new_tensor_2d(ca, GGML_TYPE_F32, mm.k, mm.n);
    ggml_tensor* out = ggml_mul_mat(ca, wt, xt);
    ggml_backend_buffer_t ab = ggml_backend_alloc_ctx_tensors_from_buft(ca, ggml_backend_cpu_buffer_type());
    ggml_backend_tensor_set(xt, x.data(), 0, x.size() * 4);
    ggml_cgraph* gf = ggml_new_graph(ca);
    ggml_build_forward_expand(gf, out);
    if (ggml_backend_graph_compute(be, gf) != GGML_STATUS_SUCCESS) throw std::runtime_error("compute");
    std::vector<float> y(size_t(mm.m) * mm.n);
    ggml_backend_tensor_get(out, y.data(), 0, y.size() * 4);
    g.fingerprint(c, {{w.data(), w.size()}, {x.data(), x.size() * 4}});
    g.add(c + "/y", y);
    ggml_backend_buffer_free(ab);
    ggml_backend_buffer_free(wb);
    ggml_free(ca);
    ggml_free(cw);
  }
  ggml_backend_free(be);
  g.write(dir + "/repack.ckg.zst");
}

}  // namespace

// ggml-cpu internals with C linkage (ggml-cpu/repack.h): the activation quantizer of the q4_0_8x8 gemm rows.
extern "C" void ggml_quantize_mat_q8_0_4x8(const float* x, void* vy, int64_t k);

namespace {

// Q4_0 mat-muls as llama.cpp runs them by default: weights in CPU_REPACK (block_q4_0x8 via make_block_q4_0x8 on
// upload), ggml_gemm_q4_0_8x8_q8_0 for rows < n - n%4, ggml_gemv_q4_0_8x8_q8_0 for the rest. Also records the
// repacked weight bytes (the buffer's tensor data) and ggml_quantize_mat_q8_0_4x8 of the first 4 activation rows.
void gen_repack_q4_0(const std::string& dir) {
  Group g;
  ggml_backend_t be = ggml_backend_cpu_init();
  ggml_backend_cpu_set_n_threads(be, 2);
  ggml_backend_dev_t dev = ggml_backend_get_device(be);
  auto get_extra = reinterpret_cast<ggml_backend_dev_get_extra_bufts_t>(
      ggml_backend_reg_get_proc_address(ggml_backend_cpu_reg(), "ggml_backend_dev_get_extra_bufts"));
  ggml_backend_buffer_type_t repack = nullptr;
  for (ggml_backend_buffer_type_t* b = get_extra(dev); b && *b; ++b)
    if (std::string(ggml_backend_buft_name(*b)) == "CPU_REPACK") repack = *b;
  if (!repack) throw std::runtime_error("no CPU_REPACK buffer type");
  for (const RepackMM& mm : repack_q4_0_cases()) {
    const std::string c = repack_q4_0_name(mm);
    auto w = q4_0_blocks(c + "/w", size_t(mm.m) * mm.k / 32);
    auto x = uniform_vec(c + "/x", size_t(mm.n) * mm.k, -2.0f, 2.0f);
    ggml_init_params wp = {ggml_tensor_overhead() * 4, nullptr, true};
    ggml_context* cw = ggml_init(wp);
    ggml_tensor* wt = ggml_new_tensor_2d(cw, GGML_TYPE_Q4_0, mm.k, mm.m);
    ggml_backend_buffer_t wb = ggml_backend_alloc_ctx_tensors_from_buft(cw, repack);
    ggml_backend_tensor_set(wt, w.data(), 0, w.size());
    ggml_init_params ap = {ggml_tensor_overhead() * 8 + ggml_graph_overhead(), nullptr, true};
    ggml_context* ca = ggml_init(ap);
    ggml_tensor* xt = ggml_new_tensor_2d(ca, GGML_TYPE_F32, mm.k, mm.n);
    ggml_tensor* out = ggml_mul_mat(ca, wt, xt);
    ggml_backend_buffer_t ab = ggml_backend_alloc_ctx_tensors_from_buft(ca, ggml_backend_cpu_buffer_type());
    ggml_backend_tensor_set(xt, x.data(), 0, x.size() * 4);
    ggml_cgraph* gf = ggml_new_graph(ca);
    ggml_build_forward_expand(gf, out);
    if (ggml_backend_graph_compute(be, gf) != GGML_STATUS_SUCCESS) throw std::runtime_error("compute");
    std::vector<float> y(size_t(mm.m) * mm.n);
    ggml_backend_tensor_get(out, y.data(), 0, y.size() * 4);
    g.fingerprint(c, {{w.data(), w.size()}, {x.data(), x.size() * 4}});
    g.add(c + "/y", y);
    // CPU_REPACK is a host buffer: tensor->data holds the interleaved block_q4_0x8 (144 bytes per 8 x 32 values).
    // Random nibbles do not compress: bytes for the small cases, an FNV-1a fingerprint for all.
    std::vector<uint8_t> packed(w.size());
    std::memcpy(packed.data(), wt->data, packed.size());
    g.add(c + "/w_q4_0x8_fnv", std::vector<uint64_t>{fnv1a(packed.data(), packed.size(), 0xcbf29ce484222325ull)});
    if (size_t(mm.m) * mm.k <= 8192) g.add(c + "/w_q4_0x8", packed);
    if (mm.n >= 4) {
      std::vector<uint8_t> q(size_t(mm.k / 32) * 136);
      ggml_quantize_mat_q8_0_4x8(x.data(), q.data(), mm.k);
      g.add(c + "/x_q8_0x4", q);
    }
    ggml_backend_buffer_free(ab);
    ggml_backend_buffer_free(wb);
    ggml_free(ca);
    ggml_free(cw);
  }
  ggml_backend_free(be);
  g.write(dir + "/repack_q4_0.ckg.zst");
}

void gen_fa(const std::string& dir) {
  Group g;
  for (const FaCase& fc : fa_cases()) {
    const std::string c = std::string("fa/") + fc.name;
    FaInputs in = fa_inputs(fc);
    Ctx cx;
    ggml_tensor* q = ggml_new_tensor_3d(cx.ctx, GGML_TYPE_F32, fc.DK, fc.N, fc.H);
    std::memcpy(q->data, in.q.data(), in.q.size() * 4);
    ggml_tensor* k = ggml_new_tensor_3d(cx.ctx, GGML_TYPE_F16, fc.DK, fc.KV, fc.Hk);
    std::memcpy(k->data, in.k.data(), in.k.size() * 2);
    ggml_tensor* v = ggml_new_tensor_3d(cx.ctx, GGML_TYPE_F16, fc.DV, fc.KV, fc.Hk);
    std::memcpy(v->data, in.v.data(), in.v.size() * 2);
    ggml_tensor* m = nullptr;
    if (!in.mask.empty()) {
      m = ggml_new_tensor_2d(cx.ctx, GGML_TYPE_F16, fc.KV, fc.N);
      std::memcpy(m->data, in.mask.data(), in.mask.size() * 2);
    }
    const float scale = 1.0f / std::sqrt(static_cast<float>(fc.DK));
    auto y = cx.run(ggml_flash_attn_ext(cx.ctx, q, k, v, m, scale, 0.0f, 0.0f), fc.threads);
    g.fingerprint(c, {{in.q.data(), in.q.size() * 4}, {in.k.data(), in.k.size() * 2}, {in.v.data(), in.v.size() * 2},
                      {in.mask.data(), in.mask.size() * 2}});
    g.add(c + "/y", y);
  }
  g.write(dir + "/fa.ckg.zst");
}

// ggml_mul_mat_id per weight type, through the CPU backend: the experts in CPU_REPACK when llama.cpp would put
// them there (ggml_repack_get_optimal_repack_type on AVX2: Q4_K with ne[1] % 8 == 0), else in a plain CPU buffer.
// Then the routing chain of build_moe_ffn (softmax gating, norm_w) as one graph on 2 threads.
void gen_moe(const std::string& dir) {
  Group g;
  ggml_backend_t be = ggml_backend_cpu_init();
  ggml_backend_cpu_set_n_threads(be, 2);
  ggml_backend_dev_t dev = ggml_backend_get_device(be);
  auto get_extra = reinterpret_cast<ggml_backend_dev_get_extra_bufts_t>(
      ggml_backend_reg_get_proc_address(ggml_backend_cpu_reg(), "ggml_backend_dev_get_extra_bufts"));
  ggml_backend_buffer_type_t repack = nullptr;
  for (ggml_backend_buffer_type_t* b = get_extra(dev); b && *b; ++b)
    if (std::string(ggml_backend_buft_name(*b)) == "CPU_REPACK") repack = *b;
  if (!repack) throw std::runtime_error("no CPU_REPACK buffer type");
  for (const MoeMM& mm : moe_mm_cases()) {
    const std::string c = moe_mm_name(mm);
    const int ne11 = mm.per_slot ? mm.n_used : 1;
    auto w = weight_table(c, mm.type, size_t(mm.E) * mm.M, size_t(mm.K));
    auto x = uniform_vec(c + "/x", size_t(mm.T) * ne11 * mm.K, -2.0f, 2.0f);
    auto ids = moe_ids(c + "/ids", mm.E, mm.T, mm.n_used, mm.empty);
    const bool in_repack = std::string(mm.type) == "q4_K" && mm.M % 8 == 0;
    ggml_init_params wp = {ggml_tensor_overhead() * 4, nullptr, true};
    ggml_context* cw = ggml_init(wp);
    ggml_tensor* wt = ggml_new_tensor_3d(cw, ggml_type_of(mm.type), mm.K, mm.M, mm.E);
    ggml_backend_buffer_t wb = ggml_backend_alloc_ctx_tensors_from_buft(cw, in_repack ? repack : ggml_backend_cpu_buffer_type());
    ggml_backend_tensor_set(wt, w.data(), 0, w.size());
    ggml_init_params ap = {ggml_tensor_overhead() * 8 + ggml_graph_overhead(), nullptr, true};
    ggml_context* ca = ggml_init(ap);
    ggml_tensor* xt = ggml_new_tensor_3d(ca, GGML_TYPE_F32, mm.K, ne11, mm.T);
    ggml_tensor* it = ggml_new_tensor_2d(ca, GGML_TYPE_I32, mm.n_used, mm.T);
    ggml_tensor* out = ggml_mul_mat_id(ca, wt, xt, it);
    ggml_backend_buffer_t ab = ggml_backend_alloc_ctx_tensors_from_buft(ca, ggml_backend_cpu_buffer_type());
    ggml_backend_tensor_set(xt, x.data(), 0, x.size() * 4);
    ggml_backend_tensor_set(it, ids.data(), 0, ids.size() * 4);
    ggml_cgraph* gf = ggml_new_graph(ca);
    ggml_build_forward_expand(gf, out);
    if (ggml_backend_graph_compute(be, gf) != GGML_STATUS_SUCCESS) throw std::runtime_error("compute");
    std::vector<float> y(size_t(mm.M) * mm.n_used * mm.T);
    ggml_backend_tensor_get(out, y.data(), 0, y.size() * 4);
    g.fingerprint(c, {{w.data(), w.size()}, {x.data(), x.size() * 4}, {ids.data(), ids.size() * 4}});
    g.add(c + "/y", y);
    ggml_backend_buffer_free(ab);
    ggml_backend_buffer_free(wb);
    ggml_free(ca);
    ggml_free(cw);
  }
  ggml_backend_free(be);
  for (const MoeRouteCase& rc : moe_route_cases()) {
    const std::string c = moe_route_name(rc);
    auto logits = moe_logits(c, rc);
    auto ex = uniform_vec(c + "/experts", size_t(rc.H) * rc.k * rc.T, -3.0f, 3.0f);
    Ctx cx;
    ggml_tensor* lt = cx.f32(rc.E, rc.T, logits);
    ggml_tensor* probs = ggml_soft_max(cx.ctx, lt);
    ggml_tensor* sel = ggml_argsort_top_k(cx.ctx, probs, rc.k);
    ggml_tensor* wraw = ggml_get_rows(cx.ctx, ggml_reshape_3d(cx.ctx, probs, 1, rc.E, rc.T), sel);  // [1, k, T]
    ggml_tensor* w2 = ggml_reshape_2d(cx.ctx, wraw, rc.k, rc.T);
    ggml_tensor* sum = ggml_clamp(cx.ctx, ggml_sum_rows(cx.ctx, w2), 6.103515625e-5f, INFINITY);
    ggml_tensor* wn = ggml_div(cx.ctx, w2, sum);
    ggml_tensor* et = ggml_new_tensor_3d(cx.ctx, GGML_TYPE_F32, rc.H, rc.k, rc.T);
    std::memcpy(et->data, ex.data(), ex.size() * 4);
    ggml_tensor* weighted = ggml_mul(cx.ctx, et, ggml_reshape_3d(cx.ctx, wn, 1, rc.k, rc.T));
    ggml_tensor* acc = ggml_view_2d(cx.ctx, weighted, rc.H, rc.T, weighted->nb[2], 0);
    for (int i = 1; i < rc.k; ++i)
      acc = ggml_add(cx.ctx, acc, ggml_view_2d(cx.ctx, weighted, rc.H, rc.T, weighted->nb[2], size_t(i) * weighted->nb[1]));
    if (rc.k == 1) acc = ggml_cont(cx.ctx, acc);
    ggml_cgraph* gf = ggml_new_graph(cx.ctx);
    for (ggml_tensor* t : {probs, sel, wraw, wn, acc}) ggml_build_forward_expand(gf, t);
    if (ggml_graph_compute_with_ctx(cx.ctx, gf, 2) != GGML_STATUS_SUCCESS) throw std::runtime_error("compute");
    std::vector<float> pv(size_t(rc.E) * rc.T), wrv(size_t(rc.k) * rc.T), wnv(wrv.size()), ov(size_t(rc.H) * rc.T);
    std::vector<int32_t> sv(size_t(rc.k) * rc.T);
    std::memcpy(pv.data(), probs->data, pv.size() * 4);
    std::memcpy(wrv.data(), wraw->data, wrv.size() * 4);
    std::memcpy(wnv.data(), wn->data, wnv.size() * 4);
    std::memcpy(ov.data(), acc->data, ov.size() * 4);
    for (int t = 0; t < rc.T; ++t)
      std::memcpy(&sv[size_t(t) * rc.k], static_cast<const char*>(sel->data) + size_t(t) * sel->nb[1], size_t(rc.k) * 4);
    g.fingerprint(c, {{logits.data(), logits.size() * 4}, {ex.data(), ex.size() * 4}});
    g.add(c + "/probs", pv);
    g.add(c + "/topk", sv);
    g.add(c + "/weights", wrv);
    g.add(c + "/weights_norm", wnv);
    g.add(c + "/out", ov);
  }
  g.write(dir + "/moe.ckg.zst");
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: gen_goldens <out-dir> [group...]   (no group: all)\n");
    return 2;
  }
  ggml_cpu_init();
  const std::string dir = argv[1];
  if (argc > 2) {  // only the named groups
    const std::map<std::string, void (*)(const std::string&)> groups = {{"moe", gen_moe}, {"repack", gen_repack},
                                                                         {"dotq", gen_dotq}, {"softmax", gen_softmax}};
    for (int i = 2; i < argc; ++i) {
      auto it = groups.find(argv[i]);
      if (it == groups.end()) {
        std::fprintf(stderr, "gen_goldens: unknown group '%s'\n", argv[i]);
        return 2;
      }
      it->second(dir);
    }
    return 0;
  }
  gen_convert(dir);
  gen_quantize(dir);
  gen_act(dir);
  gen_norm(dir);
  gen_dot(dir);
  gen_matmul(dir);
  gen_rope(dir);
  gen_softmax(dir);
  gen_getrows(dir);
  gen_dotq(dir);
  gen_repack(dir);
  gen_repack_q4_0(dir);
  gen_fa(dir);
  gen_moe(dir);
  return 0;
}
