// kernel_parity: live bit-for-bit parity of ck's strict kernels (lib/kernels) against the oracle's own ggml
// (llama.cpp b10256, linked statically from an oracle build), on the same inputs, in one process.
// `make test-v8-vision-kernels` runs it (tests/parity/gate.sh kernels) against the portable AVX2 oracle.
//
// Every kernel family of lib/kernels runs over the 2B model's shapes (vision hidden 1024, ffn 4096, patch
// 768/1536, merger 4096; text hidden 2048, ffn 6144, head dim 128), odd sizes and SIMD tails, row counts 1..8
// and >= 64, and special values (+-0, subnormals, +-inf / NaN where the op defines them, large magnitudes).
// ggml runs as llama.cpp runs it (ggml graphs on the CPU backend, 2 threads; vec_dot / from_float through
// ggml_get_type_traits_cpu); ck runs its dispatcher (best ISA of this CPU, capped by CK_KERNELS_ISA) at 1 and 2
// threads where the kernel is threaded. One line per kernel x shape:
//   OK   mul_mat.f16 tinyBLAS m=4096 n=64 k=1024
//   FAIL mul_mat.f16 tinyBLAS m=4096 n=64 k=1024: t=2 first difference at element 17: ck 0x3f800001 ggml 0x3f800000
// then a summary; exit 0 only if every comparison is bit-identical (1 on any difference, 2 on errors).
// mul_mat_id runs lib/runtime's bindings (bind_moe.cpp) themselves, so this program also links ck_runtime.
// Usage: kernel_parity [--filter SUBSTR] [--self-test]
//   --filter     run only lines whose label contains SUBSTR
//   --self-test  flip one bit of every ck result before comparing: every line must FAIL (exit 1)
#include <llama.h>

#include <chrono>
#include <bit>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>

#include "core/half.h"
#include "kernels/argmax.h"
#include "kernels/dequantize.h"
#include "kernels/flash_attn.h"
#include "kernels/gelu.h"
#include "kernels/isa.h"
#include "kernels/layer_norm.h"
#include "kernels/rms_norm.h"
#include "kernels/rope.h"
#include "kernels/silu.h"
#include "kernels/softmax.h"
#include "live_common.h"
#include "runtime/kernel_table.h"
#include "runtime/program.h"

using namespace live;

namespace {

std::string g_filter;
int g_ok = 0, g_fail = 0;
std::map<std::string, std::pair<int, int>> g_family;  // family -> (ok, fail)
std::unique_ptr<ck::ThreadPool> g_pool1, g_pool2;

bool wanted(const std::string& label) { return g_filter.empty() || label.find(g_filter) != std::string::npos; }

// "" if equal, else the first difference (elements of esize bytes; floats also get max_abs over finite pairs).
// With --self-test, the low bit of ck's first output byte is flipped before comparing: every line must FAIL
// (proves the comparison can fail; the gate runs it).
bool g_self_test = false;
std::string diff(const void* got_in, const void* want, size_t nbytes, size_t esize) {
  std::vector<uint8_t> flipped;
  const void* got = got_in;
  if (g_self_test && nbytes > 0) {
    flipped.assign(static_cast<const uint8_t*>(got_in), static_cast<const uint8_t*>(got_in) + nbytes);
    flipped[0] ^= 1;
    got = flipped.data();
  }
  if (std::memcmp(got, want, nbytes) == 0) return "";
  const auto* g = static_cast<const uint8_t*>(got);
  const auto* w = static_cast<const uint8_t*>(want);
  size_t first = 0, count = 0;
  double max_abs = 0;
  for (size_t e = 0; e < nbytes / esize; ++e) {
    if (std::memcmp(g + e * esize, w + e * esize, esize) == 0) continue;
    if (count++ == 0) first = e;
    if (esize == 4) {
      float a, b;
      std::memcpy(&a, g + e * esize, 4);
      std::memcpy(&b, w + e * esize, 4);
      if (std::isfinite(a) && std::isfinite(b)) max_abs = std::max(max_abs, std::fabs(double(a) - double(b)));
    }
  }
  uint64_t gv = 0, wv = 0;
  std::memcpy(&gv, g + first * esize, esize < 8 ? esize : 8);
  std::memcpy(&wv, w + first * esize, esize < 8 ? esize : 8);
  char buf[256];
  std::snprintf(buf, sizeof buf, "%zu of %zu elements differ, first at %zu: ck 0x%" PRIx64 " ggml 0x%" PRIx64
                ", max_abs %.3g", count, nbytes / esize, first, gv, wv, max_abs);
  return buf;
}

// Records one line. results: (what, diff string) per ck run compared.
void report(const std::string& family, const std::string& label, const std::vector<std::pair<std::string, std::string>>& results) {
  std::string bad;
  for (const auto& [what, d] : results)
    if (!d.empty()) bad += (bad.empty() ? "" : "; ") + what + " " + d;
  auto& f = g_family[family];
  if (bad.empty()) {
    ++g_ok, ++f.first;
    std::printf("OK   %s\n", label.c_str());
  } else {
    ++g_fail, ++f.second;
    std::printf("FAIL %s: %s\n", label.c_str(), bad.c_str());
  }
  std::fflush(stdout);
}

// Runs ck at 1 and 2 threads (fn(pool, out)), compares each with ref.
template <typename T>
void check_threads(const std::string& family, const std::string& label, const std::vector<T>& ref,
                   const std::function<void(ck::ThreadPool&, std::vector<T>&)>& fn, size_t esize = sizeof(T)) {
  std::vector<std::pair<std::string, std::string>> res;
  for (ck::ThreadPool* p : {g_pool1.get(), g_pool2.get()}) {
    std::vector<T> out(ref.size());
    std::memset(out.data(), 0xA5, out.size() * sizeof(T));
    fn(*p, out);
    res.emplace_back("t=" + std::to_string(p->size()), diff(out.data(), ref.data(), ref.size() * sizeof(T), esize));
  }
  report(family, label, res);
}

// ---- ggml helpers (as gen_goldens.cpp: one-op graphs on 2 threads) ---------------------------------------------
struct Ctx {
  ggml_context* ctx;
  explicit Ctx(size_t mb = 256) {
    ggml_init_params p = {mb << 20, nullptr, false};
    ctx = ggml_init(p);
    if (!ctx) throw std::runtime_error("ggml_init");
  }
  ~Ctx() { ggml_free(ctx); }
  ggml_tensor* f32(int64_t n0, int64_t n1, const std::vector<float>& v) {
    ggml_tensor* t = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, n0, n1);
    std::memcpy(t->data, v.data(), v.size() * 4);
    return t;
  }
  ggml_tensor* raw(ggml_type type, int64_t n0, int64_t n1, const void* p, size_t nbytes) {
    ggml_tensor* t = ggml_new_tensor_2d(ctx, type, n0, n1);
    if (ggml_nbytes(t) != nbytes) throw std::runtime_error("raw tensor size");
    std::memcpy(t->data, p, nbytes);
    return t;
  }
  std::vector<float> run(ggml_tensor* out, int nth = 2) {
    ggml_cgraph* gf = ggml_new_graph(ctx);
    ggml_build_forward_expand(gf, out);
    if (ggml_graph_compute_with_ctx(ctx, gf, nth) != GGML_STATUS_SUCCESS) throw std::runtime_error("compute");
    std::vector<float> r(size_t(ggml_nelements(out)));
    std::memcpy(r.data(), out->data, r.size() * 4);
    return r;
  }
};

