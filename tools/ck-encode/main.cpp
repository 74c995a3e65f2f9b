// ck-encode: image -> ck.prefix (docs/formats/prefix.md) with the vision encoder planned by ck-layout.
//   ck-encode [-m DIR] IMAGE|- [-o FILE | --shm NAME]     (default: stdout, refused on a terminal)
//   ck-encode [-m DIR] IMAGE1 IMAGE2 [-o FILE]            (two same-size frames -> one 2-frame prefix, as mtmd
//                                                          merges two adjacent same-size images for Qwen-VL)
//   ck-encode [-m DIR] --video FILE -o OUTDIR             (a video: one prefix per chunk, OUTDIR/video.NNNN.prefix
//                                                          + video.json; ck-decode --prefix OUTDIR)
//   ck-encode --info PREFIX|shm:NAME                      (print a prefix header)
//   ck-encode --rm-shm NAME                               (remove a shared-memory prefix)
// DIR (default $CK_ENCODER) holds call.json + layout.json from `ck-convert | ck-lower | ck-layout -o DIR`.
// Bad input (missing/corrupt image, an image beyond the contract, a plan whose bump does not match, a plan
// that is not an image encoder) -> one line on stderr, exit 2, and no output at all.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bridge/prefix.h"
#include "core/error.h"
#include "core/output_file.h"
#include "core/thread_pool.h"
#include "dump/reader.h"
#include "dump/writer.h"
#include "image/decode.h"
#include "core/sha256.h"
#include "pipeline/encoder.h"
#include "pipeline/video_input.h"

namespace {

using json = nlohmann::ordered_json;

int info(const std::string& src) {
  const auto p = ck::bridge::Prefix::open(src);
  const auto& i = p.info();
  json j;
  j["source"] = src;
  j["rows"] = i.rows;
  j["row_width"] = i.row_width;
  j["n_embd"] = i.n_embd;
  j["n_deepstack"] = i.n_deepstack;
  j["grid"] = {i.grid_nx, i.grid_ny};
  j["frames"] = i.frames;
  j["data_bytes"] = i.rows * i.row_width * 4;
  j["meta"] = i.meta;
  std::printf("%s\n", j.dump(2).c_str());
  return 0;
}

// ck-encode --video FILE -o DIR: the chunks mtmd makes of the video (pipeline/video_input.h), one prefix each,
// DIR/video.NNNN.prefix in prompt order, and DIR/video.json (ck.video_chunks: fps, frames and texts per chunk).
// DIR is built as DIR.tmp.<pid> and renamed: all or nothing; an existing non-empty DIR is refused.
int encode_video(const std::string& path, const std::string& model, const std::string& dir, int threads,
                 int min_tokens, int max_tokens, const std::string& json_out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec) && !(fs::is_directory(dir, ec) && fs::is_empty(dir, ec)))
    ck::fail(dir, "exists and is not an empty directory (ck-encode --video writes a directory of prefixes)");
  ck::pipeline::Encoder enc(model, threads);
  const ck::video::Video v = ck::video::read_video(path);
  const auto chunks = ck::pipeline::video_chunks(v, enc.max_frames());
  ck::pipeline::EncodeOptions eo;
  eo.min_tokens = min_tokens;
  eo.max_tokens = max_tokens;
  const auto enc_chunks = ck::pipeline::encode_video(enc, v, chunks, path, ck::sha256_file_hex(path), eo);
  const std::string tmp = dir + ".tmp." + std::to_string(getpid());
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) ck::fail(dir, "cannot create " + tmp + ": " + ec.message());
  json j;
  j["format"] = "ck.video_chunks";
  j["version"] = 1;
  j["file"] = fs::path(path).filename().string();
  j["size"] = {v.width, v.height};
  j["source_fps"] = v.source_fps;
  j["fps"] = v.fps;
  j["duration_s"] = v.duration;
  j["n_frames"] = v.frames.size();
  j["ffmpeg"] = v.ffmpeg_command;
  json jc = json::array();
  double enc_ms = 0;
  for (size_t c = 0; c < enc_chunks.size(); ++c) {
    const auto& e = enc_chunks[c];
    char name[64];
    std::snprintf(name, sizeof(name), "video.%04zu.prefix", c);
    try {
      ck::bridge::write_prefix_file(tmp + "/" + name, e->info, e->rows);
    } catch (...) {
      fs::remove_all(tmp, ec);
      throw;
    }
    enc_ms += e->encode_ms;
    const auto& vm = e->info.meta["video"];
    jc.push_back({{"prefix", name}, {"frames", vm["frame_indices"]}, {"frame_times_s", vm["frame_times_s"]},
                  {"texts_before", vm["texts_before"]}, {"texts_after", vm["texts_after"]}, {"rows", e->info.rows},
                  {"grid", {e->info.grid_nx, e->info.grid_ny}}});
  }
  j["chunks"] = jc;
  j["encode_ms"] = enc_ms;
  ck::write_text_file(tmp + "/video.json", j.dump(1) + "\n");
  fs::remove(dir, ec);
  fs::rename(tmp, dir, ec);
  if (ec) {
    fs::remove_all(tmp, ec);
    ck::fail(dir, "cannot rename the finished directory into place");
  }
  if (!json_out.empty()) {
    if (json_out == "-") std::fprintf(stderr, "%s\n", j.dump(2).c_str());
    else ck::write_text_file(json_out, j.dump(2) + "\n");
  }
  return 0;
}

