// The kernel table. Data only: adding a dtype or a fast variant is one row here plus its implementation in
// lib/kernels/. Id scheme: "<op>.<weight dtype>.<activation dtype>.<mode>", or "<op>.<activation dtype>.<mode>"
// for ops without a weight. Upstream names are ggml's (ggml/src/ggml-cpu/...) at llama.cpp b10256.
#include "registry/catalogue.h"

#include <array>

namespace ck::registry {
namespace {

constexpr Mode S = Mode::Strict;
constexpr Mode F = Mode::Fast;

// clang-format off
constexpr KernelInfo kTable[] = {
  // --- patch frontend (tools/mtmd/clip.cpp ggml_conv_2d = im2col + mul_mat) ---
  {"im2col.f32.f32.strict",        "im2col", "f32",  "f32", "f16", S, false, "ggml_compute_forward_im2col_f16 (dst F16 because the kernel is not BF16)"},
  {"im2col.f16.f32.strict",        "im2col", "f16",  "f32", "f16", S, false, "ggml_compute_forward_im2col_f16"},
  {"conv2d_mm.f32.f16.strict",     "conv2d_mm", "f32", "f16", "f32", S, false, "ggml_compute_forward_mul_mat, src0 = im2col F16, src1 = F32 kernel rounded to F16 (tinyBLAS F16)"},
  {"conv2d_mm.f16.f16.strict",     "conv2d_mm", "f16", "f16", "f32", S, false, "ggml_compute_forward_mul_mat, src0 = im2col F16, src1 = F16 kernel (tinyBLAS F16)"},
  {"interpolate_pos.f32.strict", "interpolate_pos", "f32", "none", "f32", S, false, "clip_graph::resize_position_embeddings: ggml_compute_forward_upscale_f32 (BILINEAR|ALIGN_CORNERS) + permute/cont; plain copy when the grid equals the table"},
  // --- data movement (exact by construction) ---
  {"transpose.f32.strict",         "transpose", "none", "f32", "same", S, false, "ggml_compute_forward_dup (cont of a 2-D permute)"},
  {"merge_order.f32.strict",       "merge_order", "none", "f32", "same", S, false, "ggml_compute_forward_dup of the 2x2 spatial-merge permute (clip_graph_qwen3vl::build)"},
  {"cpy.f32.strict",               "cpy", "none", "f32", "f16", S, false, "ggml_compute_forward_dup F32->F16 (ggml_cast, GGML_CPU_FP32_TO_FP16, RNE), with permute"},
  {"concat.f32.strict",            "concat", "none", "f32", "same", S, false, "ggml_compute_forward_concat_f32 (dim 0); a chain of concats folded into one"},
  {"pad.f32.strict",               "pad", "none", "f32", "same", S, false, "ggml_compute_forward_pad_f32 (zero columns)"},
  {"get_rows.f32.f32.strict",      "get_rows", "none", "f32", "same", S, false, "ggml_compute_forward_get_rows_f32 (row selection of an activation)"},
  {"get_rows.f32.i32.strict",      "get_rows", "f32",  "i32", "f32", S, false, "ggml_compute_forward_get_rows_f32"},
  {"get_rows.f16.i32.strict",      "get_rows", "f16",  "i32", "f32", S, false, "ggml_compute_forward_get_rows_f16 (ggml_cpu_fp16_to_fp32)"},
  {"get_rows.bf16.i32.strict",     "get_rows", "bf16", "i32", "f32", S, false, "ggml_compute_forward_get_rows_bf16"},
  {"get_rows.q8_0.i32.strict",     "get_rows", "q8_0", "i32", "f32", S, false, "ggml_compute_forward_get_rows_q (dequantize_row_q8_0)"},
  {"get_rows.q4_0.i32.strict",     "get_rows", "q4_0", "i32", "f32", S, false, "ggml_compute_forward_get_rows_q (dequantize_row_q4_0)"},
  {"get_rows.q4_K.i32.strict",     "get_rows", "q4_K", "i32", "f32", S, false, "ggml_compute_forward_get_rows_q (dequantize_row_q4_K)"},
  {"get_rows.q5_K.i32.strict",     "get_rows", "q5_K", "i32", "f32", S, false, "ggml_compute_forward_get_rows_q (dequantize_row_q5_K)"},
  {"get_rows.q6_K.i32.strict",     "get_rows", "q6_K", "i32", "f32", S, false, "ggml_compute_forward_get_rows_q (dequantize_row_q6_K)"},
  {"set_rows.f32.strict",          "set_rows", "none", "f32", "f16", S, false, "ggml_compute_forward_set_rows (F32 -> F16 KV cache rows, RNE)"},
  // --- element-wise ---
  {"add.f32.strict",               "add", "none", "f32", "f32", S, true,  "ggml_compute_forward_add (binary-ops.cpp, F32)"},
  {"add.f32.f32.strict",           "add", "f32",  "f32", "f32", S, true,  "ggml_compute_forward_add with a broadcast F32 weight row (bias)"},
  {"mul.f32.f32.strict",           "mul", "f32",  "f32", "f32", S, true,  "ggml_compute_forward_mul with a broadcast F32 weight row (norm weight)"},
  {"gelu.f32.strict",              "gelu", "none", "f32", "f32", S, true,  "ggml_vec_gelu_f32 with the GGML_GELU_FP16 table"},
  {"swiglu.f32.strict",            "swiglu", "none", "f32", "f32", S, true, "ggml_compute_forward_swiglu_f32 -> ggml_vec_swiglu_f32 (ggml_v_expf)"},
  // --- normalisation ---
  {"norm.f32.strict",              "norm", "none", "f32", "f32", S, true,  "ggml_compute_forward_norm_f32 (double sums, 8-lane variance hsum)"},
  {"rms_norm.f32.strict",          "rms_norm", "none", "f32", "f32", S, true, "ggml_compute_forward_rms_norm_f32 (double sum of squares)"},
  // --- attention ---
  {"rope_multi.f32.strict",        "rope_multi", "none", "f32", "f32", S, false, "ggml_compute_forward_rope_flt<float> + ggml_mrope_cache_init (VISION and IMROPE modes)"},
  {"flash_attn_ext.f32.strict",    "flash_attn_ext", "none", "f32", "f32", S, false, "ggml_compute_forward_flash_attn_ext_f16 (tiled / one_chunk / split-KV chosen like ggml)"},
  {"flash_attn_ext.f32.fast",      "flash_attn_ext", "none", "f32", "f32", F, false, "fused attention: F32 scores, online base-2 softmax, bf16 p.V by vdpbf16ps (flash_attn_fast.cpp; AVX512-BF16 hosts, >= 16 query rows); decode steps (fewer rows) bind the strict kernel; replaces ggml_compute_forward_flash_attn_ext_f16"},
  // --- weight mat-muls: activations rounded to the weight's vec_dot_type first, as ggml does ---
  {"mul_mat.f32.f32.strict",       "mul_mat", "f32",  "f32", "f32", S, false, "ggml_compute_forward_mul_mat: llamafile_sgemm tinyBLAS F32 (n>1) / ggml_vec_dot_f32"},
  {"mul_mat.f16.f32.strict",       "mul_mat", "f16",  "f32", "f32", S, false, "ggml_compute_forward_mul_mat: src1 -> F16, tinyBLAS F16 (n>1) / ggml_vec_dot_f16 (n=1)"},
  {"mul_mat.bf16.f32.strict",      "mul_mat", "bf16", "f32", "f32", S, false, "ggml_compute_forward_mul_mat: src1 -> BF16, tinyBLAS BF16 (n>1) / ggml_vec_dot_bf16 (n=1)"},
  {"mul_mat.q8_0.f32.strict",      "mul_mat", "q8_0", "f32", "f32", S, false, "quantize_row_q8_0 + ggml_vec_dot_q8_0_q8_0 (== tinyBLAS_Q0_AVX)"},
  {"mul_mat.q4_0.f32.strict",      "mul_mat", "q4_0", "f32", "f32", S, false, "quantize_row_q8_0 + ggml_vec_dot_q4_0_q8_0 / tinyBLAS_Q0_AVX"},
  {"mul_mat.q5_0.f32.strict",      "mul_mat", "q5_0", "f32", "f32", S, false, "quantize_row_q8_0 + ggml_vec_dot_q5_0_q8_0 / tinyBLAS_Q0_AVX"},
  {"mul_mat.q4_K.f32.strict",      "mul_mat", "q4_K", "f32", "f32", S, false, "quantize_row_q8_K_ref + CPU_REPACK ggml_gemm_q4_K_8x8_q8_K (rows < n-n%4) / ggml_gemv_q4_K_8x8_q8_K"},
  {"mul_mat.q5_K.f32.strict",      "mul_mat", "q5_K", "f32", "f32", S, false, "quantize_row_q8_K_ref + ggml_vec_dot_q5_K_q8_K"},
  {"mul_mat.q6_K.f32.strict",      "mul_mat", "q6_K", "f32", "f32", S, false, "quantize_row_q8_K_ref + ggml_vec_dot_q6_K_q8_K"},
  // --- mixture of experts (build_moe_ffn, softmax gating): expert mat-muls, routing, combination ---
  {"mul_mat_id.f16.f32.strict",    "mul_mat_id", "f16",  "f32", "f32", S, false, "ggml_compute_forward_mul_mat_id: src1 -> F16, rows grouped by expert, ggml_vec_dot_f16 per output"},
  {"mul_mat_id.bf16.f32.strict",   "mul_mat_id", "bf16", "f32", "f32", S, false, "ggml_compute_forward_mul_mat_id: src1 -> BF16, ggml_vec_dot_bf16 per output"},
  {"mul_mat_id.q8_0.f32.strict",   "mul_mat_id", "q8_0", "f32", "f32", S, false, "ggml_compute_forward_mul_mat_id: quantize_row_q8_0 + ggml_vec_dot_q8_0_q8_0 (no Q8_0 repack on x86)"},
  {"mul_mat_id.q4_K.f32.strict",   "mul_mat_id", "q4_K", "f32", "f32", S, false, "quantize_row_q8_K + CPU_REPACK forward_mul_mat_id: ggml_gemv_q4_K_8x8_q8_K per row (ne[1] % 8 == 0) / ggml_vec_dot_q4_K_q8_K"},
  {"mul_mat_id.q5_K.f32.strict",   "mul_mat_id", "q5_K", "f32", "f32", S, false, "ggml_compute_forward_mul_mat_id: quantize_row_q8_K + ggml_vec_dot_q5_K_q8_K"},
  {"mul_mat_id.q6_K.f32.strict",   "mul_mat_id", "q6_K", "f32", "f32", S, false, "ggml_compute_forward_mul_mat_id: quantize_row_q8_K + ggml_vec_dot_q6_K_q8_K"},
  {"soft_max.f32.strict",          "soft_max", "none", "f32", "f32", S, true,  "ggml_compute_forward_soft_max_f32 (scale 1, no mask: the MoE gate)"},
  {"argsort_top_k.f32.strict",     "argsort_top_k", "none", "f32", "i32", S, false, "ggml_argsort_top_k: ggml_compute_forward_argsort_f32 DESC (std::sort, ggml's tie order) + the first-k view"},
  {"moe_weights.f32.strict",       "moe_weights", "none", "f32", "f32", S, false, "build_moe_ffn: ggml_get_rows(probs, selected) [+ ggml_sum_rows, ggml_clamp, ggml_div when norm_w]"},
  {"moe_sum.f32.strict",           "moe_sum", "none", "f32", "f32", S, false, "build_moe_ffn: ggml_mul(experts, weights) + the ggml_add chain over the expert views, slot 0 first"},
  {"mul_mat.f32.f32.fast",         "mul_mat", "f32",  "f32", "f32", F, false, "bf16 vdpbf16ps GEMM, weights and activations rounded to bf16, f32 accumulation (matmul_fast_bf16.cpp; AVX512-BF16 hosts, n >= 2; else the strict kernel); replaces llamafile_sgemm F32"},
  {"mul_mat.f16.f32.fast",         "mul_mat", "f16",  "f32", "f32", F, false, "bf16 vdpbf16ps GEMM, weights and activations rounded to bf16, f32 accumulation (matmul_fast_bf16.cpp; AVX512-BF16 hosts, n >= 2; else the strict kernel); replaces tinyBLAS F16"},
  {"mul_mat.bf16.f32.fast",        "mul_mat", "bf16", "f32", "f32", F, false, "bf16 vdpbf16ps GEMM, activations rounded to bf16, f32 accumulation (matmul_fast_bf16.cpp; AVX512-BF16 hosts, n >= 2; else the strict kernel); replaces tinyBLAS BF16"},
  {"mul_mat.q8_0.f32.fast",        "mul_mat", "q8_0", "f32", "f32", F, false, "binds the strict kernel (mul_mat.q8_0.f32.strict: already int8 VNNI with per-block activation scales)"},
  {"mul_mat.q4_K.f32.fast",        "mul_mat", "q4_K", "f32", "f32", F, false, "binds the strict kernel (mul_mat.q4_K.f32.strict)"},
  {"mul_mat.q6_K.f32.fast",        "mul_mat", "q6_K", "f32", "f32", F, false, "binds the strict kernel (mul_mat.q6_K.f32.strict)"},
};
// clang-format on

}  // namespace

const char* mode_name(Mode m) { return m == Mode::Strict ? "strict" : "fast"; }

std::optional<Mode> mode_from_name(std::string_view s) {
  if (s == "strict") return Mode::Strict;
  if (s == "fast") return Mode::Fast;
  return std::nullopt;
}

std::span<const KernelInfo> catalogue() { return kTable; }

static const KernelInfo* find_exact(std::string_view op, std::string_view w, std::string_view a, Mode m) {
  for (const auto& k : kTable)
    if (op == k.op && w == k.weight && a == k.act && k.mode == m) return &k;
  return nullptr;
}

const KernelInfo* find_kernel(std::string_view op, std::string_view weight, std::string_view act, Mode mode) {
  if (mode == Mode::Fast)
    if (const auto* k = find_exact(op, weight, act, Mode::Fast)) return k;
  return find_exact(op, weight, act, Mode::Strict);
}

const KernelInfo* find_kernel_id(std::string_view id) {
  for (const auto& k : kTable)
    if (id == k.id) return &k;
  return nullptr;
}

bool has_op(std::string_view op) {
  for (const auto& k : kTable)
    if (op == k.op) return true;
  return false;
}

nlohmann::ordered_json catalogue_json() {
  nlohmann::ordered_json ks = nlohmann::ordered_json::array();
  for (const auto& k : kTable)
    ks.push_back({{"id", k.id}, {"op", k.op}, {"weight", k.weight}, {"act", k.act}, {"out", k.out},
                  {"mode", mode_name(k.mode)}, {"inplace_safe", k.inplace_safe}, {"mirrors", k.mirrors}});
  return {{"format", "ck.kernels"}, {"version", 1}, {"kernels", ks}};
}

}  // namespace ck::registry
