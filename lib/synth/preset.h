// Model presets of ck-synth: the dimensions of synth_qwen3vl.py's PRESETS (tiny, small, 2b), of the dense
// published checkpoints (4b, 8b, 32b) and of the MoE checkpoints (30b-a3b, 235b-a22b), as convert_hf_to_gguf.py
// writes them from Qwen/Qwen3-VL-*-Instruct.
#pragma once
#include <string>
#include <vector>

namespace ck::synth {

struct Preset {
  std::string name;
  // vision encoder (mmproj)
  int v_hidden, v_layers, v_heads, v_ffn, v_patch, v_merge, v_npos;
  std::vector<int> v_deepstack;  // absolute ViT layer indices with a deepstack merger
  // text decoder
  int t_hidden, t_layers, t_heads, t_kv_heads, t_head_dim, t_ffn;
  float t_rope_theta;
  std::vector<int> t_sections;  // M-RoPE sections, padded to 4 with 0
  int t_ctx;
  float t_eps;
  bool tied;   // tie_word_embeddings: no output.weight, llama.cpp reuses token_embd
  float std;   // spread of matmul weights and biases (python: ~0.8/sqrt(hidden))
  int n_vocab; // tokens written (the converter pads the tokenizer to the checkpoint's vocab)
  // MoE text decoder (arch qwen3vlmoe, Qwen3VLMoeTextModel): 0 experts = dense (arch qwen3vl).
  // t_ffn is then the checkpoint's intermediate_size (written as feed_forward_length, unused by llama.cpp).
  int t_experts = 0;       // num_experts -> expert_count
  int t_experts_used = 0;  // num_experts_per_tok -> expert_used_count
  int t_expert_ffn = 0;    // moe_intermediate_size -> expert_feed_forward_length
};

// The preset called `name`; throws ck::Error naming the known presets otherwise.
const Preset& preset(const std::string& name);
std::vector<std::string> preset_names();
// `base` cut to `text_layers` / `vision_layers` (0 = keep), every width unchanged. Deepstack taps past the cut
// are dropped (the text file's n_deepstack_layers follows); throws ck::Error if the cut keeps none of them.
Preset with_depth(const Preset& base, int text_layers, int vision_layers);
// The same consistency checks as synth_qwen3vl.py check_preset (rope sections, head dims, position grid).
void check_preset(const Preset& p);

}  // namespace ck::synth
