// lib/kernels dequantization / get_rows and the K-quant, Q4_0, F32, BF16 dot products and mat-muls vs goldens
// from the oracle's ggml (tests/fixtures/kernels/{getrows,dotq}.ckg.zst).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "../parity/kernels/kernel_cases.h"
#include "core/dtype.h"
#include "kernels/convert_bf16.h"
#include "kernels/dequantize.h"
#include "kernels/dot_f32.h"
#include "kernels/dot_kquants.h"
#include "kernels/isa.h"
#include "kernels/matmul_q4_K_repack.h"
#include "kernels/matmul_tinyblas.h"
#include "kernels/quantize_q8_0.h"
#include "kernels/quantize_q8_K.h"

using namespace ck_kernel_cases;
namespace kn = ck::kernels;

namespace {
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
}  // namespace

TEST(KernelsQuant, GetRowsMatchesGgml) {
  const std::vector<int32_t> ids = {3, 0, 5, 5, 1, 6};
  for (const char* type : {"f32", "f16", "bf16", "q4_0", "q8_0", "q4_K", "q5_K", "q6_K"}) {
    const std::string c = std::string("get_rows/") + type;
    const size_t rows = 7, ncols = 512;
    auto w = weight_table(c, type, rows, ncols);
    ASSERT_EQ(fingerprint({{w.data(), w.size()}, {ids.data(), ids.size() * 4}}), golden_u64("getrows", c + "/inputs_fnv"));
    const ck::DType dt = *ck::dtype_from_name(type);
    std::vector<float> y(ids.size() * ncols, -1.0f);
    for (int t = 0; t < 4; ++t)
      kn::get_rows(dt, w.data(), int64_t(w.size() / rows), ncols, ids.data(), int64_t(ids.size()), y.data(), ncols, t, 4);
    EXPECT_EQ(first_diff(y.data(), golden("getrows", c + "/y"), y.size() * 4, 4), "") << c;
  }
}

namespace {
template <typename W, typename A>
void check_dot(const std::string& c, int n, const std::vector<uint8_t>& x, const std::vector<uint8_t>& y,
               float (*scalar)(int64_t, const W*, const A*), float (*avx2)(int64_t, const W*, const A*)) {
  ASSERT_EQ(fingerprint({{x.data(), x.size()}, {y.data(), y.size()}}), golden_u64("dotq", c + "/inputs_fnv"));
  const auto* bx = reinterpret_cast<const W*>(x.data());
  const auto* by = reinterpret_cast<const A*>(y.data());
  const float s = scalar(n, bx, by);
  EXPECT_EQ(first_diff(&s, golden("dotq", c + "/s"), 4, 4), "") << c << " scalar";
  if (kn::cpu_supports(kn::Isa::avx2)) {
    const float s2 = avx2(n, bx, by);
    EXPECT_EQ(first_diff(&s2, golden("dotq", c + "/s"), 4, 4), "") << c << " avx2";
  }
}
}  // namespace

TEST(KernelsQuant, KQuantDotsMatchGgml) {
  for (int n : {256, 1024, 4096}) {
    const std::string sfx = "/n=" + std::to_string(n);
    {
      const std::string c = "dot_q4_K" + sfx;
      check_dot<kn::BlockQ4_K, kn::BlockQ8_K>(c, n, weight_table(c, "q4_K", 1, n), q8_K_blocks(c + "/y", n / 256),
                                              kn::dot_q4_K_scalar, kn::dot_q4_K_avx2);
    }
    {
      const std::string c = "dot_q5_K" + sfx;
      check_dot<kn::BlockQ5_K, kn::BlockQ8_K>(c, n, weight_table(c, "q5_K", 1, n), q8_K_blocks(c + "/y", n / 256),
                                              kn::dot_q5_K_scalar, kn::dot_q5_K_avx2);
    }
    {
      const std::string c = "dot_q6_K" + sfx;
      check_dot<kn::BlockQ6_K, kn::BlockQ8_K>(c, n, weight_table(c, "q6_K", 1, n), q8_K_blocks(c + "/y", n / 256),
                                              kn::dot_q6_K_scalar, kn::dot_q6_K_avx2);
    }
  }
  for (int n : {32, 1024, 4096}) {
    const std::string c = "dot_q4_0/n=" + std::to_string(n);
    check_dot<kn::BlockQ4_0, kn::BlockQ8_0>(c, n, q4_0_blocks(c + "/x", n / 32), q8_0_blocks(c + "/y", n / 32, -127),
                                            kn::dot_q4_0_scalar, kn::dot_q4_0_avx2);
  }
  for (int qmin : {-127, -128}) {
    for (int n : {32, 64, 1024, 4096}) {
      const std::string c = "dot_q5_0/n=" + std::to_string(n) + ",qmin=" + std::to_string(qmin);
      check_dot<kn::BlockQ5_0, kn::BlockQ8_0>(c, n, q5_0_blocks(c + "/x", n / 32), q8_0_blocks(c + "/y", n / 32, qmin),
                                              kn::dot_q5_0_scalar, kn::dot_q5_0_avx2);
    }
  }
}

