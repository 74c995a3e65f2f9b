// Greedy token choice. llama-mtmd-cli (temp <= 0) samples with llama_sampler_greedy_apply (src/llama-sampler.cpp,
// b10256): the FIRST index of the maximum logit (strict `>`; NaN never wins). Note that the ggml op
// ggml_argmax (ggml_vec_argmax_f32) returns the LAST index of a tied maximum instead: argmax_last mirrors it.
#pragma once
#include <cstdint>

namespace ck::kernels {

int64_t argmax_first(const float* x, int64_t n);  // llama_sampler_greedy_apply
int64_t argmax_last(const float* x, int64_t n);   // ggml_vec_argmax_f32 (ggml_argmax)

}  // namespace ck::kernels
