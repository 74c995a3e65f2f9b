// Shared by kernel_parity.cpp and bench_vs_ggml.cpp: programs that link BOTH the oracle's ggml (static libs of
// an oracle build) and ck's static libraries (libck_kernels.a, libck_core.a). ggml never links into the product;
// only these test programs see both. Built by build_live.sh.
//
// - weight types (ggml type id, block geometry) and deterministic weight bytes (kernel_cases.h generators);
// - ck_mul_mat: the strict mat-mul exactly as lib/runtime/kernel_table.cpp's mul_mat_impl composes it
//   (activation conversion to the weight's vec_dot_type, then tinyBLAS / vec_dot / repack, ggml's path choice);
// - GgmlMulMat: one ggml_mul_mat graph on the CPU backend (weights in the plain CPU buffer, or Q4_K in
//   CPU_REPACK as llama.cpp's loader places it), computed by ggml_backend_graph_compute = ggml_graph_plan +
//   ggml_graph_compute with the backend's thread count (what ggml_graph_compute_with_ctx does, without
//   allocating a new work buffer from the context on every call).
#pragma once
#include <ggml-alloc.h>
#include <ggml-backend.h>
#include <ggml-cpu.h>
#include <ggml.h>

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/thread_pool.h"
#include "kernel_cases.h"
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

