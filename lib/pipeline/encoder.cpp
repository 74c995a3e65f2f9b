#include "pipeline/encoder.h"

#include <chrono>

#include "core/error.h"
#include "core/sha256.h"
#include "image/contract.h"
#include "image/decode.h"
#include "pipeline/inputs.h"

namespace ck::pipeline {

using runtime::Executor;
using runtime::Program;
using runtime::RunOptions;
using runtime::TensorRef;
using runtime::View;
using json = nlohmann::ordered_json;

namespace {
double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

Encoder::Encoder(const std::string& model, int n_threads) {
  program_ = Program::load(model);
  const Program& p = *program_;
  if (!p.input_by_role("image_planar"))
    fail(p.path(), "template '" + p.template_name() + "' is not an image encoder (no input with role image_planar)");
  if (!p.contracts().contains("preprocess"))
    fail(p.path(), "no preprocess contract in contracts (re-run ck-convert | ck-lower | ck-layout)");
  contract_ = image::contract_from_json(p.contracts()["preprocess"], p.path() + ": contracts.preprocess");
  if (p.outputs().size() != 1) fail(p.path(), "an image encoder plan has exactly one output (the prefix rows)");
  const TensorRef& out = p.outputs()[0];
  if (out.dtype != DType::F32 || out.shape.size() != 2 || out.shape[1].sym >= 0 || !out.strides.empty())
    fail(p.path(), "output '" + out.tensor + "' is not contiguous f32 [rows][row_width]");
  row_width_ = out.shape[1].value;
  // Slices of a row (docs/formats/prefix.md) come from the template's bridge contract (n_embd, n_deepstack);
  // the plan's output width must agree with them.
  const json bridge = p.contracts().value("bridge", json::object());
  if (!bridge.contains("n_embd") || !bridge["n_embd"].is_number_integer() || !bridge.contains("n_deepstack") ||
      !bridge["n_deepstack"].is_number_integer())
    fail(p.path(), "contracts.bridge lacks integer n_embd / n_deepstack (template '" + p.template_name() +
                       "': add them to its bridge section, then re-run ck-convert | ck-lower | ck-layout)");
  n_embd_ = bridge["n_embd"].get<int64_t>();
  n_deepstack_ = bridge["n_deepstack"].get<int64_t>();
  // n_embd * (1 + n_deepstack) == row width, without the product (hostile numbers overflowed it: UB)
  if (n_embd_ <= 0 || n_deepstack_ < 0 || n_deepstack_ >= row_width_ || row_width_ % (1 + n_deepstack_) != 0 ||
      row_width_ / (1 + n_deepstack_) != n_embd_)
    fail(p.path(), "contracts.bridge n_embd " + std::to_string(n_embd_) + " x (1 + n_deepstack " +
                       std::to_string(n_deepstack_) + ") != output row width " + std::to_string(row_width_));
  const runtime::InputRef* raw = p.input_by_role("image_planar");
  const json& fr = raw->role_params.value("frames", json());
  if (fr.is_object() && fr.contains("symbol")) {
    const int si = p.symbol_index(fr["symbol"].get<std::string>());
    if (si >= 0) max_frames_ = int(p.symbols()[size_t(si)].max);
  }
  exec_ = std::make_unique<Executor>(p, n_threads);
}

EncodeResult Encoder::encode(const image::RgbImage& img, const std::string& name, const EncodeOptions& opt) {
  return encode_frames(std::span<const image::RgbImage>(&img, 1), name, opt);
}

EncodeResult Encoder::encode_frames(std::span<const image::RgbImage> frames, const std::string& name,
                                   const EncodeOptions& opt) {
  EncodeResult r;
  if (frames.empty()) fail(name, "no frames to encode");
  if (int(frames.size()) > max_frames_)
    fail(name, std::to_string(frames.size()) + " frames in one chunk; this encoder merges at most " +
                   std::to_string(max_frames_) + " (clip_model_n_temporal_merge)");
  for (size_t f = 1; f < frames.size(); ++f)
    if (frames[f].width != frames[0].width || frames[f].height != frames[0].height)
      fail(name, "frame " + std::to_string(f + 1) + " is " + std::to_string(frames[f].width) + "x" +
                     std::to_string(frames[f].height) + ", frame 1 is " + std::to_string(frames[0].width) + "x" +
                     std::to_string(frames[0].height) + ": only same-size images merge into one chunk");
  image::PreprocessContract c = contract_;
  image::set_token_overrides(c, opt.min_tokens, opt.max_tokens, "--image-min-tokens/--image-max-tokens");
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& f : frames) r.frames.push_back(image::preprocess(f, c, name));
  r.pre = r.frames[0];
  r.preprocess_ms = ms_since(t0);

  t0 = std::chrono::steady_clock::now();
  feed_frames(*exec_, r.frames, name, opt.dump);
  RunOptions ro;
  ro.dump = opt.dump;
  ro.borrow = opt.borrow;
  ro.stop_at_missing = opt.stop_at_missing;
  ro.progress = opt.progress;
  ro.profile = opt.profile;
  r.stats = exec_->run(ro);
  r.encode_ms = ms_since(t0);

