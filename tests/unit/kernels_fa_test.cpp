// lib/kernels flash attention vs goldens from the oracle's ggml_flash_attn_ext (tests/fixtures/kernels/fa.ckg.zst):
// tiled (>= 64 queries), one_chunk (F16 Q and accumulator), split-KV (1 query, KV >= 512, oracle thread count),
// GQA, causal F16 masks with -inf cells skipped, tail KV tiles.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "../parity/kernels/kernel_cases.h"
#include "kernels/flash_attn.h"
#include "kernels/isa.h"

using namespace ck_kernel_cases;
namespace kn = ck::kernels;

namespace {
kn::FlashAttnShape shape_of(const FaCase& c) {
  kn::FlashAttnShape s;
  s.DK = c.DK, s.DV = c.DV, s.N = c.N, s.KV = c.KV, s.H = c.H, s.Hk = c.Hk;
  s.scale = 1.0f / std::sqrt(static_cast<float>(c.DK));
  s.q_si = c.DK, s.q_sh = int64_t(c.N) * c.DK;
  s.k_sj = c.DK, s.k_sg = int64_t(c.KV) * c.DK;
  s.v_sj = c.DV, s.v_sg = int64_t(c.KV) * c.DV;
  s.mask_si = c.KV;
  return s;
}
}  // namespace

TEST(KernelsFlashAttn, MatchesGgmlAllPaths) {
  for (const FaCase& fc : fa_cases()) {
    const std::string c = std::string("fa/") + fc.name;
    const FaInputs in = fa_inputs(fc);
    ASSERT_EQ(fingerprint({{in.q.data(), in.q.size() * 4}, {in.k.data(), in.k.size() * 2}, {in.v.data(), in.v.size() * 2},
                           {in.mask.data(), in.mask.size() * 2}}),
              golden_u64("fa", c + "/inputs_fnv"));
    const kn::FlashAttnShape s = shape_of(fc);
    const std::string want_path = c.substr(3, c.find('/', 3) - 3);
    const kn::FlashAttnPath path = kn::flash_attn_path(s);
    EXPECT_EQ(want_path, path == kn::FlashAttnPath::tiled ? "tiled" : path == kn::FlashAttnPath::one_chunk ? "one_chunk" : "split_kv");
    const uint16_t* mask = in.mask.empty() ? nullptr : in.mask.data();
    const auto& want = golden("fa", c + "/y");
    std::vector<float> y(size_t(fc.N) * fc.H * fc.DV, -1.0f);
    // scalar rows
    for (int64_t i = 0; i < fc.N; ++i)
      for (int64_t h = 0; h < fc.H; ++h) {
        float* o = y.data() + (i * fc.H + h) * fc.DV;
        switch (path) {
          case kn::FlashAttnPath::tiled: kn::flash_attn_row_tiled_scalar(s, in.q.data(), in.k.data(), in.v.data(), mask, i, h, o); break;
          case kn::FlashAttnPath::one_chunk: kn::flash_attn_row_one_chunk_scalar(s, in.q.data(), in.k.data(), in.v.data(), mask, i, h, o); break;
          case kn::FlashAttnPath::split_kv:
            kn::flash_attn_row_split_kv_scalar(s, in.q.data(), in.k.data(), in.v.data(), mask, i, h, fc.threads, o);
            break;
        }
      }
    EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " scalar";
    // dispatcher on 1 and 3 ck threads (the split-KV chunk count stays the oracle's)
    for (int nth : {1, 3}) {
      std::fill(y.begin(), y.end(), -1.0f);
      for (int t = 0; t < nth; ++t)
        kn::flash_attn_ext(s, in.q.data(), in.k.data(), in.v.data(), mask, y.data(), fc.threads, t, nth);
      EXPECT_EQ(first_diff(y.data(), want, y.size() * 4, 4), "") << c << " " << kn::isa_name(kn::active_isa())
                                                                  << " nth=" << nth;
    }
  }
}

TEST(KernelsFlashAttn, SplitKvDependsOnOracleThreads) {
  const FaCase& fc = fa_cases()[6];  // split_kv/d=128,kv=512,t=2
  const FaInputs in = fa_inputs(fc);
  const kn::FlashAttnShape s = shape_of(fc);
  std::vector<float> a(size_t(fc.H) * fc.DV), b(a.size());
  kn::flash_attn_ext(s, in.q.data(), in.k.data(), in.v.data(), in.mask.data(), a.data(), 1, 0, 1);
  kn::flash_attn_ext(s, in.q.data(), in.k.data(), in.v.data(), in.mask.data(), b.data(), 2, 0, 1);
  EXPECT_NE(std::memcmp(a.data(), b.data(), a.size() * 4), 0) << "1 vs 2 KV chunks should differ in some bits";
}
