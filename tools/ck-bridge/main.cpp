// ck-bridge: the whole pipeline in one process (lib/pipeline), with a report.
//   ck-bridge --mmproj M.gguf --model T.gguf --image IMG [--image IMG2 ...] -p PROMPT [-n N] [-t N]
//             [--system TEXT] [-f FILE] [--temp T --top-k K --top-p P --min-p P --seed S --repeat-penalty R]
//             [--cache-dir DIR] [--no-cache] [--stop-after convert|lower|layout|encode] [--report FILE] [--json]
//             [--work-dir DIR] [--image-min-tokens N] [--image-max-tokens N] [-q]
//   ck-bridge --model T.gguf --start-from prefix --prefix P.bin [--prefix P2.bin ...] -p PROMPT ...
//   ck-bridge --mmproj M.gguf --model T.gguf -i [--image IMG]       chat: /image PATH, /reset, /quit
// The answer streams to stdout as it is generated; statistics (and, on a terminal, progress) go to stderr.
// Plans: convert -> lower -> layout for both GGUFs (pipeline/compile.h), cached (pipeline/plan_cache.h) by the
// GGUF's sha256 (remembered by size + mtime + inode), the templates, this executable and the mode. Then the Encoder
// per image and the Decoder, in this process. bridge_report.json (docs/formats/bridge_report.md) is filled from
// their results. Cut points (as IREE's compile phases): --stop-after ends after a phase; --work-dir keeps the
// prefixes (prefix.K.bin); --start-from prefix continues from such prefixes (no mmproj).
// Bad input (missing file, GGUFs in the wrong role, a mmproj whose projection width is not the model's input width)
// -> one line on stderr, exit 2.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bridge/prefix.h"
#include "bridge/report.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "core/sha256.h"
#include "core/thread_pool.h"
#include "decode/sampling.h"
#include "image/decode.h"
#include "pipeline/video_input.h"
#include "video/video.h"
#include "kernels/isa.h"
#include "pipeline/compile.h"
#include "pipeline/steps.h"
#include "pipeline/decoder.h"
#include "pipeline/decoder_backend.h"
#include "pipeline/encoder.h"
#include "pipeline/plan_cache.h"
#include "pipeline/sampling_flags.h"
#include "runtime/kernel_table.h"

namespace {

namespace fs = std::filesystem;
namespace pl = ck::pipeline;
using json = nlohmann::ordered_json;

constexpr const char* kVersion = "0.3.0";

void require_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) ck::fail(path, "no such " + what + " file");
}

std::string templates_dir(const std::string& flag) { return flag.empty() ? ck::pipeline::default_templates_dir() : flag; }

