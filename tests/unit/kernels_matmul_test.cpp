// lib/kernels dot products and mat-muls vs goldens from the oracle's ggml (tests/fixtures/kernels/{dot,matmul}).
// The mat-mul cases run whole ggml_mul_mat ops upstream (F32 activations): ck reproduces ggml's path choice —
// activations rounded to the weight's vec_dot_type, then tinyBLAS if tinyblas_applies(m, n, k), else vec_dot.
#include <gtest/gtest.h>

#include <cstring>

#include "../parity/kernels/kernel_cases.h"
#include "kernels/convert_fp16.h"
#include "kernels/dot_f16.h"
#include "kernels/dot_q8_0.h"
#include "kernels/isa.h"
#include "kernels/matmul_tinyblas.h"
#include "kernels/quantize_q8_0.h"

using namespace ck_kernel_cases;
namespace kn = ck::kernels;

TEST(KernelsDot, DotF16MatchesGgml) {
  for (int n : {64, 72, 768, 1027, 4096, 4304, 6144}) {
    const std::string c = "dot_f16/n=" + std::to_string(n);
    auto x = f16_weights(c + "/x", n);
    auto y = f16_weights(c + "/y", n);
    ASSERT_EQ(fingerprint({{x.data(), x.size() * 2}, {y.data(), y.size() * 2}}), golden_u64("dot", c + "/inputs_fnv"));
    const float s = kn::dot_f16_scalar(n, x.data(), y.data());
    EXPECT_EQ(first_diff(&s, golden("dot", c + "/s"), 4, 4), "") << c << " scalar";
    if (kn::cpu_supports(kn::Isa::avx2)) {
      const float s2 = kn::dot_f16_avx2(n, x.data(), y.data());
      EXPECT_EQ(first_diff(&s2, golden("dot", c + "/s"), 4, 4), "") << c << " avx2";
    }
  }
}

TEST(KernelsDot, DotQ8_0MatchesGgml) {
  for (int n : {32, 1024, 4096, 6144}) {
    for (int qmin : {-127, -128}) {
      const std::string c = "dot_q8_0/n=" + std::to_string(n) + ",qmin=" + std::to_string(qmin);
      auto x = q8_0_blocks(c + "/x", n / 32, qmin);
      auto y = q8_0_blocks(c + "/y", n / 32, qmin);
      ASSERT_EQ(fingerprint({{x.data(), x.size()}, {y.data(), y.size()}}), golden_u64("dot", c + "/inputs_fnv"));
      const auto* bx = reinterpret_cast<const kn::BlockQ8_0*>(x.data());
      const auto* by = reinterpret_cast<const kn::BlockQ8_0*>(y.data());
      const float s = kn::dot_q8_0_scalar(n, bx, by);
      EXPECT_EQ(first_diff(&s, golden("dot", c + "/s"), 4, 4), "") << c << " scalar";
      if (kn::cpu_supports(kn::Isa::avx2)) {
        const float s2 = kn::dot_q8_0_avx2(n, bx, by);
        EXPECT_EQ(first_diff(&s2, golden("dot", c + "/s"), 4, 4), "") << c << " avx2";
      }
    }
  }
}

namespace {
struct MM {
  const char* type;
  int m, n, k;
};
const MM kCases[] = {{"f16", 64, 7, 1024}, {"f16", 64, 1, 1024}, {"f16", 30, 5, 1024}, {"f16", 32, 9, 4096},
                     {"f16", 16, 2, 6144}, {"f16", 8, 3, 1020},  {"f32", 32, 5, 1024}, {"f32", 20, 2, 768},
                     {"q8_0", 32, 5, 1024}, {"q8_0", 32, 1, 4096}, {"q8_0", 12, 3, 4096}};

using TbF16 = void (*)(int64_t, int64_t, int64_t, const uint16_t*, int64_t, const uint16_t*, int64_t, float*, int64_t,
                       int, int);
using TbF32 = void (*)(int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t, int,
                       int);
}  // namespace

