// lib/manifest: template selection, config resolution with llama.cpp's defaults, required keys, type
// checks, derived values and tensor-presence rules, all driven by templates/*.json.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/gguf.h"
#include "manifest/resolve.h"
#include "manifest/template_select.h"

namespace {

namespace fs = std::filesystem;
using ck::DType;
using ck::gguf::Value;
using json = nlohmann::ordered_json;

const std::string kTemplates = std::string(CK_SOURCE_DIR) + "/templates";

std::string tmp(const std::string& name) {
  return (fs::temp_directory_path() / ("ck_manifest_" + std::to_string(::getpid()) + "_" + name)).string();
}

std::vector<uint8_t> zeros(size_t n) { return std::vector<uint8_t>(n, 0); }

// Minimal qwen3vl text GGUF: required keys only (unless `extra`), `drop` removes keys.
std::string text_gguf(const std::string& name, const std::map<std::string, Value>& extra = {},
                      const std::set<std::string>& drop = {}) {
  std::vector<std::pair<std::string, Value>> kv = {
      {"general.architecture", Value::str("qwen3vl")},
      {"qwen3vl.context_length", Value::u32(4096)},
      {"qwen3vl.embedding_length", Value::u32(64)},
      {"qwen3vl.block_count", Value::u32(2)},
      {"qwen3vl.feed_forward_length", Value::u32(128)},
      {"qwen3vl.attention.head_count", Value::u32(4)},
      {"qwen3vl.rope.dimension_sections", Value::i32_array({4, 2, 2, 0})},
      {"qwen3vl.attention.layer_norm_rms_epsilon", Value::f32(1e-6f)},
      {"tokenizer.ggml.model", Value::str("gpt2")},
      {"tokenizer.ggml.tokens", Value::str_array({"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l",
                                                  "<|im_end|>", "<|endoftext|>", "<|vision_start|>",
                                                  "<|vision_end|>"})},
      {"tokenizer.ggml.merges", Value::str_array({"a b", "c d"})},
  };
  ck::gguf::Writer w;
  for (auto& [k, v] : kv)
    if (!drop.count(k)) w.set(k, extra.count(k) ? extra.at(k) : v);
  for (auto& [k, v] : extra)
    if (!drop.count(k)) w.set(k, v);
  w.add_tensor("token_embd.weight", DType::F32, {64, 16}, zeros(64 * 16 * 4));
  std::string p = tmp(name);
  w.write(p);
  return p;
}

// Minimal qwen3vl_merger mmproj GGUF; deepstack fc1 tensors at `deepstack` layers.
std::string vision_gguf(const std::string& name, const std::vector<int>& deepstack,
                        const std::map<std::string, Value>& extra = {}, const std::set<std::string>& drop = {}) {
  std::vector<std::pair<std::string, Value>> kv = {
      {"general.architecture", Value::str("clip")},
      {"clip.has_vision_encoder", Value::boolean(true)},
      {"clip.projector_type", Value::str("qwen3vl_merger")},
      {"clip.vision.embedding_length", Value::u32(32)},
      {"clip.vision.attention.head_count", Value::u32(4)},
      {"clip.vision.feed_forward_length", Value::u32(64)},
      {"clip.vision.block_count", Value::u32(4)},
      {"clip.vision.projection_dim", Value::u32(48)},
      {"clip.vision.attention.layer_norm_epsilon", Value::f32(1e-6f)},
      {"clip.vision.image_size", Value::u32(64)},
      {"clip.vision.patch_size", Value::u32(16)},
      {"clip.vision.image_mean", Value::f32_array({0.5f, 0.5f, 0.5f})},
      {"clip.vision.image_std", Value::f32_array({0.25f, 0.5f, 0.5f, 9.0f})},
  };
  ck::gguf::Writer w;
  for (auto& [k, v] : kv)
    if (!drop.count(k)) w.set(k, extra.count(k) ? extra.at(k) : v);
  for (auto& [k, v] : extra)
    if (!drop.count(k)) w.set(k, v);
  w.add_tensor("mm.2.bias", DType::F32, {48}, zeros(48 * 4));
  w.add_tensor("v.position_embd.weight", DType::F32, {32, 16}, zeros(32 * 16 * 4));
  for (int l : deepstack)
    w.add_tensor("v.deepstack." + std::to_string(l) + ".fc1.weight", DType::F32, {128, 128}, zeros(128 * 128 * 4));
  std::string p = tmp(name);
  w.write(p);
  return p;
}

json resolve(const std::string& path) {
  ck::gguf::Reader g(path);
  auto t = ck::manifest::select_template(g, kTemplates);
  return ck::manifest::resolve_contract(t, g);
}

std::string error_of(const std::string& path) {
  try {
    resolve(path);
  } catch (const ck::Error& e) {
    return e.what();
  }
  return "";
}

TEST(Manifest, TextDefaultsAsLlamaCpp) {
  std::string p = text_gguf("defaults.gguf");
  json c = resolve(p);
  const json& cfg = c["config"];
  EXPECT_EQ(cfg["n_embd"], 64);
  EXPECT_EQ(cfg["rope_freq_base"].get<double>(), 10000.0);  // absent -> 10000
  EXPECT_EQ(cfg["n_head_kv"], 4);                             // absent -> n_head
  EXPECT_EQ(cfg["n_embd_head_k"], 16);                        // absent -> n_embd / n_head
  EXPECT_EQ(cfg["n_embd_head_v"], 16);
  EXPECT_EQ(cfg["n_rot"], 16);                                // absent -> key_length
  EXPECT_EQ(cfg["n_deepstack_layers"], 0);
  EXPECT_EQ(cfg["n_embd_inp"], 64);
  EXPECT_EQ(cfg["rope_scaling_type"], "linear");
  EXPECT_EQ(cfg["rope_freq_scale"].get<double>(), 1.0);
  EXPECT_EQ(cfg["n_ctx_orig_yarn"], 4096);
  EXPECT_EQ(cfg["causal_attn"], true);
  EXPECT_EQ(cfg["n_vocab"], 16);
  EXPECT_EQ(cfg["output_tied"], true);
  EXPECT_EQ(cfg["rope_sections"], json::parse("[4,2,2,0]"));
  EXPECT_EQ(cfg["f_norm_rms_eps"].dump(), "1e-06");
  const json& tok = c["tokenizer"];
  EXPECT_EQ(tok["pre"], "default");
  EXPECT_EQ(tok["n_tokens"], 16);
  EXPECT_EQ(tok["n_merges"], 2);
  EXPECT_EQ(tok["bos_id"], 11);  // gpt2 default 11, inside this 16-token vocab
  EXPECT_EQ(tok["eos_id"], 11);
  EXPECT_EQ(tok["eog_ids"], json::parse("[11,12,13]"));  // eos + <|im_end|> + <|endoftext|>
  EXPECT_EQ(c["chat"]["image_begin_id"], 14);
  EXPECT_EQ(c["chat"]["image_end_id"], 15);
  EXPECT_TRUE(c["chat"]["chat_template"].is_null());
  std::remove(p.c_str());
}

TEST(Manifest, TextGgufValuesWinAndDeriveInputWidth) {
  std::string p = text_gguf("values.gguf", {{"qwen3vl.rope.freq_base", Value::f32(5000000.0f)},
                                            {"qwen3vl.attention.head_count_kv", Value::u32(2)},
                                            {"qwen3vl.attention.key_length", Value::u32(32)},
                                            {"qwen3vl.attention.value_length", Value::u32(32)},
                                            {"qwen3vl.n_deepstack_layers", Value::u32(3)},
                                            {"qwen3vl.rope.scaling.factor", Value::f32(4.0f)},
                                            {"tokenizer.ggml.eos_token_id", Value::u32(12)},
                                            {"tokenizer.ggml.bos_token_id", Value::u32(999)}});
  json c = resolve(p);
  EXPECT_EQ(c["config"]["rope_freq_base"].get<double>(), 5000000.0);
  EXPECT_EQ(c["config"]["n_head_kv"], 2);
  EXPECT_EQ(c["config"]["n_rot"], 32);
  EXPECT_EQ(c["config"]["n_embd_inp"], 64 * 4);
  EXPECT_EQ(c["config"]["rope_freq_scale"].get<double>(), 0.25);
  EXPECT_EQ(c["tokenizer"]["eos_id"], 12);
  EXPECT_EQ(c["tokenizer"]["bos_id"], 11);  // 999 is outside the vocab: llama.cpp keeps the default
  EXPECT_EQ(c["tokenizer"]["eog_ids"], json::parse("[12,13]"));
  std::remove(p.c_str());
}

TEST(Manifest, MissingRequiredKeyNamesIt) {
  std::string p = text_gguf("missing.gguf", {}, {"qwen3vl.embedding_length"});
  std::string e = error_of(p);
  EXPECT_NE(e.find("missing required key qwen3vl.embedding_length"), std::string::npos) << e;
  EXPECT_NE(e.find(p), std::string::npos) << e;
  EXPECT_NE(e.find("qwen3vl.json"), std::string::npos) << e;
  std::remove(p.c_str());
}

TEST(Manifest, WrongTypeAndBadArrayLength) {
  std::string p = text_gguf("type.gguf", {{"qwen3vl.block_count", Value::i32(2)}});
  std::string e = error_of(p);
  EXPECT_NE(e.find("qwen3vl.block_count has type i32, expected u32"), std::string::npos) << e;
  std::remove(p.c_str());
  p = text_gguf("sections.gguf", {{"qwen3vl.rope.dimension_sections", Value::i32_array({24, 20, 20})}});
  e = error_of(p);
  EXPECT_NE(e.find("has 3 elements, expected 4"), std::string::npos) << e;
  std::remove(p.c_str());
  p = text_gguf("bcast.gguf", {{"qwen3vl.rope.dimension_sections", Value::i32(8)}});
  EXPECT_EQ(resolve(p)["config"]["rope_sections"], json::parse("[8,8,8,8]"));  // get_key_or_arr scalar
  std::remove(p.c_str());
}

TEST(Manifest, ChecksFromTemplate) {
  std::string p = text_gguf("rot.gguf", {{"qwen3vl.rope.dimension_count", Value::u32(8)}});
  std::string e = error_of(p);
  EXPECT_NE(e.find("check failed"), std::string::npos) << e;
  EXPECT_NE(e.find("config.n_rot"), std::string::npos) << e;
  std::remove(p.c_str());
}

TEST(Manifest, UnknownArchitectureNamesFileAndArch) {
  ck::gguf::Writer w;
  w.set("general.architecture", Value::str("llama"));
  std::string p = tmp("llama.gguf");
  w.write(p);
  std::string e = error_of(p);
  EXPECT_NE(e.find(p), std::string::npos) << e;
  EXPECT_NE(e.find("unknown architecture"), std::string::npos) << e;
  EXPECT_NE(e.find("\"llama\""), std::string::npos) << e;
  std::remove(p.c_str());
}

TEST(Manifest, VisionDefaultsAndDeepstackByTensorPresence) {
  std::string p = vision_gguf("vision.gguf", {1, 3});
  json c = resolve(p);
  const json& cfg = c["config"];
  EXPECT_EQ(cfg["ffn_op"], "gelu_quick");  // neither use_gelu nor use_silu
  EXPECT_EQ(cfg["n_merge"], 2);
  EXPECT_EQ(cfg["d_head"], 8);
  EXPECT_EQ(cfg["n_head_kv"], 4);
  EXPECT_EQ(cfg["deepstack_layers"], json::parse("[1,3]"));
  EXPECT_EQ(cfg["n_deepstack_layers"], 2);
  EXPECT_EQ(cfg["n_embd_out"], 48);
  EXPECT_EQ(cfg["n_mmproj_embd"], 48 * 3);
  const json& pre = c["preprocess"];
  EXPECT_EQ(pre["image_std"], json::parse("[0.25,0.5,0.5]"));  // first 3 of 4
  EXPECT_EQ(pre["image_min_tokens"], 8);
  EXPECT_EQ(pre["image_max_tokens"], 4096);
  EXPECT_EQ(pre["image_min_pixels"], 8 * 16 * 16 * 4);
  EXPECT_EQ(pre["image_max_pixels"], 4096 * 16 * 16 * 4);
  EXPECT_EQ(pre["align"], 32);
  std::remove(p.c_str());

  p = vision_gguf("gelu.gguf", {}, {{"clip.use_gelu", Value::boolean(true)},
                                    {"clip.vision.spatial_merge_size", Value::u32(3)}});
  c = resolve(p);
  EXPECT_EQ(c["config"]["ffn_op"], "gelu");
  EXPECT_EQ(c["config"]["n_deepstack_layers"], 0);
  EXPECT_EQ(c["preprocess"]["image_min_pixels"], 8 * 16 * 16 * 9);
  std::remove(p.c_str());
}

TEST(Manifest, VisionRequiredMeanStd) {
  std::string p = vision_gguf("mean.gguf", {}, {{"clip.vision.image_mean", Value::f32_array({0.5f, 0.5f})}});
  std::string e = error_of(p);
  EXPECT_NE(e.find("clip.vision.image_mean must be an array of at least 3 elements, got 2"), std::string::npos) << e;
  std::remove(p.c_str());
  p = vision_gguf("nostd.gguf", {}, {}, {"clip.vision.image_std"});
  e = error_of(p);
  EXPECT_NE(e.find("missing required key clip.vision.image_std"), std::string::npos) << e;
  std::remove(p.c_str());
  p = vision_gguf("both.gguf", {}, {{"clip.use_gelu", Value::boolean(true)}, {"clip.use_silu", Value::boolean(true)}});
  e = error_of(p);
  EXPECT_NE(e.find("both use_gelu and use_silu"), std::string::npos) << e;
  std::remove(p.c_str());
}

}  // namespace

// The contract's {"div"} follows the shared arithmetic core (core/arith.h): an inexact integer division is an
// error naming the numbers (llama.cpp would truncate n_embd / n_head and build a model of the wrong shape).
TEST(Manifest, InexactDivisionIsAnErrorAsInTheGraphLanguage) {
  const std::string p = vision_gguf("inexact_head.gguf", {}, {{"clip.vision.attention.head_count", Value::u32(3)}});
  const std::string e = error_of(p);
  EXPECT_NE(e.find("32 is not divisible by 3"), std::string::npos) << e;
  EXPECT_NE(e.find("inexact_head.gguf"), std::string::npos) << e;
}
