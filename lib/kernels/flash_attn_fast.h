// Fast-mode fused flash attention (`flash_attn_ext.f32.fast`): tolerance-tested, NOT bit-exact. Arithmetic and
// error bound in flash_attn_fast.cpp; docs/KERNELS.md "Fast kernels".
#pragma once
#include <cstdint>

#include "kernels/flash_attn.h"

namespace ck::kernels {

// Whether the fast kernel runs this shape on this CPU: AVX512-BF16 (matmul_fast_bf16_available) and at least
// kFlashAttnFastMinRows query rows (1-token decode steps are bandwidth-bound: the strict kernel runs them).
constexpr int64_t kFlashAttnFastMinRows = 16;
bool flash_attn_fast_applies(const FlashAttnShape& s);

// out = softmax(scale * q k^T + mask) v, the same shapes and strides as flash_attn_ext (no ALiBi / softcap).
// Threads split (head, block of 4 query rows) items; results do not depend on the thread count.
void flash_attn_fast(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                     const uint16_t* mask, float* out, int ith, int nth);

// The stated bound's factors (flash_attn_fast.cpp): |out_fast - out_exact|[d] <= (flash_attn_fast_rel() +
// 2 delta) * sum_j w_j |V_jd|, w the exact softmax weights, delta = max_j |score error| <= flash_attn_fast_score_rel(DK)
// * scale * sum_l |q_l| |K_jl|.
double flash_attn_fast_rel();
double flash_attn_fast_score_rel(int64_t dk);

}  // namespace ck::kernels