std::string sz(const char* k, int64_t v) { return std::string(" ") + k + "=" + std::to_string(v); }

// Values that exercise every special path of an element-wise op: special_vec (+-0, +-inf, NaNs, fp16/bf16 ties,
// overflow, subnormals) with, if finite_only, the non-finite ones replaced by large finite values.
std::vector<float> specials(const std::string& name, size_t n, bool finite_only) {
  auto v = special_vec(name, n);
  if (finite_only)
    for (size_t i = 0; i < n; ++i)
      if (!std::isfinite(v[i])) v[i] = (i & 1) ? 3.0e38f : -1.5e30f;
  return v;
}

// Mat-mul activations: uniform [-2, 2); with `special`, row 0 gets +-0, subnormals and large values at scattered
// positions (incl. the last 3, the SIMD tails), and row 1 (if any) is all zeros. `big` stays finite after the
// activation's conversion (fp16: < 65504).
std::vector<float> mm_act(const std::string& name, int64_t n, int64_t k, bool special, float big) {
  auto x = uniform_vec(name, size_t(n * k), -2.0f, 2.0f);
  if (!special) return x;
  const float sp[] = {0.0f, -0.0f, 1e-40f, -1.4e-45f, big, -big, 1e-8f, 6.1e-5f, -0.5f * big};
  for (int64_t i = 0, j = 0; i < k; i += 13, ++j) x[size_t(i)] = sp[j % 9];
  for (int64_t i = 0; i < 3; ++i) x[size_t(k - 1 - i)] = sp[(i * 4 + 2) % 9];
  if (n > 1)
    for (int64_t i = 0; i < k; ++i) x[size_t(k + i)] = 0.0f;
  return x;
}

// ---- conversions ------------------------------------------------------------------------------------------------
void test_convert() {
  for (int64_t n : {1, 3, 7, 8, 9, 15, 16, 17, 33, 1027, 1536, 4096}) {
    const int64_t rows = 3;
    for (bool bf : {false, true}) {
      const std::string label = std::string(bf ? "fp32_to_bf16" : "fp32_to_fp16") + " rows=3" + sz("n", n);
      if (!wanted(label)) continue;
      auto x = special_vec(label, size_t(rows * n));
      std::vector<uint16_t> ref(x.size());
      if (bf) ggml_cpu_fp32_to_bf16(x.data(), reinterpret_cast<ggml_bf16_t*>(ref.data()), int64_t(x.size()));
      else {
        for (int64_t r = 0; r < rows; ++r)
          ggml_cpu_fp32_to_fp16(x.data() + r * n, reinterpret_cast<ggml_fp16_t*>(ref.data()) + r * n, n);
      }
      check_threads<uint16_t>("convert", label, ref, [&](ck::ThreadPool& p, std::vector<uint16_t>& y) {
        p.run([&](int ith, int nth) {
          if (bf) kn::fp32_to_bf16_rows(x.data(), n, y.data(), n, n, rows, ith, nth);
          else kn::fp32_to_fp16_rows(x.data(), n, y.data(), n, n, rows, ith, nth);
        });
      });
    }
  }
  for (bool bf : {false, true}) {
    const std::string label = std::string(bf ? "bf16_to_fp32" : "fp16_to_fp32") + " all 65536 values rows=16 n=4096";
    if (!wanted(label)) continue;
    std::vector<uint16_t> all(65536);
    for (int i = 0; i < 65536; ++i) all[size_t(i)] = uint16_t(i);
    std::vector<float> ref(65536);
    if (bf) ggml_cpu_bf16_to_fp32(reinterpret_cast<const ggml_bf16_t*>(all.data()), ref.data(), 65536);
    else ggml_cpu_fp16_to_fp32(reinterpret_cast<const ggml_fp16_t*>(all.data()), ref.data(), 65536);
    check_threads<float>("convert", label, ref, [&](ck::ThreadPool& p, std::vector<float>& y) {
      p.run([&](int ith, int nth) {
        if (bf) kn::bf16_to_fp32_rows(all.data(), 4096, y.data(), 4096, 4096, 16, ith, nth);
        else kn::fp16_to_fp32_rows(all.data(), 4096, y.data(), 4096, 4096, 16, ith, nth);
      });
    });
  }
}

// ---- activation quantizers (the from_float of mul_mat's vec_dot_type) ------------------------------------------
void test_quantize() {
  struct Q { const char* name; int64_t blk; size_t bsize; ggml_type t; };
  for (const Q& q : {Q{"quantize_q8_0", 32, 34, GGML_TYPE_Q8_0}, Q{"quantize_q8_K", 256, 292, GGML_TYPE_Q8_K}}) {
    for (int64_t k : {256, 512, 768, 1024, 1536, 2048, 4096, 6144}) {
      if (k < 2 * q.blk) continue;  // quant_input writes its special blocks 1..3 of every row
      for (int64_t rows : {1, 3, 8, 64}) {
        for (int variant = 0; variant < 2; ++variant) {
          if (variant == 1 && rows != 3) continue;
          const std::string label = std::string(q.name) + (variant ? " special" : "") + sz("rows", rows) + sz("k", k);
          if (!wanted(label)) continue;
          auto x = quant_input(label, size_t(rows), size_t(k), size_t(q.blk));
          if (variant) {  // +-0, subnormals, large finite magnitudes sprinkled into the uniform blocks
            auto s = specials(label + "/s", x.size(), true);
            for (size_t i = 0; i < x.size(); i += 5) x[i] = std::fabs(s[i]) > 1e30f ? s[i] * 1e-8f : s[i];
          }
          const size_t rb = size_t(k / q.blk) * q.bsize;
          std::vector<uint8_t> ref(size_t(rows) * rb, 0);  // zero-filled: upstream leaves bsums of all-zero q8_K blocks
          for (int64_t r = 0; r < rows; ++r)
            ggml_get_type_traits_cpu(q.t)->from_float(x.data() + r * k, ref.data() + size_t(r) * rb, k);
          check_threads<uint8_t>("quantize", label, ref, [&](ck::ThreadPool& p, std::vector<uint8_t>& y) {
            std::fill(y.begin(), y.end(), 0);
            p.run([&](int ith, int nth) {
              if (q.blk == 32)
                kn::quantize_rows_q8_0(x.data(), k, reinterpret_cast<kn::BlockQ8_0*>(y.data()), k / 32, k, rows, ith, nth);
              else
                kn::quantize_rows_q8_K(x.data(), k, reinterpret_cast<kn::BlockQ8_K*>(y.data()), k / 256, k, rows, ith, nth);
            });
          });
        }
      }
    }
  }
}

