// lib/decode: the ck-decode contract against llama.cpp b10256.
// tests/fixtures/decode/cases.json (tests/fixtures/decode/regen.py, oracle ref_decode on ck-synth's tiny pair)
// holds, for six prompts (3 image shapes, marker first / inside / appended, a 4020-token image, text only), the
// formatted prompt, the text token ids, the chunks with their positions, and for every ubatch of the prompt and
// of the first generated tokens its query count, n_kv and output rows. Everything here must equal it exactly.
// rope_noise_tall/ is the oracle's layer-0 K before and after IMROPE for a 3x9 image prompt: rotating the input
// with ck's positions must give the oracle's bits (checks the four position planes end to end).
// The vocabulary is the one ck-synth writes (needs $CK_DEPS_DIR/qwen3-tokenizer/tokenizer.json: `make deps`).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bridge/prefix.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "decode/chat.h"
#include "decode/chunks.h"
#include "decode/kv_cache.h"
#include "decode/model_info.h"
#include "decode/positions.h"
#include "decode/sampling.h"
#include "decode/session.h"
#include "decode/ubatch.h"
#include "dump/reader.h"
#include "gguf/gguf.h"
#include "kernels/rope.h"
#include "synth/chat_template.h"
#include "synth/preset.h"
#include "synth/qwen3vl.h"
#include "synth/vocab.h"
#include "text/tokenizer.h"
#include "text/vocab.h"

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
namespace dc = ck::decode;

namespace {

const std::string kFixtures = std::string(CK_SOURCE_DIR) + "/tests/fixtures/decode";
const std::string kTokenizerJson = std::string(CK_DEPS_DIR) + "/qwen3-tokenizer/tokenizer.json";

const json& cases() {
  static const json j = json::parse(ck::read_text_file(kFixtures + "/cases.json"));
  return j;
}

// ck-synth's tiny text vocabulary, through the GGUF loader (as tests/unit/text_test.cpp).
const ck::text::Tokenizer& tiny_tokenizer() {
  static const ck::text::Tokenizer t = [] {
    if (!fs::exists(kTokenizerJson)) throw ck::Error(kTokenizerJson + ": missing (run `make deps`)");
    const ck::synth::Preset& p = ck::synth::preset("tiny");
    const ck::synth::Vocab sv = ck::synth::load_qwen_vocab(kTokenizerJson, p.n_vocab);
    ck::gguf::Writer w;
    for (auto& kv : ck::synth::text_kvs(p, ck::DType::F16, 0, sv, ck::synth::qwen3vl_chat_template()))
      if (kv.key.rfind("tokenizer.", 0) == 0 || kv.key.rfind("general.", 0) == 0) w.set(kv.key, kv.value);
    const fs::path path = fs::path(::testing::TempDir()) / ("ck_decode_vocab_" + std::to_string(::getpid()) + ".gguf");
    w.write(path.string());
    ck::text::Tokenizer tok(ck::text::vocab_from_gguf_file(path.string()));
    fs::remove(path);
    return tok;
  }();
  return t;
}

// The chat contract ck-convert writes for the tiny text model (templates/qwen3vl.json "chat" section).
dc::ChatContract tiny_chat() {
  dc::ChatContract c;
  c.chat_template = ck::synth::qwen3vl_chat_template();
  c.image_begin = "<|vision_start|>";
  c.image_end = "<|vision_end|>";
  c.add_bos = false;
  return c;
}

struct Built {
  std::string formatted;
  std::vector<dc::Chunk> chunks;
  dc::Schedule sched;
};

Built build_case(const json& c) {
  const auto& f = dc::ChatFormats::builtin();
  const bool with_image = !c["image"].is_null();
  bool image_first = false;
  for (const auto& fl : c["ref_decode_flags"]) image_first |= fl == "--image-first";
  Built b;
  const dc::ChatContract chat = tiny_chat();
  b.formatted = dc::apply_chat_shell(chat, dc::user_content(c["prompt"], with_image, image_first, f), f, "test");
  dc::ChunkOptions o;
  o.media_marker = f.media_marker;
  o.image_begin = chat.image_begin;
  o.image_end = chat.image_end;
  for (const auto& ch : c["chunks"])
    if (ch["type"] == "image") {  // grid from the oracle's last image token: (t, x = pos0+nx-1, y = pos0+ny-1)
      const int pos0 = ch["pos0"];
      o.nx = uint32_t(int(ch["last_token_pos_txyz"][1]) - pos0 + 1);
      o.ny = uint32_t(int(ch["last_token_pos_txyz"][2]) - pos0 + 1);
    }
  const auto& tok = tiny_tokenizer();
  b.chunks = dc::make_chunks(b.formatted, with_image ? 1 : 0, o,
                             [&](std::string_view t) { return tok.tokenize(t, false, true); });
  b.sched = dc::schedule_prompt(b.chunks, 0, cases()["settings"]["n_batch"], cases()["settings"]["n_ubatch"]);
  return b;
}

}  // namespace

