// lib/kernels/matmul_q4_0_repack vs goldens from the oracle's ggml (tests/fixtures/kernels/repack_q4_0.ckg.zst):
// whole ggml_mul_mat ops with the Q4_0 weight in the CPU_REPACK buffer (gemm_q4_0_8x8_q8_0 / gemv_q4_0_8x8_q8_0),
// the repacked weight bytes (make_block_q4_0x8) and ggml_quantize_mat_q8_0_4x8's output.
#include <gtest/gtest.h>

#include <cstring>

#include "../parity/kernels/kernel_cases.h"
#include "kernels/dot_kquants.h"
#include "kernels/isa.h"
#include "kernels/matmul_q4_0_repack.h"
#include "kernels/quantize_q8_0.h"

using namespace ck_kernel_cases;
namespace kn = ck::kernels;

namespace {
struct Case {
  std::string c;
  int64_t m, n, k, kb;
  std::vector<uint8_t> w;
  std::vector<float> x;
  std::vector<kn::BlockQ8_0> xq;
  const kn::BlockQ4_0* wq() const { return reinterpret_cast<const kn::BlockQ4_0*>(w.data()); }
};

Case load(const RepackMM& mm) {
  Case t{repack_q4_0_name(mm), mm.m, mm.n, mm.k, mm.k / 32, {}, {}, {}};
  t.w = q4_0_blocks(t.c + "/w", size_t(t.m * t.kb));
  t.x = uniform_vec(t.c + "/x", size_t(t.n * t.k), -2.0f, 2.0f);
  t.xq.resize(size_t(t.n * t.kb));
  kn::quantize_rows_q8_0(t.x.data(), t.k, t.xq.data(), t.kb, t.k, t.n, 0, 1);
  return t;
}
}  // namespace

// The runtime entry point (plain block_q4_0 rows, best ISA, 1 and 3 threads) and every variant, per output.
TEST(KernelsRepackQ4_0, MulMatMatchesGgml) {
  int differs_from_vec_dot = 0;
  for (const RepackMM& mm : repack_q4_0_cases()) {
    const Case t = load(mm);
    ASSERT_EQ(fingerprint({{t.w.data(), t.w.size()}, {t.x.data(), t.x.size() * 4}}),
              golden_u64("repack_q4_0", t.c + "/inputs_fnv"));
    const auto& want = golden("repack_q4_0", t.c + "/y");
    const size_t bytes = size_t(t.m * t.n) * 4;
    for (int nth : {1, 3}) {
      std::vector<float> y(size_t(t.m * t.n), -1.0f);
      for (int ith = 0; ith < nth; ++ith)
        kn::matmul_q4_0_repack(t.m, t.n, t.k, t.wq(), t.kb, t.xq.data(), t.kb, y.data(), t.m, ith, nth);
      EXPECT_EQ(first_diff(y.data(), want, bytes, 4), "") << t.c << " nth=" << nth << " " << kn::isa_name(kn::active_isa());
    }
    std::vector<float> ys(size_t(t.m * t.n)), y2(ys.size()), y5(ys.size());
    for (int64_t j = 0; j < t.n; ++j)
      for (int64_t g = 0; g < t.m; g += 8) {
        const kn::BlockQ8_0* a = t.xq.data() + j * t.kb;
        for (int c = 0; c < 8; ++c) {
          ys[size_t(j * t.m + g + c)] = kn::dot_q4_0_repack_scalar(t.k, t.wq() + (g + c) * t.kb, a);
          const float vd = kn::dot_q4_0_scalar(t.k, t.wq() + (g + c) * t.kb, a);
          differs_from_vec_dot += std::memcmp(&vd, &want[size_t(j * t.m + g + c) * 4], 4) != 0;
        }
        if (kn::cpu_supports(kn::Isa::avx2)) kn::dot8_q4_0_repack_avx2(t.k, t.wq() + g * t.kb, t.kb, a, &y2[size_t(j * t.m + g)]);
        if (kn::cpu_supports(kn::Isa::avx512) && g + 16 <= t.m && g % 16 == 0)
          kn::dot16_q4_0_repack_avx512(t.k, t.wq() + g * t.kb, t.kb, a, &y5[size_t(j * t.m + g)]);
        else std::memcpy(&y5[size_t(j * t.m + g)], &ys[size_t(j * t.m + g)], 32);
      }
    EXPECT_EQ(first_diff(ys.data(), want, bytes, 4), "") << t.c << " scalar";
    if (kn::cpu_supports(kn::Isa::avx2)) { EXPECT_EQ(first_diff(y2.data(), want, bytes, 4), "") << t.c << " avx2"; }
    if (kn::cpu_supports(kn::Isa::avx512)) { EXPECT_EQ(first_diff(y5.data(), want, bytes, 4), "") << t.c << " avx512"; }
  }
  EXPECT_GT(differs_from_vec_dot, 0) << "goldens do not exercise the repack path";
}