TEST(KernelsQuant, FloatDotsMatchGgml) {
  for (int n : {64, 72, 1027, 4096}) {
    const std::string c = "dot_f32/n=" + std::to_string(n);
    auto x = uniform_vec(c + "/x", size_t(n), -2.0f, 2.0f);
    auto y = uniform_vec(c + "/y", size_t(n), -2.0f, 2.0f);
    ASSERT_EQ(fingerprint({{x.data(), x.size() * 4}, {y.data(), y.size() * 4}}), golden_u64("dotq", c + "/inputs_fnv"));
    const float s = kn::dot_f32_scalar(n, x.data(), y.data());
    EXPECT_EQ(first_diff(&s, golden("dotq", c + "/s"), 4, 4), "") << c << " scalar";
    if (kn::cpu_supports(kn::Isa::avx2)) {
      const float s2 = kn::dot_f32_avx2(n, x.data(), y.data());
      EXPECT_EQ(first_diff(&s2, golden("dotq", c + "/s"), 4, 4), "") << c << " avx2";
    }
  }
  for (int n : {64, 72, 1027, 4304}) {
    const std::string c = "dot_bf16/n=" + std::to_string(n);
    auto x = bf16_vec(c + "/x", size_t(n), -2.0f, 2.0f);
    auto y = bf16_vec(c + "/y", size_t(n), -2.0f, 2.0f);
    ASSERT_EQ(fingerprint({{x.data(), x.size() * 2}, {y.data(), y.size() * 2}}), golden_u64("dotq", c + "/inputs_fnv"));
    const float s = kn::dot_bf16_scalar(n, x.data(), y.data());
    EXPECT_EQ(first_diff(&s, golden("dotq", c + "/s"), 4, 4), "") << c << " scalar";
    if (kn::cpu_supports(kn::Isa::avx2)) {
      const float s2 = kn::dot_bf16_avx2(n, x.data(), y.data());
      EXPECT_EQ(first_diff(&s2, golden("dotq", c + "/s"), 4, 4), "") << c << " avx2";
    }
  }
}