namespace live {
using namespace ck_kernel_cases;
namespace kn = ck::kernels;

struct WType {
  const char* name;
  ggml_type gt;
  int64_t blk;   // elements per block
  size_t bsize;  // bytes per block
};
inline const WType& wtype(const std::string& n) {
  static const WType types[] = {
      {"f32", GGML_TYPE_F32, 1, 4},         {"f16", GGML_TYPE_F16, 1, 2},     {"bf16", GGML_TYPE_BF16, 1, 2},
      {"q8_0", GGML_TYPE_Q8_0, 32, 34},     {"q4_0", GGML_TYPE_Q4_0, 32, 18}, {"q5_0", GGML_TYPE_Q5_0, 32, 22},
      {"q4_K", GGML_TYPE_Q4_K, 256, 144},   {"q5_K", GGML_TYPE_Q5_K, 256, 176}, {"q6_K", GGML_TYPE_Q6_K, 256, 210},
  };
  for (const WType& t : types)
    if (n == t.name) return t;
  throw std::runtime_error("unknown weight type " + n);
}
inline size_t row_bytes(const WType& t, int64_t k) { return size_t(k / t.blk) * t.bsize; }

// m rows of k weights of type t, deterministic from `name` (kernel_cases.h generators: random fp16 weights of
// typical magnitude, random quant bytes with sane fp16 scales).
inline std::vector<uint8_t> make_weights(const std::string& name, const WType& t, int64_t m, int64_t k) {
  const size_t n = size_t(m) * size_t(k);
  const std::string s = t.name;
  if (s == "f32") return bytes_of(uniform_vec(name, n, -0.1f, 0.1f));
  if (s == "f16") return bytes_of(f16_weights(name, n));
  if (s == "bf16") return bytes_of(bf16_vec(name, n, -1.0f, 1.0f));
  if (s == "q8_0") return q8_0_blocks(name, n / 32, -127);
  if (s == "q4_0") return q4_0_blocks(name, n / 32);
  if (s == "q5_0") return q5_0_blocks(name, n / 32);
  if (s == "q4_K") return q4_K_blocks(name, n / 256);
  if (s == "q5_K") return q5_K_blocks(name, n / 256);
  if (s == "q6_K") return q6_K_blocks(name, n / 256);
  throw std::runtime_error("make_weights: " + s);
}

// The ggml mul_mat path for this shape (what ggml_compute_forward_mul_mat runs on the AVX2 build).
inline std::string mm_path(const WType& t, int64_t m, int64_t n, int64_t k, bool repack) {
  const std::string s = t.name;
  if (s == "f32" || s == "f16" || s == "bf16") return kn::tinyblas_applies(m, n, k) ? "tinyBLAS" : "vec_dot";
  if (s == "q8_0") return "vec_dot";  // = tinyBLAS_Q0_AVX per output
  if (s == "q4_K" && repack) return n - n % 4 > 0 ? (n % 4 ? "repack.gemm+gemv" : "repack.gemm") : "repack.gemv";
  if (s == "q4_0" && repack) return n - n % 4 > 0 ? (n % 4 ? "repack.gemm+gemv" : "repack.gemm") : "repack.gemv";
  return "vec_dot";
}

// y[j*m + i] = W row i . x row j, as ck's runtime computes ggml_mul_mat(W, x) (kernel_table.cpp mul_mat_impl).
// repack: Q4_K / Q4_0 weights as llama.cpp's CPU_REPACK buffer computes them (the runtime's rule: m % 8 == 0).
inline void ck_mul_mat(ck::ThreadPool& pool, const WType& t, int64_t m, int64_t n, int64_t k, const void* W,
                       const float* x, float* y, bool repack, std::vector<uint8_t>& scratch) {
  const std::string s = t.name;
  if (s == "f32") {
    const float* A = static_cast<const float*>(W);
    if (kn::tinyblas_applies(m, n, k))
      pool.run([&](int ith, int nth) { kn::matmul_tinyblas_f32(m, n, k, A, k, x, k, y, m, ith, nth); });
    else
      pool.run([&](int ith, int nth) { kn::matmul_vecdot_f32(m, n, k, A, k, x, k, y, m, ith, nth); });
    return;
  }
  if (s == "f16" || s == "bf16") {
    const bool f16 = s == "f16";
    scratch.resize(size_t(n * k) * 2);
    auto* b = reinterpret_cast<uint16_t*>(scratch.data());
    const auto* A = static_cast<const uint16_t*>(W);
    pool.run([&](int ith, int nth) {
      if (f16) kn::fp32_to_fp16_rows(x, k, b, k, k, n, ith, nth);
      else kn::fp32_to_bf16_rows(x, k, b, k, k, n, ith, nth);
    });
    const bool tb = kn::tinyblas_applies(m, n, k);
    pool.run([&](int ith, int nth) {
      if (f16 && tb) kn::matmul_tinyblas_f16(m, n, k, A, k, b, k, y, m, ith, nth);
      else if (f16) kn::matmul_vecdot_f16(m, n, k, A, k, b, k, y, m, ith, nth);
      else if (tb) kn::matmul_tinyblas_bf16(m, n, k, A, k, b, k, y, m, ith, nth);
      else kn::matmul_vecdot_bf16(m, n, k, A, k, b, k, y, m, ith, nth);
    });
    return;
  }
  if (s == "q8_0" || s == "q4_0" || s == "q5_0") {
    const int64_t kb = k / 32;
    scratch.resize(size_t(n * kb) * sizeof(kn::BlockQ8_0));
    auto* b = reinterpret_cast<kn::BlockQ8_0*>(scratch.data());
    pool.run([&](int ith, int nth) { kn::quantize_rows_q8_0(x, k, b, kb, k, n, ith, nth); });
    pool.run([&](int ith, int nth) {
      if (s == "q8_0") kn::matmul_q8_0(m, n, k, static_cast<const kn::BlockQ8_0*>(W), kb, b, kb, y, m, ith, nth);
      else if (s == "q4_0" && repack)
        kn::matmul_q4_0_repack(m, n, k, static_cast<const kn::BlockQ4_0*>(W), kb, b, kb, y, m, ith, nth);
      else if (s == "q4_0") kn::matmul_q4_0(m, n, k, static_cast<const kn::BlockQ4_0*>(W), kb, b, kb, y, m, ith, nth);
      else kn::matmul_q5_0(m, n, k, static_cast<const kn::BlockQ5_0*>(W), kb, b, kb, y, m, ith, nth);
    });
    return;
  }
  const int64_t kb = k / 256;
  scratch.resize(size_t(n * kb) * sizeof(kn::BlockQ8_K));
  auto* b = reinterpret_cast<kn::BlockQ8_K*>(scratch.data());
  pool.run([&](int ith, int nth) { kn::quantize_rows_q8_K(x, k, b, kb, k, n, ith, nth); });
  pool.run([&](int ith, int nth) {
    if (s == "q4_K" && repack)
      kn::matmul_q4_K_repack(m, n, k, static_cast<const kn::BlockQ4_K*>(W), kb, b, kb, y, m, ith, nth);
    else if (s == "q4_K") kn::matmul_q4_K(m, n, k, static_cast<const kn::BlockQ4_K*>(W), kb, b, kb, y, m, ith, nth);
    else if (s == "q5_K") kn::matmul_q5_K(m, n, k, static_cast<const kn::BlockQ5_K*>(W), kb, b, kb, y, m, ith, nth);
    else if (s == "q6_K") kn::matmul_q6_K(m, n, k, static_cast<const kn::BlockQ6_K*>(W), kb, b, kb, y, m, ith, nth);
    else throw std::runtime_error("ck_mul_mat: " + s);
  });
}

inline ggml_backend_buffer_type_t cpu_repack_buft() {
  static ggml_backend_buffer_type_t repack = [] {
    ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    auto get_extra = reinterpret_cast<ggml_backend_dev_get_extra_bufts_t>(
        ggml_backend_reg_get_proc_address(ggml_backend_cpu_reg(), "ggml_backend_dev_get_extra_bufts"));
    ggml_backend_buffer_type_t r = nullptr;
    for (ggml_backend_buffer_type_t* b = get_extra(dev); b && *b; ++b)
      if (std::string(ggml_backend_buft_name(*b)) == "CPU_REPACK") r = *b;
    if (!r) throw std::runtime_error("no CPU_REPACK buffer type in this ggml build");
    return r;
  }();
  return repack;
}

// One ggml_mul_mat(W [k, m], x [k, n]) graph on the CPU backend.
struct GgmlMulMat {
  ggml_backend_t be = nullptr;
  ggml_context *cw = nullptr, *ca = nullptr;
  ggml_backend_buffer_t wb = nullptr, ab = nullptr;
  ggml_tensor *w = nullptr, *x = nullptr, *out = nullptr;
  ggml_cgraph* gf = nullptr;
  int64_t m, n, k;

