// Lowering of the real templates against manifests of ck-synth models (tests/fixtures/manifests, made by
// ck-synth --preset tiny | ck-convert), of a toy third template, and every lowering error.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <set>

#include "core/error.h"
#include "graph/json_io.h"
#include "lower/lower.h"

using namespace ck;
using graph::json;

namespace {

std::string src(const std::string& rel) { return std::string(CK_SOURCE_DIR) + "/" + rel; }
lower::Manifest load_manifest(const std::string& rel) { return ck::manifest::read_manifest(graph::read_json(src(rel)), rel); }
graph::Ir1 lower_with(const lower::Manifest& m, const std::string& tmpl_rel, registry::Mode mode = registry::Mode::Strict) {
  lower::Options o;
  o.mode = mode;
  return lower::lower(m, graph::read_json(src(tmpl_rel)), tmpl_rel, o);
}
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ck::Error& e) {
    return e.what();
  }
  return "";
}
const graph::Op* find_op(const graph::Ir1& ir, const std::string& id) {
  for (const auto& o : ir.ops)
    if (o.id == id) return &o;
  return nullptr;
}

}  // namespace

TEST(Lower, EncoderTemplateTiny) {
  auto m = load_manifest("tests/fixtures/manifests/tiny-mmproj-f32.json");
  EXPECT_EQ(ck::manifest::manifest_template_path(m, src("templates")), src("templates") + "/qwen3_vl_vision.json");
  auto ir = lower_with(m, "templates/qwen3_vl_vision.json");
  // Callback names as llama.cpp's clip graph.
  std::set<std::string> names;
  for (const auto& o : ir.ops)
    if (o.name) names.insert(*o.name);
  for (const char* n : {"patch_bias", "inp_pos_emb", "ln1-0", "Qcur_rope-0", "kqv_out-0", "attn_out-0", "ffn_inp-0",
                        "ffn_gelu-0", "ffn_out-3", "layer_out-3", "norm_b-1", "norm_w-4", "ffn_up", "ffn_down"})
    EXPECT_TRUE(names.count(n)) << n;
  // Deepstack branches exactly at the configured layers (tiny: 1, 2), collected into the final concat.
  EXPECT_TRUE(find_op(ir, "blk.1.ds_out"));
  EXPECT_TRUE(find_op(ir, "blk.2.ds_out"));
  EXPECT_FALSE(find_op(ir, "blk.0.ds_out"));
  const auto* cat = find_op(ir, "embeddings");
  ASSERT_TRUE(cat);
  EXPECT_EQ(cat->in, (std::vector<std::string>{"mm_out", "blk.1.ds_out", "blk.2.ds_out"}));
  const auto* out = graph::find_tensor(ir, "embeddings");
  EXPECT_EQ(out->shape[0].sym, "n_merged");
  EXPECT_EQ(out->shape[1].value, 64 * 3);
  // Kernels picked by dtype: F32 mmproj.
  EXPECT_EQ(find_op(ir, "blk.0.qkv_mm")->kernel, "mul_mat.f32.f32.strict");
  EXPECT_EQ(find_op(ir, "conv0")->kernel, "conv2d_mm.f32.f16.strict");
  EXPECT_EQ(find_op(ir, "im2col0")->kernel, "im2col.f32.f32.strict");
  // Symbols with worst cases from the preprocess contract (4096 merged tokens).
  for (const auto& s : ir.symbols)
    if (s.name == "n_pos") {
      EXPECT_EQ(s.max, 4096 * 4);
    }
  // Every weight used exactly as in the manifest.
  EXPECT_EQ(ir.weights.size(), m.tensors.size());
}

