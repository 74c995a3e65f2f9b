// lib/synth (ck-synth): Q8_0 reference quantization on hand-checked blocks, fp16/bf16 encoding, the
// deterministic weight streams (thread split, golden values and file hash), converter dtype rules, the
// Qwen3 vocabulary conversion, and the structure of the tiny pair against the fixture made from
// synth_qwen3vl.py's output (tests/fixtures/synth/, docs/SYNTH.md).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/half.h"
#include "core/sha256.h"
#include "gguf/gguf.h"
#include "synth/chat_template.h"
#include "synth/quantize.h"
#include "synth/random.h"
#include "synth/structure.h"
#include "synth/synth.h"
#include "synth/vocab.h"

namespace fs = std::filesystem;
using ck::DType;
namespace synth = ck::synth;

namespace {

class SynthTmp {
 public:
  SynthTmp() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("ck_synth_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~SynthTmp() { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string dir() const { return dir_.string(); }

 private:
  fs::path dir_;
};

std::string tokenizer_path() { return std::string(CK_DEPS_DIR) + "/qwen3-tokenizer/tokenizer.json"; }
bool have_tokenizer() { return fs::exists(tokenizer_path()); }

std::vector<synth::BlockQ8_0Bytes> q8(const std::vector<float>& x) {
  std::vector<synth::BlockQ8_0Bytes> b(x.size() / 32);
  synth::quantize_row_q8_0_ref(x.data(), reinterpret_cast<uint8_t*>(b.data()), static_cast<int64_t>(x.size()));
  return b;
}

}  // namespace

// ---------------------------------------------------------------------------------------------- Q8_0

TEST(SynthQ8_0, HandCheckedBlock) {
  // x = -16..15: amax 16, d = 16/127 = 0.125984..., stored as fp16 0x3008 (0.1259765625);
  // id = 1/d = 7.9375 (to float precision), q = roundf(x * id).
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);
  const auto b = q8(x);
  EXPECT_EQ(b[0].d, 0x3008);
  EXPECT_EQ(b[0].qs[0], -127);  // -16 * 7.9375
  EXPECT_EQ(b[0].qs[16], 0);    // 0
  EXPECT_EQ(b[0].qs[17], 8);    // 1 -> 7.94
  EXPECT_EQ(b[0].qs[18], 16);   // 2 -> 15.875
  EXPECT_EQ(b[0].qs[15], -8);   // -1
  EXPECT_EQ(b[0].qs[31], 119);  // 15 -> 119.06
  EXPECT_EQ(b[0].qs[1], -119);  // -15
}

TEST(SynthQ8_0, RoundsHalfAwayFromZero) {
  // amax 127 -> d = 1, id = 1: x * id is exactly .5 for these, and roundf (not RNE) decides.
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = 2.5f;
  x[2] = -2.5f;
  x[3] = 0.5f;
  x[4] = -0.5f;
  x[5] = 1.5f;
  x[6] = 0.49999997f;
  const auto b = q8(x);
  EXPECT_EQ(b[0].d, 0x3C00);  // 1.0
  EXPECT_EQ(b[0].qs[0], 127);
  EXPECT_EQ(b[0].qs[1], 3);
  EXPECT_EQ(b[0].qs[2], -3);
  EXPECT_EQ(b[0].qs[3], 1);
  EXPECT_EQ(b[0].qs[4], -1);
  EXPECT_EQ(b[0].qs[5], 2);
  EXPECT_EQ(b[0].qs[6], 0);
}

TEST(SynthQ8_0, ZeroBlockAndNegativeMax) {
  std::vector<float> x(64, 0.0f);
  x[32] = -254.0f;  // second block: amax 254 (from a negative value), d = 2
  x[33] = 3.0f;     // 1.5 -> 2
  x[34] = -1.0f;    // -0.5 -> -1
  const auto b = q8(x);
  EXPECT_EQ(b[0].d, 0);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(b[0].qs[j], 0);
  EXPECT_EQ(b[1].d, 0x4000);  // 2.0
  EXPECT_EQ(b[1].qs[0], -127);
  EXPECT_EQ(b[1].qs[1], 2);
  EXPECT_EQ(b[1].qs[2], -1);
}

