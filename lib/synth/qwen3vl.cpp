#include "synth/qwen3vl.h"

#include "core/error.h"
#include "synth/chat_template.h"

namespace ck::synth {

using gguf::KeyValue;
using gguf::Value;
using gguf::ValueType;

namespace {

constexpr float kNormStd = 0.1f;  // spread of norm weights around 1.0 (python: nstd)

// Type of a 2-D matmul weight with row length ne0 for output type w.
DType matmul_type(DType w, int64_t ne0) {
  if (traits(w).quantized && ne0 % traits(w).block_size != 0) return DType::F16;  // gguf-py QuantError fallback
  return w;
}

// MmprojModel.tensor_force_quant: ".patch_embd.weight" -> F16 iff ftype == MOSTLY_F16, else F32.
DType patch_embd_type(DType w) { return w == DType::F16 ? DType::F16 : DType::F32; }

std::string fmt_int(int64_t v) { return std::to_string(v); }

}  // namespace

bool is_weight_type(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::Q8_0; }

uint32_t file_type_of(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q8_0: return 7;
    case DType::BF16: return 32;
    default: throw Error(std::string("synth: no llama_ftype for ") + dtype_name(t));
  }
}

std::vector<TensorPlan> mmproj_tensors(const Preset& p, DType w) {
  const int64_t H = p.v_hidden, F = p.v_ffn, P = p.v_patch, M2 = int64_t{p.v_merge} * p.v_merge, D = p.t_hidden;
  const float s = p.std;
  std::vector<TensorPlan> ts;
  auto mat = [&](const std::string& name, int64_t ne0, int64_t ne1) {
    ts.push_back({name, matmul_type(w, ne0), {ne0, ne1}, 0.0f, s});
  };
  auto vec = [&](const std::string& name, int64_t n, float mean, float std) {
    ts.push_back({name, DType::F32, {n}, mean, std});
  };
  ts.push_back({"v.patch_embd.weight", patch_embd_type(w), {P, P, 3, H}, 0.0f, s});
  ts.push_back({"v.patch_embd.weight.1", patch_embd_type(w), {P, P, 3, H}, 0.0f, s});
  vec("v.patch_embd.bias", H, 0.0f, s);
  ts.push_back({"v.position_embd.weight", DType::F32, {H, p.v_npos}, 0.0f, 0.1f});
  for (int i = 0; i < p.v_layers; ++i) {
    const std::string b = "v.blk." + fmt_int(i) + ".";
    vec(b + "ln1.weight", H, 1.0f, kNormStd);
    vec(b + "ln1.bias", H, 0.0f, s);
    mat(b + "attn_qkv.weight", H, 3 * H);
    vec(b + "attn_qkv.bias", 3 * H, 0.0f, s);
    mat(b + "attn_out.weight", H, H);
    vec(b + "attn_out.bias", H, 0.0f, s);
    vec(b + "ln2.weight", H, 1.0f, kNormStd);
    vec(b + "ln2.bias", H, 0.0f, s);
    mat(b + "ffn_up.weight", H, F);
    vec(b + "ffn_up.bias", F, 0.0f, s);
    mat(b + "ffn_down.weight", F, H);
    vec(b + "ffn_down.bias", H, 0.0f, s);
  }
  for (int il : p.v_deepstack) {
    const std::string b = "v.deepstack." + fmt_int(il) + ".";
    vec(b + "norm.weight", M2 * H, 1.0f, kNormStd);
    vec(b + "norm.bias", M2 * H, 0.0f, s);
    mat(b + "fc1.weight", M2 * H, M2 * H);
    vec(b + "fc1.bias", M2 * H, 0.0f, s);
    mat(b + "fc2.weight", M2 * H, D);
    vec(b + "fc2.bias", D, 0.0f, s);
  }
  vec("v.post_ln.weight", H, 1.0f, kNormStd);
  vec("v.post_ln.bias", H, 0.0f, s);
  mat("mm.0.weight", M2 * H, M2 * H);
  vec("mm.0.bias", M2 * H, 0.0f, s);
  mat("mm.2.weight", M2 * H, D);
  vec("mm.2.bias", D, 0.0f, s);
  return ts;
}