  GgmlMulMat(const WType& t, int64_t m_, int64_t n_, int64_t k_, const void* wbytes, bool repack)
      : m(m_), n(n_), k(k_) {
    be = ggml_backend_cpu_init();
    ggml_init_params wp = {ggml_tensor_overhead() * 4, nullptr, true};
    cw = ggml_init(wp);
    w = ggml_new_tensor_2d(cw, t.gt, k, m);
    wb = ggml_backend_alloc_ctx_tensors_from_buft(cw, repack ? cpu_repack_buft() : ggml_backend_cpu_buffer_type());
    if (!wb) throw std::runtime_error("ggml: weight buffer allocation failed");
    ggml_backend_tensor_set(w, wbytes, 0, row_bytes(t, k) * size_t(m));
    ggml_init_params ap = {ggml_tensor_overhead() * 8 + ggml_graph_overhead(), nullptr, true};
    ca = ggml_init(ap);
    x = ggml_new_tensor_2d(ca, GGML_TYPE_F32, k, n);
    out = ggml_mul_mat(ca, w, x);
    ab = ggml_backend_alloc_ctx_tensors_from_buft(ca, ggml_backend_cpu_buffer_type());
    gf = ggml_new_graph(ca);
    ggml_build_forward_expand(gf, out);
  }
  GgmlMulMat(const GgmlMulMat&) = delete;
  GgmlMulMat& operator=(const GgmlMulMat&) = delete;
  ~GgmlMulMat() {
    ggml_backend_buffer_free(ab);
    ggml_backend_buffer_free(wb);
    ggml_free(ca);
    ggml_free(cw);
    ggml_backend_free(be);
  }
  // The weight bytes as stored (plain buffer: ggml's own layout, readable by ck; repack: interleaved).
  const void* weight_data() const { return w->data; }
  float* input() { return static_cast<float*>(x->data); }
  const float* result() const { return static_cast<const float*>(out->data); }
  void run(int nth) {
    ggml_backend_cpu_set_n_threads(be, nth);
    if (ggml_backend_graph_compute(be, gf) != GGML_STATUS_SUCCESS) throw std::runtime_error("ggml compute failed");
  }
};

}  // namespace live