// ---- element-wise activations ------------------------------------------------------------------------------------
void test_act() {
  {
    const std::string label = "gelu all 65536 fp16 values (the whole table) rows=1 n=65536";
    if (wanted(label)) {
      std::vector<float> x(65536);
      for (int i = 0; i < 65536; ++i) x[size_t(i)] = ggml_fp16_to_fp32(ggml_fp16_t(i));
      Ctx c;
      auto ref = c.run(ggml_gelu(c.ctx, c.f32(65536, 1, x)));
      check_threads<float>("gelu", label, ref, [&](ck::ThreadPool& p, std::vector<float>& y) {
        p.run([&](int ith, int nth) { kn::gelu_rows(x.data(), 65536, y.data(), 65536, 65536, 1, ith, nth); });
      });
    }
  }
  struct S { int64_t rows, n; };
  const S shapes[] = {{1, 1}, {1, 7}, {3, 17}, {2, 1027}, {8, 1024}, {64, 4096}, {4, 6144}, {67, 6144}};
  for (const S& s : shapes) {
    for (int variant = 0; variant < 2; ++variant) {
      const std::string sfx = std::string(variant ? " special" : "") + sz("rows", s.rows) + sz("n", s.n);
      const size_t total = size_t(s.rows * s.n);
      auto mk = [&](const std::string& nm, float lo, float hi) {
        return variant ? specials(nm, total, false) : act_vec(nm, total, lo, hi);
      };
      const std::string lg = "gelu" + sfx, ls = "silu" + sfx, lw = "swiglu" + sfx;
      if (wanted(lg)) {
        auto x = mk(lg, -12, 12);
        Ctx c;
        auto ref = c.run(ggml_gelu(c.ctx, c.f32(s.n, s.rows, x)));
        check_threads<float>("gelu", lg, ref, [&](ck::ThreadPool& p, std::vector<float>& y) {
          p.run([&](int ith, int nth) { kn::gelu_rows(x.data(), s.n, y.data(), s.n, s.n, s.rows, ith, nth); });
        });
      }
      if (wanted(ls)) {
        auto x = mk(ls, -12, 12);
        Ctx c;
        auto ref = c.run(ggml_silu(c.ctx, c.f32(s.n, s.rows, x)));
        check_threads<float>("silu", ls, ref, [&](ck::ThreadPool& p, std::vector<float>& y) {
          p.run([&](int ith, int nth) { kn::silu_rows(x.data(), s.n, y.data(), s.n, s.n, s.rows, ith, nth); });
        });
      }
      if (wanted(lw)) {
        auto x = mk(lw + "/gate", -12, 12);
        auto u = variant ? specials(lw + "/up", total, false) : act_vec(lw + "/up", total, -3, 3);
        Ctx c;
        auto ref = c.run(ggml_swiglu_split(c.ctx, c.f32(s.n, s.rows, x), c.f32(s.n, s.rows, u)));
        check_threads<float>("swiglu", lw, ref, [&](ck::ThreadPool& p, std::vector<float>& y) {
          p.run([&](int ith, int nth) {
            kn::swiglu_rows(x.data(), s.n, u.data(), s.n, y.data(), s.n, s.n, s.rows, ith, nth);
          });
        });
      }
    }
  }
}

// ---- norms -----------------------------------------------------------------------------------------------------
void test_norm() {
  const float eps = 1e-6f;
  struct S { int64_t rows, n; };
  for (const S& s : {S{1, 1024}, S{3, 1152}, S{2, 1027}, S{8, 4096}, S{64, 1024}, S{5, 7}, S{1, 2048}}) {
    for (int wb = 0; wb < 2; ++wb) {
      for (int variant = 0; variant < 2; ++variant) {
        const std::string label = std::string("layer_norm") + (wb ? "+w+b" : "") + (variant ? " large" : "") +
                                  sz("rows", s.rows) + sz("n", s.n);
        if (!wanted(label)) continue;
        auto x = uniform_vec(label + "/x", size_t(s.rows * s.n), -2.5f, 4.0f);
        if (variant)  // large magnitudes and a constant row (variance 0), +-0, subnormals
          for (size_t i = 0; i < x.size(); ++i)
            x[i] = (i < size_t(s.n)) ? 3.0f : (i % 7 == 0 ? x[i] * 1e15f : i % 7 == 1 ? -0.0f : i % 7 == 2 ? 1e-40f : x[i]);
        auto w = uniform_vec(label + "/w", size_t(s.n), 0.5f, 1.5f);
        auto b = uniform_vec(label + "/b", size_t(s.n), -0.5f, 0.5f);
        Ctx c;
        ggml_tensor* t = ggml_norm(c.ctx, c.f32(s.n, s.rows, x), eps);
        if (wb) t = ggml_add(c.ctx, ggml_mul(c.ctx, t, c.f32(s.n, 1, w)), c.f32(s.n, 1, b));
        auto ref = c.run(t);
        check_threads<float>("layer_norm", label, ref, [&](ck::ThreadPool& p, std::vector<float>& y) {
          p.run([&](int ith, int nth) {
            kn::layer_norm_rows(x.data(), s.n, y.data(), s.n, s.n, s.rows, eps, wb ? w.data() : nullptr,
                                wb ? b.data() : nullptr, ith, nth);
          });
        });
      }
    }
  }
  for (const S& s : {S{1, 2048}, S{8, 128}, S{64, 128}, S{2, 1027}, S{3, 6144}, S{67, 2048}, S{1, 5}}) {
    for (int wt = 0; wt < 2; ++wt) {
      for (int variant = 0; variant < 2; ++variant) {
        const std::string label =
            std::string("rms_norm") + (wt ? "*w" : "") + (variant ? " large" : "") + sz("rows", s.rows) + sz("n", s.n);
        if (!wanted(label)) continue;
        auto x = uniform_vec(label + "/x", size_t(s.rows * s.n), -3.0f, 3.0f);
        if (variant)
          for (size_t i = 0; i < x.size(); ++i)
            x[i] = (i < size_t(s.n)) ? 0.0f : (i % 5 == 0 ? x[i] * 1e17f : i % 5 == 1 ? -0.0f : i % 5 == 2 ? -1e-41f : x[i]);
        auto w = uniform_vec(label + "/w", size_t(s.n), 0.5f, 1.5f);
        Ctx c;
        ggml_tensor* t = ggml_rms_norm(c.ctx, c.f32(s.n, s.rows, x), eps);
        if (wt) t = ggml_mul(c.ctx, t, c.f32(s.n, 1, w));
        auto ref = c.run(t);
        check_threads<float>("rms_norm", label, ref, [&](ck::ThreadPool& p, std::vector<float>& y) {
          p.run([&](int ith, int nth) {
            kn::rms_norm_rows(x.data(), s.n, y.data(), s.n, s.n, s.rows, eps, wt ? w.data() : nullptr, ith, nth);
          });
        });
      }
    }
  }
}

