// The sampling flags of the tools that generate text (ck-decode, ck-bridge): one definition, so the two
// CLIs offer the same names, defaults and help. Header-only; only tools include it (they link CLI11).
#pragma once
#include <CLI/CLI.hpp>

#include "decode/sampling.h"

namespace ck::pipeline {

inline void add_sampling_flags(CLI::App& app, decode::SamplingParams& sp) {
  app.add_option("--temp", sp.temp, "temperature (<= 0: greedy, the default and the parity mode)");
  app.add_option("--top-k", sp.top_k, "top-k (<= 0: off)");
  app.add_option("--top-p", sp.top_p, "top-p (>= 1: off)");
  app.add_option("--min-p", sp.min_p, "min-p (<= 0: off)");
  app.add_option("--seed", sp.seed, "sampling seed (default: random)");
  app.add_option("--repeat-penalty", sp.repeat_penalty, "penalise repeats of the last --repeat-last-n tokens (1: off)");
  app.add_option("--repeat-last-n", sp.repeat_last_n, "tokens the repeat penalty looks back at (0: off, -1: all)")
      ->check(CLI::Range(-1, 1 << 30));
}

}  // namespace ck::pipeline