TEST(SynthQ8_0, RejectsPartialBlock) {
  std::vector<float> x(31, 1.0f);
  std::vector<uint8_t> out(34);
  EXPECT_THROW(synth::quantize_row_q8_0_ref(x.data(), out.data(), 31), ck::Error);
}

TEST(SynthEncode, HalfAndBf16) {
  const std::vector<float> x = {1.0f, -2.0f, 0.1f, 65504.0f};
  std::vector<uint8_t> h(8), bf(8);
  synth::encode(DType::F16, x, h.data());
  synth::encode(DType::BF16, x, bf.data());
  uint16_t hv[4], bv[4];
  std::memcpy(hv, h.data(), 8);
  std::memcpy(bv, bf.data(), 8);
  EXPECT_EQ(hv[0], 0x3C00);
  EXPECT_EQ(hv[1], 0xC000);
  EXPECT_EQ(hv[2], 0x2E66);  // 0.1 -> 0.0999755859375 (RNE)
  EXPECT_EQ(hv[3], 0x7BFF);
  EXPECT_EQ(bv[0], 0x3F80);
  EXPECT_EQ(bv[1], 0xC000);
  EXPECT_EQ(bv[2], 0x3DCD);  // 0.1 = 0x3DCCCCCD -> RNE on the top 16 bits
  for (int i = 0; i < 4; ++i) EXPECT_EQ(bv[i], ck::fp32_to_bf16(x[i]));
}

// ---------------------------------------------------------------------------------------------- random

TEST(SynthRandom, GoldenValues) {
  // Pinned: changing the generator changes every synthetic model (and every fixture made from one).
  EXPECT_EQ(synth::fnv1a64("v.blk.0.ln1.weight"), 0xe86b85ba7a70711dull);
  EXPECT_EQ(synth::irwin_hall4(0), -131070);
  EXPECT_EQ(synth::irwin_hall4(~0ull), 131070);
  EXPECT_EQ(synth::irwin_hall4(0x8000800080007FFFull), 131071 - 131070);
  const synth::TensorPlan plan{"blk.0.attn_q.weight", DType::F32, {64, 4}, 0.0f, 0.1f};
  std::vector<float> v(256);
  synth::fill_tensor(plan, 0, std::span<uint8_t>(reinterpret_cast<uint8_t*>(v.data()), 1024));
  // First values of seed 0 (bit patterns, so the check is exact).
  uint32_t bits[3];
  std::memcpy(bits, v.data(), 12);
  EXPECT_EQ(bits[0], 0xbd6fbccbu);
  EXPECT_EQ(bits[1], 0x3de8037cu);
  EXPECT_EQ(bits[2], 0x3db2a3afu);
}

TEST(SynthRandom, ExactArithmeticAndMoments) {
  // value = mean + k*scale is exact in double: the float result equals the correctly rounded real value.
  const auto np = synth::NormalParams::make(1.0f, 0.1f);
  EXPECT_EQ(np(0x0000000000000000ull), static_cast<float>(1.0 - 131070.0 * np.scale));
  const synth::TensorPlan plan{"stats", DType::F32, {1 << 20}, 1.0f, 0.1f};
  std::vector<float> v(1 << 20);
  synth::fill_tensor(plan, 7, std::span<uint8_t>(reinterpret_cast<uint8_t*>(v.data()), v.size() * 4));
  double s = 0, s2 = 0;
  for (float x : v) s += x, s2 += static_cast<double>(x) * x;
  const double mean = s / v.size(), sd = std::sqrt(s2 / v.size() - mean * mean);
  EXPECT_NEAR(mean, 1.0, 1e-3);
  EXPECT_NEAR(sd, 0.1, 1e-3);
}

