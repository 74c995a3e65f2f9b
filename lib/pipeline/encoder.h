// Encoder — image in, prefix rows out, in process: lib/image's preprocess contract (from the plan's contracts),
// the image input roles (pipeline/inputs.h), the executor, and the ck.prefix geometry of the output
// (docs/formats/prefix.md). One Encoder loads an encoder plan (ck-layout -o DIR) once and is reused for every
// image: the bump stays mapped, the arena and the thread pool stay allocated.
//
//   ck::pipeline::Encoder enc("plans/enc", /*n_threads=*/2);
//   auto r = enc.encode(img, "cat.png", {});              // rows are in the arena: valid until the next encode
//   auto p = enc.encode_cached(bytes, "cat.png", {});     // an owned copy, cached by the image bytes' sha256
//
// Thread-safety: none inside. One Encoder per thread (it owns an executor and its arena).
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bridge/prefix.h"
#include "dump/reader.h"
#include "dump/writer.h"
#include "image/preprocess.h"
#include "image/rgb_image.h"
#include "runtime/executor.h"
#include "runtime/profile.h"
#include "runtime/program.h"

namespace ck::pipeline {

struct EncodeOptions {
  int min_tokens = 0, max_tokens = 0;  // llama.cpp --image-min-tokens / --image-max-tokens (> 0 overrides)
  DumpWriter* dump = nullptr;          // phase "encode"
  const DumpReader* borrow = nullptr;  // see runtime::RunOptions::borrow
  bool stop_at_missing = false;
  runtime::Profile* profile = nullptr;  // per-kernel time (see runtime::RunOptions::profile)
  std::function<void(const runtime::Call&, size_t done, size_t total)> progress;
};

struct EncodeResult {
  image::Preprocessed pre;
  bridge::PrefixInfo info;
  std::span<const float> rows;  // rows x row_width floats inside the executor's arena (valid until the next run)
  double preprocess_ms = 0, encode_ms = 0;
  runtime::RunStats stats;
};

// A prefix held in memory (what ck-encode would write to a file): what the Decoder takes.
struct EncodedImage {
  bridge::PrefixInfo info;
  std::vector<float> rows;  // info.rows x info.row_width
  int source_width = 0, source_height = 0;
  int pre_width = 0, pre_height = 0;
  double preprocess_ms = 0, encode_ms = 0;
  bool cached = false;        // true: came from the content-hash cache, nothing was run
  std::string image_sha256;   // of the image file's bytes
};

class Encoder {
 public:
  // `model` = a directory written by ck-layout -o (call.json, layout.json, the bump it names).
  Encoder(const std::string& model, int n_threads);
  const runtime::Program& program() const { return *program_; }
  runtime::Executor& executor() { return *exec_; }
  // The model's preprocess contract (call.json contracts.preprocess).
  const image::PreprocessContract& contract() const { return contract_; }

  EncodeResult encode(const image::RgbImage& img, const std::string& name, const EncodeOptions& opt);

  // Decodes the image bytes (any format lib/image reads) and encodes them, or returns the cached result of the
  // same bytes with the same token overrides (key: sha256 of the bytes + min/max tokens). Dumps and borrowing
  // are not allowed here (a cached result would skip them).
  std::shared_ptr<const EncodedImage> encode_cached(std::span<const uint8_t> bytes, const std::string& name,
                                                    const EncodeOptions& opt);
  void clear_cache() { cache_.clear(); }

 private:
  std::unique_ptr<runtime::Program> program_;
  std::unique_ptr<runtime::Executor> exec_;
  image::PreprocessContract contract_;
  int64_t n_embd_ = 0, n_deepstack_ = 0, row_width_ = 0;
  std::map<std::string, std::shared_ptr<const EncodedImage>> cache_;
};

}  // namespace ck::pipeline