// Whole ggml_mul_mat ops: ck reproduces ggml's path (activation rounding to vec_dot_type, then tinyBLAS for
// F32/BF16 when tinyblas_applies, else one vec_dot per output; K-quants and Q4_0 without repack: vec_dot).
TEST(KernelsQuant, MulMatMatchesGgmlPaths) {
  using TbFn = void (*)(int64_t, int64_t, int64_t, const uint16_t*, int64_t, const uint16_t*, int64_t, float*, int64_t,
                        int, int);
  for (const DotqMM& mm : dotq_matmul_cases()) {
    const std::string c = dotq_matmul_name(mm), type = mm.type;
    const int64_t m = mm.m, n = mm.n, k = mm.k;
    auto w = weight_table(c, type, size_t(m), size_t(k));
    auto x = uniform_vec(c + "/x", size_t(n * k), -2.0f, 2.0f);
    ASSERT_EQ(fingerprint({{w.data(), w.size()}, {x.data(), x.size() * 4}}), golden_u64("dotq", c + "/inputs_fnv"));
    const auto& want = golden("dotq", c + "/y");
    std::vector<float> y(size_t(m * n), -1.0f);
    if (type == "q4_K" || type == "q5_K" || type == "q6_K") {
      std::vector<kn::BlockQ8_K> xq(size_t(n * k / 256));
      kn::quantize_rows_q8_K(x.data(), k, xq.data(), k / 256, k, n, 0, 1);
      for (int t = 0; t < 3; ++t) {
        if (type == "q4_K")
          kn::matmul_q4_K(m, n, k, reinterpret_cast<const kn::BlockQ4_K*>(w.data()), k / 256, xq.data(), k / 256,
                          y.data(), m, t, 3);
        else if (type == "q5_K")
          kn::matmul_q5_K(m, n, k, reinterpret_cast<const kn::BlockQ5_K*>(w.data()), k / 256, xq.data(), k / 256,
                          y.data(), m, t, 3);
        else
          kn::matmul_q6_K(m, n, k, reinterpret_cast<const kn::BlockQ6_K*>(w.data()), k / 256, xq.data(), k / 256,
                          y.data(), m, t, 3);
      }
      EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c;
    } else if (type == "q4_0") {
      std::vector<kn::BlockQ8_0> xq(size_t(n * k / 32));
      kn::quantize_rows_q8_0(x.data(), k, xq.data(), k / 32, k, n, 0, 1);
      for (int t = 0; t < 2; ++t)
        kn::matmul_q4_0(m, n, k, reinterpret_cast<const kn::BlockQ4_0*>(w.data()), k / 32, xq.data(), k / 32, y.data(),
                        m, t, 2);
      EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c;
    } else if (type == "bf16") {
      const auto* wb = reinterpret_cast<const uint16_t*>(w.data());
      std::vector<uint16_t> xb(x.size());
      kn::fp32_to_bf16_rows(x.data(), k, xb.data(), k, k, n, 0, 1);
      if (kn::tinyblas_applies(m, n, k)) {
        std::vector<std::pair<const char*, TbFn>> variants = {{"scalar", kn::matmul_tinyblas_bf16_scalar}};
        if (kn::cpu_supports(kn::Isa::avx2)) variants.push_back({"avx2", kn::matmul_tinyblas_bf16_avx2});
        if (kn::cpu_supports(kn::Isa::avx512)) variants.push_back({"avx512", kn::matmul_tinyblas_bf16_avx512});
        for (auto [name, fn] : variants) {
          std::fill(y.begin(), y.end(), -1.0f);
          for (int t = 0; t < 3; ++t) fn(m, n, k, wb, k, xb.data(), k, y.data(), m, t, 3);
          EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " tinyblas " << name;
        }
        if (kn::use_avx512_bf16()) {  // ordinary data lies inside the vdpbf16ps kernel's exact range
          std::fill(y.begin(), y.end(), -1.0f);
          for (int t = 0; t < 3; ++t)
            EXPECT_TRUE(kn::matmul_tinyblas_bf16_avx512dp(m, n, k, wb, k, xb.data(), k, y.data(), m, t, 3)) << c;
          EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " tinyblas avx512dp";
        }
      } else {
        for (int t = 0; t < 2; ++t) kn::matmul_vecdot_bf16(m, n, k, wb, k, xb.data(), k, y.data(), m, t, 2);
        EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " vec_dot_bf16";
      }
    } else {  // f32, only the vec_dot cases here (tinyBLAS F32 is in kernels_matmul_test)
      ASSERT_FALSE(kn::tinyblas_applies(m, n, k)) << c;
      const auto* wf = reinterpret_cast<const float*>(w.data());
      for (int t = 0; t < 2; ++t) kn::matmul_vecdot_f32(m, n, k, wf, k, x.data(), k, y.data(), m, t, 2);
      EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " vec_dot_f32";
    }
  }
}