std::string sha256_str(const std::string& s) {
  return ck::sha256_hex({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

std::string self_exe() {
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw ck::Error("ck-bridge: cannot locate its own executable (/proc/self/exe)");
  return exe.string();
}

json file_info(const std::string& path, const std::string& sha) {
  return {{"file", fs::path(path).filename().string()}, {"bytes", fs::file_size(path)}, {"sha256", sha}};
}

// One bridge_report "prefix" entry.
json prefix_entry(size_t k, const std::string& source, const ck::bridge::PrefixInfo& i) {
  return {{"image", k},
          {"file", fs::path(source).filename().string()},
          {"frames", i.frames},
          {"rows", i.rows},
          {"row_width", i.row_width},
          {"n_embd", i.n_embd},
          {"n_deepstack", i.n_deepstack},
          {"grid", {i.grid_nx, i.grid_ny}},
          {"data_bytes", i.rows * i.row_width * 4}};
}

const char* stop_reason(const ck::decode::GenerateResult& r, int n_predict) {
  if (r.hit_eog) return "end_of_generation";
  if (r.stopped) return "stopped";
  if (n_predict >= 0 && int64_t(r.tokens.size()) == n_predict) return "n_predict";
  return "context_full";
}

// Progress on stderr: only for a terminal and without -q.
struct Progress {
  bool on = false;
  void line(const std::string& s) const {
    if (on) std::fprintf(stderr, "\rck-bridge: %s\x1b[K", s.c_str());
  }
  void done() const {
    if (on) std::fprintf(stderr, "\r\x1b[K");
  }
};

int body(int argc, char** argv) {
  CLI::App app{"ck-bridge: image + prompt -> text through the whole ck pipeline (in process), with a report"};
  std::string mmproj, model, prompt, prompt_file, system_prompt, cache_dir, stop_after,
      report_path = "bridge_report.json", tflag;
  std::vector<std::string> images;
  std::string mode = "strict";
  int n_predict = 128, threads = 0, min_tokens = 0, max_tokens = 0;
  bool no_cache = false, json_stdout = false, quiet = false, interactive = false, no_frame_merge = false;
  std::string start_from, work_dir;
  std::vector<std::string> prefix_files;
  ck::decode::SamplingParams sp;
  pl::DecoderOptions dopt;
  app.add_option("--mmproj", mmproj, "vision projector GGUF (not with --start-from prefix)");
  app.add_option("--model", model, "text model GGUF")->required();
  std::vector<std::string> videos, media;  // media: --image and --video files in command-line (marker) order
  const CLI::Option* image_opt =
      app.add_option("--image", images, "input image (PNG, JPEG, ...); repeat for several images (marker order); a "
                                        "file stb_image cannot decode is tried as a video, as llama.cpp's mtmd-helper does")
          ->allow_extra_args(false);
  const CLI::Option* video_opt =
      app.add_option("--video", videos, "input video (anything ffprobe/ffmpeg read): frames at 4 fps, source size, "
                                        "\"Video:\" and timestamp texts, as llama.cpp's mtmd-helper; one marker, like an "
                                        "image; --image and --video files take the markers in command-line order")
          ->allow_extra_args(false);
  app.add_flag("--no-frame-merge", no_frame_merge,
               "keep same-size images at adjacent markers as separate chunks (default: merged into one 2-frame "
               "chunk, as llama.cpp b10256's mtmd does; its later opt-in is mtmd_bitmap_set_mergeable)");
  app.add_option("--start-from", start_from, "start at this phase: prefix = decode from --prefix files")
      ->check(CLI::IsMember({"prefix"}));
  app.add_option("--prefix", prefix_files, "with --start-from prefix: a ck-encode prefix; repeat per image")
      ->allow_extra_args(false);
  app.add_option("--work-dir", work_dir, "keep this run's prefixes (prefix.K.bin) in DIR");
  app.add_option("--image-min-tokens", min_tokens, "override the model's minimum image tokens (llama.cpp option)")
      ->check(CLI::PositiveNumber);
  app.add_option("--image-max-tokens", max_tokens, "override the model's maximum image tokens (llama.cpp option)")
      ->check(CLI::PositiveNumber);
  app.add_option("-p,--prompt", prompt, "user prompt");
  app.add_option("-f,--file", prompt_file, "read the user prompt from FILE (- = stdin)");
  app.add_option("--system", system_prompt, "a system message before the user's");
  app.add_option("-n,--n-predict", n_predict, "tokens to generate (-1: until end of generation)");
  app.add_option("-t,--threads", threads, "threads (default: physical cores)")->check(CLI::NonNegativeNumber);
  ck::pipeline::add_sampling_flags(app, sp);
  app.add_option("--ctx-size", dopt.ctx_size, "KV cache size in tokens (at most the planned size)");
  app.add_option("--n-batch", dopt.n_batch, "logical batch (llama_decode call) size")->check(CLI::PositiveNumber);
  app.add_option("--n-ubatch", dopt.n_ubatch, "physical batch size (at most the planned n_tokens)")
      ->check(CLI::PositiveNumber);
  app.add_option("--cache-dir", cache_dir, "plan cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/ck)");
  app.add_flag("--no-cache", no_cache, "plan into a temporary directory, removed at exit");
  app.add_option("--stop-after", stop_after, "stop after this phase")
      ->check(CLI::IsMember({"convert", "lower", "layout", "encode"}));
  app.add_option("--report", report_path, "write bridge_report.json here");
  app.add_flag("--json", json_stdout, "print the report on stdout instead of the answer (still written to --report)");
  app.add_flag("-q,--quiet", quiet, "no statistics or progress on stderr (errors only)");
  app.add_flag("-i,--interactive", interactive,
               "chat on stdin: a line is a message; /image PATH attaches an image to the next one, /reset, /quit");
  app.add_option("--mode", mode, "numerics mode (the modes this build binds)")
      ->check(CLI::IsMember(ck::runtime::available_mode_names()));
  app.add_option("--templates", tflag, "templates directory (default $CK_TEMPLATES, else the source tree's)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    throw ck::Error(std::string(e.what()) + " (see ck-bridge --help)");
  }
  {  // --image and --video interleaved as given (CLI11 records one parse_order entry per value)
    size_t ni = 0, nv = 0;
    for (const CLI::Option* o : app.parse_order()) {
      if (o == image_opt && ni < images.size()) media.push_back(images[ni++]);
      else if (o == video_opt && nv < videos.size()) media.push_back(videos[nv++]);
    }
    if (ni != images.size() || nv != videos.size()) throw ck::Error("internal: --image/--video order");
  }
  const bool from_prefix = start_from == "prefix";
  if (!prompt.empty() && !prompt_file.empty()) throw ck::Error("give the prompt with -p or -f, not both");
  if (!prompt_file.empty()) {
    if (prompt_file != "-") require_file(prompt_file, "prompt");
    prompt = ck::read_text_file(prompt_file);
  }
  if (interactive) {
    if (!stop_after.empty() || from_prefix) throw ck::Error("-i/--interactive runs the whole pipeline: no --stop-after / --start-from");
    if (json_stdout) throw ck::Error("-i/--interactive prints the answers: not with --json");
    if (mmproj.empty()) throw ck::Error("--mmproj is required");
    require_file(mmproj, "mmproj GGUF");
  } else if (from_prefix) {
    if (prefix_files.empty()) throw ck::Error("--start-from prefix needs at least one --prefix FILE");
    if (!media.empty() || !mmproj.empty())
      throw ck::Error("--start-from prefix decodes given prefixes: --image/--video/--mmproj do not apply");
    if (!stop_after.empty()) throw ck::Error("--stop-after " + stop_after + " is before --start-from prefix");
  } else {
    if (!prefix_files.empty()) throw ck::Error("--prefix needs --start-from prefix");
    if (mmproj.empty()) throw ck::Error("--mmproj is required (or --start-from prefix)");
    if (media.empty()) throw ck::Error("--image or --video is required (or --start-from prefix)");
    require_file(mmproj, "mmproj GGUF");
  }
  if (!interactive && prompt.empty() && prompt_file.empty())
    throw ck::Error("no prompt: give -p TEXT or -f FILE (or -i for a chat)");
  require_file(model, "model GGUF");
  for (const auto& image : images) require_file(image, "image");
  for (const auto& v : videos) require_file(v, "video");
  for (const auto& prefix : prefix_files) require_file(prefix, "prefix");
  if (threads == 0) threads = ck::ThreadPool::physical_cores();
  const Progress progress{!quiet && isatty(STDERR_FILENO) != 0};

  const std::string tdir = templates_dir(tflag);
  const auto t_start = std::chrono::steady_clock::now();

  // --no-cache: plans (and the cache's source records) in a temporary directory removed at exit.
  std::string tmp_plans;
  struct Cleanup {
    std::string* dir;
    ~Cleanup() {
      std::error_code ec;
      if (!dir->empty()) fs::remove_all(*dir, ec);
    }
  } cleanup{&tmp_plans};
  if (no_cache) {
    const std::string t = (fs::temp_directory_path() / "ck-bridge.XXXXXX").string();
    std::vector<char> buf(t.begin(), t.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw ck::Error("cannot create a work directory in $TMPDIR");
    tmp_plans = buf.data();
  }
  if (!work_dir.empty()) {
    std::error_code ec;
    fs::create_directories(work_dir, ec);
    if (ec || !fs::is_directory(work_dir)) ck::fail(work_dir, "cannot create the work directory");
  }
  pl::PlanCache cache(no_cache ? tmp_plans : (cache_dir.empty() ? pl::default_cache_root() : cache_dir));

  ck::bridge::Report rep;
  rep["tool"] = {{"name", "ck-bridge"}, {"version", kVersion}, {"stages", "in-process"}};
  rep["mode"] = mode;
  rep["threads"] = threads;
  rep["isa"] = ck::kernels::isa_name(ck::kernels::active_isa());

  // Cache key: GGUF bytes + every template + this executable (the compile code is linked in) + mode + version.
  const std::string tsha = ck::pipeline::templates_sha256(tdir);
  const std::string exe_sha = cache.file_sha256(self_exe()).sha256;
  struct Planned {
    std::string gguf, sha256, key, dir;
    bool sha_cached = false;
    pl::CompileResult c;
  } enc, dec;
  enc.gguf = mmproj;
  dec.gguf = model;
  for (Planned* p : {&enc, &dec}) {
    if (from_prefix && p == &enc) continue;
    const pl::FileHash h = cache.file_sha256(p->gguf);
    p->sha256 = h.sha256;
    p->sha_cached = h.cached;
    p->key = sha256_str(p->sha256 + tsha + exe_sha + mode + kVersion);
    p->dir = cache.plan_dir(p->key);
  }
  json jimages = json::array();
  for (const auto& image : images) jimages.push_back(file_info(image, ck::sha256_file_hex(image)));
  json jvideos = json::array();
  json jprefix_in = json::array();
  for (const auto& pf : prefix_files) jprefix_in.push_back(file_info(pf, ck::sha256_file_hex(pf)));
  rep["inputs"] = {{"mmproj", from_prefix ? json() : file_info(mmproj, enc.sha256)},
                   {"model", file_info(model, dec.sha256)},
                   {"images", jimages},
                   {"videos", jvideos},
                   {"prefixes", jprefix_in},
                   {"start_from", from_prefix ? json("prefix") : json()},
                   {"image_tokens", {{"min", min_tokens > 0 ? json(min_tokens) : json()},
                                     {"max", max_tokens > 0 ? json(max_tokens) : json()}}},
                   {"prompt", prompt},
                   {"system", system_prompt.empty() ? json() : json(system_prompt)},
                   {"sampling", {{"temp", sp.temp}, {"top_k", sp.top_k}, {"top_p", sp.top_p}, {"min_p", sp.min_p},
                                 {"seed", sp.seed == 0xFFFFFFFFu ? json() : json(sp.seed)},
                                 {"repeat_penalty", sp.repeat_penalty}, {"repeat_last_n", sp.repeat_last_n}}},
                   {"templates_sha256", tsha},
                   {"stage_tools_sha256", {{"ck-bridge", exe_sha}}}};

  // Convert both first so a mismatched pair is reported before any lowering.
  const auto compile = [&](Planned& p, const std::string& stop) {
    pl::CompileOptions co;
    co.templates_dir = tdir;
    co.mode = mode;
    co.stop_after = stop;
    const bool converting = !fs::exists(p.dir + "/manifest.json");
    if (converting) progress.line("converting " + fs::path(p.gguf).filename().string() + " ...");
    pl::CompileResult r = pl::compile(p.gguf, p.dir, co);
    progress.done();
    // Timings and cache flags over both calls (the "convert" one and the rest).
    for (const auto& [k, v] : p.c.cached.items()) r.cached[k] = v;
    r.convert_ms += p.c.convert_ms;
    p.c = std::move(r);
  };
  if (!from_prefix) compile(enc, "convert");
  compile(dec, "convert");
  if (!from_prefix) ck::pipeline::check_model_pair(mmproj, enc.c.manifest, model, dec.c.manifest);
  if (stop_after != "convert") {
    if (!from_prefix) compile(enc, stop_after);
    compile(dec, stop_after);
  }
  auto plan_json = [&](const Planned& p) {
    const json& m = p.c.manifest;
    return json{{"cache_key", p.key},
                {"template", m.value("template", json())},
                {"arch", m.value("arch", json())},
                {"bump_sha256", m.contains("bump") ? m["bump"].value("sha256", json()) : json()},
                {"cached", p.c.cached},
                {"all_cached", p.c.all_cached()},
                {"source_sha256_cached", p.sha_cached}};
  };
  const bool all_cached = (from_prefix || enc.c.all_cached()) && dec.c.all_cached();
  rep["artifacts"] = {{"cache", no_cache ? json("disabled") : json("enabled")},
                      {"cached", all_cached},
                      {"mmproj", from_prefix ? json() : plan_json(enc)},
                      {"model", plan_json(dec)},
                      {"work_dir", work_dir.empty() ? json() : json(work_dir)}};
  rep["contracts"] = {{"preprocess", from_prefix ? json() : enc.c.manifest.value("preprocess", json())},
                      {"bridge", nullptr},
                      {"chat", dec.c.manifest.value("chat", json())}};
  const auto since = [](std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  const double compile_ms = enc.c.convert_ms + dec.c.convert_ms + enc.c.lower_ms + dec.c.lower_ms +
                            enc.c.layout_ms + dec.c.layout_ms;
  rep.set_timing("plans", std::max(0.0, since(t_start) - compile_ms));  // hashing, cache lookup, reading plans
  rep.set_timing("convert", enc.c.convert_ms + dec.c.convert_ms);
  rep.set_timing("lower", enc.c.lower_ms + dec.c.lower_ms);
  rep.set_timing("layout", enc.c.layout_ms + dec.c.layout_ms);

  auto finish = [&](const std::string& status) {
    rep["status"] = status;
    rep["timings_ms"]["total"] =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_start).count();
    rep.write(report_path);
    if (json_stdout)
      std::printf("%s\n", rep.doc().dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return 0;
  };
  if (stop_after == "convert" || stop_after == "lower" || stop_after == "layout")
    return finish("stopped_after_" + stop_after);

  // Encode: every image on one Encoder (or the given prefixes with --start-from prefix).
  std::unique_ptr<pl::Encoder> encoder;
  pl::EncodeOptions eo;
  eo.min_tokens = min_tokens;
  eo.max_tokens = max_tokens;
  int last_layer = -2;
  if (progress.on)
    eo.progress = [&](const ck::runtime::Call& c, size_t done, size_t total) {
      if (c.layer != last_layer || done == total) {
        last_layer = c.layer;
        progress.line("encoding: " + (c.layer >= 0 ? "layer " + std::to_string(c.layer) : std::string("")) +
                      " (call " + std::to_string(done) + "/" + std::to_string(total) + ")");
      }
    };
  dopt.threads = threads;
  std::unique_ptr<pl::Decoder> decoder_ptr;
  double load_ms = 0;  // constructing the Encoder and the Decoder (mapping weights, arenas, tokenizer)
  const auto get_decoder = [&]() -> pl::Decoder& {
    if (!decoder_ptr) {
      const auto t0 = std::chrono::steady_clock::now();
      decoder_ptr = std::make_unique<pl::Decoder>(dec.c.plan_dir, dopt);
      load_ms += since(t0);
      rep.set_timing("load", load_ms);
    }
    return *decoder_ptr;
  };
  // The images of one prompt, grouped into chunks as mtmd_tokenizer::tokenize does (two same-size images at
  // adjacent markers = one 2-frame chunk, unless --no-frame-merge), each chunk encoded once (cached by content).
  struct Encoded {
    std::vector<std::shared_ptr<const pl::EncodedImage>> chunks;
    std::vector<std::vector<int>> groups;  // bitmap indices of each chunk (stills and video frames, marker order)
    std::vector<std::string> paths;        // the file each chunk comes from (a pair: the first image's)
    std::vector<std::shared_ptr<const ck::video::Video>> video_of;  // the video a chunk belongs to (or null)
  };
  // --video files (and --image files stb_image cannot decode, as mtmd_helper_bitmap_init_from_buf falls through
  // to video) are read once per run.
  std::map<std::string, std::shared_ptr<const ck::video::Video>> video_cache;
  const auto encode_images = [&](const std::vector<std::string>& paths, const std::string& text,
                                 const pl::PromptOptions& po) {
    Encoded out;
    if (paths.empty()) return out;
    if (!encoder) {
      const auto t0 = std::chrono::steady_clock::now();
      encoder = std::make_unique<pl::Encoder>(enc.c.plan_dir, threads);
      load_ms += since(t0);
      rep.set_timing("load", load_ms);
    }
    const std::string& marker = ck::decode::ChatFormats::builtin().media_marker;
    struct Item {
      std::string path, sha;
      std::shared_ptr<const ck::video::Video> video;  // null: a still
      int bitmap0 = 0;
    };
    std::vector<Item> items;
    std::vector<ck::image::RgbImage> imgs;              // stills' pixels, by bitmap (empty for video frames)
    std::vector<std::pair<int64_t, int64_t>> sizes;     // every bitmap, after the videos' expansion
    std::vector<int> item_of;                           // bitmap -> item
    std::vector<std::optional<std::vector<std::string>>> media_parts;
    for (const auto& path : paths) {
      Item it{path, "", nullptr, int(sizes.size())};
      const ck::MappedFile f(path);
      it.sha = ck::sha256_hex(f.bytes());
      const bool want_video = std::find(videos.begin(), videos.end(), path) != videos.end() &&
                              std::find(images.begin(), images.end(), path) == images.end();
      std::optional<ck::image::RgbImage> still;
      std::string image_error;
      if (!want_video) {
        try {
          still = ck::image::decode_image(f.bytes(), path);
        } catch (const ck::Error& e) {
          image_error = e.what();
        }
      }
      if (still) {
        imgs.push_back(std::move(*still));
        sizes.emplace_back(imgs.back().width, imgs.back().height);
        item_of.push_back(int(items.size()));
        media_parts.push_back(std::nullopt);
      } else {
        auto vit = video_cache.find(it.sha);
        if (vit == video_cache.end()) {
          ck::video::Video probe;
          if (!want_video && !ck::video::probe(path, &probe))
            throw ck::Error(image_error + "; and it is not a video ffprobe can read");
          vit = video_cache.emplace(it.sha, std::make_shared<const ck::video::Video>(ck::video::read_video(path))).first;
        }
        it.video = vit->second;
        for (size_t k = 0; k < it.video->frames.size(); ++k) {
          imgs.emplace_back();
          sizes.emplace_back(it.video->width, it.video->height);
          item_of.push_back(int(items.size()));
        }
        media_parts.push_back(pl::video_prompt_parts(*it.video, marker));
      }
      items.push_back(std::move(it));
    }
    const auto groups = get_decoder().frame_groups(text, sizes, encoder->max_frames(), po, media_parts);
    std::string merged;
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      const auto& g = groups[gi];
      const Item& it = items[size_t(item_of[size_t(g[0])])];
      if (it.video) {
        // a video: the chunks mtmd makes of its parts; they must be what the whole prompt's grouping gives
        const auto vchunks = pl::video_chunks(*it.video, encoder->max_frames());
        pl::StillAfter still;
        for (size_t c = 0; c < vchunks.size(); ++c) {
          std::vector<int> want;
          for (int f : vchunks[c].frames) want.push_back(it.bitmap0 + f);
          // mtmd b10256 pairs the video's last frame, when it is alone in its chunk, with a same-size still right
          // after the video's marker (pipeline/video_input.h StillAfter)
          if (po.frame_merge && c + 1 == vchunks.size() && gi + c < groups.size() &&
              groups[gi + c].size() == want.size() + 1 && std::equal(want.begin(), want.end(), groups[gi + c].begin())) {
            const int j = groups[gi + c].back();
            const Item& next = items[size_t(item_of[size_t(j)])];
            if (next.video) throw ck::Error(next.path + ": internal: a video's first frame merged with another's");
            still = {&imgs[size_t(j)], next.path, next.sha};
            want.push_back(j);
            merged += std::string(merged.empty() ? "" : ", ") + std::to_string(item_of[size_t(g[0])] + 1) +
                      " (the video's last frame)+" + std::to_string(item_of[size_t(j)] + 1);
          }
          if (po.frame_merge && (gi + c >= groups.size() || groups[gi + c] != want))
            throw ck::Error(it.path + ": internal: the prompt's grouping of the video's frames is not mtmd's");
          out.groups.push_back(want);
        }
        auto encs = pl::encode_video(*encoder, *it.video, vchunks, it.path, it.sha, eo, still.image ? &still : nullptr);
        progress.done();
        out.chunks.insert(out.chunks.end(), encs.begin(), encs.end());
        out.paths.insert(out.paths.end(), encs.size(), it.path);
        out.video_of.insert(out.video_of.end(), encs.size(), it.video);
        // past this video's groups (its chunks when merged; one per frame with --no-frame-merge, which keeps
        // different media apart but leaves a video's own frames paired, as ref_decode --no-frame-merge does)
        while (gi + 1 < groups.size() && item_of[size_t(groups[gi + 1][0])] == item_of[size_t(g[0])]) ++gi;
        continue;
      }
      std::vector<ck::image::RgbImage> frames;
      std::string key;
      for (int j : g) {
        if (items[size_t(item_of[size_t(j)])].video)
          throw ck::Error(it.path + ": internal: an image grouped with the first frame of the video after it (a "
                          "video's parts start with the text \"Video:\", so mtmd never merges them)");
        frames.push_back(imgs[size_t(j)]);
        key += items[size_t(item_of[size_t(j)])].sha + "+";
      }
      if (g.size() > 1) {
        merged += std::string(merged.empty() ? "" : ", ");
        for (size_t f = 0; f < g.size(); ++f) merged += (f ? "+" : "") + std::to_string(item_of[size_t(g[f])] + 1);
      }
      out.chunks.push_back(encoder->encode_owned(frames, it.path, eo, key));
      out.groups.push_back(g);
      out.paths.push_back(it.path);
      out.video_of.push_back(nullptr);
      progress.done();
    }
    if (!merged.empty() && !quiet)
      std::fprintf(stderr,
                   "ck-bridge: images %s: same size at adjacent markers, merged into one 2-frame chunk each as "
                   "llama.cpp b10256 does (--no-frame-merge keeps them separate)\n",
                   merged.c_str());
    return out;
  };
  std::vector<std::shared_ptr<const pl::EncodedImage>> encoded;
  std::vector<ck::bridge::Prefix> opened;
  std::vector<pl::PrefixRef> refs;
  if (from_prefix) {
    json jprefix = json::array();
    int64_t rows = 0;
    opened.reserve(prefix_files.size());
    for (size_t k = 0; k < prefix_files.size(); ++k) {
      opened.push_back(ck::bridge::Prefix::open(prefix_files[k]));
      const auto& i = opened.back().info();
      rows += int64_t(i.rows);
      if (k == 0) rep["contracts"]["bridge"] = i.meta.value("bridge", json());
      json entry = prefix_entry(k, prefix_files[k], i);
      entry["preprocess"] = i.meta.value("preprocess", json());
      jprefix.push_back(entry);
      refs.push_back({i, opened.back().rows(), prefix_files[k]});
    }
    rep["prefix"] = jprefix;
    rep["token_counts"] = {{"encode", rows}, {"prefill", nullptr}, {"decode", nullptr}};
    rep["tokens_per_s"] = {{"encode", nullptr}, {"prefill", nullptr}, {"decode", nullptr}};
  } else {
    json jprefix = json::array();
    double pre_ms = 0, enc_ms = 0;
    int64_t enc_tokens = 0;
    pl::PromptOptions gpo;
    gpo.system = system_prompt;
    gpo.frame_merge = !no_frame_merge;
    const Encoded ei = encode_images(media, interactive ? std::string() : prompt, gpo);
    std::vector<const ck::video::Video*> reported;
    for (size_t k = 0; k < ei.chunks.size(); ++k) {
      const auto& e = ei.chunks[k];
      const auto& g = ei.groups[k];
      if (const auto& v = ei.video_of[k]; v && std::find(reported.begin(), reported.end(), v.get()) == reported.end()) {
        reported.push_back(v.get());
        json ts = json::array();
        for (const auto& p : v->parts)
          if (!p.frame) ts.push_back(p.text);
        json jv = file_info(ei.paths[k], e->info.meta["video"].value("sha256", ""));
        jv["size"] = {v->width, v->height};
        jv["source_fps"] = v->source_fps;
        jv["fps"] = v->fps;
        jv["duration_s"] = v->duration;
        jv["n_frames"] = v->frames.size();
        jv["n_chunks"] = e->info.meta["video"].value("n_chunks", 0);
        jv["texts"] = ts;
        jv["ffmpeg"] = v->ffmpeg_command;
        rep["inputs"]["videos"].push_back(jv);
      }
      pre_ms += e->preprocess_ms;
      enc_ms += e->encode_ms;
      enc_tokens += int64_t(e->info.rows);
      if (k == 0) rep["contracts"]["bridge"] = e->info.meta.value("bridge", json());
      json entry = prefix_entry(k, ei.paths[k], e->info);
      entry["bitmaps"] = g;
      if (e->info.meta.contains("video")) entry["video"] = e->info.meta["video"];
      entry["image_size"] = {e->source_width, e->source_height};
      entry["preprocessed_size"] = {e->pre_width, e->pre_height};
      entry["timings_ms"] = {{"preprocess", e->preprocess_ms}, {"encode", e->encode_ms}};
      entry["tokens_per_s"] = e->encode_ms > 0 ? double(e->info.rows) * 1000.0 / e->encode_ms : 0.0;
      entry["cached"] = e->cached;
      jprefix.push_back(entry);
      if (!work_dir.empty())
        ck::bridge::write_prefix_file(work_dir + "/prefix." + std::to_string(k) + ".bin", e->info, e->rows);
      encoded.push_back(e);
      refs.push_back({e->info, e->rows, ei.paths[k]});
    }
    rep["prefix"] = media.empty() ? json() : jprefix;
    rep.set_timing("preprocess", pre_ms);
    rep.set_timing("encode", enc_ms);
    rep["token_counts"] = {{"encode", enc_tokens}, {"prefill", nullptr}, {"decode", nullptr}};
    rep["tokens_per_s"] = {{"encode", enc_ms > 0 ? double(enc_tokens) * 1000.0 / enc_ms : 0.0},
                           {"prefill", nullptr},
                           {"decode", nullptr}};
  }
  if (stop_after == "encode") return finish("stopped_after_encode");

  pl::Decoder& decoder = get_decoder();
  ck::decode::Sampler sampler(sp);
  const auto stream = [&](int32_t, const std::string& piece) {
    if (!json_stdout) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  };
  const auto generate = [&](const pl::DecodePlan& plan, bool feed_last) {
    if (progress.on)
      progress.line("prefill " + std::to_string(plan.schedule.n_prompt_tokens) + " tokens ...");
    bool first = true;
    try {
      return decoder.generate(plan, sampler, n_predict, [&](int32_t id, const std::string& piece) {
        if (first) progress.done();
        first = false;
        return stream(id, piece);
      }, feed_last);
    } catch (const pl::RuntimeUnavailable& e) {
      throw ck::Error(e.what());
    }
  };

  if (interactive) {
    // llama-mtmd-cli's chat mode: each line is a user message appended to the same sequence (KV cache), images
    // attached with /image before the message they belong to; encoded images are cached by content.
    json turns = json::array();
    std::vector<std::string> pending;  // /image paths for the next message, plus the --image ones first
    for (const auto& im : media) pending.push_back(im);
    std::vector<int32_t> last_ids;
    const bool tty_in = isatty(STDIN_FILENO) != 0;
    bool first_turn = true;
    for (std::string line;;) {
      if (tty_in) {
        std::fputs("> ", stdout);
        std::fflush(stdout);
      }
      if (!std::getline(std::cin, line)) break;
      if (line.empty()) continue;
      if (line == "/quit" || line == "/exit") break;
      if (line == "/reset") {
        decoder.reset();
        sampler.reset_history();
        pending.clear();
        first_turn = true;
        if (!quiet) std::fprintf(stderr, "ck-bridge: chat history cleared\n");
        continue;
      }
      if (line.rfind("/image ", 0) == 0) {
        const std::string path = line.substr(7);
        std::error_code ec;
        if (!fs::is_regular_file(path, ec)) {
          std::fprintf(stderr, "ck-bridge: error: %s: no such image file\n", path.c_str());
          continue;
        }
        pending.push_back(path);
        if (!quiet) std::fprintf(stderr, "ck-bridge: %s attached to the next message\n", path.c_str());
        continue;
      }
      if (line[0] == '/') {
        std::fprintf(stderr, "ck-bridge: unknown command %s (/image PATH, /reset, /quit)\n", line.c_str());
        continue;
      }
      try {
        pl::PromptOptions po;
        po.system = first_turn ? system_prompt : "";
        po.continue_chat = !first_turn;
        po.frame_merge = !no_frame_merge;
        const Encoded imgs = encode_images(pending, line, po);
        std::vector<pl::PrefixRef> trefs;
        for (size_t k = 0; k < imgs.chunks.size(); ++k)
          trefs.push_back({imgs.chunks[k]->info, imgs.chunks[k]->rows, imgs.paths[k]});
        const pl::DecodePlan plan = decoder.plan(line, trefs, po);
        const auto r = generate(plan, true);
        std::fputc('\n', stdout);
        std::fflush(stdout);
        json ids = json::array();
        for (int32_t t : r.tokens) ids.push_back(t);
        std::string text;
        for (int32_t t : r.tokens)
          if (std::find(decoder.stop_ids().begin(), decoder.stop_ids().end(), t) == decoder.stop_ids().end())
            text += decoder.tokenizer().token_to_piece(t, true);
        turns.push_back({{"prompt", line}, {"images", pending}, {"formatted", plan.formatted},
                         {"n_prompt_tokens", plan.schedule.n_prompt_tokens}, {"token_ids", ids}, {"text", text},
                         {"stop_reason", stop_reason(r, n_predict)}, {"n_past", r.n_past},
                         {"timings_ms", {{"prefill", r.prefill_ms}, {"decode", r.decode_ms}}}});
        if (!quiet)
          std::fprintf(stderr, "ck-bridge: prompt %lld tokens, %zu generated, prefill %.1f ms, decode %.1f ms\n",
                       (long long)plan.schedule.n_prompt_tokens, r.tokens.size(), r.prefill_ms, r.decode_ms);
        pending.clear();
        first_turn = false;
      } catch (const ck::Error& e) {
        // One bad message (an unreadable image, a prompt too long) does not end the chat.
        std::fprintf(stderr, "ck-bridge: error: %s\n", e.what());
        pending.clear();
      }
    }
    rep["output"] = {{"turns", turns}, {"n_predict", n_predict}};
    return finish("ok");
  }

  pl::PromptOptions po;
  po.system = system_prompt;
  po.frame_merge = !no_frame_merge;
  const pl::DecodePlan plan = decoder.plan(prompt, refs, po);
  rep["prompt"] = [&] {
    const json pj = plan.to_json();
    return json{{"text", prompt},
                {"formatted", pj["formatted_prompt"]},
                {"text_token_ids", pj["prompt_text_tokens"]},
                {"n_prompt_tokens", pj["n_prompt_tokens"]},
                {"n_images", refs.size()},
                {"segments", pj["chunks"]}};
  }();
  const auto r = generate(plan, false);
  if (!json_stdout) std::fputc('\n', stdout);
  std::fflush(stdout);
  std::string text;
  json ids = json::array();
  for (int32_t t : r.tokens) {
    ids.push_back(t);
    if (std::find(decoder.stop_ids().begin(), decoder.stop_ids().end(), t) == decoder.stop_ids().end())
      text += decoder.tokenizer().token_to_piece(t, true);
  }
  const auto per_s = [](double n, double ms) { return ms > 0 ? n * 1000.0 / ms : 0.0; };
  rep["output"] = {{"text", text},
                   {"token_ids", ids},
                   {"n_generated", r.tokens.size()},
                   {"stop_reason", stop_reason(r, n_predict)},
                   {"n_predict", n_predict}};
  rep.set_timing("prefill", r.prefill_ms);
  rep.set_timing("decode", r.decode_ms);
  rep["token_counts"]["prefill"] = r.n_prompt_tokens;
  rep["token_counts"]["decode"] = r.tokens.size();
  rep["tokens_per_s"]["prefill"] = per_s(double(r.n_prompt_tokens), r.prefill_ms);
  rep["tokens_per_s"]["decode"] = per_s(double(r.tokens.size()), r.decode_ms);
  if (!quiet)
    std::fprintf(stderr,
                 "ck-bridge: %zu image(s), prompt %lld tokens, generated %zu tokens%s; prefill %.1f ms, decode %.1f "
                 "ms (%.1f tokens/s)\n",
                 refs.size(), (long long)r.n_prompt_tokens, r.tokens.size(), r.hit_eog ? " (end of generation)" : "",
                 r.prefill_ms, r.decode_ms, per_s(double(r.tokens.size()), r.decode_ms));
  return finish("ok");
}

}  // namespace

int main(int argc, char** argv) { return ck::run_tool("ck-bridge", body, argc, argv); }
