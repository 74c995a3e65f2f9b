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
  image::Preprocessed pre;                  // the (first) frame
  std::vector<image::Preprocessed> frames;  // every frame of the chunk (frames[0] = pre)
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
  uint32_t frames = 1;        // temporal frames in this chunk (= info.frames)
  double preprocess_ms = 0, encode_ms = 0;
  bool cached = false;        // true: came from the content-hash cache, nothing was run
  std::string image_sha256;   // of the image file's bytes (of the frames: sha256 of their shas, in order)
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
  // One chunk of temporal frames (mtmd's [QWEN_VIDEO] merge of same-size bitmaps): all of one source size, at
  // most max_frames() of them; one frame is encode(). The prefix has the rows of one frame's grid, frames = n.
  EncodeResult encode_frames(std::span<const image::RgbImage> frames, const std::string& name,
                             const EncodeOptions& opt);
  // Frames one chunk can hold (the plan's bound of the image_planar `frames` symbol; 1 when it has none).
  int max_frames() const { return max_frames_; }

  // Decodes the image bytes (any format lib/image reads) and encodes them, or returns the cached result of the
  // same bytes with the same token overrides (key: sha256 of the bytes + min/max tokens). Dumps and borrowing
  // are not allowed here (a cached result would skip them).
  std::shared_ptr<const EncodedImage> encode_cached(std::span<const uint8_t> bytes, const std::string& name,
                                                    const EncodeOptions& opt);
  // The same for the frames of one chunk (each element: one image file's bytes; same source size), cached by
  // the frames' hashes in order.
  std::shared_ptr<const EncodedImage> encode_cached(const std::vector<std::span<const uint8_t>>& frames,
                                                    const std::string& name, const EncodeOptions& opt);
  // Decoded frames (e.g. from a video) encoded as one chunk, with the result owned; `key` names them in the cache
  // (empty: not cached).
  std::shared_ptr<const EncodedImage> encode_owned(std::span<const image::RgbImage> frames, const std::string& name,
                                                   const EncodeOptions& opt, const std::string& key = "");
  void clear_cache() { cache_.clear(); }

 private:
  std::unique_ptr<runtime::Program> program_;
  std::unique_ptr<runtime::Executor> exec_;
  image::PreprocessContract contract_;
  int64_t n_embd_ = 0, n_deepstack_ = 0, row_width_ = 0;
  int max_frames_ = 1;
  std::map<std::string, std::shared_ptr<const EncodedImage>> cache_;
};

}  // namespace ck::pipeline
