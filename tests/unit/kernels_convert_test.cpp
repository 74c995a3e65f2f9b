// lib/kernels conversions vs goldens from the oracle's ggml (tests/fixtures/kernels/convert.ckg.zst).
#include <gtest/gtest.h>

#include "../parity/kernels/kernel_cases.h"
#include "kernels/convert_bf16.h"
#include "kernels/convert_fp16.h"
#include "kernels/isa.h"

using namespace ck_kernel_cases;
namespace kn = ck::kernels;

namespace {
using F2H = void (*)(const float*, uint16_t*, int64_t);
using H2F = void (*)(const uint16_t*, float*, int64_t);

void check_f2h(const char* op, F2H scalar, F2H avx2) {
  for (size_t n : {size_t(1027), size_t(4096)}) {
    const std::string c = std::string(op) + "/n=" + std::to_string(n);
    auto x = special_vec(c, n);
    ASSERT_EQ(fingerprint({{x.data(), n * 4}}), golden_u64("convert", c + "/inputs_fnv")) << c << ": input drift";
    std::vector<uint16_t> y(n);
    scalar(x.data(), y.data(), static_cast<int64_t>(n));
    EXPECT_EQ(first_diff(y.data(), golden("convert", c + "/y"), n * 2, 2), "") << c << " scalar";
    if (kn::cpu_supports(kn::Isa::avx2)) {
      std::fill(y.begin(), y.end(), 0);
      avx2(x.data(), y.data(), static_cast<int64_t>(n));
      EXPECT_EQ(first_diff(y.data(), golden("convert", c + "/y"), n * 2, 2), "") << c << " avx2";
    }
  }
}

void check_h2f(const char* op, H2F scalar, H2F avx2) {
  std::vector<uint16_t> all(65536);
  for (int i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> y(65536);
  const uint64_t want = golden_u64("convert", std::string(op) + "/all/fnv");
  scalar(all.data(), y.data(), 65536);
  EXPECT_EQ(fnv1a(y.data(), y.size() * 4), want) << op << " scalar";
  if (kn::cpu_supports(kn::Isa::avx2)) {
    avx2(all.data(), y.data(), 65536);
    EXPECT_EQ(fnv1a(y.data(), y.size() * 4), want) << op << " avx2";
  }
}
}  // namespace

TEST(KernelsConvert, Fp32ToFp16MatchesGgml) { check_f2h("fp32_to_fp16", kn::fp32_to_fp16_row_scalar, kn::fp32_to_fp16_row_avx2); }
TEST(KernelsConvert, Fp32ToBf16MatchesGgml) { check_f2h("fp32_to_bf16", kn::fp32_to_bf16_row_scalar, kn::fp32_to_bf16_row_avx2); }
TEST(KernelsConvert, Fp16ToFp32AllValues) { check_h2f("fp16_to_fp32", kn::fp16_to_fp32_row_scalar, kn::fp16_to_fp32_row_avx2); }
TEST(KernelsConvert, Bf16ToFp32AllValues) { check_h2f("bf16_to_fp32", kn::bf16_to_fp32_row_scalar, kn::bf16_to_fp32_row_avx2); }

TEST(KernelsConvert, RowsSplitIsThreadCountIndependent) {
  const int64_t n = 1027, rows = 7;
  auto x = special_vec("rows", static_cast<size_t>(n * rows));
  std::vector<uint16_t> y1(x.size()), y3(x.size());
  kn::fp32_to_fp16_rows(x.data(), n, y1.data(), n, n, rows, 0, 1);
  for (int t = 0; t < 3; ++t) kn::fp32_to_fp16_rows(x.data(), n, y3.data(), n, n, rows, t, 3);
  EXPECT_EQ(y1, y3);
}
