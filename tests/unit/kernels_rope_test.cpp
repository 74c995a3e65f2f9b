// lib/kernels RoPE (VISION / IMROPE / MROPE) and softmax / argmax vs goldens from the oracle's ggml
// (tests/fixtures/kernels/{rope,softmax}.ckg.zst).
#include <gtest/gtest.h>

#include <cmath>

#include "../parity/kernels/kernel_cases.h"
#include "kernels/argmax.h"
#include "kernels/isa.h"
#include "kernels/rope.h"
#include "kernels/softmax.h"
#include "core/half.h"

using namespace ck_kernel_cases;
namespace kn = ck::kernels;

namespace {
kn::RopeParams params_of(const RopeCase& rc) {
  kn::RopeParams p;
  p.n_dims = rc.n_dims;
  p.mode = rc.mode;
  for (int i = 0; i < 4; ++i) p.sections[i] = rc.sections[i];
  p.freq_base = rc.freq_base;
  return p;
}
}  // namespace

TEST(KernelsRope, RopeMultiMatchesGgml) {
  for (const RopeCase& rc : rope_cases()) {
    const std::string c = std::string("rope/") + rc.name;
    auto x = uniform_vec(c + "/x", size_t(rc.d_head) * rc.n_heads * rc.n_tokens, -3.0f, 3.0f);
    auto pos = rope_positions(rc);
    ASSERT_EQ(fingerprint({{x.data(), x.size() * 4}, {pos.data(), pos.size() * 4}}), golden_u64("rope", c + "/inputs_fnv"));
    const kn::RopeParams p = params_of(rc);
    const auto& want = golden("rope", c + "/y");
    // scalar rows, one token cache at a time
    std::vector<float> y(x.size()), cache(size_t(rc.d_head));
    for (int t = 0; t < rc.n_tokens; ++t) {
      const int32_t pt[4] = {pos[t], pos[t + rc.n_tokens], pos[t + 2 * rc.n_tokens], pos[t + 3 * rc.n_tokens]};
      kn::rope_cache(p, rc.d_head, pt, cache.data());
      for (int h = 0; h < rc.n_heads; ++h) {
        const size_t o = (size_t(t) * rc.n_heads + h) * rc.d_head;
        kn::rope_apply_row_scalar(p, rc.d_head, cache.data(), x.data() + o, y.data() + o);
      }
    }
    EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " scalar";
    // dispatcher, in place, 3 threads
    for (int nth : {1, 3}) {
      std::vector<float> yi = x;
      for (int t = 0; t < nth; ++t)
        kn::rope_multi_rows(p, yi.data(), yi.data(), rc.d_head, rc.n_heads, rc.n_tokens, pos.data(), t, nth);
      EXPECT_EQ(first_diff(yi.data(), want, yi.size() * 4, 4), "") << c << " " << kn::isa_name(kn::active_isa())
                                                                    << " nth=" << nth;
    }
  }
}

TEST(KernelsRope, ImropePairs61And62AreNotRotated) {
  // The Qwen3-VL quirk (decoder digest C.5): sectors 61, 62 read the e plane (always 0), so cos = 1, sin = 0.
  kn::RopeParams p;
  p.n_dims = 128;
  p.mode = kn::kRopeImrope;
  const int s[4] = {24, 20, 20, 0};
  for (int i = 0; i < 4; ++i) p.sections[i] = s[i];
  p.freq_base = 5000000.0f;
  const int32_t pos[4] = {1234, 1240, 1250, 0};
  std::vector<float> cache(128);
  kn::rope_cache(p, 128, pos, cache.data());
  for (int k : {61, 62}) {
    EXPECT_EQ(cache[2 * k], 1.0f) << k;
    EXPECT_EQ(cache[2 * k + 1], 0.0f) << k;
  }
  EXPECT_NE(cache[2 * 60 + 1], 0.0f);
  EXPECT_NE(cache[2 * 63 + 1], 0.0f);
}

TEST(KernelsSoftmax, SoftMaxMatchesGgml) {
  struct SM {
    int rows, n;
    float scale;
    int mask;
  };
  for (const SM& sm : {SM{3, 1027, 0.125f, 1}, SM{2, 4096, 1.0f, 0}, SM{4, 77, 0.5f, 2}, SM{2, 64, 0.0883883476f, 1}}) {
    const std::string c = "soft_max/r=" + std::to_string(sm.rows) + ",n=" + std::to_string(sm.n) +
                          ",mask=" + std::to_string(sm.mask);
    auto x = act_vec(c + "/x", size_t(sm.rows) * sm.n, -20.0f, 20.0f);
    auto m = uniform_vec(c + "/m", size_t(sm.rows) * sm.n, -4.0f, 0.0f);
    for (size_t i = 0; i < m.size(); i += 7) m[i] = -INFINITY;
    ASSERT_EQ(fingerprint({{x.data(), x.size() * 4}, {m.data(), m.size() * 4}}), golden_u64("softmax", c + "/inputs_fnv"));
    std::vector<uint16_t> mh(m.size());
    for (size_t i = 0; i < m.size(); ++i) mh[i] = ck::fp32_to_fp16(m[i]);
    const uint16_t* m16 = sm.mask == 1 ? mh.data() : nullptr;
    const float* m32 = sm.mask == 2 ? m.data() : nullptr;
    const auto& want = golden("softmax", c + "/y");
    std::vector<float> y(x.size());
    for (int r = 0; r < sm.rows; ++r)
      kn::soft_max_row_scalar(x.data() + r * sm.n, y.data() + r * sm.n, sm.n, sm.scale, m16 ? m16 + r * sm.n : nullptr,
                              m32 ? m32 + r * sm.n : nullptr);
    EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " scalar";
    if (kn::cpu_supports(kn::Isa::avx2)) {
      std::fill(y.begin(), y.end(), 0.0f);
      for (int t = 0; t < 2; ++t)
        kn::soft_max_rows(x.data(), sm.n, y.data(), sm.n, sm.n, sm.rows, sm.scale, m16, m32, sm.n, sm.rows, t, 2);
      EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " avx2";
    }
  }
}

TEST(KernelsSoftmax, ArgmaxMatchesGreedySamplerAndGgml) {
  for (int n : {1000, 151936}) {
    const std::string c = "argmax/n=" + std::to_string(n);
    auto x = uniform_vec(c + "/x", size_t(n), -10.0f, 10.0f);
    x[n / 3] = 30.0f, x[n / 2] = 30.0f, x[n - 2] = 29.0f;
    ASSERT_EQ(fingerprint({{x.data(), x.size() * 4}}), golden_u64("softmax", c + "/inputs_fnv"));
    const int64_t first = kn::argmax_first(x.data(), n), last = kn::argmax_last(x.data(), n);
    EXPECT_EQ(first_diff(&first, golden("softmax", c + "/greedy"), 8, 8), "") << c;
    EXPECT_EQ(first_diff(&last, golden("softmax", c + "/ggml_argmax"), 8, 8), "") << c;
    EXPECT_EQ(first, n / 3);
  }
}