TEST(SynthRandom, ThreadSplitDoesNotChangeBytes) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0}) {
    const synth::TensorPlan plan{"token_embd.weight", t, {64, 3000}, 0.0f, 0.02f};  // 192000 = 3 chunks (last partial)
    const uint64_t nb = synth::encoded_bytes(t, 64 * 3000);
    std::vector<uint8_t> one(nb), two(nb), three(nb);
    synth::fill_tensor(plan, 5, one);
    for (int ith = 0; ith < 2; ++ith) synth::fill_tensor(plan, 5, two, ith, 2);
    for (int ith = 2; ith >= 0; --ith) synth::fill_tensor(plan, 5, three, ith, 3);
    EXPECT_EQ(one, two) << ck::dtype_name(t);
    EXPECT_EQ(one, three) << ck::dtype_name(t);
    std::vector<uint8_t> other(nb);
    synth::fill_tensor(plan, 6, other);
    EXPECT_NE(one, other) << "the seed must change the values";
  }
}

// ---------------------------------------------------------------------------------------------- files

TEST(SynthFiles, TinyMmprojIsByteStable) {
  // The whole tiny mmproj (no tokenizer involved) has a pinned hash: same bytes on every machine.
  SynthTmp tmp;
  synth::Options o;
  o.out_dir = tmp.dir();
  o.write_text = false;
  o.threads = 2;
  const auto w = synth::generate(o);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].path, tmp.path("tiny-mmproj-f32.gguf"));
  EXPECT_EQ(ck::sha256_file_hex(w[0].path), "17798f2728022e5cb688075711ee35a8115543c59c156d326dae8c9c10aee281");
  o.threads = 1;
  o.out_dir = tmp.path("t1");
  const auto w1 = synth::generate(o);
  EXPECT_EQ(ck::sha256_file_hex(w1[0].path), ck::sha256_file_hex(w[0].path));
}

TEST(SynthFiles, ConverterDtypeRules) {
  SynthTmp tmp;
  const auto& p = synth::preset("tiny");
  struct Case {
    DType w, patch, mat;
    uint32_t ftype;
    bool qver;
  };
  for (const Case c : {Case{DType::F32, DType::F32, DType::F32, 0, false}, Case{DType::F16, DType::F16, DType::F16, 1, false},
                       Case{DType::BF16, DType::F32, DType::BF16, 32, false},
                       Case{DType::Q8_0, DType::F32, DType::Q8_0, 7, true}}) {
    synth::Options o;
    o.out_dir = tmp.dir();
    o.mmproj_type = c.w;
    o.write_text = false;
    const auto w = synth::generate(o);
    EXPECT_EQ(fs::path(w[0].path).filename().string(), std::string("tiny-mmproj-") + ck::dtype_name(c.w) + ".gguf");
    ck::gguf::Reader r(w[0].path);
    EXPECT_EQ(r.get_int("general.file_type"), c.ftype);
    EXPECT_EQ(r.find("general.quantization_version") != nullptr, c.qver);
    EXPECT_EQ(r.find_tensor("v.patch_embd.weight")->type, c.patch);
    EXPECT_EQ(r.find_tensor("v.patch_embd.weight.1")->type, c.patch);
    EXPECT_EQ(r.find_tensor("v.position_embd.weight")->type, DType::F32);
    EXPECT_EQ(r.find_tensor("v.blk.0.attn_qkv.weight")->type, c.mat);
    EXPECT_EQ(r.find_tensor("mm.2.weight")->type, c.mat);
    EXPECT_EQ(r.find_tensor("v.deepstack.1.fc1.weight")->type, c.mat);
    for (const auto& t : r.tensors())
      if (t.ne.size() == 1) {
        EXPECT_EQ(t.type, DType::F32) << t.name;
      }
    // 2-D weights: the converter layout [ne0 = input, ne1 = output].
    const auto* qkv = r.find_tensor("v.blk.0.attn_qkv.weight");
    EXPECT_EQ(qkv->ne, (std::vector<int64_t>{p.v_hidden, 3 * p.v_hidden}));
  }
}

TEST(SynthFiles, BadOptionsLeaveNoFile) {
  SynthTmp tmp;
  synth::Options o;
  o.out_dir = tmp.path("out");
  o.preset = "huge";
  EXPECT_THROW(synth::generate(o), ck::Error);
  o.preset = "tiny";
  o.text_type = DType::Q4_K;
  EXPECT_THROW(synth::generate(o), ck::Error);
  o.text_type = DType::F16;
  o.tokenizer = tmp.path("missing.json");
  EXPECT_THROW(synth::generate(o), ck::Error);
  std::ofstream(tmp.path("bad.json")) << "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}";
  o.tokenizer = tmp.path("bad.json");
  try {
    synth::generate(o);
    FAIL() << "truncated JSON accepted";
  } catch (const ck::Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(tmp.path("out/tiny-mmproj-f32.gguf")));
}

