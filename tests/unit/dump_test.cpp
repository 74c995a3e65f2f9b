// lib/dump: ck.dump writer/reader round trip, validation of corrupt dumps, comparison metrics (values worked
// out by hand), first divergence in graph order, report rendering.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zstd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bridge/prefix.h"
#include "core/error.h"
#include "core/half.h"
#include "dump/compare.h"
#include "dump/diff.h"
#include "dump/reader.h"
#include "dump/writer.h"

namespace fs = std::filesystem;
using ck::DumpDType;

namespace {

// A fresh scratch directory per test, removed afterwards.
class DumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() /
            ("ck_dump_test." + std::to_string(::getpid()) + "." + info->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string path(const std::string& name) const { return (root_ / name).string(); }
  fs::path root_;
};

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void spit(const std::string& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
}

// Writes a small dump: encode phase {inp_raw f32 [2,3], attn_norm-0 f16 [4], attn_norm-0 again, ids i32 [3]},
// prefill phase {attn_norm-0 f32 [2]}. `tweak` (if set) scales the f32 value at index 4 of inp_raw.
void write_sample(const std::string& dir, float inp4 = 4.0f, bool overwrite = false) {
  ck::DumpWriterOptions options;
  options.overwrite = overwrite;
  ck::DumpWriter w(dir, "dump_test", options);
  w.set_phase("encode");
  float inp[6] = {0, 1, 2, 3, inp4, 5};
  const int64_t ne_inp[2] = {3, 2};
  w.add("inp_raw", DumpDType::F32, ne_inp, inp, sizeof inp);
  uint16_t h[4] = {ck::fp32_to_fp16(1.0f), ck::fp32_to_fp16(-2.5f), ck::fp32_to_fp16(0.5f), 0x7c00 /* inf */};
  const int64_t ne4[1] = {4};
  w.add("attn_norm-0", DumpDType::F16, ne4, h, sizeof h);
  w.add("attn_norm-0", DumpDType::F16, ne4, h, sizeof h);
  int32_t ids[3] = {7, -1, 151643};
  const int64_t ne3[4] = {3, 1, 1, 1};
  w.add("ids", DumpDType::I32, ne3, ids, sizeof ids);
  w.set_phase("prefill");
  float p[2] = {1.5f, -0.0f};
  const int64_t ne2[1] = {2};
  w.add("attn_norm-0", DumpDType::F32, ne2, p, sizeof p);
  w.commit();
}

nlohmann::ordered_json read_index(const std::string& dir) {
  return nlohmann::ordered_json::parse(slurp(dir + "/index.json"));
}

ck::DiffOptions filter_opt(std::string f) {
  ck::DiffOptions o;
  o.filter = std::move(f);
  return o;
}

ck::DiffOptions tol_opt(double tol) {
  ck::DiffOptions o;
  o.tol = tol;
  return o;
}

void write_index(const std::string& dir, const nlohmann::ordered_json& j) { spit(dir + "/index.json", j.dump(1)); }

// Expects the reader (and a read of every record) to throw a one-line ck::Error containing `needle`.
void expect_bad(const std::string& dir, const std::string& needle) {
  try {
    ck::DumpReader r(dir);
    for (const auto& rec : r.records()) r.read(rec);
    FAIL() << "no error for " << needle;
  } catch (const ck::Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

}  // namespace

// ---- format helpers ----

TEST(DumpFormat, FileNamesAreSanitised) {
  EXPECT_EQ(ck::dump_file_name(12, "attn_norm-0"), "00012_attn_norm-0.zst");
  EXPECT_EQ(ck::dump_file_name(7, "ffn_out-3__1"), "00007_ffn_out-3__1.zst");
  EXPECT_EQ(ck::dump_file_name(3, "x (view)"), "00003_x__view_.zst");
  EXPECT_EQ(ck::dump_file_name(123456, "a/b"), "123456_a_b.zst");
  EXPECT_EQ(ck::dump_sanitize("\xc3\xa9.v1"), "__.v1");
}

TEST(DumpFormat, ShapesEquivalentUpToLeadingOnes) {
  EXPECT_TRUE(ck::dump_shapes_equivalent({1, 1, 7, 2048}, {7, 2048}));
  EXPECT_TRUE(ck::dump_shapes_equivalent({1}, {1, 1}));
  EXPECT_FALSE(ck::dump_shapes_equivalent({7, 2048, 1}, {7, 2048}));
  EXPECT_FALSE(ck::dump_shapes_equivalent({2, 3}, {3, 2}));
  EXPECT_EQ(ck::dump_unflatten(17, {1, 2, 3, 4}), (std::vector<int64_t>{0, 1, 1, 1}));
  EXPECT_EQ(ck::dump_unflatten(0, {5}), (std::vector<int64_t>{0}));
}

// ---- writer / reader ----

TEST_F(DumpTest, RoundTrip) {
  const std::string dir = path("d");
  write_sample(dir);
  EXPECT_FALSE(fs::exists(dir + ".tmp." + std::to_string(::getpid())));
  ck::DumpReader r(dir);
  EXPECT_EQ(r.producer(), "dump_test");
  ASSERT_EQ(r.records().size(), 5u);
  const auto& inp = r.records()[0];
  EXPECT_EQ(inp.order, 0);
  EXPECT_EQ(inp.name, "inp_raw");
  EXPECT_EQ(inp.phase, "encode");
  EXPECT_EQ(inp.ne, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(inp.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(inp.file, "00000_inp_raw.zst");
  EXPECT_EQ(inp.nbytes, 24u);
  EXPECT_EQ(r.read_f32(inp), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  // Repeat within a phase gets "__1"; the same name in another phase does not.
  EXPECT_EQ(r.records()[1].name, "attn_norm-0");
  EXPECT_EQ(r.records()[2].name, "attn_norm-0__1");
  EXPECT_EQ(r.records()[2].file, "00002_attn_norm-0__1.zst");
  EXPECT_EQ(r.records()[4].name, "attn_norm-0");
  EXPECT_EQ(r.records()[4].phase, "prefill");
  auto h = r.read_f32(r.records()[2]);
  EXPECT_EQ(h[1], -2.5f);
  EXPECT_TRUE(std::isinf(h[3]));
  auto ids = r.read(r.records()[3]);
  int32_t last;
  std::memcpy(&last, ids.data() + 8, 4);
  EXPECT_EQ(last, 151643);
  EXPECT_EQ(r.records()[3].shape, (std::vector<int64_t>{1, 1, 1, 3}));
  EXPECT_NE(r.find("prefill", "attn_norm-0"), nullptr);
  EXPECT_EQ(r.find("prefill", "attn_norm-0__1"), nullptr);
  // The data files are plain zstd: the index's nbytes is the decompressed size.
  std::string packed = slurp(dir + "/00000_inp_raw.zst");
  EXPECT_EQ(ZSTD_getFrameContentSize(packed.data(), packed.size()), 24u);
  EXPECT_EQ(read_index(dir)["format"], "ck.dump");
}

TEST_F(DumpTest, WriterRefusesExistingDirUnlessOverwrite) {
  const std::string dir = path("d");
  write_sample(dir);
  EXPECT_THROW(write_sample(dir), ck::Error);
  write_sample(dir, 9.0f, /*overwrite=*/true);
  EXPECT_EQ(ck::DumpReader(dir).read_f32(ck::DumpReader(dir).records()[0])[4], 9.0f);
  // Never replaces a directory that is not a dump.
  fs::create_directories(path("notadump"));
  spit(path("notadump/keep.txt"), "x");
  EXPECT_THROW(write_sample(path("notadump"), 4.0f, true), ck::Error);
  EXPECT_TRUE(fs::exists(path("notadump/keep.txt")));
}

TEST_F(DumpTest, WriterLeavesNothingWithoutCommit) {
  const std::string dir = path("d");
  {
    ck::DumpWriter w(dir, "t");
    w.set_phase("encode");
    float x = 1;
    const int64_t ne[1] = {1};
    w.add("x", DumpDType::F32, ne, &x, 4);
    const int64_t ne2[1] = {2};
    EXPECT_THROW(w.add("y", DumpDType::F32, ne2, &x, 4), ck::Error);  // 4 bytes for 2 elements
  }
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_TRUE(fs::is_empty(root_));
}

TEST_F(DumpTest, WriterValidatesPhaseAndName) {
  ck::DumpWriter w(path("d"), "t");
  float x = 1;
  const int64_t ne[1] = {1};
  EXPECT_THROW(w.add("x", DumpDType::F32, ne, &x, 4), ck::Error);  // no phase yet
  EXPECT_THROW(w.set_phase("pre fill"), ck::Error);
  w.set_phase("gen0");
  EXPECT_THROW(w.add("", DumpDType::F32, ne, &x, 4), ck::Error);
  EXPECT_THROW(w.add(std::string(128, 'a'), DumpDType::F32, ne, &x, 4), ck::Error);
  const int64_t ne5[5] = {1, 1, 1, 1, 1};
  EXPECT_THROW(w.add("x", DumpDType::F32, ne5, &x, 4), ck::Error);
}

TEST_F(DumpTest, EmptyDumpIsValid) {
  ck::DumpWriter w(path("d"), "t");
  w.commit();
  EXPECT_TRUE(ck::DumpReader(path("d")).records().empty());
}

// ---- reader rejects corrupt input, one line naming the file ----

TEST_F(DumpTest, ReaderRejectsBadIndex) {
  const std::string dir = path("d");
  write_sample(dir);
  const auto good = read_index(dir);
  auto with = [&](auto edit, const std::string& needle) {
    auto j = good;
    edit(j);
    write_index(dir, j);
    expect_bad(dir, needle);
  };
  using J = nlohmann::ordered_json;
  with([](J& j) { j["format"] = "ck.bump"; }, "index.json: format is \"ck.bump\"");
  with([](J& j) { j["version"] = 2; }, "unsupported ck.dump version 2");
  with([](J& j) { j.erase("producer"); }, "missing \"producer\"");
  with([](J& j) { j["records"] = 5; }, "\"records\"");
  with([](J& j) { j["records"][1]["order"] = 0; }, "order not strictly increasing");
  with([](J& j) { j["records"][0]["order"] = 1.5; }, "\"order\" is not an integer");
  with([](J& j) { j["records"][0]["dtype"] = "bf16"; }, "dtype \"bf16\"");
  with([](J& j) { j["records"][0]["shape"] = {3, 2}; }, "is not ne [3,2] reversed");
  with([](J& j) { j["records"][0]["ne"] = J::array(); }, "\"ne\" must be an array");
  with([](J& j) { j["records"][0]["ne"] = {-1, 2}; }, "\"ne\" entries");
  with([](J& j) { j["records"][0]["nbytes"] = 20; }, "nbytes 20 != product(ne) x 4 = 24");
  with([](J& j) { j["records"][0]["file"] = "../x.zst"; }, "expected \"00000_inp_raw.zst\"");
  with([](J& j) { j["records"][0]["phase"] = "a/b"; }, "phase may only contain");
  with([](J& j) { j["records"][0]["name"] = ""; }, "empty name");
  with([](J& j) { j["records"][2]["name"] = "attn_norm-0"; j["records"][2]["file"] = "00002_attn_norm-0.zst"; },
       "duplicate (phase, name) \"encode/attn_norm-0\"");
  with([](J& j) { j["records"][0].erase("nbytes"); }, "record 0 (order 0, \"inp_raw\"): missing \"nbytes\"");
  spit(dir + "/index.json", "{\"format\": \"ck.dump\", ");
  expect_bad(dir, "index.json: invalid JSON");
  write_index(dir, good);
  fs::remove(dir + "/00003_ids.zst");
  expect_bad(dir, "00003_ids.zst: missing data file");
  fs::remove(dir + "/index.json");
  expect_bad(dir, "index.json: missing");
  expect_bad(path("nope"), "no such dump directory");
}

TEST_F(DumpTest, ReaderRejectsCorruptData) {
  const std::string dir = path("d");
  write_sample(dir);
  const std::string f = dir + "/00000_inp_raw.zst";
  const std::string packed = slurp(f);
  spit(f, packed.substr(0, packed.size() - 6));  // truncated frame
  expect_bad(dir, "00000_inp_raw.zst: ");
  spit(f, "not zstd at all");
  expect_bad(dir, "00000_inp_raw.zst: corrupt zstd data");
  spit(f, "");
  expect_bad(dir, "00000_inp_raw.zst: empty file");
  // Valid zstd, wrong size (too short and too long).
  std::vector<char> buf(ZSTD_compressBound(28));
  float seven[7] = {};
  spit(f, std::string(buf.data(), ZSTD_compress(buf.data(), buf.size(), seven, 20, 1)));
  expect_bad(dir, "decompresses to 20 bytes, index says nbytes 24");
  spit(f, std::string(buf.data(), ZSTD_compress(buf.data(), buf.size(), seven, 28, 1)));
  expect_bad(dir, "decompresses to more than 24 bytes");
  // Two concatenated frames totalling nbytes are fine.
  std::string two = std::string(buf.data(), ZSTD_compress(buf.data(), buf.size(), seven, 12, 1));
  two += two;
  spit(f, two);
  ck::DumpReader r(dir);
  EXPECT_EQ(r.read(r.records()[0]).size(), 24u);
}

// ---- metrics, worked out by hand ----

TEST(DumpCompare, HandComputedMetrics) {
  std::vector<float> a = {1, 2, 3}, b = {1, 2.5f, 3};
  auto c = ck::compare_f32(a, b, 0);
  EXPECT_EQ(c.n, 3u);
  EXPECT_EQ(c.n_diff, 1u);
  EXPECT_DOUBLE_EQ(c.max_abs, 0.5);
  EXPECT_DOUBLE_EQ(c.mean_abs, 1.0 / 6.0);
  EXPECT_DOUBLE_EQ(c.rmse, std::sqrt(0.25 / 3.0));
  // a.b = 1 + 5 + 9 = 15; |a| = sqrt(14); |b| = sqrt(1 + 6.25 + 9) = sqrt(16.25)
  EXPECT_DOUBLE_EQ(c.cosine, 15.0 / (std::sqrt(14.0) * std::sqrt(16.25)));
  ASSERT_TRUE(c.first.has_value());
  EXPECT_EQ(*c.first, 1u);
  EXPECT_EQ(c.first_a, 2.0);
  EXPECT_EQ(c.first_b, 2.5);
  // Within a tolerance of 0.5 the same pair is equal; the metrics do not change.
  auto t = ck::compare_f32(a, b, 0.5);
  EXPECT_TRUE(t.ok());
  EXPECT_DOUBLE_EQ(t.max_abs, 0.5);
  EXPECT_FALSE(ck::compare_f32(a, b, 0.4999).ok());
}

TEST(DumpCompare, BitwiseRules) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  // Identical bits: equal, including NaN and inf.
  std::vector<float> a = {nan, inf, -inf, 0.0f};
  auto same = ck::compare_f32(a, a, 0);
  EXPECT_TRUE(same.ok());
  EXPECT_EQ(same.max_abs, 0);
  // -0 vs +0: max_abs 0 but different bits -> unequal at tol 0, equal at any tol > 0.
  std::vector<float> pz = {0.0f}, nz = {-0.0f};
  auto z = ck::compare_f32(pz, nz, 0);
  EXPECT_EQ(z.n_diff, 1u);
  EXPECT_EQ(z.max_abs, 0);
  EXPECT_TRUE(ck::compare_f32(pz, nz, 1e-30).ok());
  // NaN with different payload: unequal at any tolerance, and excluded from the metrics.
  uint32_t bits = 0x7fc00001;
  float nan2;
  std::memcpy(&nan2, &bits, 4);
  std::vector<float> n1 = {nan, 1.0f}, n2 = {nan2, 1.0f};
  auto nn = ck::compare_f32(n1, n2, 1e9);
  EXPECT_EQ(nn.n_diff, 1u);
  EXPECT_EQ(*nn.first, 0u);
  EXPECT_EQ(nn.max_abs, 0);
  EXPECT_EQ(nn.mean_abs, 0);
  // NaN vs a number: unequal.
  std::vector<float> one = {1.0f};
  std::vector<float> n1only = {nan};
  EXPECT_EQ(ck::compare_f32(one, n1only, 1e9).n_diff, 1u);
  // inf vs -inf: max_abs inf.
  std::vector<float> pi = {inf}, ni = {-inf};
  EXPECT_TRUE(std::isinf(ck::compare_f32(pi, ni, 1).max_abs));
}

TEST(DumpCompare, CosineEdgeCases) {
  std::vector<float> z = {0, 0}, x = {1, 0}, y = {0, 1}, mx = {-1, 0};
  EXPECT_EQ(ck::compare_f32(z, z, 0).cosine, 1.0);
  EXPECT_EQ(ck::compare_f32(z, x, 0).cosine, 0.0);
  EXPECT_EQ(ck::compare_f32(x, y, 0).cosine, 0.0);
  EXPECT_EQ(ck::compare_f32(x, mx, 0).cosine, -1.0);
}

TEST(DumpCompare, Int32Exact) {
  std::vector<int32_t> a = {5, 16777217, -3}, b = {5, 16777216, -3};  // differ by 1 beyond f32 precision
  auto c = ck::compare_i32(a, b);
  EXPECT_EQ(c.n_diff, 1u);
  EXPECT_EQ(*c.first, 1u);
  EXPECT_EQ(c.max_abs, 1.0);
  EXPECT_DOUBLE_EQ(c.mean_abs, 1.0 / 3.0);
  EXPECT_TRUE(ck::compare_i32(a, a).ok());
}

// ---- dump diff: first divergence, missing records, mismatches ----

namespace {
void add_f32(ck::DumpWriter& w, const std::string& name, std::vector<float> v, std::vector<int64_t> ne = {}) {
  if (ne.empty()) ne = {static_cast<int64_t>(v.size())};
  w.add(name, DumpDType::F32, ne, v.data(), v.size() * 4);
}
}  // namespace

TEST_F(DumpTest, FirstDivergenceFollowsGraphOrderOfA) {
  // A computes x, y, z; B lists them in another order and differs in z and y. The first divergence is
  // y (A's order), not z (B's first listed difference).
  {
    ck::DumpWriter w(path("a"), "A");
    w.set_phase("encode");
    add_f32(w, "x", {1, 2});
    add_f32(w, "y", {1, 2, 3, 4, 5, 6}, {3, 2});
    add_f32(w, "z", {1});
    w.commit();
  }
  {
    ck::DumpWriter w(path("b"), "B");
    w.set_phase("encode");
    add_f32(w, "z", {2});
    add_f32(w, "x", {1, 2});
    add_f32(w, "y", {1, 2, 3, 4, 5.5f, 6}, {3, 2, 1});  // shape [1,2,3] ~ [2,3]
    w.commit();
  }
  auto r = ck::diff_dumps(path("a"), path("b"), {});
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.tensors.size(), 3u);
  EXPECT_EQ(r.differing, 2u);
  ASSERT_EQ(r.first_divergence, 1);
  const auto& y = r.tensors[1];
  EXPECT_EQ(y.name, "y");
  EXPECT_EQ(y.status, ck::DiffStatus::Diff);
  EXPECT_EQ(*y.cmp.first, 4u);
  EXPECT_EQ(y.first_multi, (std::vector<int64_t>{1, 1}));  // flat 4 in A's shape [2,3]
  auto text = ck::diff_report_text(r, false);
  EXPECT_NE(text.find("FIRST DIVERGENCE: encode/y (order 1"), std::string::npos) << text;
  EXPECT_NE(text.find("NOT OK: 2 of 3 tensors differ"), std::string::npos) << text;
  auto quiet = ck::diff_report_text(r, true);
  EXPECT_EQ(quiet.find("OK      encode/x"), std::string::npos) << quiet;
  EXPECT_NE(quiet.find("FIRST DIVERGENCE"), std::string::npos);
  auto j = ck::diff_report_json(r);
  EXPECT_EQ(j["first_divergence"]["name"], "y");
  EXPECT_EQ(j["first_divergence"]["first_multi_index"], nlohmann::json({1, 1}));
  // With a filter that excludes y, z is the first divergence.
  auto fz = ck::diff_dumps(path("a"), path("b"), filter_opt("z"));
  ASSERT_EQ(fz.tensors.size(), 1u);
  EXPECT_EQ(fz.tensors[fz.first_divergence].name, "z");
}

TEST_F(DumpTest, MissingAndMismatchedRecords) {
  {
    ck::DumpWriter w(path("a"), "A");
    w.set_phase("prefill");
    add_f32(w, "same", {1, 2}, {2, 1, 1, 1});
    add_f32(w, "shape", {1, 2, 3, 4}, {4});
    add_f32(w, "dtype", {1, 2});
    add_f32(w, "only_a", {1});
    w.commit();
  }
  {
    ck::DumpWriter w(path("b"), "B");
    w.set_phase("prefill");
    add_f32(w, "same", {1, 2});  // shape [2] vs [1,1,1,2]: equivalent
    add_f32(w, "shape", {1, 2, 3, 4}, {2, 2});
    uint16_t h[2] = {ck::fp32_to_fp16(1), ck::fp32_to_fp16(2)};
    const int64_t ne[1] = {2};
    w.add("dtype", DumpDType::F16, ne, h, 4);
    w.set_phase("gen0");
    add_f32(w, "only_b", {1});
    w.commit();
  }
  auto r = ck::diff_dumps(path("a"), path("b"), {});
  ASSERT_EQ(r.tensors.size(), 3u);
  EXPECT_EQ(r.tensors[0].status, ck::DiffStatus::Ok);
  EXPECT_EQ(r.tensors[1].status, ck::DiffStatus::ShapeMismatch);
  EXPECT_EQ(r.tensors[2].status, ck::DiffStatus::DtypeMismatch);
  EXPECT_EQ(r.first_divergence, 1);
  EXPECT_EQ(r.only_a, (std::vector<std::string>{"prefill/only_a"}));
  EXPECT_EQ(r.only_b, (std::vector<std::string>{"gen0/only_b"}));
  EXPECT_FALSE(r.ok);
  // Only "same" selected: OK only with --allow-missing? No: the filter also hides the missing ones.
  EXPECT_TRUE(ck::diff_dumps(path("a"), path("b"), filter_opt("same")).ok);
  // Missing records alone fail unless allowed.
  EXPECT_FALSE(ck::diff_dumps(path("a"), path("b"), filter_opt("only")).ok);  // nothing compared
  auto m = ck::diff_dumps(path("a"), path("a"), filter_opt("prefill/s"));
  EXPECT_TRUE(m.ok);
}

TEST_F(DumpTest, RawF32Files) {
  float a[3] = {1, 2, 3}, b[3] = {1, 2.5f, 3};
  spit(path("a.bin"), std::string(reinterpret_cast<char*>(a), 12));
  spit(path("b.bin"), std::string(reinterpret_cast<char*>(b), 12));
  spit(path("short.bin"), std::string(reinterpret_cast<char*>(b), 8));
  spit(path("odd.bin"), std::string(reinterpret_cast<char*>(b), 11));
  auto r = ck::diff_paths(path("a.bin"), path("b.bin"), {});
  ASSERT_EQ(r.tensors.size(), 1u);
  EXPECT_DOUBLE_EQ(r.tensors[0].cmp.max_abs, 0.5);
  EXPECT_EQ(r.tensors[0].first_multi, (std::vector<int64_t>{1}));
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(ck::diff_paths(path("a.bin"), path("b.bin"), tol_opt(0.5)).ok);
  EXPECT_THROW(ck::diff_paths(path("a.bin"), path("short.bin"), {}), ck::Error);
  EXPECT_THROW(ck::diff_paths(path("odd.bin"), path("odd.bin"), {}), ck::Error);
  write_sample(path("d"));
  EXPECT_THROW(ck::diff_paths(path("a.bin"), path("d"), {}), ck::Error);
  EXPECT_THROW(ck::diff_paths(path("a.bin"), path("missing"), {}), ck::Error);
}

// ---- ck.prefix: compared per slice [merger | deepstack_0 | ...] ----

namespace {
// rows 2 (grid 2x1), n_embd 3, n_deepstack 1: row = 6 floats; value = 10*row + column.
std::vector<float> prefix_rows() {
  std::vector<float> v(12);
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 6; ++c) v[r * 6 + c] = static_cast<float>(10 * r + c);
  return v;
}
ck::bridge::PrefixInfo prefix_info(uint32_t nx = 2, uint32_t ny = 1) {
  ck::bridge::PrefixInfo info;
  info.rows = 2;
  info.row_width = 6;
  info.n_embd = 3;
  info.n_deepstack = 1;
  info.grid_nx = nx;
  info.grid_ny = ny;
  return info;
}
}  // namespace

TEST_F(DumpTest, PrefixDiffPerSlice) {
  auto rows = prefix_rows();
  ck::bridge::write_prefix_file(path("a.prefix"), prefix_info(), rows);
  rows[1 * 6 + 3 + 2] += 0.25f;  // row 1, deepstack_0 column 2
  ck::bridge::write_prefix_file(path("b.prefix"), prefix_info(), rows);
  auto r = ck::diff_paths(path("a.prefix"), path("b.prefix"), {});
  ASSERT_EQ(r.tensors.size(), 2u);
  EXPECT_EQ(r.tensors[0].key(), "prefix/merger");
  EXPECT_TRUE(r.tensors[0].ok());
  EXPECT_EQ(r.tensors[1].key(), "prefix/deepstack_0");
  EXPECT_EQ(r.first_divergence, 1);
  EXPECT_EQ(*r.tensors[1].cmp.first, 5u);  // flat index in the [2, 3] slice
  EXPECT_EQ(r.tensors[1].first_multi, (std::vector<int64_t>{1, 2}));
  EXPECT_DOUBLE_EQ(r.tensors[1].cmp.max_abs, 0.25);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(ck::diff_paths(path("a.prefix"), path("b.prefix"), tol_opt(0.25)).ok);
  EXPECT_TRUE(ck::diff_paths(path("a.prefix"), path("b.prefix"), filter_opt("merger")).ok);
  // A prefix against the raw f32 rows (e.g. the oracle's embedding dump) uses the prefix's geometry.
  auto raw = prefix_rows();
  spit(path("rows.f32"), std::string(reinterpret_cast<const char*>(raw.data()), raw.size() * 4));
  EXPECT_TRUE(ck::diff_paths(path("a.prefix"), path("rows.f32"), {}).ok);
  EXPECT_FALSE(ck::diff_paths(path("rows.f32"), path("b.prefix"), {}).ok);
  spit(path("short.f32"), std::string(reinterpret_cast<const char*>(raw.data()), 44));
  EXPECT_THROW(ck::diff_paths(path("a.prefix"), path("short.f32"), {}), ck::Error);
  // Different geometry (grid 1x2 vs 2x1): one shape mismatch.
  ck::bridge::write_prefix_file(path("c.prefix"), prefix_info(1, 2), raw);
  auto g = ck::diff_paths(path("a.prefix"), path("c.prefix"), {});
  ASSERT_EQ(g.tensors.size(), 1u);
  EXPECT_EQ(g.tensors[0].status, ck::DiffStatus::ShapeMismatch);
  EXPECT_FALSE(g.ok);
  // A corrupt prefix is bad input.
  std::string bytes = slurp(path("a.prefix"));
  spit(path("t.prefix"), bytes.substr(0, bytes.size() - 4));
  EXPECT_THROW(ck::diff_paths(path("a.prefix"), path("t.prefix"), {}), ck::Error);
}