// The interleaved layout: make_block_q4_0x8 bytes, ggml_quantize_mat_q8_0_4x8 bytes, and the upstream gemv (AVX2
// literal port + scalar) / gemm (scalar) on that layout give the goldens too.
TEST(KernelsRepackQ4_0, InterleavedLayoutMatchesGgml) {
  for (const RepackMM& mm : repack_q4_0_cases()) {
    const Case t = load(mm);
    std::vector<kn::BlockQ4_0x8> packed(size_t(t.m / 8 * t.kb));
    kn::repack_q4_0_8x8(t.m, t.k, t.wq(), packed.data());
    ASSERT_EQ(packed.size() * sizeof(kn::BlockQ4_0x8), t.w.size());
    EXPECT_EQ(fnv1a(packed.data(), t.w.size()), golden_u64("repack_q4_0", t.c + "/w_q4_0x8_fnv")) << t.c;
    if (t.m * t.k <= 8192) { EXPECT_EQ(first_diff(packed.data(), golden("repack_q4_0", t.c + "/w_q4_0x8"), t.w.size(), 1), "") << t.c; }
    std::vector<kn::BlockQ8_0x4> x4;
    if (t.n >= 4) {
      x4.resize(size_t(t.kb));
      kn::quantize_mat_q8_0_4x8(t.x.data(), t.k, x4.data(), t.k);
      EXPECT_EQ(first_diff(x4.data(), golden("repack_q4_0", t.c + "/x_q8_0x4"), x4.size() * sizeof(kn::BlockQ8_0x4), 1), "")
          << t.c;
    }
    const auto& want = golden("repack_q4_0", t.c + "/y");
    std::vector<float> gv(size_t(t.m * t.n)), gv2(gv.size());
    for (int64_t j = 0; j < t.n; ++j)
      for (int64_t g = 0; g < t.m / 8; ++g) {
        kn::gemv_q4_0_8x8_scalar(t.k, packed.data() + g * t.kb, t.xq.data() + j * t.kb, &gv[size_t(j * t.m + 8 * g)]);
        if (kn::cpu_supports(kn::Isa::avx2))
          kn::gemv_q4_0_8x8_avx2(t.k, packed.data() + g * t.kb, t.xq.data() + j * t.kb, &gv2[size_t(j * t.m + 8 * g)]);
      }
    EXPECT_EQ(first_diff(gv.data(), want, gv.size() * 4, 4), "") << t.c << " gemv scalar (all rows)";
    if (kn::cpu_supports(kn::Isa::avx2)) { EXPECT_EQ(first_diff(gv2.data(), want, gv2.size() * 4, 4), "") << t.c << " gemv avx2"; }
    if (t.n >= 4) {  // rows 0..3 through the gemm model on the 4x8-interleaved activations
      std::vector<float> gm(size_t(4 * t.m));
      for (int64_t g = 0; g < t.m / 8; ++g) kn::gemm_q4_0_8x8_scalar(t.k, packed.data() + g * t.kb, x4.data(), &gm[size_t(8 * g)], t.m);
      const std::vector<uint8_t> want4(want.begin(), want.begin() + std::ptrdiff_t(gm.size() * 4));
      EXPECT_EQ(first_diff(gm.data(), want4, gm.size() * 4, 4), "") << t.c << " gemm scalar";
    }
  }
}