// ---------------------------------------------------------------------------------------------- vocab + structure

TEST(SynthVocab, Qwen3TokenizerLikeTheConverter) {
  if (!have_tokenizer()) GTEST_SKIP() << "no " << tokenizer_path() << " (make deps)";
  const auto v = synth::load_qwen_vocab(tokenizer_path(), 151936);
  ASSERT_EQ(v.tokens.size(), 151936u);
  ASSERT_EQ(v.types.size(), 151936u);
  EXPECT_EQ(v.merges.size(), 151387u);
  EXPECT_EQ(v.merges[0], "\xC4\xA0 \xC4\xA0");  // "Ġ Ġ"
  EXPECT_EQ(v.bos, 151643u);
  EXPECT_EQ(v.pad, 151643u);
  EXPECT_EQ(v.eos, 151645u);
  EXPECT_EQ(v.tokens[198], "\xC4\x8A");  // "Ċ" = "\n"
  EXPECT_EQ(v.tokens[151643], "<|endoftext|>");
  EXPECT_EQ(v.types[151643], synth::kTokControl);
  EXPECT_EQ(v.types[151655], synth::kTokControl);      // <|image_pad|>
  EXPECT_EQ(v.tokens[151657], "<tool_call>");
  EXPECT_EQ(v.types[151657], synth::kTokUserDefined);  // not special, does not look special
  EXPECT_EQ(v.types[151659], synth::kTokControl);      // <|fim_prefix|>: not special, but looks special
  EXPECT_EQ(v.tokens[151669], "[PAD151669]");
  EXPECT_EQ(v.types[151669], synth::kTokUnused);
  EXPECT_EQ(v.types[0], synth::kTokNormal);
  EXPECT_TRUE(synth::looks_special("<\xEF\xBD\x9C" "begin\xEF\xBD\x9C>"));
  EXPECT_FALSE(synth::looks_special("<think>"));
}

TEST(SynthStructure, TinyMatchesPythonFixture) {
  if (!have_tokenizer()) GTEST_SKIP() << "no " << tokenizer_path() << " (make deps)";
  SynthTmp tmp;
  synth::Options o;
  o.out_dir = tmp.dir();
  o.tokenizer = tokenizer_path();
  const auto w = synth::generate(o);
  ASSERT_EQ(w.size(), 2u);
  const std::string fx = std::string(CK_SOURCE_DIR) + "/tests/fixtures/synth/";
  for (const auto& [file, fixture] : {std::pair{w[0].path, fx + "tiny-mmproj-f32.structure.json"},
                                      std::pair{w[1].path, fx + "tiny-text-f16.structure.json"}}) {
    const auto diffs = synth::diff_structure(synth::load_structure(fixture), synth::load_structure(file));
    std::string all;
    for (const auto& d : diffs) all += d + "\n";
    EXPECT_TRUE(diffs.empty()) << fixture << ":\n" << all;
  }
  // Two runs give the same bytes (text file included).
  const std::string a = ck::sha256_file_hex(w[1].path);
  o.out_dir = tmp.path("again");
  const auto w2 = synth::generate(o);
  EXPECT_EQ(ck::sha256_file_hex(w2[1].path), a);
  EXPECT_EQ(ck::sha256_file_hex(w2[0].path), ck::sha256_file_hex(w[0].path));
}

