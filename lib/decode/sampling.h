// Token sampling after each decode step.
// Greedy (temp <= 0, the parity mode): the FIRST index of the maximum logit, strict '>' (llama.cpp
// llama_sampler_greedy_apply / the temp<=0 branch of llama_sampler_temp_impl; ck::kernels::argmax_first).
// Otherwise the order of llama.cpp's common sampler chain (common/sampling.cpp, default samplers):
//   top_k -> top_p -> min_p -> temperature -> dist (seeded)
// (penalties / DRY / typical / XTC / top-n-sigma are neutral at their defaults and not implemented).
// The chain is reproduced in order (softmax in float with max subtraction, cumulative sums in float); the
// draw uses std::mt19937 seeded with --seed (like llama.cpp's dist sampler) and std::discrete_distribution, so
// token-for-token agreement with llama.cpp for temp > 0 is NOT promised (not verified against the oracle).
#pragma once
#include <cstdint>
#include <random>
#include <span>

namespace ck::decode {

struct SamplingParams {
  float temp = 0.0f;    // <= 0: greedy
  int32_t top_k = 40;   // <= 0: off
  float top_p = 0.95f;  // >= 1: off
  float min_p = 0.05f;  // <= 0: off
  uint32_t seed = 0xFFFFFFFFu;  // LLAMA_DEFAULT_SEED: random
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& p);
  int32_t sample(std::span<const float> logits);
  const SamplingParams& params() const { return p_; }

 private:
  SamplingParams p_;
  std::mt19937 rng_;
};

int32_t greedy(std::span<const float> logits);

}  // namespace ck::decode