// ---- mat-muls: whole ggml_mul_mat ops vs ck's composition of the same path ------------------------------------------
struct MMCase {
  const char* type;
  int64_t m, n, k;
  bool repack;   // Q4_K / Q4_0 in the CPU_REPACK buffer (llama.cpp's default for ne[1] % 8 == 0)
  bool special;  // special activations (mm_act)
  // Q8_0 edge quants (dot_q8_0.cpp's VNNI tile condition): 1 = weights drawn from [-128, 127] (real quantizers stop
  // at -127); 2 = also a NaN first in a block of activation row 0: the block's scale stays finite (the AVX2
  // max-abs loses the NaN) and the NaN quantizes to -128, where maddubs' sign trick wraps: not the VNNI tile.
  // BF16 exponent ranges (matmul_tinyblas_bf16_dp.cpp's exact range, Emin_A + Emin_B >= 142 and
  // Emax_A + Emax_B + bit_width(k) <= 378), BfExp below.
  int extreme = 0;
};
constexpr int kBfExpBase = 3;  // MMCase.extreme = kBfExpBase + index into kBfExp (kernel_cases.h)

void run_mm(const MMCase& c) {
  const WType& t = wtype(c.type);
  const std::string label = std::string("mul_mat.") + c.type + " " + mm_path(t, c.m, c.n, c.k, c.repack) +
                            (c.special ? " special" : "") + (c.extreme == 1 ? " w=-128" : c.extreme == 2 ? " w=-128 x=nan" : "") +
                            (c.extreme >= kBfExpBase ? std::string(" ") + kBfExp[c.extreme - kBfExpBase].label : "") + sz("m", c.m) +
                            sz("n", c.n) + sz("k", c.k);
  if (!wanted(label)) return;
  const BfExp* be = c.extreme >= kBfExpBase ? &kBfExp[c.extreme - kBfExpBase] : nullptr;
  auto w = be ? bytes_of(bf16_exp_weights(label + "/w", *be, c.m, c.k))
           : c.extreme ? q8_0_blocks(label + "/w", size_t(c.m * c.k / 32), -128) : make_weights(label + "/w", t, c.m, c.k);
  const float big = std::string(c.type) == "f16" ? 3.0e4f : (t.blk > 1 ? 1.0e4f : 1.0e30f);
  auto x = be ? bf16_exp_act(label + "/x", *be, c.n, c.k) : mm_act(label + "/x", c.n, c.k, c.special, big);
  if (c.extreme == 2) x[size_t(c.k / 2)] = NAN;
  GgmlMulMat g(t, c.m, c.n, c.k, w.data(), c.repack);
  std::memcpy(g.input(), x.data(), x.size() * 4);
  g.run(2);
  std::vector<float> ref(g.result(), g.result() + size_t(c.m * c.n));
  std::vector<uint8_t> scratch;
  check_threads<float>("mul_mat." + std::string(c.type), label, ref, [&](ck::ThreadPool& p, std::vector<float>& y) {
    ck_mul_mat(p, t, c.m, c.n, c.k, w.data(), x.data(), y.data(), c.repack, scratch);
  });
}

void test_matmul() {
  std::vector<MMCase> cases;
  // Vision weights (F32 / F16 / BF16 / Q8_0): qkv, o, ffn up/down, patch (k = 768 per temporal slice; 1536),
  // merger / deepstack fc1 4096->4096, fc2 4096->2048; n = 1..8 and >= 64 (tails of the 4x3 / 4x12 tiles).
  for (const char* ty : {"f32", "f16", "bf16", "q8_0"}) {
    const bool f32 = std::string(ty) == "f32";
    cases.push_back({ty, 4096, 64, 1024, false, false});
    cases.push_back({ty, 1024, 64, 4096, false, false});
    cases.push_back({ty, 3072, 67, 1024, false, true});
    cases.push_back({ty, 1024, 13, 1024, false, false});
    cases.push_back({ty, 1024, 9, 768, false, true});
    cases.push_back({ty, 1024, 5, 1536, false, false});
    if (!f32) cases.push_back({ty, 2048, 16, 4096, false, false});
    for (int64_t n : {1, 2, 3, 4, 5, 6, 7, 8}) cases.push_back({ty, 256, n, 1024, false, n == 3});
    cases.push_back({ty, 1022, 7, 1024, false, false});  // m % 4 != 0: tinyBLAS declines
    cases.push_back({ty, 100, 70, 2048, false, true});
    if (std::string(ty) == "q8_0") {
      cases.push_back({ty, 256, 64, 1024, false, false, 1});
      cases.push_back({ty, 256, 64, 1024, false, false, 2});
      cases.push_back({ty, 256, 7, 1024, false, true, 1});
      cases.push_back({ty, 260, 1, 1024, false, false, 1});  // gemv: -128 weights (the VNNI gemv's sign trick)
      cases.push_back({ty, 260, 1, 1024, false, false, 2});  // and a -128 activation quant
    }
    if (std::string(ty) == "bf16")
      for (int e = 0; e < int(std::size(kBfExp)); ++e) {
        cases.push_back({ty, 1024, 20, 1024, false, false, kBfExpBase + e});
        cases.push_back({ty, 256, 7, 1032, false, false, kBfExpBase + e});  // k % 16 == 8: a final half step
      }
    if (std::string(ty) != "q8_0") {
      cases.push_back({ty, 64, 7, 1020, false, false});   // k % 8 != 0: tinyBLAS declines (vec_dot, its tail)
      cases.push_back({ty, 36, 3, 1027, false, true});
      cases.push_back({ty, 12, 2, 8, false, false});
    }
  }
  // Text weights: F16, Q8_0, K-quants (Q4_K repacked and plain, Q5_K, Q6_K), Q4_0 (repacked and plain), Q5_0.
  for (const char* ty : {"f16", "q8_0", "q4_K", "q5_K", "q6_K", "q4_0", "q5_0"}) {
    for (bool rp : {false, true}) {
      if (rp && std::string(ty) != "q4_K" && std::string(ty) != "q4_0") continue;
      cases.push_back({ty, 2048, 1, 2048, rp, false});
      cases.push_back({ty, 6144, 1, 2048, rp, true});
      cases.push_back({ty, 2048, 1, 6144, rp, false});
      cases.push_back({ty, 1000, 1, 2048, rp, false});  // a slice of lm_head 2048 -> 151936
      cases.push_back({ty, 2048, 64, 2048, rp, false});
      cases.push_back({ty, 1024, 67, 6144, rp, true});
      for (int64_t n : {2, 3, 4, 5, 7, 8, 9}) cases.push_back({ty, 512, n, 2048, rp, n == 5});
    }
  }
  for (const MMCase& c : cases) run_mm(c);
}

