// Multi-section RoPE (VISION / IMROPE / MROPE).
//
// Mirrors ggml_compute_forward_rope_flt<float> (ggml/src/ggml-cpu/ops.cpp, b10256) with ggml_mrope_cache_init
// and rotate_pairs:
//   theta_scale = powf(freq_base, -2.0f/n_dims) (glibc powf);
//   four angle accumulators start at (float)p_t, p_h, p_w, p_e and are ALL multiplied by theta_scale after every
//   pair (successive float products, not p*powf(ts, i)); VISION resets t at sector 0 and h at sector
//   sections[0] (indep_sects); the pair's angle is picked per mode (IMROPE: sector%3 interleave, with sectors
//   beyond 3*sections[k] falling to the e plane — pairs 61/62 of a 128-dim Qwen3-VL head are not rotated);
//   cos = cosf(freq_scale*theta) * attn_factor, sin likewise (rope_yarn, ext_factor 0; glibc cosf/sinf);
//   rotation: GCC contracts `x0*c - x1*s` to fmaf(x0, c, -(x1*s)) and `x0*s + x1*c` to fmaf(x0, s, x1*c) in
//   the -mfma build, written explicitly here.
// Pairs: VISION (i, i + n_dims) for i < ne0/2 = n_dims (whole head); NEOX-style modes (i, i + n_dims/2) for
// i < n_dims/2, dims >= n_dims copied through.
#include "kernels/rope.h"

#include <immintrin.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "kernels/isa.h"

