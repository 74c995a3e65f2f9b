// Multi-section rotary position embedding (ggml_rope_multi) for the Qwen3-VL modes, bit-exact with
// ggml_compute_forward_rope_flt<float> + ggml_mrope_cache_init (ggml-cpu/ops.cpp, b10256) of the portable AVX2 build.
#pragma once
#include <cstdint>

namespace ck::kernels {

// ggml rope mode numbers (ggml.h): GGML_ROPE_TYPE_MROPE = 8, VISION = 24, IMROPE = 40.
constexpr int kRopeMrope = 8;
constexpr int kRopeVision = 24;
constexpr int kRopeImrope = 40;

struct RopeParams {
  int n_dims = 0;             // op_params[1]: rotated dims (VISION: d_head/2, where every pair is rotated)
  int mode = kRopeImrope;     // kRopeMrope, kRopeVision or kRopeImrope
  int sections[4] = {0, 0, 0, 0};
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;
  float attn_factor = 1.0f;   // mscale; ext_factor must be 0 (YaRN ramp not implemented: unused by Qwen3-VL)
};

// The (cos, sin) cache of one token: ne0 floats, pair i at [2i], [2i+1] (ggml_mrope_cache_init with
// ext_factor 0). pos = {p_t, p_h, p_w, p_e} (the token's entries of the four position planes).
void rope_cache(const RopeParams& p, int64_t ne0, const int32_t pos[4], float* cache);

// Rotate one head row of ne0 floats with a token's cache (rotate_pairs for the mode, then the pass-through
// of dims >= n_dims for non-VISION modes). y may alias x.
void rope_apply_row_scalar(const RopeParams& p, int64_t ne0, const float* cache, const float* x, float* y);
void rope_apply_row_avx2(const RopeParams& p, int64_t ne0, const float* cache, const float* x, float* y);

// x, y: [n_tokens][n_heads][ne0] contiguous (ggml ne = {ne0, n_heads, n_tokens}); pos: 4 planes of n_tokens
// int32 (t, h, w, e). Threads take contiguous ranges of the n_tokens*n_heads rows (as ggml); each thread builds
// the caches it needs itself, so results do not depend on nth. y may alias x.
void rope_multi_rows(const RopeParams& p, const float* x, float* y, int64_t ne0, int64_t n_heads, int64_t n_tokens,
                     const int32_t* pos, int ith, int nth);

}  // namespace ck::kernels