// ---- vec_dot: ggml's per-output kernels through type_traits_cpu ---------------------------------------------------
void test_vec_dot() {
  // F32 / F16 / BF16 against themselves (the kq / vec_dot mat-mul kernels)
  for (const char* ty : {"f32", "f16", "bf16"}) {
    for (int64_t n : {1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 64, 72, 127, 1024, 1027, 1536, 2048, 4096, 4304, 6144}) {
      const std::string label = std::string("vec_dot.") + ty + sz("n", n);
      if (!wanted(label)) continue;
      const std::string s = ty;
      std::vector<uint8_t> x, y;
      if (s == "f32") x = bytes_of(uniform_vec(label + "/x", size_t(n), -2, 2)), y = bytes_of(uniform_vec(label + "/y", size_t(n), -2, 2));
      else if (s == "f16") x = bytes_of(f16_weights(label + "/x", size_t(n))), y = bytes_of(f16_weights(label + "/y", size_t(n)));
      else x = bytes_of(bf16_vec(label + "/x", size_t(n), -2, 2)), y = bytes_of(bf16_vec(label + "/y", size_t(n), -2, 2));
      float ref = 0, got = 0;
      ggml_get_type_traits_cpu(wtype(ty).gt)->vec_dot(int(n), &ref, 0, x.data(), 0, y.data(), 0, 1);
      if (s == "f32") got = kn::dot_f32(n, reinterpret_cast<const float*>(x.data()), reinterpret_cast<const float*>(y.data()));
      else if (s == "f16") got = kn::dot_f16(n, reinterpret_cast<const uint16_t*>(x.data()), reinterpret_cast<const uint16_t*>(y.data()));
      else got = kn::dot_bf16(n, reinterpret_cast<const uint16_t*>(x.data()), reinterpret_cast<const uint16_t*>(y.data()));
      report("vec_dot." + s, label, {{"", diff(&got, &ref, 4, 4)}});
    }
  }
  // Quantized weights x quantized activations (q8_0 / q8_K blocks from the real quantizer of random activations,
  // plus raw q8 blocks with -128 quants where the format allows them)
  for (const char* ty : {"q8_0", "q4_0", "q5_0", "q4_K", "q5_K", "q6_K"}) {
    const WType& t = wtype(ty);
    const bool kq = t.blk == 256;
    for (int64_t n : {256, 512, 768, 1024, 1536, 2048, 4096, 6144}) {
      for (int variant = 0; variant < 2; ++variant) {
        const std::string label = std::string("vec_dot.") + ty + (variant ? " raw-q8(-128)" : "") + sz("n", n);
        if (!wanted(label)) continue;
        auto x = make_weights(label + "/x", t, 1, n);
        std::vector<uint8_t> y;
        if (variant) y = kq ? q8_K_blocks(label + "/y", size_t(n / 256)) : q8_0_blocks(label + "/y", size_t(n / 32), -128);
        else {
          auto a = mm_act(label + "/a", 1, n, true, 1e3f);
          y.assign(kq ? size_t(n / 256) * 292 : size_t(n / 32) * 34, 0);
          ggml_get_type_traits_cpu(kq ? GGML_TYPE_Q8_K : GGML_TYPE_Q8_0)->from_float(a.data(), y.data(), n);
        }
        float ref = 0, got = 0;
        ggml_get_type_traits_cpu(t.gt)->vec_dot(int(n), &ref, 0, x.data(), 0, y.data(), 0, 1);
        const std::string s = ty;
        const auto* y0 = reinterpret_cast<const kn::BlockQ8_0*>(y.data());
        const auto* yk = reinterpret_cast<const kn::BlockQ8_K*>(y.data());
        if (s == "q8_0") got = kn::dot_q8_0(n, reinterpret_cast<const kn::BlockQ8_0*>(x.data()), y0);
        else if (s == "q4_0") got = kn::dot_q4_0(n, reinterpret_cast<const kn::BlockQ4_0*>(x.data()), y0);
        else if (s == "q5_0") got = kn::dot_q5_0(n, reinterpret_cast<const kn::BlockQ5_0*>(x.data()), y0);
        else if (s == "q4_K") got = kn::dot_q4_K(n, reinterpret_cast<const kn::BlockQ4_K*>(x.data()), yk);
        else if (s == "q5_K") got = kn::dot_q5_K(n, reinterpret_cast<const kn::BlockQ5_K*>(x.data()), yk);
        else got = kn::dot_q6_K(n, reinterpret_cast<const kn::BlockQ6_K*>(x.data()), yk);
        report("vec_dot." + s, label, {{"", diff(&got, &ref, 4, 4)}});
      }
    }
  }
}

// ---- RoPE (ggml_rope_multi: vision 2D, text IMROPE, MROPE) ---------------------------------------------------------
void test_rope() {
  const std::vector<RopeCase> cases = {
      // vision 2B: d_head 64, 16 heads, n_dims = d/2 (sections 16,16,...), grids 16x16 and 7x9 (odd), far positions
      {"vision d=64 heads=16 grid=16x16", 24, 64, 32, {16, 16, 16, 16}, 10000.0f, 16, 256, 16, 0},
      {"vision d=64 heads=16 grid=9x7", 24, 64, 32, {16, 16, 16, 16}, 10000.0f, 16, 63, 9, 0},
      {"vision d=64 heads=2 far", 24, 64, 32, {16, 16, 16, 16}, 10000.0f, 2, 64, 8, 3000},
      {"vision d=72 heads=3", 24, 72, 36, {18, 18, 18, 18}, 10000.0f, 3, 20, 5, 0},
      // text 2B: head dim 128, 16 q heads / 8 kv heads, IMROPE sections 24,20,20; text + image positions
      {"imrope d=128 heads=16 n=70", 40, 128, 128, {24, 20, 20, 0}, 5000000.0f, 16, 70, 7, 4},
      {"imrope d=128 heads=8 n=1", 40, 128, 128, {24, 20, 20, 0}, 5000000.0f, 8, 4, 2, 1234},
      {"imrope d=128 heads=2 far", 40, 128, 128, {24, 20, 20, 0}, 5000000.0f, 2, 12, 3, 250000},
      {"mrope d=128 heads=4", 8, 128, 128, {24, 20, 20, 0}, 1000000.0f, 4, 16, 3, 7},
  };
  for (const RopeCase& rc : cases) {
    const std::string label = std::string("rope.") + rc.name + sz("tokens", rc.n_tokens);
    if (!wanted(label)) continue;
    auto x = uniform_vec(label + "/x", size_t(rc.d_head) * rc.n_heads * rc.n_tokens, -3.0f, 3.0f);
    for (size_t i = 0; i < x.size(); i += 97) x[i] = (i & 1) ? -0.0f : 1e-40f;
    auto pos = rope_positions(rc);
    Ctx c;
    ggml_tensor* xt = ggml_new_tensor_3d(c.ctx, GGML_TYPE_F32, rc.d_head, rc.n_heads, rc.n_tokens);
    std::memcpy(xt->data, x.data(), x.size() * 4);
    ggml_tensor* pt = ggml_new_tensor_1d(c.ctx, GGML_TYPE_I32, 4 * rc.n_tokens);
    std::memcpy(pt->data, pos.data(), pos.size() * 4);
    int sections[4] = {rc.sections[0], rc.sections[1], rc.sections[2], rc.sections[3]};
    auto ref = c.run(ggml_rope_multi(c.ctx, xt, pt, nullptr, rc.n_dims, sections, rc.mode, 32768, rc.freq_base, 1.0f,
                                     0.0f, 1.0f, 32.0f, 1.0f));
    kn::RopeParams p;
    p.n_dims = rc.n_dims;
    p.mode = rc.mode;
    for (int i = 0; i < 4; ++i) p.sections[i] = rc.sections[i];
    p.freq_base = rc.freq_base;
    check_threads<float>("rope", label, ref, [&](ck::ThreadPool& pool, std::vector<float>& y) {
      pool.run([&](int ith, int nth) {
        kn::rope_multi_rows(p, x.data(), y.data(), rc.d_head, rc.n_heads, rc.n_tokens, pos.data(), ith, nth);
      });
    });
  }
}