namespace ck::kernels {

void rope_cache(const RopeParams& p, int64_t ne0, const int32_t pos[4], float* cache) {
  const float theta_scale = powf(p.freq_base, -2.0f / static_cast<float>(p.n_dims));
  const bool is_imrope = p.mode == kRopeImrope, indep_sects = p.mode == kRopeVision;
  const int* s = p.sections;
  const int sect_dims = s[0] + s[1] + s[2] + s[3];
  const int sec_w = s[1] + s[0];
  const int sec_e = s[2] + sec_w;
  // ggml_mrope_cache_init takes the positions as float parameters (int64 -> float conversion).
  const float base_t = static_cast<float>(static_cast<int64_t>(pos[0]));
  const float base_h = static_cast<float>(static_cast<int64_t>(pos[1]));
  const float base_w = static_cast<float>(static_cast<int64_t>(pos[2]));
  const float base_e = static_cast<float>(static_cast<int64_t>(pos[3]));
  float theta_t = base_t, theta_h = base_h, theta_w = base_w, theta_e = base_e;
  for (int64_t i0 = 0; i0 < ne0; i0 += 2) {
    const int sector = static_cast<int>((i0 / 2) % sect_dims);
    if (indep_sects) {
      if (sector == 0) theta_t = base_t;
      else if (sector == s[0]) theta_h = base_h;
      else if (sector == sec_w) theta_w = base_w;
      else if (sector == sec_e) theta_e = base_e;
    }
    float theta = theta_t;
    if (is_imrope) {
      if (sector % 3 == 1 && sector < 3 * s[1]) theta = theta_h;
      else if (sector % 3 == 2 && sector < 3 * s[2]) theta = theta_w;
      else if (sector % 3 == 0 && sector < 3 * s[0]) theta = theta_t;
      else theta = theta_e;
    } else {
      if (sector >= s[0] && sector < sec_w) theta = theta_h;
      else if (sector >= sec_w && sector < sec_w + s[2]) theta = theta_w;
      else if (sector >= sec_w + s[2]) theta = theta_e;
    }
    // rope_yarn(theta / ff (ff = 1), freq_scale, ..., ext_factor = 0, mscale = attn_factor); sin_sign = +1.
    const float th = p.freq_scale * theta;
    cache[i0 + 0] = cosf(th) * p.attn_factor;
    cache[i0 + 1] = sinf(th) * p.attn_factor;
    theta_t *= theta_scale;
    theta_w *= theta_scale;
    theta_h *= theta_scale;
    theta_e *= theta_scale;
  }
}

namespace {
// (number of pairs, offset of a pair's second element) for the mode.
inline void pair_geometry(const RopeParams& p, int64_t ne0, int64_t& npairs, int64_t& off) {
  if (p.mode == kRopeVision) {
    npairs = ne0 / 2;
    off = p.n_dims;
  } else {
    npairs = p.n_dims / 2;
    off = p.n_dims / 2;
  }
}
inline void copy_tail(const RopeParams& p, int64_t ne0, const float* x, float* y) {
  if (p.mode == kRopeVision || x == y) return;
  for (int64_t i = p.n_dims; i < ne0; ++i) y[i] = x[i];
}
}  // namespace

void rope_apply_row_scalar(const RopeParams& p, int64_t ne0, const float* cache, const float* x, float* y) {
  int64_t npairs, off;
  pair_geometry(p, ne0, npairs, off);
  for (int64_t i = 0; i < npairs; ++i) {
    const float c = cache[2 * i], s = cache[2 * i + 1];
    const float x0 = x[i], x1 = x[i + off];
    y[i] = std::fmaf(x0, c, -(x1 * s));
    y[i + off] = std::fmaf(x0, s, x1 * c);
  }
  copy_tail(p, ne0, x, y);
}

CK_TARGET_AVX2 void rope_apply_row_avx2(const RopeParams& p, int64_t ne0, const float* cache, const float* x,
                                        float* y) {
  int64_t npairs, off;
  pair_geometry(p, ne0, npairs, off);
  int64_t i = 0;
  for (; i + 8 <= npairs; i += 8) {
    // De-interleave 8 (cos, sin) pairs.
    const __m256 a = _mm256_loadu_ps(cache + 2 * i), b = _mm256_loadu_ps(cache + 2 * i + 8);
    const __m256 lo = _mm256_permute2f128_ps(a, b, 0x20), hi = _mm256_permute2f128_ps(a, b, 0x31);
    const __m256 c = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 s = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
    const __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + off);
    const __m256 y0 = _mm256_fmsub_ps(x0, c, _mm256_mul_ps(x1, s));  // fmaf(x0, c, -(x1*s))
    const __m256 y1 = _mm256_fmadd_ps(x0, s, _mm256_mul_ps(x1, c));
    _mm256_storeu_ps(y + i, y0);
    _mm256_storeu_ps(y + i + off, y1);
  }
  for (; i < npairs; ++i) {
    const float c = cache[2 * i], s = cache[2 * i + 1];
    const float x0 = x[i], x1 = x[i + off];
    y[i] = std::fmaf(x0, c, -(x1 * s));
    y[i + off] = std::fmaf(x0, s, x1 * c);
  }
  copy_tail(p, ne0, x, y);
}

void rope_multi_rows(const RopeParams& p, const float* x, float* y, int64_t ne0, int64_t n_heads, int64_t n_tokens,
                     const int32_t* pos, int ith, int nth) {
  const int64_t nr = n_heads * n_tokens;
  const int64_t dr = (nr + nth - 1) / nth;
  const int64_t ir0 = dr * ith, ir1 = ir0 + dr < nr ? ir0 + dr : nr;
  if (ir0 >= ir1) return;
  const bool simd = active_isa() >= Isa::avx2;
  std::vector<float> cache(static_cast<size_t>(ne0));
  int64_t last = -1;
  for (int64_t r = ir0; r < ir1; ++r) {
    const int64_t t = r / n_heads;
    if (t != last) {
      const int32_t pt[4] = {pos[t], pos[t + n_tokens], pos[t + 2 * n_tokens], pos[t + 3 * n_tokens]};
      rope_cache(p, ne0, pt, cache.data());
      last = t;
    }
    if (simd) rope_apply_row_avx2(p, ne0, cache.data(), x + r * ne0, y + r * ne0);
    else rope_apply_row_scalar(p, ne0, cache.data(), x + r * ne0, y + r * ne0);
  }
}

}  // namespace ck::kernels