std::vector<KeyValue> mmproj_kvs(const Preset& p, DType w, uint64_t seed) {
  std::vector<Value> is_ds;
  for (int i = 0; i < p.v_layers; ++i) {
    bool ds = false;
    for (int l : p.v_deepstack) ds = ds || l == i;
    is_ds.push_back(Value::boolean(ds));
  }
  int side = 0;
  while (side * side < p.v_npos) ++side;  // image_size = sqrt(num_position_embeddings) * patch_size
  std::vector<KeyValue> kv = {
      {"general.architecture", Value::str("clip")},
      {"general.type", Value::str("mmproj")},
      {"general.name", Value::str("synthetic-qwen3vl-" + p.name + "-mmproj")},
      {"general.description",
       Value::str("synthetic random-weight Qwen3-VL vision encoder (seed " + std::to_string(seed) + ")")},
      {"general.file_type", Value::u32(file_type_of(w))},
      {"clip.has_vision_encoder", Value::boolean(true)},
      {"clip.projector_type", Value::str("qwen3vl_merger")},
      {"clip.use_gelu", Value::boolean(true)},
      {"clip.vision.image_size", Value::u32(static_cast<uint32_t>(side * p.v_patch))},
      {"clip.vision.patch_size", Value::u32(static_cast<uint32_t>(p.v_patch))},
      {"clip.vision.embedding_length", Value::u32(static_cast<uint32_t>(p.v_hidden))},
      {"clip.vision.feed_forward_length", Value::u32(static_cast<uint32_t>(p.v_ffn))},
      {"clip.vision.projection_dim", Value::u32(static_cast<uint32_t>(p.t_hidden))},
      {"clip.vision.block_count", Value::u32(static_cast<uint32_t>(p.v_layers))},
      {"clip.vision.attention.head_count", Value::u32(static_cast<uint32_t>(p.v_heads))},
      {"clip.vision.attention.layer_norm_epsilon", Value::f32(p.t_eps)},  // converter: text rms_norm_eps
      {"clip.vision.image_mean", Value::f32_array({0.5f, 0.5f, 0.5f})},
      {"clip.vision.image_std", Value::f32_array({0.5f, 0.5f, 0.5f})},
      {"clip.vision.spatial_merge_size", Value::u32(static_cast<uint32_t>(p.v_merge))},
      {"clip.vision.is_deepstack_layers", Value::array(ValueType::BOOL, std::move(is_ds))},
  };
  if (traits(w).quantized) kv.push_back({"general.quantization_version", Value::u32(2)});  // GGML_QNT_VERSION
  return kv;
}

std::vector<TensorPlan> text_tensors(const Preset& p, DType w, int n_vocab) {
  const int64_t H = p.t_hidden, F = p.t_ffn, hd = p.t_head_dim, nh = p.t_heads, nkv = p.t_kv_heads;
  const float s = p.std;
  std::vector<TensorPlan> ts;
  auto mat = [&](const std::string& name, int64_t ne0, int64_t ne1) {
    ts.push_back({name, matmul_type(w, ne0), {ne0, ne1}, 0.0f, s});
  };
  auto norm = [&](const std::string& name, int64_t n) { ts.push_back({name, DType::F32, {n}, 1.0f, kNormStd}); };
  mat("token_embd.weight", H, n_vocab);
  for (int i = 0; i < p.t_layers; ++i) {
    const std::string b = "blk." + fmt_int(i) + ".";
    norm(b + "attn_norm.weight", H);
    mat(b + "attn_q.weight", H, nh * hd);
    mat(b + "attn_k.weight", H, nkv * hd);
    mat(b + "attn_v.weight", H, nkv * hd);
    mat(b + "attn_output.weight", nh * hd, H);
    norm(b + "attn_q_norm.weight", hd);
    norm(b + "attn_k_norm.weight", hd);
    norm(b + "ffn_norm.weight", H);
    if (p.t_experts > 0) {
      // Qwen3VLMoeTextModel: router kept F32 by the converter (FFN_GATE_INP), experts 3-D {in, out, n_expert}
      const int64_t E = p.t_experts, FE = p.t_expert_ffn;
      ts.push_back({b + "ffn_gate_inp.weight", DType::F32, {H, E}, 0.0f, s});
      ts.push_back({b + "ffn_gate_exps.weight", matmul_type(w, H), {H, FE, E}, 0.0f, s});
      ts.push_back({b + "ffn_up_exps.weight", matmul_type(w, H), {H, FE, E}, 0.0f, s});
      ts.push_back({b + "ffn_down_exps.weight", matmul_type(w, FE), {FE, H, E}, 0.0f, s});
    } else {
      mat(b + "ffn_gate.weight", H, F);
      mat(b + "ffn_up.weight", H, F);
      mat(b + "ffn_down.weight", F, H);
    }
  }
  norm("output_norm.weight", H);
  if (!p.tied) mat("output.weight", H, n_vocab);  // tied (Qwen3-VL-2B/4B): llama.cpp reuses token_embd
  return ts;
}

