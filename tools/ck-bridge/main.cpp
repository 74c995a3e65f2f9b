// ck-bridge: the whole pipeline in one command, with a report.
//   ck-bridge --mmproj M.gguf --model T.gguf --image IMG [--image IMG2 ...] -p PROMPT [-n N] [-t N]
//             [--cache-dir DIR] [--no-cache] [--stop-after convert|lower|layout|encode] [--report FILE]
//             [--work-dir DIR] [--image-min-tokens N] [--image-max-tokens N]
//   ck-bridge --model T.gguf --start-from prefix --prefix P.bin [--prefix P2.bin ...] -p PROMPT ...
// Cut points (as IREE's compile phases): --stop-after ends after a phase; with --work-dir the artifacts of the run
// (prefix.K.bin, decode outputs) stay there, and --start-from prefix continues from such prefixes (no mmproj).
// Several images: each --image is encoded on its own (ck-encode) and goes to the next <__media__> marker of the
// prompt, in order (as llama-mtmd-cli); a prompt without markers gets one per image after the text.
// convert -> lower -> layout for both GGUFs (cached by GGUF sha256 + templates sha256 + stage tool hashes + mode),
// then ck-encode and ck-decode; the answer goes to stdout, bridge_report.json (docs/formats/bridge_report.md) to
// --report. Stages run as subprocesses of the tools next to this executable (tools/ck-bridge/stages.h).
// Bad input (missing file, GGUFs in the wrong role, a mmproj whose projection width is not the model's input width)
// -> one line on stderr, exit 2.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bridge/report.h"
#include "core/error.h"
#include "core/sha256.h"
#include "core/thread_pool.h"
#include "kernels/isa.h"
#include "stages.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using ck::bridge_tool::check_stage;
using ck::bridge_tool::run_stage;

constexpr const char* kVersion = "0.2.0";
const char* const kPlanTools[] = {"ck-convert", "ck-lower", "ck-layout"};

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) ck::fail(path, "cannot open");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

json read_json(const std::string& path) {
  try {
    return json::parse(read_file(path));
  } catch (const json::exception& e) {
    ck::fail(path, std::string("not JSON: ") + e.what());
  }
}

std::string sha256_str(const std::string& s) {
  return ck::sha256_hex({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

void require_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) ck::fail(path, "no such " + what + " file");
}

std::string templates_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("CK_TEMPLATES"); env != nullptr && *env != '\0') return env;
  return CK_DEFAULT_TEMPLATES_DIR;
}

// sha256 over every template file (name + bytes, sorted by name): any template change invalidates the cache.
std::string templates_sha(const std::string& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file()) files.push_back(e.path());
  if (ec || files.empty()) ck::fail(dir, "templates directory is missing or empty");
  std::sort(files.begin(), files.end());
  std::string acc;
  for (const auto& f : files) acc += f.filename().string() + " " + ck::sha256_file_hex(f.string()) + "\n";
  return sha256_str(acc);
}

std::string default_cache_root() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/ck";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/ck";
  throw ck::Error("no cache directory: set XDG_CACHE_HOME or HOME, or pass --cache-dir / --no-cache");
}

// One GGUF's plan: convert -> lower -> layout into `dir`, each stage skipped when its output is already there.
// Every stage's output appears atomically (the tools write temp+rename; ck-layout's directory is renamed here),
// so a present file is a complete one.
struct Planned {
  std::string role, gguf, sha256, key, dir;
  json manifest;
  json cached = json::object();
};

void plan_model(Planned& p, const std::string& bin, const std::string& tdir, const std::string& mode,
                const std::string& stop_after, double t[3]) {
  fs::create_directories(p.dir);
  const std::string manifest = p.dir + "/manifest.json", ir1 = p.dir + "/ir1.json", plan = p.dir + "/plan";
  if (p.cached.contains("convert")) {
    // converted earlier in this run (both GGUFs are converted before the pair check)
  } else if (fs::exists(manifest)) {
    p.cached["convert"] = true;
  } else {
    auto r = run_stage(bin, "ck-convert", {p.gguf, "-o", p.dir + "/weights.bump", "--manifest", manifest,
                                           "--templates", tdir}, "");
    check_stage("ck-convert", r);
    p.cached["convert"] = false;
    t[0] += r.ms;
  }
  p.manifest = read_json(manifest);
  if (stop_after == "convert") return;
  if (fs::exists(ir1)) {
    p.cached["lower"] = true;
  } else {
    auto r = run_stage(bin, "ck-lower", {manifest, "-o", ir1, "--templates", tdir, "--mode", mode}, "");
    check_stage("ck-lower", r);
    p.cached["lower"] = false;
    t[1] += r.ms;
  }
  if (stop_after == "lower") return;
  if (fs::exists(plan + "/call.json")) {
    p.cached["layout"] = true;
  } else {
    const std::string tmp = plan + ".tmp." + std::to_string(getpid());
    fs::remove_all(tmp);
    auto r = run_stage(bin, "ck-layout", {ir1, "-o", tmp}, "");
    if (r.exit_code != 0) fs::remove_all(tmp);
    check_stage("ck-layout", r);
    fs::remove_all(plan);
    fs::rename(tmp, plan);
    p.cached["layout"] = false;
    t[2] += r.ms;
  }
}

