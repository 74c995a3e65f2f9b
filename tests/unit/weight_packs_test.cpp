// Fast mode's weights converted once at load (lib/runtime/weight_packs.h, bind_fast.cpp pack_fast_weights): on a
// tiny synthetic F16 mmproj, a fast plan's executor packs every F16 weight of a fast mat-mul, each slice holding
// exactly matmul_fast_bf16_pack_a of the bump's bytes; a strict plan's executor packs nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "kernels/matmul_fast.h"
#include "pipeline/compile.h"
#include "runtime/executor.h"
#include "runtime/program.h"
#include "synth/synth.h"

namespace fs = std::filesystem;
namespace kn = ck::kernels;
namespace rt = ck::runtime;

namespace {

struct Tmp {
  fs::path dir = fs::path(testing::TempDir()) / ("ck_weight_packs_" + std::to_string(::getpid()));
  Tmp() {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Tmp() { fs::remove_all(dir); }
};

std::unique_ptr<rt::Program> plan(const std::string& gguf, const fs::path& dir, const std::string& mode) {
  ck::pipeline::CompileOptions o;
  o.templates_dir = std::string(CK_SOURCE_DIR) + "/templates";
  o.mode = mode;
  ck::pipeline::compile(gguf, dir.string(), o);
  return rt::Program::load((dir / "plan").string());
}

}  // namespace

TEST(WeightPacks, FastPlanPacksItsF16MatMulWeightsOnceStrictNone) {
  Tmp tmp;
  ck::synth::Options so;
  so.out_dir = tmp.dir.string();
  so.write_text = false;
  so.mmproj_type = ck::DType::F16;
  so.threads = 2;
  const auto w = ck::synth::generate(so);
  ASSERT_EQ(w.size(), 1u);

  const auto strict = plan(w[0].path, tmp.dir / "strict", "strict");
  EXPECT_EQ(rt::Executor(*strict, 2).weight_packs(), nullptr);

  const auto fast = plan(w[0].path, tmp.dir / "fast", "fast");
  rt::Executor ex(*fast, 2);
  if (!kn::matmul_fast_bf16_available()) {
    EXPECT_EQ(ex.weight_packs(), nullptr) << "without AVX512-BF16 fast mode runs strict: nothing to pack";
    GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  }
  const rt::WeightPacks* packs = ex.weight_packs();
  ASSERT_NE(packs, nullptr);
  std::set<uint64_t> weights;
  size_t words = 0;
  for (const auto& c : fast->calls()) {
    if (c.kernel != "mul_mat.f16.f32.fast") continue;
    const rt::TensorRef& t = c.weights.at(0);
    if (!weights.insert(t.byte_offset).second) continue;
    const int64_t m = t.shape[0].value, k = t.shape[1].value;
    const uint8_t* data = fast->weight_base() + t.byte_offset;
    const uint16_t* got = packs->slice(data);
    ASSERT_NE(got, nullptr) << t.tensor << " is not packed";
    std::vector<uint16_t> want(kn::matmul_fast_bf16_packed_a_words(m, k));
    kn::matmul_fast_bf16_pack_a(kn::FastWeight::f16, m, k, data, k, want.data(), 0, 1);
    ASSERT_EQ(std::memcmp(got, want.data(), want.size() * 2), 0) << t.tensor << ": packed bytes differ";
    words += want.size();
  }
  ASSERT_FALSE(weights.empty()) << "the tiny F16 mmproj has F16 fast mat-muls";
  EXPECT_EQ(packs->count(), weights.size());  // each weight once, nothing else
  EXPECT_GE(packs->bytes(), words * 2);
  EXPECT_LE(packs->bytes(), words * 2 + 64 * weights.size());
}