TEST(SynthStructure, DiffReportsEachKind) {
  using nlohmann::ordered_json;
  ordered_json e = {{"format", "ck.synth-structure"}, {"version", 1}, {"gguf_version", 3}, {"alignment", 32},
                    {"kv", {{{"key", "a"}, {"type", "u32"}, {"value", 1}}, {{"key", "b"}, {"type", "string"}, {"value", "x"}}}},
                    {"tensors", {{{"name", "t"}, {"type", "f16"}, {"ne", {4, 2}}, {"offset", 0}}}}};
  EXPECT_TRUE(synth::diff_structure(e, e).empty());
  ordered_json a = e;
  a["kv"][0]["type"] = "i32";
  a["kv"][1]["value"] = "y";
  a["tensors"][0]["ne"] = {2, 4};
  a["kv"].push_back({{"key", "c"}, {"type", "bool"}, {"value", true}});
  const auto d = synth::diff_structure(e, a);
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0], "kv c: unexpected");
  EXPECT_EQ(d[1], "kv a: type \"u32\" vs \"i32\"");
  EXPECT_EQ(d[2], "kv b: value \"x\" vs \"y\"");
  EXPECT_EQ(d[3], "tensors t: ne [4,2] vs [2,4]");
  EXPECT_EQ(synth::diff_structure(e, a, {"a", "b"}).size(), 3u);  // b's value ignored, a's type still checked
}

// The MoE presets (Qwen3-VL-30B-A3B / 235B-A22B config.json) as plans: no file is written (full width, full
// depth would be tens of GB). Router F32 (the converter keeps FFN_GATE_INP in F32), experts 3-D.
TEST(SynthPresets, MoeTextPlanAndKeys) {
  struct Case {
    const char* name;
    int64_t H, FE, layers;
  };
  for (const Case c : {Case{"30b-a3b", 2048, 768, 48}, Case{"235b-a22b", 4096, 1536, 94}}) {
    const auto& p = synth::preset(c.name);
    synth::check_preset(p);
    EXPECT_EQ(p.t_layers, c.layers);
    EXPECT_EQ(p.t_experts, 128);
    EXPECT_EQ(p.t_experts_used, 8);
    EXPECT_FALSE(p.tied);
    EXPECT_EQ(p.v_deepstack, (std::vector<int>{8, 16, 24}));
    const auto ts = synth::text_tensors(p, DType::F16, 16);
    auto find = [&](const std::string& n) -> const synth::TensorPlan* {
      for (const auto& t : ts)
        if (t.name == n) return &t;
      return nullptr;
    };
    ASSERT_NE(find("blk.0.ffn_gate_inp.weight"), nullptr);
    EXPECT_EQ(find("blk.0.ffn_gate_inp.weight")->type, DType::F32);
    EXPECT_EQ(find("blk.0.ffn_gate_inp.weight")->ne, (std::vector<int64_t>{c.H, 128}));
    EXPECT_EQ(find("blk.0.ffn_gate_exps.weight")->ne, (std::vector<int64_t>{c.H, c.FE, 128}));
    EXPECT_EQ(find("blk.0.ffn_up_exps.weight")->ne, (std::vector<int64_t>{c.H, c.FE, 128}));
    EXPECT_EQ(find("blk.0.ffn_down_exps.weight")->ne, (std::vector<int64_t>{c.FE, c.H, 128}));
    EXPECT_EQ(find("blk.0.ffn_down_exps.weight")->type, DType::F16);
    EXPECT_EQ(find("blk.0.ffn_gate.weight"), nullptr);
    EXPECT_NE(find("output.weight"), nullptr);
    synth::Vocab voc;
    const auto kv = synth::text_kvs(p, DType::F16, 0, voc, synth::qwen3vl_chat_template());
    auto key = [&](const std::string& k) -> const ck::gguf::Value* {
      for (const auto& e : kv)
        if (e.key == k) return &e.value;
      return nullptr;
    };
    EXPECT_NE(key("qwen3vlmoe.expert_count"), nullptr);
    EXPECT_NE(key("qwen3vlmoe.expert_used_count"), nullptr);
    EXPECT_NE(key("qwen3vlmoe.expert_feed_forward_length"), nullptr);
    EXPECT_EQ(key("qwen3vl.block_count"), nullptr);
  }
  // dense presets are unchanged: no expert tensors, arch qwen3vl
  for (const auto& t : synth::text_tensors(synth::preset("tiny"), DType::F16, 16))
    EXPECT_EQ(t.name.find("_exps"), std::string::npos) << t.name;
}