TEST(DecodeChat, BuiltinFormatsDetectLikeLlamaCpp) {
  const auto& f = dc::ChatFormats::builtin();
  EXPECT_EQ(f.media_marker, "<__media__>");
  ASSERT_NE(f.detect("chatml"), nullptr);
  EXPECT_EQ(f.detect("chatml")->name, "chatml");
  EXPECT_EQ(f.detect("{% for m in messages %}<|im_start|>{{ m.role }}{% endfor %}")->name, "chatml");
  EXPECT_EQ(f.detect("<|im_start|> <|im_sep|>")->name, "phi4");
  EXPECT_FALSE(f.detect("<|im_start|> <|im_sep|>")->supported);
  EXPECT_EQ(f.detect("{{ '[INST]' }}"), nullptr);
  dc::ChatContract c;  // no template -> llama_chat_apply_template's default "chatml"
  EXPECT_EQ(dc::apply_chat_shell(c, "hi", f, "m"), "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  c.chat_template = "{{ '[INST]' }}";
  EXPECT_THROW(dc::apply_chat_shell(c, "hi", f, "m"), ck::Error);
  c.chat_template = "<|im_start|><|im_sep|>";
  try {
    dc::apply_chat_shell(c, "hi", f, "model/call.json");
    FAIL();
  } catch (const ck::Error& e) {
    EXPECT_NE(std::string(e.what()).find("model/call.json: "), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("--raw"), std::string::npos);
  }
}

// The Instruct and Thinking templates through both routes vs the oracle's own rendering of them
// (tests/fixtures/chat/renderings.json: ref_chat = common_chat_templates_apply, jinja 0 and 1; tests/parity/chat).
TEST(DecodeChat, ThinkingAndInstructTemplatesBothRoutesAsTheOracle) {
  const auto& f = dc::ChatFormats::builtin();
  const json fx = json::parse(ck::read_text_file(std::string(CK_SOURCE_DIR) + "/tests/fixtures/chat/renderings.json"));
  ASSERT_EQ(fx.at("oracle").at("llama_cpp").at("commit"), "6c8dcaa");
  const std::map<std::string, std::string> templates = {{"instruct", ck::synth::qwen3vl_chat_template()},
                                                        {"thinking", ck::synth::qwen3vl_thinking_chat_template()}};
  int n = 0;
  for (const auto& [name, tmpl] : templates) {
    dc::ChatContract c = tiny_chat();
    c.chat_template = tmpl;
    ASSERT_NE(f.detect(tmpl), nullptr);
    EXPECT_EQ(f.detect(tmpl)->name, "chatml");  // legacy route: llm_chat_detect_template by substring
    ASSERT_NE(f.detect_jinja(tmpl), nullptr);
    EXPECT_EQ(f.detect_jinja(tmpl)->name, "qwen3-vl-" + name);
    for (const auto& e : fx.at("templates").at(name).at("cases")) {
      std::vector<dc::ChatMessage> msgs;
      if (!e.at("system").get<std::string>().empty()) msgs.push_back({"system", e.at("system").get<std::string>()});
      msgs.push_back({"user", e.at("prompt").get<std::string>()});
      EXPECT_EQ(dc::apply_chat_shell(c, msgs, true, f, "m"), e.at("legacy").at("prompt").get<std::string>()) << name;
      EXPECT_EQ(dc::apply_chat_shell_jinja(c, msgs, true, f, "m"), e.at("jinja").at("prompt").get<std::string>())
          << name;
      ++n;
    }
  }
  EXPECT_EQ(n, 6);
  // the Thinking jinja prompt opens the reply with <think>, the legacy one does not (the oracle's text, above)
  dc::ChatContract t = tiny_chat();
  t.chat_template = ck::synth::qwen3vl_thinking_chat_template();
  EXPECT_EQ(dc::apply_chat_shell_jinja(t, {{"user", "hi"}}, true, f, "m"),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n");
  EXPECT_EQ(f.detect_jinja(ck::synth::qwen3vl_thinking_chat_template())->thinking_start, "<think>");
  // no template / a template ck's jinja shells do not know: errors naming the source
  dc::ChatContract none;
  EXPECT_THROW(dc::apply_chat_shell_jinja(none, {{"user", "hi"}}, true, f, "m"), ck::Error);
  none.chat_template = "{% for m in messages %}<|im_start|>{{ m.content }}{% endfor %}";
  try {
    dc::apply_chat_shell_jinja(none, {{"user", "hi"}}, true, f, "model/call.json");
    FAIL();
  } catch (const ck::Error& e) {
    EXPECT_NE(std::string(e.what()).find("model/call.json: "), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("not known"), std::string::npos);
  }
}

TEST(DecodeChat, MarkerPlacementAsMtmdCli) {
  const auto& f = dc::ChatFormats::builtin();
  EXPECT_EQ(dc::user_content("Describe.", true, false, f), "Describe.<__media__>");
  EXPECT_EQ(dc::user_content("Describe.", true, true, f), "<__media__>Describe.");
  EXPECT_EQ(dc::user_content("a <__media__> b", true, false, f), "a <__media__> b");
  EXPECT_EQ(dc::user_content("Describe.", false, false, f), "Describe.");
  EXPECT_EQ(dc::split_text("a<M>b<M>", "<M>"), (std::vector<std::string>{"a", "<M>", "b", "<M>"}));
  EXPECT_TRUE(dc::split_text("", "<M>").empty());
}

TEST(DecodeChunks, MarkerCountMustMatchImages) {
  dc::ChunkOptions o;
  o.media_marker = "<M>";
  o.nx = o.ny = 2;
  auto tk = [](std::string_view t) { return std::vector<int32_t>(t.size(), 7); };
  EXPECT_THROW(dc::make_chunks("a<M>b<M>", 1, o, tk), ck::Error);
  EXPECT_THROW(dc::make_chunks("ab", 1, o, tk), ck::Error);
  EXPECT_THROW(dc::make_chunks("a<M>", 0, o, tk), ck::Error);
  o.add_bos = true;
  o.bos_id = 5;
  const auto ch = dc::make_chunks("<M>ab", 1, o, tk);  // image first, no begin/end text: BOS gets its own chunk
  ASSERT_EQ(ch.size(), 3u);
  EXPECT_EQ(ch[0].tokens, std::vector<int32_t>{5});
  EXPECT_EQ(ch[1].type, dc::ChunkType::Image);
  EXPECT_EQ(ch[2].tokens, (std::vector<int32_t>{7, 7}));
}

TEST(DecodeOracle, PromptChunksPositionsUbatchesMatchRefDecode) {
  ASSERT_GE(cases()["cases"].size(), 6u);
  const int64_t n_ctx = cases()["settings"]["n_ctx"];
  for (const auto& c : cases()["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const Built b = build_case(c);
    EXPECT_EQ(b.formatted, c["formatted_prompt"].get<std::string>());
    // text tokens in order, chunk types and sizes
    std::vector<int32_t> toks;
    ASSERT_EQ(b.chunks.size(), c["chunks"].size());
    for (size_t i = 0; i < b.chunks.size(); ++i) {
      const auto& oc = c["chunks"][i];
      EXPECT_EQ(b.chunks[i].type == dc::ChunkType::Text ? "text" : "image", oc["type"].get<std::string>());
      EXPECT_EQ(b.chunks[i].n_tokens(), oc["n_tokens"].get<int64_t>());
      if (b.chunks[i].type == dc::ChunkType::Text)
        toks.insert(toks.end(), b.chunks[i].tokens.begin(), b.chunks[i].tokens.end());
    }
    EXPECT_EQ(toks, c["prompt_text_tokens"].get<std::vector<int32_t>>());
    EXPECT_EQ(b.sched.n_past, c["n_past_after_prompt"].get<int32_t>());
    EXPECT_EQ(b.sched.n_prompt_tokens, c["n_prompt_tokens"].get<int64_t>());
    // image positions: pos0, n_pos, last token (t, x=w, y=h)
    for (const auto& u : b.sched.ubatches) {
      if (u.type != dc::ChunkType::Image) continue;
      const auto& oc = c["chunks"][u.chunk];
      const auto& ch = b.chunks[u.chunk];
      EXPECT_EQ(dc::image_n_pos(ch.nx, ch.ny), oc["n_pos"].get<int32_t>());
      EXPECT_EQ(u.pos.front().t, oc["pos0"].get<int32_t>());
      if (u.offset + u.n_tokens == ch.n_tokens()) {
        const dc::Pos4 last = u.pos.back();
        const auto& lp = oc["last_token_pos_txyz"];
        EXPECT_EQ(last.t, lp[0].get<int32_t>());
        EXPECT_EQ(last.w, lp[1].get<int32_t>());
        EXPECT_EQ(last.h, lp[2].get<int32_t>());
        EXPECT_EQ(last.e, lp[3].get<int32_t>());
      }
    }
    // ubatches of the prompt and of the generated tokens: query count, n_kv, output rows
    dc::KvCache kv(n_ctx);
    std::vector<json> mine;
    for (const auto& u : b.sched.ubatches) {
      kv.place(u.pos);
      mine.push_back({{"phase", "prefill"}, {"n_tokens", u.n_tokens}, {"n_kv", kv.n_kv()}, {"n_outputs", u.out_rows.size()}});
    }
    int32_t pos = b.sched.n_past;
    for (size_t g = 0; mine.size() < c["ubatches"].size(); ++g) {
      const dc::Ubatch u = dc::generation_ubatch(0, pos++);
      kv.place(u.pos);
      mine.push_back({{"phase", "gen" + std::to_string(g)}, {"n_tokens", 1}, {"n_kv", kv.n_kv()}, {"n_outputs", 1}});
    }
    ASSERT_EQ(mine.size(), c["ubatches"].size());
    for (size_t i = 0; i < mine.size(); ++i) EXPECT_EQ(mine[i].dump(), c["ubatches"][i].dump()) << "ubatch " << i;
  }
}

TEST(DecodeOracle, ImropeWithCkPositionsGivesOracleBits) {
  const json* cs = nullptr;
  for (const auto& c : cases()["cases"])
    if (c["name"] == "noise_tall") cs = &c;
  ASSERT_NE(cs, nullptr);
  const Built b = build_case(*cs);
  const ck::DumpReader d(kFixtures + "/rope_noise_tall");
  const ck::synth::Preset& p = ck::synth::preset("tiny");
  ck::kernels::RopeParams rp;
  rp.n_dims = p.t_head_dim;
  rp.mode = ck::kernels::kRopeImrope;
  for (int i = 0; i < 4; ++i) rp.sections[i] = p.t_sections[size_t(i)];
  rp.freq_base = p.t_rope_theta;
  // prefill records in order: (Kcur_normed-0, rope out) per ubatch
  std::vector<const ck::DumpRecord*> in, out;
  for (const auto& r : d.records()) (r.name.rfind("Kcur_normed-0", 0) == 0 ? in : out).push_back(&r);
  ASSERT_EQ(in.size(), b.sched.ubatches.size());
  ASSERT_EQ(out.size(), in.size());
  int64_t n_checked = 0;
  for (size_t k = 0; k < in.size(); ++k) {
    const auto& u = b.sched.ubatches[k];
    const std::vector<float> x = d.read_f32(*in[k]), want = d.read_f32(*out[k]);
    ASSERT_EQ(int64_t(x.size()), u.n_tokens * p.t_kv_heads * p.t_head_dim);
    std::vector<float> y(x.size());
    const std::vector<int32_t> planes = dc::to_planes(u.pos);
    ck::kernels::rope_multi_rows(rp, x.data(), y.data(), p.t_head_dim, p.t_kv_heads, u.n_tokens, planes.data(), 0, 1);
    EXPECT_EQ(std::memcmp(y.data(), want.data(), y.size() * 4), 0) << "ubatch " << k;
    n_checked += int64_t(y.size());
  }
  EXPECT_EQ(n_checked, (10 + 27 + 6) * p.t_kv_heads * p.t_head_dim);
}

TEST(DecodePositions, TextImageAndPlanes) {
  EXPECT_EQ(dc::text_pos(7), (dc::Pos4{7, 7, 7, 0}));
  // 3 columns x 2 rows at pos0 = 4: token 4 is row 1, column 1
  EXPECT_EQ(dc::image_pos(4, 3, 4), (dc::Pos4{4, 5, 5, 0}));
  EXPECT_EQ(dc::image_pos(4, 3, 2), (dc::Pos4{4, 4, 6, 0}));
  EXPECT_EQ(dc::image_n_pos(3, 9), 9);
  EXPECT_EQ(dc::to_planes({{1, 2, 3, 0}, {4, 5, 6, 0}}), (std::vector<int32_t>{1, 4, 2, 5, 3, 6, 0, 0}));
  EXPECT_EQ(dc::deepstack_offset(0, 64, 2), 64);
  EXPECT_EQ(dc::deepstack_offset(1, 64, 2), 128);
  EXPECT_EQ(dc::deepstack_offset(2, 64, 2), -1);
}

TEST(DecodeUbatch, SplitsPerChunkBatchAndUbatchNeverMixed) {
  std::vector<dc::Chunk> ch(3);
  ch[0].tokens.assign(700, 1);
  ch[1].type = dc::ChunkType::Image;
  ch[1].nx = 30;
  ch[1].ny = 20;  // 600 rows
  ch[2].tokens.assign(5, 2);
  const auto s = dc::schedule_prompt(ch, 0, 2048, 512);
  std::vector<int64_t> sizes;
  for (const auto& u : s.ubatches) sizes.push_back(u.n_tokens);
  EXPECT_EQ(sizes, (std::vector<int64_t>{512, 188, 512, 88, 5}));
  EXPECT_EQ(s.n_past, 700 + 30 + 5);
  EXPECT_EQ(s.ubatches[3].offset, 512);
  EXPECT_EQ(s.ubatches[3].pos.front(), dc::image_pos(700, 30, 512));
  for (size_t i = 0; i + 1 < s.ubatches.size(); ++i) EXPECT_TRUE(s.ubatches[i].out_rows.empty());
  EXPECT_EQ(s.ubatches.back().out_rows, std::vector<int32_t>{4});
  // n_batch slices first: 700 tokens with n_batch 300, n_ubatch 512 -> 300, 300, 100 (ubatch clamped to batch)
  const auto s2 = dc::schedule_prompt({ch[0]}, 0, 300, 512);
  sizes.clear();
  for (const auto& u : s2.ubatches) sizes.push_back(u.n_tokens);
  EXPECT_EQ(sizes, (std::vector<int64_t>{300, 300, 100}));
  // a prompt that ends with the image: the logits row is its last image token
  const auto s3 = dc::schedule_prompt({ch[0], ch[1]}, 0, 2048, 512);
  EXPECT_EQ(s3.ubatches.back().out_rows, std::vector<int32_t>{87});
}

TEST(DecodeKv, SizeNkvAndMask) {
  dc::KvCache kv(4000);
  EXPECT_EQ(kv.size(), 4096);
  EXPECT_EQ(dc::KvCache(1).size(), 256);
  EXPECT_THROW(dc::KvCache(0), ck::Error);
  // text 0..1, then a 2x2 image at pos0 2 (rows: (2,2,2) (2,2,3) (2,3,2) (2,3,3) as t,h,w), then text at 4
  std::vector<dc::Pos4> text0 = {dc::text_pos(0), dc::text_pos(1)};
  EXPECT_EQ(kv.place(text0), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(kv.n_kv(), 256);
  std::vector<dc::Pos4> img;
  for (int i = 0; i < 4; ++i) img.push_back(dc::image_pos(2, 2, i));
  EXPECT_EQ(kv.place(img), (std::vector<int32_t>{2, 3, 4, 5}));
  const auto m = kv.mask(img, kv.n_kv());
  ASSERT_EQ(m.size(), 4u * 256);
  auto keep = [&](int q, int j) { return m[size_t(q) * 256 + size_t(j)] == dc::kMaskKeep; };
  for (int q = 0; q < 4; ++q) {
    for (int j = 0; j < 6; ++j) EXPECT_EQ(keep(q, j), j < 2 || j - 2 <= q) << q << "," << j;  // raster causal
    for (int j = 6; j < 256; ++j) EXPECT_EQ(m[size_t(q) * 256 + size_t(j)], dc::kMaskDrop);  // empty cells: -inf
  }
  std::vector<dc::Pos4> text1 = {dc::text_pos(4)};
  kv.place(text1);
  const auto m1 = kv.mask(text1, kv.n_kv());
  for (int j = 0; j < 7; ++j) EXPECT_EQ(m1[size_t(j)], dc::kMaskKeep);
  // n_kv grows in steps of 256 once more than 256 cells are used, capped at the size
  dc::KvCache k2(600);  // size 768
  std::vector<dc::Pos4> many(257, dc::text_pos(0));
  k2.place(many);
  EXPECT_EQ(k2.n_kv(), 512);
  std::vector<dc::Pos4> more(511, dc::text_pos(0));
  k2.place(more);
  EXPECT_EQ(k2.n_kv(), 768);
  EXPECT_THROW(k2.place({dc::text_pos(0)}), ck::Error);
}

TEST(DecodeKv, FlashAttentionKernelChoice) {
  using K = dc::FlashAttnKernel;
  EXPECT_EQ(dc::flash_attn_kernel(1, 256, 128), K::OneChunk);
  EXPECT_EQ(dc::flash_attn_kernel(1, 512, 128), K::SplitKV);
  EXPECT_EQ(dc::flash_attn_kernel(63, 4096, 128), K::OneChunk);
  EXPECT_EQ(dc::flash_attn_kernel(64, 256, 128), K::Tiled);
  EXPECT_EQ(dc::flash_attn_kernel(512, 768, 16), K::Tiled);
  EXPECT_EQ(dc::flash_attn_kernel(64, 256, 12), K::OneChunk);  // head_dim_v not a multiple of 8
}

TEST(DecodeSampling, GreedyFirstMaximumAndChain) {
  const std::vector<float> l = {0.5f, 2.0f, -1.0f, 2.0f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_EQ(dc::greedy(l), 1);
  dc::Sampler g({});
  EXPECT_EQ(g.sample(l), 1);
  dc::SamplingParams sp;
  sp.temp = 0.8f;
  sp.top_k = 1;
  sp.seed = 42;
  dc::Sampler k1(sp);
  const std::vector<float> l2 = {0.1f, 0.3f, 3.0f, 0.2f};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(k1.sample(l2), 2);
  sp.top_k = 0;
  sp.top_p = 1.0f;
  sp.min_p = 0.0f;
  sp.temp = 5.0f;
  dc::Sampler a(sp), b(sp);
  std::vector<int32_t> sa, sb;
  for (int i = 0; i < 20; ++i) {
    sa.push_back(a.sample(l2));
    sb.push_back(b.sample(l2));
  }
  EXPECT_EQ(sa, sb);  // same seed, same draws
  EXPECT_THROW(dc::greedy({}), ck::Error);
}

namespace {
// A backend that records what it is fed and answers with logits preferring token (step + 10) % 16.
struct FakeBackend : dc::DecoderBackend {
  std::vector<dc::UbatchInputs> seen;
  std::vector<float> logits = std::vector<float>(16, 0.0f);
  int eog_at = -1;
  std::span<const float> run(const dc::UbatchInputs& in) override {
    seen.push_back(in);
    std::fill(logits.begin(), logits.end(), 0.0f);
    const int step = int(seen.size());
    logits[size_t(step == eog_at ? 15 : (step + 10) % 15)] = 1.0f;
    return in.n_outputs ? std::span<const float>(logits) : std::span<const float>();
  }
};
}  // namespace

TEST(DecodeSession, GenerateFeedsInputsAndStops) {
  std::vector<dc::Chunk> ch(3);
  ch[0].tokens = {1, 2};
  ch[1].type = dc::ChunkType::Image;
  ch[1].nx = 3;
  ch[1].ny = 2;
  ch[2].tokens = {3};
  const auto s = dc::schedule_prompt(ch, 0, 2048, 4);  // image split 4 + 2
  std::vector<float> rows(6 * 8);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = float(i);
  FakeBackend be;
  dc::Sampler greedy({});
  dc::SessionOptions o;
  o.n_ctx = 300;
  o.n_predict = 3;
  std::vector<int32_t> streamed;
  const auto r = dc::generate(be, s, rows.data(), 8, greedy, {15}, o, [&](int32_t t) { streamed.push_back(t); });
  ASSERT_EQ(be.seen.size(), 4u + 2u);  // 4 prompt ubatches, then 2 generated tokens fed back (not the last)
  EXPECT_EQ(be.seen[1].type, dc::ChunkType::Image);
  EXPECT_EQ(be.seen[1].embd, rows.data());
  EXPECT_EQ(be.seen[2].embd, rows.data() + 4 * 8);
  EXPECT_EQ(be.seen[2].kv_slots, (std::vector<int32_t>{6, 7}));
  EXPECT_EQ(be.seen[3].positions, (std::vector<int32_t>{5, 5, 5, 0}));  // text resumes at 2 + max(3,2)
  EXPECT_EQ(be.seen[3].out_ids, std::vector<int32_t>{0});
  EXPECT_EQ(be.seen[4].phase, "gen0");
  EXPECT_EQ(be.seen[4].positions, (std::vector<int32_t>{6, 6, 6, 0}));
  EXPECT_EQ(be.seen[4].n_kv, 256);
  EXPECT_EQ(be.seen[4].ctx_size, 512);
  EXPECT_EQ(r.tokens, (std::vector<int32_t>{14, 0, 1}));
  EXPECT_EQ(streamed, r.tokens);
  EXPECT_FALSE(r.hit_eog);
  FakeBackend be2;
  be2.eog_at = 5;
  o.n_predict = -1;
  const auto r2 = dc::generate(be2, s, rows.data(), 8, greedy, {15}, o, nullptr);
  EXPECT_TRUE(r2.hit_eog);
  EXPECT_EQ(r2.tokens.back(), 15);
}

TEST(DecodeModel, PrefixMismatchNamesBothFiles) {
  dc::ModelInfo m;
  m.call_json = "dec/call.json";
  m.n_embd_inp = 192;
  ck::bridge::PrefixInfo p;
  p.row_width = 256;
  p.n_embd = 64;
  p.n_deepstack = 3;
  try {
    dc::check_prefix(m, p, "img.prefix");
    FAIL();
  } catch (const ck::Error& e) {
    const std::string w = e.what();
    EXPECT_EQ(w.find('\n'), std::string::npos);
    EXPECT_NE(w.find("img.prefix"), std::string::npos);
    EXPECT_NE(w.find("dec/call.json"), std::string::npos);
    EXPECT_NE(w.find("256"), std::string::npos);
    EXPECT_NE(w.find("192"), std::string::npos);
  }
  p.row_width = 192;
  p.n_deepstack = 2;
  EXPECT_NO_THROW(dc::check_prefix(m, p, "img.prefix"));
}