TEST(Lower, DecoderTemplateTiny) {
  auto m = load_manifest("tests/fixtures/manifests/tiny-text-f16.json");
  auto ir = lower_with(m, "templates/qwen3vl.json");
  const int n_layer = m.config["n_layer"].get<int>();
  const std::string last = "blk." + std::to_string(n_layer - 1) + ".";
  EXPECT_TRUE(find_op(ir, last + "attn_o_rows"));  // last-row selection only in the last layer
  EXPECT_FALSE(find_op(ir, "blk.0.attn_o_rows"));
  EXPECT_TRUE(find_op(ir, "blk.0.deepstack_out"));
  EXPECT_EQ(*find_op(ir, "blk.0.Qcur_normed")->name, "Qcur_normed-0");
  EXPECT_EQ(find_op(ir, "blk.0.q")->kernel, "mul_mat.f16.f32.strict");
  EXPECT_EQ(find_op(ir, "tok_pad")->when_input, "tokens");
  EXPECT_EQ(find_op(ir, "blk.0.k_store")->out, "blk.0.cache_k");
  const auto* lo = graph::find_tensor(ir, "result_output");
  EXPECT_EQ(lo->shape[0].sym, "n_outputs");
  // Tied embeddings: lm_head falls back to token_embd.
  EXPECT_EQ(find_op(ir, "result_output")->weights[0].name,
            m.doc.dump().find("\"output.weight\"") == std::string::npos ? "token_embd.weight" : "output.weight");
  // Fast mode picks fast kernels where they exist, strict elsewhere.
  auto fast = lower_with(m, "templates/qwen3vl.json", registry::Mode::Fast);
  EXPECT_EQ(find_op(fast, "blk.0.q")->kernel, "mul_mat.f16.f32.fast");
  EXPECT_EQ(find_op(fast, "blk.0.attn_rms")->kernel, "rms_norm.f32.strict");
}

TEST(Lower, ThirdTemplateNeedsNoCode) {
  auto m = load_manifest("tests/fixtures/manifests/toy_mlp.json");
  auto ir = lower_with(m, "tests/fixtures/templates/toy_mlp.json");
  EXPECT_EQ(ir.template_name, "toy_mlp");
  EXPECT_EQ(find_op(ir, "all")->in.size(), 3u);  // head + taps of layers 0 and 2
  EXPECT_EQ(find_op(ir, "blk.1.up")->kernel, "mul_mat.f16.f32.strict");
  EXPECT_EQ(find_op(ir, "blk.1.down")->kernel, "mul_mat.f32.f32.strict");
  // ir1 JSON round trip is lossless.
  auto j = graph::ir1_to_json(ir);
  EXPECT_EQ(graph::ir1_to_json(graph::ir1_from_json(j, "x")).dump(), j.dump());
}

TEST(Lower, Errors) {
  const std::string tt = "tests/fixtures/templates/toy_mlp.json";
  auto base = graph::read_json(src("tests/fixtures/manifests/toy_mlp.json"));
  auto run = [&](const json& mj) { return error_of([&] { lower_with(ck::manifest::read_manifest(mj, "m.json"), tt); }); };

  json missing = base;
  missing["tensors"].erase(missing["tensors"].begin() + 1);  // l0.norm
  EXPECT_NE(run(missing).find("template weight 'l0.norm' is missing from the model"), std::string::npos) << run(missing);

  json extra = base;
  json t = extra["tensors"][1];
  t["name"] = "stray.weight";
  extra["tensors"].push_back(t);
  EXPECT_NE(run(extra).find("model tensor 'stray.weight' is not used"), std::string::npos);

  json shape = base;
  shape["tensors"][2]["ne"] = json::array({16, 33});  // l0.up: n_ff 33 vs config 32
  EXPECT_NE(run(shape).find("shape mismatch"), std::string::npos) << run(shape);

  json dtype = base;
  dtype["tensors"][1]["dtype"] = "q8_0";  // norm weight as q8_0: no mul kernel for it
  EXPECT_NE(run(dtype).find("no kernel for op 'mul' with weight dtype q8_0"), std::string::npos) << run(dtype);

  json key = base;
  key["config"].erase("eps");
  EXPECT_NE(run(key).find("unknown config key 'eps'"), std::string::npos) << run(key);

  json fmt = base;
  fmt["format"] = "x";
  EXPECT_NE(run(fmt).find("not a ck.weights_manifest"), std::string::npos);
}
