// MoE routing and combination (moe.h), as ggml b10256's CPU ops compute them.
#include "kernels/moe.h"

#include <algorithm>

namespace ck::kernels {

int64_t moe_route(const int32_t* ids, int64_t ids_stride, int64_t n_used, int64_t n_tokens, int64_t n_expert,
                  MoeRoute& r) {
  // ggml: one pass over (token iid1, slot id) appending to each expert's list; here counted first, then filled
  // in the same visiting order, so each expert's rows keep ggml's order.
  r.begin.assign(size_t(n_expert + 1), 0);
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t j = 0; j < n_used; ++j) {
      const int32_t e = ids[t * ids_stride + j];
      if (e < 0 || e >= n_expert) return t * n_used + j;
      ++r.begin[size_t(e) + 1];
    }
  for (int64_t e = 0; e < n_expert; ++e) r.begin[size_t(e + 1)] += r.begin[size_t(e)];
  r.slot.resize(size_t(n_tokens * n_used));
  r.token.resize(size_t(n_tokens * n_used));
  std::vector<int64_t> fill(r.begin.begin(), r.begin.end() - 1);
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t j = 0; j < n_used; ++j) {
      const size_t at = size_t(fill[size_t(ids[t * ids_stride + j])]++);
      r.slot[at] = int32_t(j);
      r.token[at] = int32_t(t);
    }
  return -1;
}

namespace {
struct CmpDesc {  // cmp_argsort<GGML_SORT_ORDER_DESC>
  const float* data;
  bool operator()(int32_t a, int32_t b) const { return data[a] > data[b]; }
};
}  // namespace

void argsort_top_k_rows(const float* x, int64_t x_stride, int32_t* out, int64_t out_stride, int64_t n, int64_t k,
                        int64_t nrows, int32_t* work, int ith, int nth) {
  int32_t* idx = work + int64_t(ith) * n;
  for (int64_t r = ith; r < nrows; r += nth) {
    const float* row = x + r * x_stride;
    for (int64_t j = 0; j < n; ++j) idx[j] = int32_t(j);
    std::sort(idx, idx + n, CmpDesc{row});
    std::copy(idx, idx + k, out + r * out_stride);
  }
}

void moe_weights_rows(const float* probs, int64_t p_stride, const int32_t* sel, int64_t s_stride, float* w,
                      int64_t w_stride, int64_t k, int64_t nrows, bool norm, float clamp_min, int ith, int nth) {
  for (int64_t r = ith; r < nrows; r += nth) {
    const float* p = probs + r * p_stride;
    const int32_t* s = sel + r * s_stride;
    float* o = w + r * w_stride;
    for (int64_t j = 0; j < k; ++j) o[j] = p[s[j]];
    if (!norm) continue;
    double acc = 0.0;  // ggml_vec_sum_f32: ggml_float (double) accumulation, then (float)
    for (int64_t j = 0; j < k; ++j) acc += double(o[j]);
    float sum = float(acc);
    // ggml_compute_forward_clamp_f32: MAX(MIN(x, max), min) with max = INFINITY (the macros, NaN included)
    const float hi = __builtin_inff();
    sum = sum < hi ? sum : hi;
    sum = sum > clamp_min ? sum : clamp_min;
    for (int64_t j = 0; j < k; ++j) o[j] = o[j] / sum;
  }
}

void moe_weighted_sum_rows(const float* e, int64_t e_tok_stride, int64_t e_slot_stride, const float* w,
                           int64_t w_stride, float* out, int64_t out_stride, int64_t n, int64_t k, int64_t nrows,
                           int ith, int nth) {
  const int64_t c0 = n * ith / nth, c1 = n * (ith + 1) / nth;
  for (int64_t t = 0; t < nrows; ++t) {
    const float* et = e + t * e_tok_stride;
    const float* wt = w + t * w_stride;
    float* o = out + t * out_stride;
    const float w0 = wt[0];
    for (int64_t i = c0; i < c1; ++i) o[i] = et[i] * w0;
    for (int64_t j = 1; j < k; ++j) {
      const float* ej = et + j * e_slot_stride;
      const float wj = wt[j];
      for (int64_t i = c0; i < c1; ++i) {
        const float p = ej[i] * wj;  // ggml_mul, rounded
        o[i] = o[i] + p;             // then ggml_add
      }
    }
  }
}

}  // namespace ck::kernels