// ---- softmax + argmax ----------------------------------------------------------------------------------------------
void test_softmax() {
  struct SM { int64_t rows, n; float scale; int mask; };  // mask: 0 none, 1 f16, 2 f32
  for (const SM& sm : {SM{3, 1027, 0.125f, 1}, SM{2, 4096, 1.0f, 0}, SM{4, 77, 0.5f, 2}, SM{64, 64, 0.125f, 1},
                       SM{16, 256, 0.125f, 0}, SM{1, 7, 1.0f, 0}, SM{5, 2048, 0.0883883476f, 1}, SM{67, 1024, 1.0f, 2}}) {
    for (int variant = 0; variant < 2; ++variant) {
      const std::string label = std::string("soft_max") + (variant ? " special" : "") + " mask=" +
                                (sm.mask == 0 ? "none" : sm.mask == 1 ? "f16" : "f32") + sz("rows", sm.rows) +
                                sz("n", sm.n);
      if (!wanted(label)) continue;
      auto x = act_vec(label + "/x", size_t(sm.rows * sm.n), -20.0f, 20.0f);
      if (variant)  // +-0, subnormals, -inf logits, huge logits (finite)
        for (size_t i = 0; i < x.size(); i += 3) x[i] = (i % 4 == 0) ? -0.0f : (i % 4 == 1) ? 1e-42f : (i % 4 == 2) ? -INFINITY : 1e30f;
      auto m = uniform_vec(label + "/m", size_t(sm.rows * sm.n), -4.0f, 0.0f);
      for (size_t i = 0; i < m.size(); i += 7) m[i] = -INFINITY;
      Ctx c;
      ggml_tensor* mt = nullptr;
      std::vector<uint16_t> mh(m.size());
      ggml_cpu_fp32_to_fp16(m.data(), reinterpret_cast<ggml_fp16_t*>(mh.data()), int64_t(m.size()));
      if (sm.mask == 1) mt = c.raw(GGML_TYPE_F16, sm.n, sm.rows, mh.data(), mh.size() * 2);
      else if (sm.mask == 2) mt = c.f32(sm.n, sm.rows, m);
      auto ref = c.run(ggml_soft_max_ext(c.ctx, c.f32(sm.n, sm.rows, x), mt, sm.scale, 0.0f));
      check_threads<float>("soft_max", label, ref, [&](ck::ThreadPool& p, std::vector<float>& y) {
        p.run([&](int ith, int nth) {
          kn::soft_max_rows(x.data(), sm.n, y.data(), sm.n, sm.n, sm.rows, sm.scale, sm.mask == 1 ? mh.data() : nullptr,
                            sm.mask == 2 ? m.data() : nullptr, sm.n, sm.rows, ith, nth);
        });
      });
    }
  }
  for (int64_t n : {1, 7, 1000, 151936}) {
    for (int variant = 0; variant < 2; ++variant) {
      const std::string label = std::string("argmax") + (variant ? " ties+inf" : " ties") + sz("n", n);
      if (!wanted(label)) continue;
      auto x = uniform_vec(label + "/x", size_t(n), -10.0f, 10.0f);
      if (n > 3) x[size_t(n / 3)] = 30.0f, x[size_t(n / 2)] = 30.0f, x[size_t(n - 2)] = 29.0f;
      if (variant) x[size_t(n / 5)] = INFINITY, x[size_t(n - 1)] = INFINITY, x[0] = -INFINITY;
      Ctx c;
      ggml_tensor* out = ggml_argmax(c.ctx, c.f32(n, 1, x));
      ggml_cgraph* gf = ggml_new_graph(c.ctx);
      ggml_build_forward_expand(gf, out);
      if (ggml_graph_compute_with_ctx(c.ctx, gf, 2) != GGML_STATUS_SUCCESS) throw std::runtime_error("compute");
      const int64_t last = static_cast<const int32_t*>(out->data)[0];
      std::vector<llama_token_data> td(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) td[size_t(i)] = {llama_token(i), x[size_t(i)], 0.0f};
      llama_token_data_array arr{td.data(), size_t(n), -1, false};
      llama_sampler* smpl = llama_sampler_init_greedy();
      llama_sampler_apply(smpl, &arr);
      llama_sampler_free(smpl);
      const int64_t first = arr.selected;
      const int64_t got_first = kn::argmax_first(x.data(), n), got_last = kn::argmax_last(x.data(), n);
      report("argmax", label + " (greedy sampler first / ggml_argmax last)",
             {{"first", diff(&got_first, &first, 8, 8)}, {"last", diff(&got_last, &last, 8, 8)}});
    }
  }
}

