// Encoder — image in, prefix rows out: lib/image's preprocess contract (from the plan's contracts), the
// input roles, the executor, and the ck.prefix geometry of the output (docs/formats/prefix.md).
#pragma once
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "bridge/prefix.h"
#include "dump/reader.h"
#include "dump/writer.h"
#include "image/preprocess.h"
#include "image/rgb_image.h"
#include "runtime/executor.h"
#include "runtime/program.h"

namespace ck::runtime {

struct EncodeOptions {
  int min_tokens = 0, max_tokens = 0;  // llama.cpp --image-min-tokens / --image-max-tokens (> 0 overrides)
  DumpWriter* dump = nullptr;          // phase "encode"
  const DumpReader* borrow = nullptr;  // see RunOptions::borrow
  bool stop_at_missing = false;
  Profile* profile = nullptr;          // per-kernel time (see RunOptions::profile)
  std::function<void(const Call&, size_t done, size_t total)> progress;
};

struct EncodeResult {
  image::Preprocessed pre;
  bridge::PrefixInfo info;
  std::span<const float> rows;  // rows x row_width floats inside the executor's arena (valid until the next run)
  double preprocess_ms = 0, encode_ms = 0;
  RunStats stats;
};

class Encoder {
 public:
  // `model` = a directory written by ck-layout -o (call.json, layout.json, the bump next to it).
  Encoder(const std::string& model, int n_threads);
  const Program& program() const { return *program_; }
  Executor& executor() { return *exec_; }
  // The model's preprocess contract (call.json contracts.preprocess).
  const image::PreprocessContract& contract() const { return contract_; }

  EncodeResult encode(const image::RgbImage& img, const std::string& name, const EncodeOptions& opt);

 private:
  std::unique_ptr<Program> program_;
  std::unique_ptr<Executor> exec_;
  image::PreprocessContract contract_;
  int64_t n_embd_ = 0, n_deepstack_ = 0, row_width_ = 0;
};

}  // namespace ck::runtime