int body(int argc, char** argv) {
  CLI::App app{"ck-encode: image -> ck.prefix (Qwen3-VL vision encoder, bit-identical to llama.cpp b10256)"};
  std::vector<std::string> images;
  std::string model, out, shm, rm_shm, info_src, json_out, dump_dir, borrow_dir, video_path;
  int threads = 0, min_tokens = 0, max_tokens = 0;
  bool overwrite_dump = false, profile_flag = false;
  app.add_option("image", images, "input image (PNG, JPEG, BMP, GIF, ...); - = stdin; two same-size images = "
                                  "the two temporal frames of one chunk (one prefix)");
  app.add_option("--video", video_path, "a video file (read with ffprobe/ffmpeg as llama.cpp's mtmd-helper: 4 fps, "
                                        "source size): one prefix per chunk into the directory -o DIR");
  app.add_option("-m,--model", model, "encoder directory from ck-layout -o (default $CK_ENCODER)");
  app.add_option("-o,--output", out, "write the prefix to this file (atomic)");
  app.add_option("--shm", shm, "write the prefix to POSIX shared memory NAME");
  app.add_option("--rm-shm", rm_shm, "remove the shared-memory prefix NAME and exit");
  app.add_option("--info", info_src, "print the header of a prefix (file or shm:NAME) and exit");
  app.add_option("--json", json_out, "timings and shapes as JSON to FILE (- = stderr)");
  app.add_option("-t,--threads", threads, "threads (default: physical cores)");
  app.add_option("--image-min-tokens", min_tokens, "override the model's minimum image tokens (llama.cpp option)");
  app.add_option("--image-max-tokens", max_tokens, "override the model's maximum image tokens (llama.cpp option)");
  app.add_option("--dump", dump_dir, "write every named activation to DIR (ck.dump, oracle names) for ck-diff");
  app.add_flag("--dump-overwrite", overwrite_dump, "replace an existing dump directory");
  app.add_flag("--profile", profile_flag, "print time per kernel to stderr (also in --json as \"profile\")");
  app.add_option("--borrow", borrow_dir,
                 "bisecting aid: take the outputs of kernels this build lacks from this (oracle) dump");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : ck::kExitBadInput;
  }

  if (!rm_shm.empty()) {
    if (!ck::bridge::remove_prefix_shm(rm_shm)) ck::fail("shm:" + rm_shm, "no such shared-memory object");
    return 0;
  }
  if (!info_src.empty()) return info(info_src);
  if (!video_path.empty()) {
    if (!images.empty()) ck::fail("ck-encode", "--video takes no image arguments");
    if (out.empty()) ck::fail("--video", "needs -o DIR (one prefix per chunk: DIR/video.NNNN.prefix + DIR/video.json)");
    if (!shm.empty() || !dump_dir.empty() || !borrow_dir.empty())
      ck::fail("--video", "not with --shm / --dump / --borrow");
    if (model.empty()) {
      const char* env = std::getenv("CK_ENCODER");
      if (!env || !*env) ck::fail("ck-encode", "no model: pass -m DIR or set CK_ENCODER");
      model = env;
    }
    if (threads < 0) ck::fail("--threads", "must be >= 1");
    if (threads == 0) threads = ck::ThreadPool::physical_cores();
    return encode_video(video_path, model, out, threads, min_tokens, max_tokens, json_out);
  }
  if (images.empty()) ck::fail("ck-encode", "no image given (ck-encode [-m DIR] IMAGE|-)");
  for (const auto& im : images)
    if (im.empty()) ck::fail("ck-encode", "empty image name");
  if (images.size() > 1 && std::count(images.begin(), images.end(), std::string("-")) > 0)
    ck::fail("ck-encode", "stdin (-) carries one image only; give the frames as files");
  if (!out.empty() && !shm.empty()) ck::fail("ck-encode", "-o and --shm are exclusive");
  if (out.empty() && shm.empty() && isatty(STDOUT_FILENO))
    ck::fail("<stdout>", "is a terminal; the prefix is binary (redirect it, or use -o FILE / --shm NAME)");
  if (model.empty()) {
    const char* env = std::getenv("CK_ENCODER");
    if (!env || !*env) ck::fail("ck-encode", "no model: pass -m DIR or set CK_ENCODER");
    model = env;
  }
  if (threads < 0) ck::fail("--threads", "must be >= 1");
  if (threads == 0) threads = ck::ThreadPool::physical_cores();
  if (min_tokens < 0 || max_tokens < 0) ck::fail("--image-min-tokens/--image-max-tokens", "must be positive");

  ck::pipeline::Encoder enc(model, threads);
  if (int(images.size()) > enc.max_frames())
    ck::fail(images[size_t(enc.max_frames())], std::to_string(images.size()) + " images given; this encoder merges at most " +
                           std::to_string(enc.max_frames()) + " frames into one prefix (one ck-encode per chunk)");
  // Everything about the inputs is checked before any output exists.
  std::vector<ck::image::RgbImage> frames;
  for (const auto& im : images) frames.push_back(ck::image::decode_image_file(im));
  const ck::image::RgbImage& img = frames[0];
  const std::string name = images[0] == "-" ? "<stdin>" : images[0];
  for (size_t f = 1; f < frames.size(); ++f)
    if (frames[f].width != img.width || frames[f].height != img.height)
      ck::fail(images[f], "is " + std::to_string(frames[f].width) + "x" + std::to_string(frames[f].height) + ", " +
                              images[0] + " is " + std::to_string(img.width) + "x" + std::to_string(img.height) +
                              ": only images of the same size merge into one prefix (encode them separately)");

  std::optional<ck::DumpWriter> dump;
  if (!dump_dir.empty()) {
    ck::DumpWriterOptions o;
    o.overwrite = overwrite_dump;
    dump.emplace(dump_dir, "ck-encode 0.1.0", o);
    dump->set_phase("encode");
  }
  std::optional<ck::DumpReader> borrow;
  if (!borrow_dir.empty()) borrow.emplace(borrow_dir);
  const auto missing = enc.program().missing_kernels();

  ck::pipeline::EncodeOptions eo;
  eo.min_tokens = min_tokens;
  eo.max_tokens = max_tokens;
  eo.dump = dump ? &*dump : nullptr;
  eo.borrow = borrow ? &*borrow : nullptr;
  ck::runtime::Profile profile;
  if (profile_flag || !json_out.empty()) eo.profile = &profile;
  // Without a borrow source a missing kernel is fatal; with --dump, everything up to it is still recorded.
  eo.stop_at_missing = !borrow && dump;
  const bool tty = isatty(STDERR_FILENO);
  int last_layer = -2;
  if (tty)
    eo.progress = [&](const ck::runtime::Call& c, size_t done, size_t total) {
      if (c.layer != last_layer || done == total) {
        last_layer = c.layer;
        std::fprintf(stderr, "\rck-encode: %s%d (call %zu/%zu)   ", c.layer >= 0 ? "layer " : "", c.layer, done, total);
        if (done == total) std::fprintf(stderr, "\n");
      }
    };
  if (!borrow && !dump && !missing.empty()) {
    std::string ids;
    for (const auto& m : missing) ids += (ids.empty() ? "" : ", ") + m;
    ck::fail(enc.program().path(), "kernels not implemented in this build: " + ids);
  }

  ck::pipeline::EncodeResult r = enc.encode_frames(frames, name, eo);
  if (frames.size() > 1) {
    json srcs = json::array();
    for (const auto& im : images) srcs.push_back(im);
    r.info.meta["frame_images"] = srcs;
  }
  if (r.stats.stopped_at) {
    if (dump) dump->commit();
    const auto& c = *r.stats.stopped_at;
    ck::fail(enc.program().path(), "call " + std::to_string(c.index) + " (" + c.id + "): kernel '" + c.kernel +
                                       "' is not implemented in this build" +
                                       (dump ? "; dump written up to it: " + dump_dir : std::string()));
  }

  if (!json_out.empty()) {
    json j;
    j["format"] = "ck.encode_report";
    j["version"] = 1;
    j["image"] = name;
    j["frames"] = frames.size();
    if (frames.size() > 1) j["frame_images"] = images;
    j["model"] = model;
    j["threads"] = threads;
    j["mode"] = r.info.meta.value("mode", std::string("strict"));
    j["source"] = {{"width", img.width}, {"height", img.height}};
    j["preprocessed"] = {{"width", r.pre.width}, {"height", r.pre.height}};
    j["grid"] = {r.pre.nx, r.pre.ny};
    j["tokens"] = r.info.rows;
    j["row_width"] = r.info.row_width;
    j["n_embd"] = r.info.n_embd;
    j["n_deepstack"] = r.info.n_deepstack;
    j["preprocess_ms"] = r.preprocess_ms;
    j["encode_ms"] = r.encode_ms;
    j["tokens_per_s"] = r.encode_ms > 0 ? double(r.info.rows) * 1000.0 / r.encode_ms : 0.0;
    j["calls_run"] = r.stats.calls_run;
    j["calls_borrowed"] = r.stats.calls_borrowed;
    j["profile"] = profile.to_json();
    if (json_out == "-") std::fprintf(stderr, "%s\n", j.dump(2).c_str());
    else ck::write_text_file(json_out, j.dump(2) + "\n");
  }
  if (profile_flag) std::fprintf(stderr, "%s", profile.to_table().c_str());
  if (dump) dump->commit();
  if (!out.empty()) ck::bridge::write_prefix_file(out, r.info, r.rows);
  else if (!shm.empty()) ck::bridge::write_prefix_shm(shm, r.info, r.rows);
  else ck::bridge::write_prefix_stdout(r.info, r.rows);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return ck::run_tool("ck-encode", body, argc, argv); }
