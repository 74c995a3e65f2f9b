// lib/kernels LayerNorm / RMSNorm vs goldens from the oracle's ggml (tests/fixtures/kernels/norm.ckg.zst).
#include <gtest/gtest.h>

#include "../parity/kernels/kernel_cases.h"
#include "kernels/isa.h"
#include "kernels/layer_norm.h"
#include "kernels/rms_norm.h"

using namespace ck_kernel_cases;
namespace kn = ck::kernels;

TEST(KernelsNorm, LayerNormMatchesGgml) {
  const float eps = 1e-6f;
  for (auto [rows, n] : {std::pair<int, int>{3, 1024}, {3, 1152}, {2, 1027}, {2, 4096}}) {
    const std::string c = "norm/r=" + std::to_string(rows) + ",n=" + std::to_string(n);
    auto x = uniform_vec(c + "/x", size_t(rows) * n, -2.5f, 4.0f);
    auto w = uniform_vec(c + "/w", n, 0.5f, 1.5f);
    auto b = uniform_vec(c + "/b", n, -0.5f, 0.5f);
    ASSERT_EQ(fingerprint({{x.data(), x.size() * 4}, {w.data(), w.size() * 4}, {b.data(), b.size() * 4}}),
              golden_u64("norm", c + "/inputs_fnv"));
    std::vector<float> y(x.size());
    for (int r = 0; r < rows; ++r) kn::layer_norm_row_scalar(x.data() + r * n, y.data() + r * n, n, eps, nullptr, nullptr);
    EXPECT_EQ(first_diff(y.data(), golden("norm", c + "/y"), y.size() * 4, 4), "") << c << " scalar";
    for (int r = 0; r < rows; ++r) kn::layer_norm_row_scalar(x.data() + r * n, y.data() + r * n, n, eps, w.data(), b.data());
    EXPECT_EQ(first_diff(y.data(), golden("norm", c + "/y_wb"), y.size() * 4, 4), "") << c << " scalar w,b";
    if (kn::cpu_supports(kn::Isa::avx2)) {
      for (int r = 0; r < rows; ++r) kn::layer_norm_row_avx2(x.data() + r * n, y.data() + r * n, n, eps, nullptr, nullptr);
      EXPECT_EQ(first_diff(y.data(), golden("norm", c + "/y"), y.size() * 4, 4), "") << c << " avx2";
      std::vector<float> yi = x;  // in place, 2 threads
      for (int t = 0; t < 2; ++t) kn::layer_norm_rows(yi.data(), n, yi.data(), n, n, rows, eps, w.data(), b.data(), t, 2);
      EXPECT_EQ(first_diff(yi.data(), golden("norm", c + "/y_wb"), yi.size() * 4, 4), "") << c << " avx2 w,b";
    }
  }
}

TEST(KernelsNorm, RmsNormMatchesGgml) {
  const float eps = 1e-6f;
  for (auto [rows, n] : {std::pair<int, int>{3, 2048}, {8, 128}, {2, 1027}}) {
    const std::string c = "rms/r=" + std::to_string(rows) + ",n=" + std::to_string(n);
    auto x = uniform_vec(c + "/x", size_t(rows) * n, -3.0f, 3.0f);
    auto w = uniform_vec(c + "/w", n, 0.5f, 1.5f);
    ASSERT_EQ(fingerprint({{x.data(), x.size() * 4}, {w.data(), w.size() * 4}}), golden_u64("norm", c + "/inputs_fnv"));
    std::vector<float> y(x.size());
    for (int r = 0; r < rows; ++r) kn::rms_norm_row_scalar(x.data() + r * n, y.data() + r * n, n, eps, nullptr);
    EXPECT_EQ(first_diff(y.data(), golden("norm", c + "/y"), y.size() * 4, 4), "") << c << " scalar";
    for (int r = 0; r < rows; ++r) kn::rms_norm_row_scalar(x.data() + r * n, y.data() + r * n, n, eps, w.data());
    EXPECT_EQ(first_diff(y.data(), golden("norm", c + "/y_w"), y.size() * 4, 4), "") << c << " scalar w";
    if (kn::cpu_supports(kn::Isa::avx2)) {
      for (int t = 0; t < 3; ++t) kn::rms_norm_rows(x.data(), n, y.data(), n, n, rows, eps, w.data(), t, 3);
      EXPECT_EQ(first_diff(y.data(), golden("norm", c + "/y_w"), y.size() * 4, 4), "") << c << " avx2 w";
      for (int r = 0; r < rows; ++r) kn::rms_norm_row_avx2(x.data() + r * n, y.data() + r * n, n, eps, nullptr);
      EXPECT_EQ(first_diff(y.data(), golden("norm", c + "/y"), y.size() * 4, 4), "") << c << " avx2";
    }
  }
}
