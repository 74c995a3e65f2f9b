#include "decode/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "kernels/argmax.h"

namespace ck::decode {

int32_t greedy(std::span<const float> logits) {
  if (logits.empty()) throw ck::Error("no logits to sample from");
  return int32_t(ck::kernels::argmax_first(logits.data(), int64_t(logits.size())));
}

Sampler::Sampler(const SamplingParams& p) : p_(p) {
  rng_.seed(p.seed == 0xFFFFFFFFu ? std::random_device{}() : p.seed);
}

namespace {
struct Cand {
  int32_t id;
  float logit, p;
};

// llama_sampler_softmax_impl: sort descending (stable here), p = exp(l - max) / sum.
void softmax(std::vector<Cand>& c) {
  std::stable_sort(c.begin(), c.end(), [](const Cand& a, const Cand& b) { return a.logit > b.logit; });
  const float max_l = c.front().logit;
  float sum = 0.0f;
  for (auto& x : c) {
    x.p = std::exp(x.logit - max_l);
    sum += x.p;
  }
  for (auto& x : c) x.p /= sum;
}
}  // namespace

bool Sampler::penalties_on() const {
  return p_.repeat_last_n != 0 &&
         (p_.repeat_penalty != 1.0f || p_.frequency_penalty != 0.0f || p_.presence_penalty != 0.0f);
}

int32_t Sampler::sample(std::span<const float> logits) {
  int32_t id = 0;
  if (!penalties_on()) {
    id = pick(logits);
  } else {
    // llama_sampler_penalties_apply: each candidate seen `count` times in the window.
    std::vector<float> l(logits.begin(), logits.end());
    std::unordered_map<int32_t, int> count;
    for (int32_t t : history_) ++count[t];
    for (const auto& [t, n] : count) {
      if (t < 0 || size_t(t) >= l.size()) continue;
      float& x = l[size_t(t)];
      if (x <= 0) x *= p_.repeat_penalty;
      else x /= p_.repeat_penalty;
      x -= float(n) * p_.frequency_penalty + float(n > 0) * p_.presence_penalty;
    }
    id = pick(l);
  }
  if (p_.repeat_last_n != 0) {
    history_.push_back(id);
    if (p_.repeat_last_n > 0 && history_.size() > size_t(p_.repeat_last_n)) history_.pop_front();
  }
  return id;
}

int32_t Sampler::pick(std::span<const float> logits) {
  if (p_.temp <= 0.0f) return greedy(logits);
  std::vector<Cand> c(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) c[i] = {int32_t(i), logits[i], 0.0f};
  // top_k (llama_sampler_top_k_impl): keep the k largest logits.
  if (p_.top_k > 0 && size_t(p_.top_k) < c.size()) {
    std::stable_sort(c.begin(), c.end(), [](const Cand& a, const Cand& b) { return a.logit > b.logit; });
    c.resize(size_t(p_.top_k));
  }
  // top_p: smallest prefix of the sorted distribution whose cumulative probability reaches p (min_keep 1).
  if (p_.top_p < 1.0f) {
    softmax(c);
    float cum = 0.0f;
    size_t keep = c.size();
    for (size_t i = 0; i < c.size(); ++i) {
      cum += c[i].p;
      if (cum >= p_.top_p && i + 1 >= 1) {
        keep = i + 1;
        break;
      }
    }
    c.resize(keep);
  }
  // min_p: drop tokens whose probability is below min_p * the top probability (on logits: l >= max + log(min_p)).
  if (p_.min_p > 0.0f) {
    float max_l = c.front().logit;
    for (const auto& x : c) max_l = std::max(max_l, x.logit);
    const float min_logit = max_l + std::log(p_.min_p);
    std::vector<Cand> kept;
    for (const auto& x : c)
      if (x.logit >= min_logit) kept.push_back(x);
    if (!kept.empty()) c = std::move(kept);
  }
  // temperature, then dist.
  for (auto& x : c) x.logit /= p_.temp;
  softmax(c);
  std::vector<float> w(c.size());
  for (size_t i = 0; i < c.size(); ++i) w[i] = c[i].p;
  std::discrete_distribution<size_t> dist(w.begin(), w.end());
  return c[dist(rng_)].id;
}

}  // namespace ck::decode
