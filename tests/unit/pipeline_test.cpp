// lib/pipeline pieces that need no model: the plan cache's source records (pipeline/plan_cache.h) and the
// sampler's penalties (decode/sampling.h, llama_sampler_penalties_apply). The Encoder/Decoder end to end are
// tests/cli/bridge_pipeline.bats against the stage tools and the oracle fixtures.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/arith.h"
#include "core/error.h"
#include "decode/sampling.h"
#include "pipeline/plan_cache.h"

namespace fs = std::filesystem;

namespace {
fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::path(testing::TempDir()) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
void write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary | std::ios::trunc) << s; }
void set_mtime(const fs::path& p, time_t t) {
  struct utimbuf u{t, t};
  ASSERT_EQ(utime(p.c_str(), &u), 0);
}
constexpr const char* kShaAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";  // FIPS 180-2
constexpr const char* kShaAbd = "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9";  // sha256("abd")
}  // namespace

TEST(PlanCache, HashesOnAMissOnlyAndNoticesChangedFiles) {
  const fs::path d = fresh_dir("ck_plan_cache_test");
  const fs::path f = d / "model.gguf";
  write(f, "abc");
  set_mtime(f, 1700000000);
  ck::pipeline::PlanCache cache((d / "cache").string());
  auto h = cache.file_sha256(f.string());
  EXPECT_EQ(h.sha256, kShaAbc);
  EXPECT_FALSE(h.cached);
  h = cache.file_sha256(f.string());
  EXPECT_EQ(h.sha256, kShaAbc);
  EXPECT_TRUE(h.cached);  // same device, inode, size, mtime: not read again

  // Same size, new bytes, same mtime, same inode: the record cannot tell (make's rule) ...
  write(f, "abd");
  set_mtime(f, 1700000000);
  EXPECT_TRUE(cache.file_sha256(f.string()).cached);
  // ... a new mtime can.
  set_mtime(f, 1700000001);
  h = cache.file_sha256(f.string());
  EXPECT_FALSE(h.cached);
  EXPECT_EQ(h.sha256, kShaAbd);

  // A replaced file (new inode) with the old size and mtime is a miss too.
  const fs::path g = d / "other";
  write(g, "abc");
  set_mtime(g, 1700000001);
  fs::rename(g, f);
  h = cache.file_sha256(f.string());
  EXPECT_FALSE(h.cached);
  EXPECT_EQ(h.sha256, kShaAbc);

  // An unreadable record counts as a miss, and is rewritten.
  for (const auto& e : fs::directory_iterator(d / "cache" / "sources")) write(e.path(), "{not json");
  h = cache.file_sha256(f.string());
  EXPECT_FALSE(h.cached);
  EXPECT_EQ(h.sha256, kShaAbc);
  EXPECT_TRUE(cache.file_sha256(f.string()).cached);

  EXPECT_THROW(cache.file_sha256((d / "absent").string()), ck::Error);
  EXPECT_EQ(cache.plan_dir(std::string(64, 'a')), (d / "cache").string() + "/" + std::string(32, 'a'));
}

// llama_sampler_penalties_apply (llama-sampling.cpp): for a token seen `count` times in the last repeat_last_n
// accepted tokens, logit <= 0 ? logit * repeat : logit / repeat, then -= count * frequency + (count > 0) * presence.
// Greedy keeps the first maximum of the penalised logits.
namespace {
std::vector<int32_t> greedy_run(const ck::decode::SamplingParams& p, const std::vector<float>& logits, int n) {
  ck::decode::Sampler s(p);
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) out.push_back(s.sample(logits));
  return out;
}
}  // namespace

TEST(DecodeSampling, RepeatPenaltyDividesPositiveAndMultipliesNegativeLogits) {
  ck::decode::SamplingParams p;
  p.temp = 0;
  p.repeat_penalty = 2.0f;
  // 0: 2.0 -> 1.0 once seen (once, however often: 1.0 beats 1: 0.75 and 3: 0.9 from then on).
  EXPECT_EQ(greedy_run(p, {2.0f, 1.5f, -1.0f, 0.9f}, 4), (std::vector<int32_t>{0, 1, 0, 0}));
  // Negative logits are multiplied: -1.0 -> -2.0 < -1.5; then 1: -3.0 < 0: -2.0.
  EXPECT_EQ(greedy_run(p, {-1.0f, -1.5f}, 3), (std::vector<int32_t>{0, 1, 0}));
  p.repeat_penalty = 1.0f;  // neutral: the penalties stage is skipped
  EXPECT_EQ(greedy_run(p, {2.0f, 1.5f}, 3), (std::vector<int32_t>{0, 0, 0}));
}

TEST(DecodeSampling, FrequencyAndPresencePenaltiesCountTheWindow) {
  ck::decode::SamplingParams p;
  p.temp = 0;
  p.frequency_penalty = 0.4f;
  p.presence_penalty = 0.2f;
  // 0 seen n times: 2.0 - 0.4n - 0.2 = 1.4, 1.0, 0.6; 1 seen once: 1.5 - 0.6 = 0.9.
  EXPECT_EQ(greedy_run(p, {2.0f, 1.5f, 0.0f}, 5), (std::vector<int32_t>{0, 1, 0, 0, 1}));
}

TEST(DecodeSampling, PenaltyWindowIsTheLastRepeatLastNTokens) {
  ck::decode::SamplingParams p;
  p.temp = 0;
  p.repeat_penalty = 4.0f;
  const std::vector<float> l = {2.0f, 1.9f, 1.8f};
  p.repeat_last_n = 64;
  EXPECT_EQ(greedy_run(p, l, 3), (std::vector<int32_t>{0, 1, 2}));
  p.repeat_last_n = 1;  // only the previous token is penalised
  EXPECT_EQ(greedy_run(p, l, 3), (std::vector<int32_t>{0, 1, 0}));
  p.repeat_last_n = 0;  // off
  EXPECT_EQ(greedy_run(p, l, 3), (std::vector<int32_t>{0, 0, 0}));
  p.repeat_last_n = 64;
  ck::decode::Sampler s(p);
  EXPECT_EQ(s.sample(l), 0);
  s.reset_history();
  EXPECT_EQ(s.sample(l), 0);
}

// core/arith.h: the one arithmetic core of the graph and manifest expression languages.
TEST(Arith, OneDivisionRuleAndOverflowChecks) {
  using ck::arith::apply;
  using ck::arith::Number;
  using ck::arith::Op;
  EXPECT_EQ(apply(Op::Div, Number::of_int(1152), Number::of_int(16)).i, 72);
  EXPECT_THROW(apply(Op::Div, Number::of_int(1000), Number::of_int(3)), ck::arith::Error);
  EXPECT_THROW(apply(Op::Div, Number::of_int(1), Number::of_int(0)), ck::arith::Error);
  EXPECT_THROW(apply(Op::Div, Number::of_float(1), Number::of_int(0)), ck::arith::Error);
  EXPECT_EQ(apply(Op::Div, Number::of_float(1), Number::of_int(4)).f, 0.25);
  EXPECT_THROW(apply(Op::Mul, Number::of_int(int64_t(1) << 62), Number::of_int(4)), ck::arith::Error);
  EXPECT_THROW(apply(Op::Add, Number::of_int(INT64_MAX), Number::of_int(1)), ck::arith::Error);
  EXPECT_EQ(apply(Op::Max, Number::of_int(3), Number::of_int(-7)).i, 3);
  EXPECT_TRUE(apply(Op::Min, Number::of_int(3), Number::of_float(0.5)).is_float);
}
