// lib/kernels activation quantizers vs goldens from the oracle's ggml (tests/fixtures/kernels/quantize.ckg.zst).
#include <gtest/gtest.h>

#include "../parity/kernels/kernel_cases.h"
#include "kernels/isa.h"
#include "kernels/quantize_q8_0.h"
#include "kernels/quantize_q8_K.h"

using namespace ck_kernel_cases;
namespace kn = ck::kernels;

TEST(KernelsQuantize, Q8_0MatchesGgmlAvx2Path) {
  const size_t rows = 4, k = 4096;
  const std::string c = "q8_0/r=4,k=4096";
  auto x = quant_input(c, rows, k, 32);
  ASSERT_EQ(fingerprint({{x.data(), x.size() * 4}}), golden_u64("quantize", c + "/inputs_fnv"));
  std::vector<kn::BlockQ8_0> y(rows * k / 32);
  for (size_t r = 0; r < rows; ++r) kn::quantize_row_q8_0_scalar(x.data() + r * k, y.data() + r * k / 32, k);
  EXPECT_EQ(first_diff(y.data(), golden("quantize", c + "/y"), y.size() * 34, 34), "") << "scalar";
  if (kn::cpu_supports(kn::Isa::avx2)) {
    std::vector<kn::BlockQ8_0> y2(y.size());
    for (int t = 0; t < 3; ++t) kn::quantize_rows_q8_0(x.data(), k, y2.data(), k / 32, k, rows, t, 3);
    EXPECT_EQ(first_diff(y2.data(), golden("quantize", c + "/y"), y2.size() * 34, 34), "") << "dispatch";
    for (size_t r = 0; r < rows; ++r) kn::quantize_row_q8_0_avx2(x.data() + r * k, y2.data() + r * k / 32, k);
    EXPECT_EQ(first_diff(y2.data(), golden("quantize", c + "/y"), y2.size() * 34, 34), "") << "avx2";
  }
}

TEST(KernelsQuantize, Q8_KMatchesGgmlReference) {
  const size_t rows = 4, k = 4096;
  const std::string c = "q8_K/r=4,k=4096";
  auto x = quant_input(c, rows, k, 256);
  ASSERT_EQ(fingerprint({{x.data(), x.size() * 4}}), golden_u64("quantize", c + "/inputs_fnv"));
  std::vector<kn::BlockQ8_K> y(rows * k / 256);
  for (int t = 0; t < 2; ++t) kn::quantize_rows_q8_K(x.data(), k, y.data(), k / 256, k, rows, t, 2);
  EXPECT_EQ(first_diff(y.data(), golden("quantize", c + "/y"), y.size() * 292, 292), "");
}