// A GGUF in the wrong role, or a pair whose widths differ: checked on the manifests, before anything runs on them.
void check_pair(const Planned& enc, const Planned& dec) {
  if (!enc.manifest.contains("preprocess"))
    ck::fail(enc.gguf, "is not a vision projector (its template has no preprocess contract); pass it as --model?");
  if (!dec.manifest.contains("chat"))
    ck::fail(dec.gguf, "is not a text model (its template has no chat contract); pass it as --mmproj?");
  const json& ec = enc.manifest.value("config", json::object());
  const json& dc = dec.manifest.value("config", json::object());
  if (!ec.contains("n_mmproj_embd") || !dc.contains("n_embd_inp")) return;  // nothing to compare: ck-decode checks
  const int64_t proj = ec["n_mmproj_embd"].get<int64_t>(), inp = dc["n_embd_inp"].get<int64_t>();
  if (proj == inp) return;
  const auto n_embd = dc.value("n_embd", int64_t(0)), n_ds = dc.value("n_deepstack_layers", int64_t(0));
  throw ck::Error(enc.gguf + " and " + dec.gguf + " are not a pair: the projector's output width is " +
                  std::to_string(proj) + " but the text model expects n_embd*(1+n_deepstack) = " +
                  std::to_string(n_embd) + "*(1+" + std::to_string(n_ds) + ") = " + std::to_string(inp));
}

json file_info(const std::string& path, const std::string& sha) {
  return {{"file", fs::path(path).filename().string()}, {"bytes", fs::file_size(path)}, {"sha256", sha}};
}

std::vector<int64_t> read_ids(const std::string& path) {
  std::vector<int64_t> ids;
  std::istringstream in(read_file(path));
  for (int64_t v; in >> v;) ids.push_back(v);
  return ids;
}

// One bridge_report "prefix" entry from `ck-encode --info` JSON of image k's prefix (`source` names it).
json prefix_entry(size_t k, const std::string& source, const json& info) {
  return {{"image", k},
          {"file", fs::path(source).filename().string()},
          {"rows", info["rows"]},
          {"row_width", info["row_width"]},
          {"n_embd", info["n_embd"]},
          {"n_deepstack", info["n_deepstack"]},
          {"grid", info["grid"]},
          {"data_bytes", info["data_bytes"]}};
}