std::vector<KeyValue> text_kvs(const Preset& p, DType w, uint64_t seed, const Vocab& voc, const char* chat_template) {
  const std::string A = p.t_experts > 0 ? "qwen3vlmoe" : "qwen3vl";
  auto u32 = [](int v) { return Value::u32(static_cast<uint32_t>(v)); };
  std::vector<KeyValue> kv = {
      {"general.architecture", Value::str(A)},
      {"general.type", Value::str("model")},
      {"general.name", Value::str("synthetic-qwen3vl-" + p.name)},
      {"general.description",
       Value::str("synthetic random-weight Qwen3-VL text decoder (seed " + std::to_string(seed) + ")")},
      {"general.file_type", Value::u32(file_type_of(w))},
      {A + ".block_count", u32(p.t_layers)},
      {A + ".context_length", u32(p.t_ctx)},
      {A + ".embedding_length", u32(p.t_hidden)},
      {A + ".feed_forward_length", u32(p.t_ffn)},
      {A + ".attention.head_count", u32(p.t_heads)},
      {A + ".attention.head_count_kv", u32(p.t_kv_heads)},
      {A + ".rope.freq_base", Value::f32(p.t_rope_theta)},
      {A + ".attention.layer_norm_rms_epsilon", Value::f32(p.t_eps)},
      {A + ".attention.key_length", u32(p.t_head_dim)},
      {A + ".attention.value_length", u32(p.t_head_dim)},
      {A + ".rope.dimension_sections", Value::i32_array(std::vector<int32_t>(p.t_sections.begin(), p.t_sections.end()))},
      {A + ".n_deepstack_layers", u32(static_cast<int>(p.v_deepstack.size()))},
      {"tokenizer.ggml.model", Value::str("gpt2")},
      {"tokenizer.ggml.pre", Value::str("qwen2")},
      {"tokenizer.ggml.tokens", Value::str_array(voc.tokens)},
      {"tokenizer.ggml.token_type", Value::i32_array(voc.types)},
      {"tokenizer.ggml.merges", Value::str_array(voc.merges)},
      {"tokenizer.ggml.eos_token_id", Value::u32(voc.eos)},
      {"tokenizer.ggml.padding_token_id", Value::u32(voc.pad)},
      {"tokenizer.ggml.bos_token_id", Value::u32(voc.bos)},
      {"tokenizer.ggml.add_bos_token", Value::boolean(false)},
      {"tokenizer.chat_template", Value::str(chat_template)},
  };
  if (p.t_experts > 0) {
    kv.push_back({A + ".expert_count", u32(p.t_experts)});
    kv.push_back({A + ".expert_used_count", u32(p.t_experts_used)});
    kv.push_back({A + ".expert_feed_forward_length", u32(p.t_expert_ffn)});
  }
  if (traits(w).quantized) kv.push_back({"general.quantization_version", Value::u32(2)});
  return kv;
}

}  // namespace ck::synth
