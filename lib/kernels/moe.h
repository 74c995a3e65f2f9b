// Mixture-of-experts routing and combination, bit-exact with the ggml ops llama.cpp b10256's build_moe_ffn
// (src/llama-graph.cpp) chains for a softmax-gated MoE FFN, CPU backend (ggml-cpu/ops.cpp, ggml-cpu.c):
//   probs    = ggml_soft_max(logits)                      -> soft_max_rows (softmax.h)
//   selected = ggml_argsort_top_k(probs, k)               -> argsort_top_k_rows
//   weights  = ggml_get_rows(probs, selected)
//              [+ ggml_sum_rows, ggml_clamp, ggml_div]    -> moe_weights_rows
//   up/gate/down = ggml_mul_mat_id(exps, x, selected)     -> moe_route + the per-type dot kernels (runtime)
//   out = sum_j ggml_mul(experts, weights)[j] (j order)   -> moe_weighted_sum_rows
#pragma once
#include <cstdint>
#include <vector>

namespace ck::kernels {

// ggml_compute_forward_mul_mat_id's row groups (matrix_row_counts / matrix_rows): for each expert e in
// 0..n_expert-1, the (slot, token) pairs routed to it, in the order ggml visits them (tokens ascending, then
// slots ascending). rows [begin[e], begin[e+1]) belong to expert e.
struct MoeRoute {
  std::vector<int64_t> begin;  // n_expert + 1
  std::vector<int32_t> slot;   // which of the token's n_used selections (ggml's i1)
  std::vector<int32_t> token;  // ggml's i2
};
// ids: [n_tokens][n_used] expert ids, token rows ids_stride elements apart. Returns the index of the first
// out-of-range id, or -1 when every id is in [0, n_expert).
int64_t moe_route(const int32_t* ids, int64_t ids_stride, int64_t n_used, int64_t n_tokens, int64_t n_expert,
                  MoeRoute& r);

// ggml_compute_forward_argsort_f32 (GGML_SORT_ORDER_DESC) + ggml_argsort_top_k's view of the first k: per row,
// indices 0..n-1 sorted by std::sort with cmp_argsort<DESC> (x[a] > x[b]) — the same libstdc++ introsort, so
// ties come out in exactly ggml's order — then the first k written. Threads take rows ith, ith + nth, ...
// `work` holds n int32 per thread (thread ith uses work + ith * n).
void argsort_top_k_rows(const float* x, int64_t x_stride, int32_t* out, int64_t out_stride, int64_t n, int64_t k,
                        int64_t nrows, int32_t* work, int ith, int nth);

// Expert weights of each token: w[j] = probs[sel[j]] (ggml_get_rows of the [1, n_expert, T] view); with
// `norm`: sum = (float) of the double sum of the k weights (ggml_sum_rows -> ggml_vec_sum_f32), clamped as
// ggml_clamp (MAX(MIN(sum, INFINITY), clamp_min)), then w[j] = w[j] / sum (ggml_div). n_expert bounds sel
// (checked by the caller). Threads take rows ith, ith + nth, ...
void moe_weights_rows(const float* probs, int64_t p_stride, const int32_t* sel, int64_t s_stride, float* w,
                      int64_t w_stride, int64_t k, int64_t nrows, bool norm, float clamp_min, int ith, int nth);

// out[t][i] = ((e[t][0][i]*w[t][0] + e[t][1][i]*w[t][1]) + e[t][2][i]*w[t][2]) + ...: ggml_mul(experts, weights)
// (each product rounded) and the chain of ggml_add over the per-slot views, slot 0 first. e: token rows
// e_tok_stride floats apart, slots e_slot_stride apart; n = row width. Threads split the columns of each row.
void moe_weighted_sum_rows(const float* e, int64_t e_tok_stride, int64_t e_slot_stride, const float* w,
                           int64_t w_stride, float* out, int64_t out_stride, int64_t n, int64_t k, int64_t nrows,
                           int ith, int nth);

}  // namespace ck::kernels
