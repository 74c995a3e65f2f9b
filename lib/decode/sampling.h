// Token sampling after each decode step.
// Greedy (temp <= 0, the parity mode): the FIRST index of the maximum logit, strict '>' (llama.cpp
// llama_sampler_greedy_apply / the temp<=0 branch of llama_sampler_temp_impl; ck::kernels::argmax_first).
// Otherwise the order of llama.cpp's common sampler chain (common/sampling.cpp, default samplers):
//   penalties -> top_k -> top_p -> min_p -> temperature -> dist (seeded)
// penalties = llama_sampler_penalties (repeat / frequency / presence over the last repeat_last_n sampled tokens;
// neutral at the defaults 1, 0, 0, and then skipped, as upstream); it also applies before greedy, as upstream's
// chain does (temp <= 0 keeps the first maximum of the penalised logits). DRY / typical / XTC / top-n-sigma are
// neutral at their defaults and not implemented.
// The chain is reproduced in order (softmax in float with max subtraction, cumulative sums in float); the
// draw uses std::mt19937 seeded with --seed (like llama.cpp's dist sampler) and std::discrete_distribution, so
// token-for-token agreement with llama.cpp for temp > 0 is NOT promised (not verified against the oracle).
#pragma once
#include <cstdint>
#include <deque>
#include <random>
#include <span>

namespace ck::decode {

struct SamplingParams {
  float temp = 0.0f;    // <= 0: greedy
  int32_t top_k = 40;   // <= 0: off
  float top_p = 0.95f;  // >= 1: off
  float min_p = 0.05f;  // <= 0: off
  uint32_t seed = 0xFFFFFFFFu;  // LLAMA_DEFAULT_SEED: random
  float repeat_penalty = 1.0f;     // --repeat-penalty (1: off)
  int32_t repeat_last_n = 64;      // --repeat-last-n (0: off, -1: every sampled token)
  float frequency_penalty = 0.0f;  // --frequency-penalty
  float presence_penalty = 0.0f;   // --presence-penalty
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& p);
  // Samples one token and accepts it (it joins the penalty window, as common_sampler_accept).
  int32_t sample(std::span<const float> logits);
  void reset_history() { history_.clear(); }
  const SamplingParams& params() const { return p_; }

 private:
  SamplingParams p_;
  std::mt19937 rng_;
  std::deque<int32_t> history_;  // the last repeat_last_n accepted tokens
  bool penalties_on() const;
  int32_t pick(std::span<const float> logits);
};

int32_t greedy(std::span<const float> logits);

}  // namespace ck::decode