TEST(KernelsMatmul, MulMatMatchesGgmlPaths) {
  for (const MM& mm : kCases) {
    const std::string type = mm.type;
    const std::string c =
        "mm_" + type + "/m=" + std::to_string(mm.m) + ",n=" + std::to_string(mm.n) + ",k=" + std::to_string(mm.k);
    const int64_t m = mm.m, n = mm.n, k = mm.k;
    auto x = uniform_vec(c + "/x", size_t(n * k), -2.0f, 2.0f);
    std::vector<float> y(size_t(m * n));
    const auto& want = golden("matmul", c + "/y");
    if (type == "f16") {
      auto w = f16_weights(c + "/w", size_t(m * k));
      ASSERT_EQ(fingerprint({{w.data(), w.size() * 2}, {x.data(), x.size() * 4}}), golden_u64("matmul", c + "/inputs_fnv"));
      std::vector<uint16_t> xh(x.size());
      kn::fp32_to_fp16_rows(x.data(), k, xh.data(), k, k, n, 0, 1);
      if (kn::tinyblas_applies(m, n, k)) {
        std::vector<std::pair<const char*, TbF16>> variants = {{"scalar", kn::matmul_tinyblas_f16_scalar}};
        if (kn::cpu_supports(kn::Isa::avx2)) variants.push_back({"avx2", kn::matmul_tinyblas_f16_avx2});
        if (kn::cpu_supports(kn::Isa::avx512)) variants.push_back({"avx512", kn::matmul_tinyblas_f16_avx512});
        for (auto [name, fn] : variants) {
          std::fill(y.begin(), y.end(), -1.0f);
          for (int t = 0; t < 3; ++t) fn(m, n, k, w.data(), k, xh.data(), k, y.data(), m, t, 3);
          EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " tinyblas " << name;
        }
      } else {
        for (int t = 0; t < 2; ++t) kn::matmul_vecdot_f16(m, n, k, w.data(), k, xh.data(), k, y.data(), m, t, 2);
        EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " vec_dot_f16";
      }
    } else if (type == "f32") {
      auto w = uniform_vec(c + "/w", size_t(m * k), -0.1f, 0.1f);
      ASSERT_EQ(fingerprint({{w.data(), w.size() * 4}, {x.data(), x.size() * 4}}), golden_u64("matmul", c + "/inputs_fnv"));
      ASSERT_TRUE(kn::tinyblas_applies(m, n, k));
      std::vector<std::pair<const char*, TbF32>> variants = {{"scalar", kn::matmul_tinyblas_f32_scalar}};
      if (kn::cpu_supports(kn::Isa::avx2)) variants.push_back({"avx2", kn::matmul_tinyblas_f32_avx2});
      if (kn::cpu_supports(kn::Isa::avx512)) variants.push_back({"avx512", kn::matmul_tinyblas_f32_avx512});
      for (auto [name, fn] : variants) {
        std::fill(y.begin(), y.end(), -1.0f);
        for (int t = 0; t < 2; ++t) fn(m, n, k, w.data(), k, x.data(), k, y.data(), m, t, 2);
        EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " tinyblas " << name;
      }
    } else {
      auto w = q8_0_blocks(c + "/w", size_t(m * k / 32), -127);
      ASSERT_EQ(fingerprint({{w.data(), w.size()}, {x.data(), x.size() * 4}}), golden_u64("matmul", c + "/inputs_fnv"));
      std::vector<kn::BlockQ8_0> xq(size_t(n * k / 32));
      kn::quantize_rows_q8_0(x.data(), k, xq.data(), k / 32, k, n, 0, 1);
      for (int t = 0; t < 2; ++t)
        kn::matmul_q8_0(m, n, k, reinterpret_cast<const kn::BlockQ8_0*>(w.data()), k / 32, xq.data(), k / 32, y.data(),
                        m, t, 2);
      EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " q8_0";
    }
  }
}