// ---- flash attention -----------------------------------------------------------------------------------------------
void test_fa() {
  const std::vector<FaCase> cases = {
      // vision (no mask, d=64, 16 heads): tiled for >= 64 patches, one_chunk for tiny images
      {"tiled vision d=64 h=16 n=256", 64, 64, 256, 256, 16, 16, 0, 2},
      {"tiled vision d=64 h=16 n=100", 64, 64, 100, 100, 16, 16, 0, 2},
      {"one_chunk vision d=64 h=16 n=36", 64, 64, 36, 36, 16, 16, 0, 2},
      {"one_chunk vision d=64 h=4 n=63", 64, 64, 63, 63, 4, 4, 0, 2},
      // text (d=128, 16 q heads, 8 kv heads, causal F16 mask over the used cells)
      {"tiled text d=128 gqa n=64 kv=256", 128, 128, 64, 256, 16, 8, 200, 2},
      {"tiled text d=128 gqa n=130 kv=512", 128, 128, 130, 512, 16, 8, 300, 2},
      {"one_chunk text d=128 gqa n=5 kv=256", 128, 128, 5, 256, 16, 8, 77, 2},
      {"one_chunk text d=128 gqa n=1 kv=256", 128, 128, 1, 256, 16, 8, 100, 2},
      {"split_kv text d=128 gqa kv=512 t=1", 128, 128, 1, 512, 16, 8, 400, 1},
      {"split_kv text d=128 gqa kv=512 t=2", 128, 128, 1, 512, 16, 8, 512, 2},
      {"split_kv text d=128 gqa kv=1024 t=2", 128, 128, 1, 1024, 16, 8, 777, 2},
      {"split_kv text d=128 gqa kv=2048 t=2", 128, 128, 1, 2048, 16, 8, 1500, 2},
  };
  for (const FaCase& fc : cases) {
    const std::string label = std::string("flash_attn.") + fc.name;
    if (!wanted(label)) continue;
    FaInputs in = fa_inputs(fc);
    Ctx c(64);
    ggml_tensor* q = ggml_new_tensor_3d(c.ctx, GGML_TYPE_F32, fc.DK, fc.N, fc.H);
    std::memcpy(q->data, in.q.data(), in.q.size() * 4);
    ggml_tensor* k = ggml_new_tensor_3d(c.ctx, GGML_TYPE_F16, fc.DK, fc.KV, fc.Hk);
    std::memcpy(k->data, in.k.data(), in.k.size() * 2);
    ggml_tensor* v = ggml_new_tensor_3d(c.ctx, GGML_TYPE_F16, fc.DV, fc.KV, fc.Hk);
    std::memcpy(v->data, in.v.data(), in.v.size() * 2);
    ggml_tensor* m = nullptr;
    if (!in.mask.empty()) m = c.raw(GGML_TYPE_F16, fc.KV, fc.N, in.mask.data(), in.mask.size() * 2);
    const float scale = 1.0f / std::sqrt(float(fc.DK));
    auto ref = c.run(ggml_flash_attn_ext(c.ctx, q, k, v, m, scale, 0.0f, 0.0f), fc.threads);
    kn::FlashAttnShape s;
    s.DK = fc.DK, s.DV = fc.DV, s.N = fc.N, s.KV = fc.KV, s.H = fc.H, s.Hk = fc.Hk, s.scale = scale;
    s.q_si = fc.DK, s.q_sh = int64_t(fc.N) * fc.DK, s.k_sj = fc.DK, s.k_sg = int64_t(fc.KV) * fc.DK;
    s.v_sj = fc.DV, s.v_sg = int64_t(fc.KV) * fc.DV, s.mask_si = fc.KV;
    const char* path = kn::flash_attn_path(s) == kn::FlashAttnPath::tiled       ? "tiled"
                       : kn::flash_attn_path(s) == kn::FlashAttnPath::one_chunk ? "one_chunk"
                                                                                 : "split_kv";
    const std::string want_path = std::string(fc.name).substr(0, std::string(fc.name).find(' '));
    const uint16_t* mask = in.mask.empty() ? nullptr : in.mask.data();
    std::vector<std::pair<std::string, std::string>> res;
    if (want_path != path) res.emplace_back("path", std::string("ck picks ") + path);
    for (ck::ThreadPool* p : {g_pool1.get(), g_pool2.get()}) {
      std::vector<float> y(ref.size(), -1.0f);
      p->run([&](int ith, int nth) {
        kn::flash_attn_ext(s, in.q.data(), in.k.data(), in.v.data(), mask, y.data(), fc.threads, ith, nth);
      });
      res.emplace_back("t=" + std::to_string(p->size()), diff(y.data(), ref.data(), ref.size() * 4, 4));
    }
    report("flash_attn", label, res);
  }
}

// ---- get_rows + dequantize -----------------------------------------------------------------------------------------
void test_get_rows() {
  for (const char* ty : {"f32", "f16", "bf16", "q4_0", "q8_0", "q4_K", "q5_K", "q6_K"}) {
    for (int64_t ncols : {1024, 2048}) {
      const std::string label = std::string("get_rows.") + ty + " rows=37 ids=70" + sz("ncols", ncols);
      if (!wanted(label)) continue;
      const WType& t = wtype(ty);
      const int64_t rows = 37;
      auto w = make_weights(label + "/w", t, rows, ncols);
      if (std::string(ty) == "f32") {  // specials survive a plain copy
        auto sp = specials(label + "/s", size_t(ncols), false);
        std::memcpy(w.data(), sp.data(), sp.size() * 4);
      }
      std::vector<int32_t> ids(70);
      Rng r(label + "/ids");
      for (auto& id : ids) id = int32_t(r.next() % uint64_t(rows));
      ids[0] = 36, ids[1] = 0, ids[2] = 0;
      Ctx c(64);
      ggml_tensor* wt = c.raw(t.gt, ncols, rows, w.data(), w.size());
      ggml_tensor* it = ggml_new_tensor_1d(c.ctx, GGML_TYPE_I32, int64_t(ids.size()));
      std::memcpy(it->data, ids.data(), ids.size() * 4);
      auto ref = c.run(ggml_get_rows(c.ctx, wt, it));
      check_threads<float>("get_rows", label, ref, [&](ck::ThreadPool& p, std::vector<float>& y) {
        p.run([&](int ith, int nth) {
          kn::get_rows(ck::DType(uint32_t(t.gt)), w.data(), int64_t(row_bytes(t, ncols)), ncols, ids.data(),
                       int64_t(ids.size()), y.data(), ncols, ith, nth);
        });
      });
    }
  }
}

// ---- mul_mat_id: lib/runtime's MoE bindings (bind_moe.cpp, as the executor calls them) vs ggml_mul_mat_id -------
// Shapes of Qwen3-VL-30B-A3B's experts (up/gate 2048 -> 768, down 768 -> 2048 per slot, 8 of E used; E cut to 32
// to bound memory: the per-expert arithmetic does not depend on E) at T = 1 (decode) and T = 24 (prefill), plus
// odd expert counts with never-chosen experts. ggml: the experts in CPU_REPACK where llama.cpp puts them (Q4_K with
// ne[1] % 8 == 0: forward_mul_mat_id's gemv per routed row), else a plain CPU buffer.
struct MoeCase {
  const char* type;
  int64_t E, M, K, T, used;
  bool per_slot;
  int empty;
};

