// ck-synth: writes a synthetic Qwen3-VL (mmproj, text) GGUF pair with seeded random weights
// (docs/SYNTH.md). Output files: DIR/<preset>-mmproj-<type>.gguf and DIR/<preset>-text-<type>.gguf.
// The bytes are a pure function of (preset, types, seed, tokenizer.json): no libm, no thread-count or
// machine dependence (random.h), so fixtures can be regenerated anywhere.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/thread_pool.h"
#include "gguf/gguf.h"
#include "synth/qwen3vl.h"

namespace ck::synth {

struct Options {
  std::string preset = "tiny";
  DType mmproj_type = DType::F32;
  DType text_type = DType::F16;
  std::string out_dir;
  uint64_t seed = 0;
  bool write_mmproj = true;
  bool write_text = true;
  std::string tokenizer;  // tokenizer.json (needed for the text file)
  int threads = 0;        // 0 = physical cores; the output does not depend on it
  int layers = 0;         // text decoder depth cut (0 = the preset's)
  int vision_layers = 0;  // vision encoder depth cut (0 = the preset's)
  std::string chat_template = "instruct";  // tokenizer.chat_template: "instruct" | "thinking" (Qwen3-VL-*-Thinking)
};

struct Written {
  std::string path;
  uint64_t bytes = 0;
  size_t n_tensors = 0;
  double seconds = 0;
};

// "<preset>-<kind>-<type>.gguf", kind = "mmproj" | "text", type as ggml names it ("f16", "q8_0", "bf16").
std::string output_name(const std::string& preset, const std::string& kind, DType type);

// Adds the tensors of `plans` to `w`, each filled at write time from (seed, name) on `pool` (which must
// outlive w.write()).
void add_random_tensors(gguf::Writer& w, const std::vector<TensorPlan>& plans, uint64_t seed, ThreadPool& pool);

// Generates the random values of one tensor plan into `out` (encoded as plan.type). Deterministic:
// chunk c of kChunk elements always comes from stream (seed, name, c), whichever thread computes it.
void fill_tensor(const TensorPlan& plan, uint64_t seed, std::span<uint8_t> out, int ith = 0, int nth = 1);

// Writes the requested files; throws ck::Error on bad options or I/O failure (no partial file is left).
std::vector<Written> generate(const Options& opt);

}  // namespace ck::synth