  const TensorRef& out = program_->outputs()[0];
  View v = exec_->view(out);
  const int64_t rows = v.shape[0];
  if (rows != int64_t(r.pre.nx) * r.pre.ny)
    fail(program_->path(), "output has " + std::to_string(rows) + " rows for a " + std::to_string(r.pre.nx) + "x" +
                               std::to_string(r.pre.ny) + " token grid");
  r.rows = std::span<const float>(v.ptr<const float>(), size_t(rows * row_width_));
  r.info.rows = uint64_t(rows);
  r.info.row_width = uint64_t(row_width_);
  r.info.n_embd = uint32_t(n_embd_);
  r.info.n_deepstack = uint32_t(n_deepstack_);
  r.info.grid_nx = uint32_t(r.pre.nx);
  r.info.grid_ny = uint32_t(r.pre.ny);
  r.info.frames = uint32_t(r.frames.size());
  const json& src = program_->doc().value("weights", json::object()).value("source", json::object());
  const json& gguf = src.value("gguf", json::object());
  r.info.meta["model"] = {{"mmproj_sha256", gguf.value("sha256", "")}, {"mmproj_name", gguf.value("file", "")}};
  // The bridge contract (positions, resume rule, row layout) is template data carried through the plan.
  r.info.meta["bridge"] = program_->contracts().value("bridge", json::object());
  r.info.meta["bridge"]["activation"] = out.tensor;
  r.info.meta["preprocess"] = r.pre.summary;
  r.info.meta["mode"] = program_->file().mode;  // numerics mode of the plan
  return r;
}

std::shared_ptr<const EncodedImage> Encoder::encode_cached(std::span<const uint8_t> bytes, const std::string& name,
                                                           const EncodeOptions& opt) {
  return encode_cached(std::vector<std::span<const uint8_t>>{bytes}, name, opt);
}

std::shared_ptr<const EncodedImage> Encoder::encode_cached(const std::vector<std::span<const uint8_t>>& frames,
                                                           const std::string& name, const EncodeOptions& opt) {
  if (opt.dump || opt.borrow) throw Error("Encoder::encode_cached: dumps and --borrow need Encoder::encode");
  if (frames.empty()) fail(name, "no frames to encode");
  std::string sha = sha256_hex(frames[0]);
  if (frames.size() > 1) {
    std::string acc;
    for (const auto& f : frames) acc += sha256_hex(f) + "\n";
    sha = sha256_hex({reinterpret_cast<const uint8_t*>(acc.data()), acc.size()});
  }
  const std::string key = sha + " " + std::to_string(opt.min_tokens) + " " + std::to_string(opt.max_tokens);
  if (auto it = cache_.find(key); it != cache_.end()) {
    auto hit = std::make_shared<EncodedImage>(*it->second);
    hit->cached = true;
    hit->preprocess_ms = hit->encode_ms = 0;
    return hit;
  }
  std::vector<image::RgbImage> imgs;
  for (const auto& f : frames) imgs.push_back(image::decode_image(f, name));
  auto e = encode_owned(imgs, name, opt, "");
  std::const_pointer_cast<EncodedImage>(e)->image_sha256 = sha;
  cache_[key] = e;
  return e;
}

std::shared_ptr<const EncodedImage> Encoder::encode_owned(std::span<const image::RgbImage> frames,
                                                          const std::string& name, const EncodeOptions& opt,
                                                          const std::string& key) {
  if (opt.dump || opt.borrow) throw Error("Encoder::encode_owned: dumps and --borrow need Encoder::encode");
  const std::string ckey =
      key.empty() ? "" : "key:" + key + " " + std::to_string(opt.min_tokens) + " " + std::to_string(opt.max_tokens);
  if (!ckey.empty())
    if (auto it = cache_.find(ckey); it != cache_.end()) {
      auto hit = std::make_shared<EncodedImage>(*it->second);
      hit->cached = true;
      hit->preprocess_ms = hit->encode_ms = 0;
      return hit;
    }
  EncodeResult r = encode_frames(frames, name, opt);
  if (r.stats.stopped_at)
    fail(program_->path(), "call " + std::to_string(r.stats.stopped_at->index) + " (" + r.stats.stopped_at->id +
                               "): kernel '" + r.stats.stopped_at->kernel + "' is not implemented in this build");
  auto e = std::make_shared<EncodedImage>();
  e->info = r.info;
  e->rows.assign(r.rows.begin(), r.rows.end());
  e->source_width = frames[0].width;
  e->source_height = frames[0].height;
  e->pre_width = r.pre.width;
  e->pre_height = r.pre.height;
  e->frames = uint32_t(frames.size());
  e->preprocess_ms = r.preprocess_ms;
  e->encode_ms = r.encode_ms;
  if (!ckey.empty()) cache_[ckey] = e;
  return e;
}

}  // namespace ck::pipeline