void run_mul_mat_id(const MoeCase& c) {
  const WType& t = wtype(c.type);
  const bool repack = std::string(c.type) == "q4_K" && c.M % 8 == 0;
  const int64_t ne11 = c.per_slot ? c.used : 1;
  const std::string label = std::string("mul_mat_id.") + c.type + (repack ? " CPU_REPACK gemv" : " vec_dot") +
                            (c.per_slot ? " per-slot" : " shared") + sz("E", c.E) + sz("M", c.M) + sz("K", c.K) +
                            sz("T", c.T) + sz("used", c.used) + sz("empty", c.empty);
  if (!wanted(label)) return;
  auto w = make_weights(label + "/w", t, c.E * c.M, c.K);
  auto x = mm_act(label + "/x", c.T * ne11, c.K, c.T > 1, t.blk > 1 ? 1.0e4f : 3.0e4f);
  auto ids = moe_ids(label + "/ids", int(c.E), int(c.T), int(c.used), c.empty);
  ggml_backend_t be = ggml_backend_cpu_init();
  ggml_init_params wp = {ggml_tensor_overhead() * 4, nullptr, true};
  ggml_context* cw = ggml_init(wp);
  ggml_tensor* wt = ggml_new_tensor_3d(cw, t.gt, c.K, c.M, c.E);
  ggml_backend_buffer_t wb = ggml_backend_alloc_ctx_tensors_from_buft(cw, repack ? cpu_repack_buft() : ggml_backend_cpu_buffer_type());
  if (!wb) throw std::runtime_error("ggml: expert buffer allocation failed");
  ggml_backend_tensor_set(wt, w.data(), 0, w.size());
  ggml_init_params ap = {ggml_tensor_overhead() * 8 + ggml_graph_overhead(), nullptr, true};
  ggml_context* ca = ggml_init(ap);
  ggml_tensor* xt = ggml_new_tensor_3d(ca, GGML_TYPE_F32, c.K, ne11, c.T);
  ggml_tensor* it = ggml_new_tensor_2d(ca, GGML_TYPE_I32, c.used, c.T);
  ggml_tensor* out = ggml_mul_mat_id(ca, wt, xt, it);
  ggml_backend_buffer_t ab = ggml_backend_alloc_ctx_tensors_from_buft(ca, ggml_backend_cpu_buffer_type());
  ggml_backend_tensor_set(xt, x.data(), 0, x.size() * 4);
  ggml_backend_tensor_set(it, ids.data(), 0, ids.size() * 4);
  ggml_cgraph* gf = ggml_new_graph(ca);
  ggml_build_forward_expand(gf, out);
  ggml_backend_cpu_set_n_threads(be, 2);
  if (ggml_backend_graph_compute(be, gf) != GGML_STATUS_SUCCESS) throw std::runtime_error("ggml compute failed");
  std::vector<float> ref(size_t(c.M * c.used * c.T));
  ggml_backend_tensor_get(out, ref.data(), 0, ref.size() * 4);
  ggml_backend_buffer_free(ab);
  ggml_backend_buffer_free(wb);
  ggml_free(ca);
  ggml_free(cw);
  ggml_backend_free(be);

  const std::string id = std::string("mul_mat_id.") + c.type + ".f32.strict";
  const ck::runtime::KernelBinding* kb = ck::runtime::find_binding(id);
  if (!kb) throw std::runtime_error(id + " is not bound");
  auto view = [](void* d, ck::DType dt, std::vector<int64_t> shape) {
    ck::runtime::View v;
    v.data = static_cast<uint8_t*>(d);
    v.dtype = dt;
    v.shape = std::move(shape);
    v.strides.resize(v.shape.size());
    const auto& tr = ck::traits(dt);
    int64_t s = int64_t(tr.type_size);
    for (size_t i = v.shape.size(); i-- > 0;) {
      if (i + 1 == v.shape.size() && tr.quantized) {
        v.strides[i] = int64_t(tr.type_size);
        s = int64_t(tr.type_size) * (v.shape[i] / int64_t(tr.block_size));
        continue;
      }
      v.strides[i] = s;
      s *= v.shape[i];
    }
    return v;
  };
  ck::runtime::Scratch scratch;
  check_threads<float>("mul_mat_id." + std::string(c.type), label, ref, [&](ck::ThreadPool& p, std::vector<float>& y) {
    ck::runtime::Call call;
    call.id = "kernel_parity";
    call.kernel = id;
    ck::runtime::TensorRef wr;
    wr.arg = "w";
    wr.weight = true;
    call.weights.push_back(wr);
    ck::runtime::BoundCall bc;
    bc.call = &call;
    bc.w.push_back(view(w.data(), ck::DType(uint32_t(t.gt)), {c.E, c.M, c.K}));
    bc.in.push_back(c.per_slot ? view(x.data(), ck::DType::F32, {c.T, ne11, c.K}) : view(x.data(), ck::DType::F32, {c.T, c.K}));
    bc.in.push_back(view(ids.data(), ck::DType::I32, {c.T, c.used}));
    bc.out = view(y.data(), ck::DType::F32, {c.T, c.used, c.M});
    ck::runtime::ExecContext ex{&p, &scratch, nullptr};
    kb->fn(bc, ex);
  });
}

void test_mul_mat_id() {
  for (const char* ty : {"f16", "bf16", "q8_0", "q4_K", "q5_K", "q6_K"}) {
    run_mul_mat_id({ty, 32, 768, 2048, 1, 8, false, 3});   // 30B-A3B up / gate, decode step
    run_mul_mat_id({ty, 32, 2048, 768, 1, 8, true, 3});    // down (per slot), decode step
    run_mul_mat_id({ty, 32, 768, 2048, 24, 8, false, 5});  // prefill: experts with 0..many rows
    run_mul_mat_id({ty, 7, 40, 512, 5, 3, true, 2});       // odd expert count, 2 never chosen
  }
  run_mul_mat_id({"q4_K", 7, 36, 512, 5, 3, false, 2});    // ne[1] % 8 != 0: not repacked, vec_dot
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--filter" && i + 1 < argc) g_filter = argv[++i];
    else if (a == "--self-test") g_self_test = true;
    else {
      std::fprintf(stderr, "usage: kernel_parity [--filter SUBSTR] [--self-test]\n");
      return 2;
    }
  }
  try {
    ggml_log_set([](ggml_log_level level, const char* text, void*) {
      if (level >= GGML_LOG_LEVEL_WARN) std::fputs(text, stderr);  // silence "repack: repack tensor ..." info
    }, nullptr);
    ggml_cpu_init();
    g_pool1 = std::make_unique<ck::ThreadPool>(1);
    g_pool2 = std::make_unique<ck::ThreadPool>(2);
    const auto t0 = std::chrono::steady_clock::now();
    std::printf("kernel_parity: ck isa=%s (CK_KERNELS_ISA caps it), ck threads 1 and 2; ggml: %s, 2 threads\n",
                kn::isa_name(kn::active_isa()), ggml_cpu_has_avx512() ? "AVX-512 build" : "AVX2 build");
    test_convert();
    test_quantize();
    test_act();
    test_norm();
    test_vec_dot();
    test_matmul();
    test_rope();
    test_softmax();
    test_fa();
    test_get_rows();
    test_mul_mat_id();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("\nsummary by family (ok/fail):");
    for (const auto& [f, c] : g_family) std::printf(" %s %d/%d", f.c_str(), c.first, c.second);
    std::printf("\nkernel_parity: %d lines, %d OK, %d FAIL (%.0f s)\n", g_ok + g_fail, g_ok, g_fail, secs);
    if (g_ok + g_fail == 0) {
      std::printf("kernel_parity: nothing compared\n");
      return 2;
    }
    return g_fail ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kernel_parity: error: %s\n", e.what());
    return 2;
  }
}