// BF16 operands by exponent band (kernel_cases.h kBfExp): at the lower and upper edge of the range where the
// vdpbf16ps kernel provably equals the FMA chain, and past each edge (there it must fall back). Every variant and
// the dispatcher against whole ggml_mul_mat ops.
TEST(KernelsQuant, MulMatBf16ExponentBands) {
  for (const BfExpMM& mm : kBfExpFixtures) {
    const std::string c = bf16_exp_name(mm);
    const int64_t m = mm.m, n = mm.n, k = mm.k;
    auto w = bf16_exp_weights(c + "/w", kBfExp[mm.band], m, k);
    auto x = bf16_exp_act(c + "/x", kBfExp[mm.band], n, k);
    ASSERT_EQ(fingerprint({{w.data(), w.size() * 2}, {x.data(), x.size() * 4}}), golden_u64("dotq", c + "/inputs_fnv"));
    ASSERT_TRUE(kn::tinyblas_applies(m, n, k)) << c;
    const auto& want = golden("dotq", c + "/y");
    std::vector<uint16_t> xb(x.size());
    kn::fp32_to_bf16_rows(x.data(), k, xb.data(), k, k, n, 0, 1);
    std::vector<float> y(size_t(m * n));
    auto check = [&](const char* name, auto fn) {
      std::fill(y.begin(), y.end(), -1.0f);
      for (int t = 0; t < 3; ++t) fn(t);
      EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " " << name;
    };
    check("scalar", [&](int t) { kn::matmul_tinyblas_bf16_scalar(m, n, k, w.data(), k, xb.data(), k, y.data(), m, t, 3); });
    if (kn::cpu_supports(kn::Isa::avx2))
      check("avx2", [&](int t) { kn::matmul_tinyblas_bf16_avx2(m, n, k, w.data(), k, xb.data(), k, y.data(), m, t, 3); });
    if (kn::cpu_supports(kn::Isa::avx512))
      check("avx512", [&](int t) { kn::matmul_tinyblas_bf16_avx512(m, n, k, w.data(), k, xb.data(), k, y.data(), m, t, 3); });
    check("dispatch", [&](int t) { kn::matmul_tinyblas_bf16(m, n, k, w.data(), k, xb.data(), k, y.data(), m, t, 3); });
  }
}

// Q4_K through CPU_REPACK (llama.cpp's default for Q4_K weights on AVX2 x86): goldens are whole ggml_mul_mat ops
// on weights uploaded into the CPU_REPACK buffer. Rows < n - n%4 take the gemm model, the rest the gemv model.
TEST(KernelsQuant, Q4KRepackMulMatMatchesGgml) {
  int differs_from_vec_dot = 0;
  for (const RepackMM& mm : repack_cases()) {
    const std::string c = repack_name(mm);
    const int64_t m = mm.m, n = mm.n, k = mm.k;
    auto w = q4_K_blocks(c + "/w", size_t(m * k / 256));
    auto x = uniform_vec(c + "/x", size_t(n * k), -2.0f, 2.0f);
    ASSERT_EQ(fingerprint({{w.data(), w.size()}, {x.data(), x.size() * 4}}), golden_u64("repack", c + "/inputs_fnv"));
    std::vector<kn::BlockQ8_K> xq(size_t(n * k / 256));
    kn::quantize_rows_q8_K(x.data(), k, xq.data(), k / 256, k, n, 0, 1);
    const auto* wq = reinterpret_cast<const kn::BlockQ4_K*>(w.data());
    const auto& want = golden("repack", c + "/y");
    std::vector<float> y(size_t(m * n), -1.0f);
    for (int t = 0; t < 3; ++t) kn::matmul_q4_K_repack(m, n, k, wq, k / 256, xq.data(), k / 256, y.data(), m, t, 3);
    EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " " << kn::isa_name(kn::active_isa());
    // one thread: all m rows in one range, so m >= 16 reaches the AVX-512 16-row packs (3 threads leave 8-row tails)
    std::fill(y.begin(), y.end(), -1.0f);
    kn::matmul_q4_K_repack(m, n, k, wq, k / 256, xq.data(), k / 256, y.data(), m, 0, 1);
    EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " 1 thread " << kn::isa_name(kn::active_isa());
    // scalar models
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < m; ++i) {
        const bool gemm = j < n - n % 4;
        y[size_t(j * m + i)] = gemm ? kn::gemm_q4_K_scalar(k, wq + i * (k / 256), xq.data() + j * (k / 256))
                                    : kn::gemv_q4_K_scalar(k, wq + i * (k / 256), xq.data() + j * (k / 256));
        const float vd = kn::dot_q4_K_scalar(k, wq + i * (k / 256), xq.data() + j * (k / 256));
        differs_from_vec_dot += std::memcmp(&vd, &want[size_t(j * m + i) * 4], 4) != 0;
      }
    EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " scalar";
  }
  EXPECT_GT(differs_from_vec_dot, 0) << "goldens do not exercise the repack path";
}
