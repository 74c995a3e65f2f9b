// lib/kernels GELU / SiLU / SwiGLU vs goldens from the oracle's ggml (tests/fixtures/kernels/act.ckg.zst).
#include <gtest/gtest.h>

#include "../parity/kernels/kernel_cases.h"
#include "core/half.h"
#include "kernels/gelu.h"
#include "kernels/isa.h"
#include "kernels/silu.h"

using namespace ck_kernel_cases;
namespace kn = ck::kernels;

namespace {
const std::pair<int, int> kShapes[] = {{3, 4096}, {2, 1027}};
std::string sfx(int rows, int n) { return "/r=" + std::to_string(rows) + ",n=" + std::to_string(n); }
}  // namespace

TEST(KernelsAct, GeluTableMatchesGgmlForEveryFp16) {
  std::vector<float> x(65536), y(65536);
  for (int i = 0; i < 65536; ++i) x[i] = ck::fp16_to_fp32(static_cast<uint16_t>(i));
  ASSERT_EQ(fingerprint({{x.data(), x.size() * 4}}), golden_u64("act", "gelu/all_f16/inputs_fnv"));
  kn::gelu_row(x.data(), y.data(), 65536);
  EXPECT_EQ(first_diff(y.data(), golden("act", "gelu/all_f16/y"), y.size() * 4, 4), "");
}

TEST(KernelsAct, GeluRowsMatchGgml) {
  for (auto [rows, n] : kShapes) {
    const std::string c = "gelu" + sfx(rows, n);
    auto x = act_vec(c, size_t(rows) * n);
    ASSERT_EQ(fingerprint({{x.data(), x.size() * 4}}), golden_u64("act", c + "/inputs_fnv"));
    std::vector<float> y(x.size());
    for (int t = 0; t < 2; ++t) kn::gelu_rows(x.data(), n, y.data(), n, n, rows, t, 2);
    EXPECT_EQ(first_diff(y.data(), golden("act", c + "/y"), y.size() * 4, 4), "") << c;
  }
}

TEST(KernelsAct, SiluMatchesGgmlAvx2) {
  for (auto [rows, n] : kShapes) {
    const std::string c = "silu" + sfx(rows, n);
    auto x = act_vec(c, size_t(rows) * n);
    ASSERT_EQ(fingerprint({{x.data(), x.size() * 4}}), golden_u64("act", c + "/inputs_fnv"));
    std::vector<float> y(x.size());
    for (int r = 0; r < rows; ++r) kn::silu_row_scalar(x.data() + r * n, y.data() + r * n, n);
    EXPECT_EQ(first_diff(y.data(), golden("act", c + "/y"), y.size() * 4, 4), "") << c << " scalar";
    if (kn::cpu_supports(kn::Isa::avx2)) {
      for (int r = 0; r < rows; ++r) kn::silu_row_avx2(x.data() + r * n, y.data() + r * n, n);
      EXPECT_EQ(first_diff(y.data(), golden("act", c + "/y"), y.size() * 4, 4), "") << c << " avx2";
    }
  }
}

TEST(KernelsAct, SwigluMatchesGgmlAvx2) {
  for (auto [rows, n] : kShapes) {
    const std::string c = "swiglu" + sfx(rows, n);
    auto x = act_vec(c + "/gate", size_t(rows) * n);
    auto u = act_vec(c + "/up", size_t(rows) * n, -3.0f, 3.0f);
    ASSERT_EQ(fingerprint({{x.data(), x.size() * 4}, {u.data(), u.size() * 4}}), golden_u64("act", c + "/inputs_fnv"));
    std::vector<float> y(x.size());
    for (int r = 0; r < rows; ++r) kn::swiglu_row_scalar(x.data() + r * n, u.data() + r * n, y.data() + r * n, n);
    EXPECT_EQ(first_diff(y.data(), golden("act", c + "/y"), y.size() * 4, 4), "") << c << " scalar";
    if (kn::cpu_supports(kn::Isa::avx2)) {
      for (int t = 0; t < 3; ++t) kn::swiglu_rows(x.data(), n, u.data(), n, y.data(), n, n, rows, t, 3);
      EXPECT_EQ(first_diff(y.data(), golden("act", c + "/y"), y.size() * 4, 4), "") << c << " avx2";
    }
  }
}
