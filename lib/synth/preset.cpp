#include "synth/preset.h"

#include "core/error.h"

namespace ck::synth {

namespace {
constexpr int kQwenVocab = 151936;  // Qwen3 checkpoints' vocab_size (embed_tokens rows)

const std::vector<Preset>& all() {
  // Field order: name | v_hidden v_layers v_heads v_ffn v_patch v_merge v_npos v_deepstack |
  // t_hidden t_layers t_heads t_kv_heads t_head_dim t_ffn theta sections ctx eps tied std n_vocab
  // [t_experts t_experts_used t_expert_ffn] (MoE presets only)
  static const std::vector<Preset> presets = {
      {"tiny", 64, 4, 4, 256, 16, 2, 256, {1, 2},
       64, 4, 4, 2, 16, 192, 5e6f, {4, 2, 2, 0}, 262144, 1e-6f, true, 0.1f, kQwenVocab},
      {"small", 256, 6, 4, 1024, 16, 2, 2304, {1, 3, 5},
       256, 6, 4, 2, 64, 768, 5e6f, {12, 10, 10, 0}, 262144, 1e-6f, true, 0.05f, kQwenVocab},
      {"2b", 1024, 24, 16, 4096, 16, 2, 2304, {5, 11, 17},
       2048, 28, 16, 8, 128, 6144, 5e6f, {24, 20, 20, 0}, 262144, 1e-6f, true, 0.02f, kQwenVocab},
      // Qwen/Qwen3-VL-4B-*: the 2B vision tower, text 36 x 2560, tied.
      {"4b", 1024, 24, 16, 4096, 16, 2, 2304, {5, 11, 17},
       2560, 36, 32, 8, 128, 9728, 5e6f, {24, 20, 20, 0}, 262144, 1e-6f, true, 0.016f, kQwenVocab},
      // Qwen/Qwen3-VL-8B-*: vision 27 x 1152 (16 heads of 72, FFN 4304, deepstack 8/16/24), text 36 x 4096,
      // untied (output.weight).
      {"8b", 1152, 27, 16, 4304, 16, 2, 2304, {8, 16, 24},
       4096, 36, 32, 8, 128, 12288, 5e6f, {24, 20, 20, 0}, 262144, 1e-6f, false, 0.0125f, kQwenVocab},
      // Qwen/Qwen3-VL-32B-*: the 8B vision tower, text 64 x 5120 (64 heads, 8 KV heads), untied.
      {"32b", 1152, 27, 16, 4304, 16, 2, 2304, {8, 16, 24},
       5120, 64, 64, 8, 128, 25600, 5e6f, {24, 20, 20, 0}, 262144, 1e-6f, false, 0.011f, kQwenVocab},
      // Test-size MoE decoders (arch qwen3vlmoe, no published checkpoint): tiny's / small's vision and attention
      // with a MoE FFN of odd expert counts, so that tokens leave experts empty. small-moe's 256-wide rows hold
      // K-quant blocks (Q4_K_M / Q6_K via ref_quantize).
      {"tiny-moe", 64, 4, 4, 256, 16, 2, 256, {1, 2},
       64, 4, 4, 2, 16, 192, 5e6f, {4, 2, 2, 0}, 262144, 1e-6f, true, 0.1f, kQwenVocab,
       7, 2, 32},
      {"small-moe", 256, 6, 4, 1024, 16, 2, 2304, {1, 3, 5},
       256, 6, 4, 2, 64, 768, 5e6f, {12, 10, 10, 0}, 262144, 1e-6f, false, 0.05f, kQwenVocab,
       9, 3, 256},
      // Qwen/Qwen3-VL-30B-A3B-Instruct and Qwen/Qwen3-VL-235B-A22B-Instruct (config.json): vision 27 x 1152,
      // 16 heads, FFN 4304, deepstack [8, 16, 24]; text MoE, 128 experts, 8 used, untied (output.weight).
      {"30b-a3b", 1152, 27, 16, 4304, 16, 2, 2304, {8, 16, 24},
       2048, 48, 32, 4, 128, 6144, 5e6f, {24, 20, 20, 0}, 262144, 1e-6f, false, 0.02f, kQwenVocab,
       128, 8, 768},
      {"235b-a22b", 1152, 27, 16, 4304, 16, 2, 2304, {8, 16, 24},
       4096, 94, 64, 4, 128, 12288, 5e6f, {24, 20, 20, 0}, 262144, 1e-6f, false, 0.015f, kQwenVocab,
       128, 8, 1536},
  };
  return presets;
}
}  // namespace

std::vector<std::string> preset_names() {
  std::vector<std::string> n;
  for (const auto& p : all()) n.push_back(p.name);
  return n;
}

const Preset& preset(const std::string& name) {
  for (const auto& p : all())
    if (p.name == name) return p;
  std::string known;
  for (const auto& n : preset_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown preset '" + name + "' (known: " + known + ")");
}

Preset with_depth(const Preset& base, int text_layers, int vision_layers) {
  Preset p = base;
  if (text_layers < 0 || text_layers > base.t_layers)
    throw Error("--layers " + std::to_string(text_layers) + ": preset '" + base.name + "' has " +
                std::to_string(base.t_layers) + " text layers");
  if (vision_layers < 0 || vision_layers > base.v_layers)
    throw Error("--vision-layers " + std::to_string(vision_layers) + ": preset '" + base.name + "' has " +
                std::to_string(base.v_layers) + " vision layers");
  if (text_layers > 0) p.t_layers = text_layers;
  if (vision_layers > 0) {
    p.v_layers = vision_layers;
    std::vector<int> kept;
    for (int l : base.v_deepstack)
      if (l < vision_layers) kept.push_back(l);
    if (kept.empty())
      throw Error("--vision-layers " + std::to_string(vision_layers) + ": keeps none of preset '" + base.name +
                  "' deepstack layers (the first is " + std::to_string(base.v_deepstack.front()) + ")");
    p.v_deepstack = kept;
  }
  return p;
}

void check_preset(const Preset& p) {
  auto need = [&](bool ok, const char* what) {
    if (!ok) throw Error("preset '" + p.name + "': " + what);
  };
  int sec = 0;
  for (int s : p.t_sections) sec += s;
  need(p.t_sections.size() == 4, "rope sections must have 4 entries");
  need(sec * 2 == p.t_head_dim, "rope sections must sum to head_dim/2");
  need(p.v_hidden % p.v_heads == 0, "vision hidden must be a multiple of the head count");
  need((p.v_hidden / p.v_heads) % 4 == 0, "vision m-rope needs d_head % 4 == 0");
  int n = 0;
  while (n * n < p.v_npos) ++n;
  need(n * n == p.v_npos, "vision position count must be a square");
  need(p.v_merge == 2, "the clip qwen3vl graph hard-codes a 2x2 merge");
  for (int l : p.v_deepstack) need(l >= 0 && l < p.v_layers, "deepstack layer out of range");
  // llama.cpp's qwen3vl graph keeps only the output rows in the last layer before its deepstack add:
  // a text decoder no deeper than the tap count aborts there (ggml_can_repeat).
  need(p.t_layers > static_cast<int>(p.v_deepstack.size()),
       "text layers must exceed the deepstack tap count (llama.cpp adds deepstack before the last layer)");
  need(p.t_experts >= 0 && p.t_experts_used >= 0 && p.t_experts_used <= p.t_experts, "experts used must be <= experts");
  need((p.t_experts == 0) == (p.t_expert_ffn == 0) && (p.t_experts == 0) == (p.t_experts_used == 0),
       "a MoE preset needs expert count, experts used and expert FFN width");
}

}  // namespace ck::synth