int body(int argc, char** argv) {
  CLI::App app{"ck-bridge: image + prompt -> text through the whole ck pipeline, with a report"};
  std::string mmproj, model, prompt, cache_dir, stop_after, report_path = "bridge_report.json", tflag;
  std::vector<std::string> images;
  std::string mode = "strict";
  int n_predict = 128, threads = 0, min_tokens = 0, max_tokens = 0;
  bool no_cache = false;
  std::string start_from, work_dir;
  std::vector<std::string> prefix_files;
  app.add_option("--mmproj", mmproj, "vision projector GGUF (not with --start-from prefix)");
  app.add_option("--model", model, "text model GGUF")->required();
  app.add_option("--image", images, "input image (PNG, JPEG, ...); repeat for several images (marker order)")
      ->allow_extra_args(false);
  app.add_option("--start-from", start_from, "start at this phase: prefix = decode from --prefix files")
      ->check(CLI::IsMember({"prefix"}));
  app.add_option("--prefix", prefix_files, "with --start-from prefix: a ck-encode prefix; repeat per image")
      ->allow_extra_args(false);
  app.add_option("--work-dir", work_dir, "keep this run's artifacts (prefix.K.bin, decode outputs) in DIR");
  app.add_option("--image-min-tokens", min_tokens, "override the model's minimum image tokens (llama.cpp option)")
      ->check(CLI::PositiveNumber);
  app.add_option("--image-max-tokens", max_tokens, "override the model's maximum image tokens (llama.cpp option)")
      ->check(CLI::PositiveNumber);
  app.add_option("-p,--prompt", prompt, "user prompt")->required();
  app.add_option("-n,--n-predict", n_predict, "tokens to generate (-1: until end of generation)");
  app.add_option("-t,--threads", threads, "threads (default: physical cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--cache-dir", cache_dir, "plan cache (default ${XDG_CACHE_HOME:-$HOME/.cache}/ck)");
  app.add_flag("--no-cache", no_cache, "plan into a temporary directory, removed at exit");
  app.add_option("--stop-after", stop_after, "stop after this phase")
      ->check(CLI::IsMember({"convert", "lower", "layout", "encode"}));
  app.add_option("--report", report_path, "write bridge_report.json here");
  app.add_option("--mode", mode, "numerics mode for ck-lower: strict | fast")->check(CLI::IsMember({"strict", "fast"}));
  app.add_option("--templates", tflag, "templates directory (default $CK_TEMPLATES, else the source tree's)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    throw ck::Error(std::string(e.what()) + " (see ck-bridge --help)");
  }
  const bool from_prefix = start_from == "prefix";
  if (from_prefix) {
    if (prefix_files.empty()) throw ck::Error("--start-from prefix needs at least one --prefix FILE");
    if (!images.empty() || !mmproj.empty())
      throw ck::Error("--start-from prefix decodes given prefixes: --image/--mmproj do not apply");
    if (!stop_after.empty()) throw ck::Error("--stop-after " + stop_after + " is before --start-from prefix");
  } else {
    if (!prefix_files.empty()) throw ck::Error("--prefix needs --start-from prefix");
    if (mmproj.empty()) throw ck::Error("--mmproj is required (or --start-from prefix)");
    if (images.empty()) throw ck::Error("--image is required (or --start-from prefix)");
    require_file(mmproj, "mmproj GGUF");
  }
  require_file(model, "model GGUF");
  for (const auto& image : images) require_file(image, "image");
  for (const auto& prefix : prefix_files) require_file(prefix, "prefix");
  if (threads == 0) threads = ck::ThreadPool::physical_cores();

  const std::string bin = ck::bridge_tool::self_bin_dir();
  const std::string tdir = templates_dir(tflag);
  const auto t_start = std::chrono::steady_clock::now();

  // Work directory: the prefix and decode outputs of this run (always temporary); with --no-cache the plans too.
  const std::string wtmpl = (fs::temp_directory_path() / "ck-bridge.XXXXXX").string();
  std::vector<char> wbuf(wtmpl.begin(), wtmpl.end());
  wbuf.push_back('\0');
  if (!mkdtemp(wbuf.data())) throw ck::Error("cannot create a work directory in $TMPDIR");
  const std::string tmp_work = wbuf.data();
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{tmp_work};
  std::string work = tmp_work;
  if (!work_dir.empty()) {
    std::error_code ec;
    fs::create_directories(work_dir, ec);
    if (ec || !fs::is_directory(work_dir)) ck::fail(work_dir, "cannot create the work directory");
    work = work_dir;
  }

  ck::bridge::Report rep;
  rep["tool"] = {{"name", "ck-bridge"}, {"version", kVersion}, {"stages", "subprocess"}};
  rep["mode"] = mode;
  rep["threads"] = threads;
  rep["isa"] = ck::kernels::isa_name(ck::kernels::active_isa());

  // Cache key: GGUF bytes + every template + the plan tools' binaries + mode + this tool's version.
  const std::string tsha = templates_sha(tdir);
  std::string tools_acc;
  json tools = json::object();
  for (const char* t : kPlanTools) {
    const std::string h = ck::sha256_file_hex(bin + "/" + t);
    tools[t] = h;
    tools_acc += h;
  }
  const std::string cache_root = no_cache ? work + "/plans" : (cache_dir.empty() ? default_cache_root() : cache_dir);
  Planned enc, dec;
  enc.role = "mmproj", enc.gguf = mmproj;
  dec.role = "model", dec.gguf = model;
  for (Planned* p : {&enc, &dec}) {
    if (from_prefix && p == &enc) continue;
    p->sha256 = ck::sha256_file_hex(p->gguf);
    p->key = sha256_str(p->sha256 + tsha + tools_acc + mode + kVersion);
    p->dir = cache_root + "/" + p->key.substr(0, 32);
  }
  json jimages = json::array();
  for (const auto& image : images) jimages.push_back(file_info(image, ck::sha256_file_hex(image)));
  json jprefix_in = json::array();
  for (const auto& pf : prefix_files) jprefix_in.push_back(file_info(pf, ck::sha256_file_hex(pf)));
  rep["inputs"] = {{"mmproj", from_prefix ? json() : file_info(mmproj, enc.sha256)},
                   {"model", file_info(model, dec.sha256)},
                   {"images", jimages},
                   {"prefixes", jprefix_in},
                   {"start_from", from_prefix ? json("prefix") : json()},
                   {"image_tokens", {{"min", min_tokens > 0 ? json(min_tokens) : json()},
                                     {"max", max_tokens > 0 ? json(max_tokens) : json()}}},
                   {"prompt", prompt},
                   {"templates_sha256", tsha},
                   {"stage_tools_sha256", tools}};

  double t[3] = {0, 0, 0};
  // Convert both first so a mismatched pair is reported before any lowering.
  if (!from_prefix) plan_model(enc, bin, tdir, mode, "convert", t);
  plan_model(dec, bin, tdir, mode, "convert", t);
  if (!from_prefix) check_pair(enc, dec);  // from a prefix, ck-decode checks the row width against the model
  if (stop_after != "convert") {
    if (!from_prefix) plan_model(enc, bin, tdir, mode, stop_after, t);
    plan_model(dec, bin, tdir, mode, stop_after, t);
  }
  auto plan_json = [&](const Planned& p) {
    bool all = true;
    for (const auto& [k, v] : p.cached.items()) all = all && v.get<bool>();
    return json{{"cache_key", p.key},
                {"template", p.manifest.value("template", json())},
                {"arch", p.manifest.value("arch", json())},
                {"bump_sha256", p.manifest.contains("bump") ? p.manifest["bump"].value("sha256", json()) : json()},
                {"cached", p.cached},
                {"all_cached", all}};
  };
  const bool all_cached =
      (from_prefix || plan_json(enc)["all_cached"].get<bool>()) && plan_json(dec)["all_cached"].get<bool>();
  rep["artifacts"] = {{"cache", no_cache ? json("disabled") : json("enabled")},
                      {"cached", all_cached},
                      {"mmproj", from_prefix ? json() : plan_json(enc)},
                      {"model", plan_json(dec)},
                      {"work_dir", work_dir.empty() ? json() : json(work_dir)}};
  rep["contracts"] = {{"preprocess", from_prefix ? json() : enc.manifest.value("preprocess", json())},
                      {"bridge", nullptr},
                      {"chat", dec.manifest.value("chat", json())}};
  rep.set_timing("convert", t[0]);
  rep.set_timing("lower", t[1]);
  rep.set_timing("layout", t[2]);

  auto finish = [&](const std::string& status) {
    rep["status"] = status;
    rep["timings_ms"]["total"] =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_start).count();
    rep.write(report_path);
    return 0;
  };
  if (stop_after == "convert" || stop_after == "lower" || stop_after == "layout")
    return finish("stopped_after_" + stop_after);

  // Encode: one ck-encode per image, in order (or the given prefixes with --start-from prefix).
  std::vector<std::string> prefixes;
  if (from_prefix) {
    json jprefix = json::array();
    int64_t rows = 0;
    for (size_t k = 0; k < prefix_files.size(); ++k) {
      const std::string info_json = work + "/info." + std::to_string(k) + ".json";
      auto info = run_stage(bin, "ck-encode", {"--info", prefix_files[k]}, info_json);
      check_stage("ck-encode --info", info);
      const json i = read_json(info_json);
      rows += i["rows"].get<int64_t>();
      if (k == 0) rep["contracts"]["bridge"] = i["meta"].value("bridge", json());
      json entry = prefix_entry(k, prefix_files[k], i);
      entry["preprocess"] = i["meta"].value("preprocess", json());
      jprefix.push_back(entry);
      prefixes.push_back(prefix_files[k]);
    }
    rep["prefix"] = jprefix;
    rep["token_counts"] = {{"encode", rows}, {"prefill", nullptr}, {"decode", nullptr}};
    rep["tokens_per_s"] = {{"encode", nullptr}, {"prefill", nullptr}, {"decode", nullptr}};
  } else {
    json jprefix = json::array();
    double pre_ms = 0, enc_ms = 0;
    int64_t enc_tokens = 0;
    for (size_t k = 0; k < images.size(); ++k) {
      const std::string tag = std::to_string(k);
      const std::string prefix = work + "/prefix." + tag + ".bin", enc_json = work + "/encode." + tag + ".json",
                        info_json = work + "/info." + tag + ".json";
      std::vector<std::string> eargs = {"-m", enc.dir + "/plan", images[k], "-o", prefix, "--json", enc_json,
                                        "-t", std::to_string(threads)};
      if (min_tokens > 0) eargs.insert(eargs.end(), {"--image-min-tokens", std::to_string(min_tokens)});
      if (max_tokens > 0) eargs.insert(eargs.end(), {"--image-max-tokens", std::to_string(max_tokens)});
      auto r = run_stage(bin, "ck-encode", eargs, "");
      check_stage("ck-encode", r);
      auto info = run_stage(bin, "ck-encode", {"--info", prefix}, info_json);
      check_stage("ck-encode --info", info);
      const json e = read_json(enc_json), i = read_json(info_json);
      pre_ms += e.value("preprocess_ms", 0.0);
      enc_ms += e.value("encode_ms", 0.0);
      enc_tokens += i["rows"].get<int64_t>();
      if (k == 0) rep["contracts"]["bridge"] = i["meta"].value("bridge", json());
      json entry = prefix_entry(k, images[k], i);
      entry["image_size"] = {e["source"]["width"], e["source"]["height"]};
      entry["preprocessed_size"] = {e["preprocessed"]["width"], e["preprocessed"]["height"]};
      entry["timings_ms"] = {{"preprocess", e.value("preprocess_ms", 0.0)}, {"encode", e.value("encode_ms", 0.0)}};
      entry["tokens_per_s"] = e.value("tokens_per_s", 0.0);
      jprefix.push_back(entry);
      prefixes.push_back(prefix);
    }
    rep["prefix"] = jprefix;
    rep.set_timing("preprocess", pre_ms);
    rep.set_timing("encode", enc_ms);
    rep["token_counts"] = {{"encode", enc_tokens}, {"prefill", nullptr}, {"decode", nullptr}};
    rep["tokens_per_s"] = {{"encode", enc_ms > 0 ? double(enc_tokens) * 1000.0 / enc_ms : 0.0},
                           {"prefill", nullptr},
                           {"decode", nullptr}};
  }
  if (stop_after == "encode") return finish("stopped_after_encode");

  // Decode: the prompt schedule first (prompt token ids), then the generation.
  const std::string dplan = dec.dir + "/plan";
  std::vector<std::string> prefix_args;
  for (const auto& p : prefixes) prefix_args.insert(prefix_args.end(), {"--prefix", p});
  const auto decode_args = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {"-m", dplan};
    a.insert(a.end(), prefix_args.begin(), prefix_args.end());
    a.insert(a.end(), {"-p", prompt});
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  {
    auto r = run_stage(bin, "ck-decode", decode_args({"--plan"}), work + "/decode_plan.json");
    check_stage("ck-decode --plan", r);
    const json pl = read_json(work + "/decode_plan.json");
    rep["prompt"] = {{"text", prompt},
                     {"formatted", pl["formatted_prompt"]},
                     {"text_token_ids", pl["prompt_text_tokens"]},
                     {"n_prompt_tokens", pl["n_prompt_tokens"]},
                     {"n_images", images.size()},
                     {"segments", pl["chunks"]}};
  }
  const std::string tokens = work + "/tokens.txt", answer = work + "/answer.txt", stats = work + "/decode.json";
  auto r = run_stage(bin, "ck-decode",
                     decode_args({"-n", std::to_string(n_predict), "-t", std::to_string(threads), "--tokens-out",
                                  tokens, "--json", stats}),
                     answer);
  check_stage("ck-decode", r);
  std::string text = read_file(answer);
  if (!text.empty() && text.back() == '\n') text.pop_back();  // ck-decode ends its output with one newline
  const auto ids = read_ids(tokens);
  const json st = read_json(stats);  // ck.decode_stats (tools/ck-decode --json)
  if (st.value("format", "") != "ck.decode_stats" || st.value("version", 0) != 1)
    ck::fail(stats, "not a ck.decode_stats version 1 document (ck-decode too old or too new?)");
  rep["output"] = {{"text", text},
                   {"token_ids", ids},
                   {"n_generated", ids.size()},
                   {"stop_reason", st["stop_reason"]},
                   {"n_predict", n_predict}};
  rep.set_timing("prefill", st["prefill"]["ms"].get<double>());
  rep.set_timing("decode", st["decode"]["ms"].get<double>());
  rep["token_counts"]["prefill"] = st["prefill"]["n_tokens"];
  rep["token_counts"]["decode"] = st["decode"]["n_tokens"];
  rep["tokens_per_s"]["prefill"] = st["prefill"]["tokens_per_s"];
  rep["tokens_per_s"]["decode"] = st["decode"]["tokens_per_s"];
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  return finish("ok");
}

}  // namespace

int main(int argc, char** argv) { return ck::run_tool("ck-bridge", body, argc, argv); }
