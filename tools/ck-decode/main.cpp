// ck-decode: image prefix + prompt -> generated text, like llama-mtmd-cli single turn (docs/formats/chat.md).
//   ck-decode -m dec/ --prefix img.prefix -p "Describe this image." -n 32      (prefix: FILE, -, shm:NAME)
//   ck-decode -m dec/ --prefix a.prefix --prefix b.prefix -p "<__media__>A? <__media__>B?"   (image k -> marker k)
//   ck-decode -m dec/ --prefix ab.prefix -p "<__media__><__media__>Compare."   (a 2-frame prefix: 2 markers)
//   ck-decode -m dec/ -p "Hello" --plan          the prompt schedule as JSON (no decoding)
//   ck-decode -m dec/ --tokenize "Hello world"   token ids of a text part
// Text goes to stdout as it is generated, statistics to stderr. Exit 0 ok, 2 bad input, 3 runtime missing.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "bridge/prefix.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "core/output_file.h"
#include "decode/sampling.h"
#include "pipeline/decoder.h"
#include "pipeline/decoder_backend.h"
#include "pipeline/sampling_flags.h"

namespace {

using json = nlohmann::ordered_json;
namespace dc = ck::decode;

constexpr int kExitNoRuntime = 3;

int body(int argc, char** argv) {
  CLI::App app{"ck-decode: generate text from an image prefix and a prompt (llama-mtmd-cli single turn)"};
  std::string model_dir, prompt, prompt_file, dump_dir, logits_out, tokens_out, tokenize_text, json_out,
      logits_all_out;
  std::vector<std::string> prefix_srcs;
  int n_predict = -1, threads = 0;
  int64_t ctx_size = 4096, n_batch = 2048, n_ubatch = 512;
  std::string system_prompt;
  bool raw = false, image_first = false, plan = false, profile = false, no_frame_merge = false,
       jinja = false;
  dc::SamplingParams sp;
  app.add_option("-m,--model", model_dir, "decoder directory (call.json + layout.json from ck-layout)")->required();
  app.add_option("--prefix", prefix_srcs, "image prefix from ck-encode: FILE, - (stdin), shm:NAME, or a directory "
                                         "from ck-encode --video -o DIR (its prefixes in order = one marker); repeat "
                                         "for several images (the k-th --prefix goes to the k-th marker)")
      ->allow_extra_args(false);
  app.add_option("-p,--prompt", prompt, "the user prompt (image markers <__media__> place the images in order; "
                                        "without any, one marker per image follows the text, as llama-mtmd-cli)");
  app.add_option("-f,--file", prompt_file, "read the prompt from FILE (- = stdin)");
  app.add_option("-n,--n-predict", n_predict, "tokens to generate (-1: until end of generation or full context)");
  app.add_option("-t,--threads", threads, "threads (0: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--ctx-size", ctx_size, "KV cache size in tokens (rounded up to 256; at most the planned size)");
  app.add_option("--n-batch", n_batch, "logical batch (llama_decode call) size")->check(CLI::PositiveNumber);
  app.add_option("--n-ubatch", n_ubatch, "physical batch size (at most the planned n_tokens)")->check(CLI::PositiveNumber);
  app.add_flag("--no-frame-merge", no_frame_merge,
               "same-size images at adjacent markers stay separate chunks (llama.cpp's later opt-in, "
               "mtmd_bitmap_set_mergeable); by default they must come as one 2-frame prefix (ck-encode A B), as "
               "llama.cpp b10256 merges them, and separate prefixes there are refused");
  app.add_flag("--raw", raw, "use the prompt as is (no chat shell; the image marker rule still applies)");
  app.add_flag("--jinja", jinja,
               "the chat template's jinja rendering (llama-server, llama-mtmd-cli --jinja; e.g. Thinking models "
               "open the reply with <think>) instead of llama-mtmd-cli's default legacy shell");
  app.add_flag("--image-first", image_first, "put the image(s) before the prompt text when it has no marker");
  app.add_option("--dump", dump_dir, "write every named activation as a ck.dump to DIR");
  app.add_option("--logits-out", logits_out, "write the logits after the prompt (f32, n_vocab) to FILE");
  app.add_option("--tokens-out", tokens_out, "write the generated token ids (one line, space-separated) to FILE");
  app.add_option("--logits-all-out", logits_all_out,
                 "write f32 logits of every prompt position, then of every generation step, to FILE "
                 "(every prompt token is then an output row, as ref_decode --prompt-logits-out)");
  app.add_option("--json", json_out, "write timings and counts (ck.decode_stats) to FILE (- = stderr)");
  app.add_flag("--profile", profile, "print the time per kernel of the prompt and of the generation steps to "
                                     "stderr (also in --json)");
  app.add_option("--tokenize", tokenize_text, "print the token ids of TEXT (as a text part of the prompt) and exit");
  app.add_flag("--plan", plan, "print the prompt schedule (chunks, positions, ubatches, n_kv) as JSON and exit");
  ck::pipeline::add_sampling_flags(app, sp);
  app.add_option("--system", system_prompt, "a system message before the user's (not with --raw)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    throw ck::Error(std::string(e.what()) + " (see ck-decode --help)");
  }

  if (!prompt.empty() && !prompt_file.empty()) throw ck::Error("give the prompt with -p or -f, not both");
  if (!prompt_file.empty()) prompt = ck::read_text_file(prompt_file);

  ck::runtime::Profile prefill_profile, decode_profile;
  ck::pipeline::DecoderOptions dopt;
  dopt.threads = threads;
  dopt.ctx_size = ctx_size;
  dopt.n_batch = n_batch;
  dopt.n_ubatch = n_ubatch;
  dopt.dump_dir = dump_dir;
  if (profile) {
    dopt.prefill_profile = &prefill_profile;
    dopt.decode_profile = &decode_profile;
  }
  ck::pipeline::Decoder dec(model_dir, dopt);
  if (!tokenize_text.empty()) {
    const auto ids = dec.tokenize(tokenize_text);
    for (size_t i = 0; i < ids.size(); ++i) std::printf("%s%d", i ? " " : "", ids[i]);
    std::printf("\n");
    return 0;
  }
  if (prompt.empty() && prompt_file.empty()) throw ck::Error("no prompt: give -p TEXT or -f FILE");

  // Prefixes, one per image, in marker order; a directory (ck-encode --video -o DIR) = its *.prefix files, sorted.
  {
    std::vector<std::string> expanded;
    for (const auto& src : prefix_srcs) {
      std::error_code ec;
      if (src != "-" && src.rfind("shm:", 0) != 0 && std::filesystem::is_directory(src, ec)) {
        std::vector<std::string> files;
        for (const auto& e : std::filesystem::directory_iterator(src, ec))
          if (e.is_regular_file() && e.path().extension() == ".prefix") files.push_back(e.path().string());
        if (files.empty()) ck::fail(src, "a directory without .prefix files");
        std::sort(files.begin(), files.end());
        expanded.insert(expanded.end(), files.begin(), files.end());
      } else {
        expanded.push_back(src);
      }
    }
    prefix_srcs = expanded;
  }
  int n_stdin = 0;
  for (const auto& src : prefix_srcs) n_stdin += src == "-";
  if (n_stdin > 1) throw ck::Error("--prefix -: stdin can carry one prefix only");
  std::vector<ck::bridge::Prefix> prefixes;
  std::vector<ck::pipeline::PrefixRef> refs;
  prefixes.reserve(prefix_srcs.size());
  for (const auto& src : prefix_srcs) {
    prefixes.push_back(ck::bridge::Prefix::open(src));
    ck::decode::check_prefix(dec.model(), prefixes.back().info(), src);
  }
  for (size_t k = 0; k < prefixes.size(); ++k)
    refs.push_back({prefixes[k].info(), prefixes[k].rows(), prefix_srcs[k]});
  const int n_images = int(prefixes.size());
  int n_bitmaps = 0;  // a prefix of f temporal frames stands for f images (markers)
  for (const auto& p : prefixes) n_bitmaps += int(p.info().frames);
  const bool all_logits = !logits_all_out.empty();
  ck::pipeline::PromptOptions po;
  po.raw = raw;
  po.image_first = image_first;
  po.all_logits = all_logits;
  po.system = system_prompt;
  po.frame_merge = !no_frame_merge;
  po.jinja = jinja;
  if (raw && jinja) throw ck::Error("--jinja renders the chat template: not with --raw");
  if (raw && !system_prompt.empty()) throw ck::Error("--system needs the chat shell: not with --raw");
  const ck::pipeline::DecodePlan pl = dec.plan(prompt, refs, po);
  const dc::Schedule& sched = pl.schedule;
  if (plan) {
    std::printf("%s\n", pl.to_json().dump(1).c_str());
    return 0;
  }

  dc::Sampler sampler(sp);
  const auto t0 = std::chrono::steady_clock::now();
  dc::GenerateResult r;
  try {
    r = dec.generate(pl, sampler, n_predict, [&](int32_t, const std::string& piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    });
  } catch (const ck::pipeline::RuntimeUnavailable& e) {
    std::fprintf(stderr, "ck-decode: error: %s\n", e.what());
    return kExitNoRuntime;
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("\n");
  if (!logits_out.empty()) {
    ck::OutputFile f(logits_out);
    f.write(r.first_logits.data(), r.first_logits.size() * sizeof(float));
    f.commit();
  }
  if (all_logits) {
    ck::OutputFile f(logits_all_out);
    f.write(r.all_logits.data(), r.all_logits.size() * sizeof(float));
    f.commit();
  }
  if (!json_out.empty()) {
    const auto per_s = [](double n, double ms) { return ms > 0 ? n * 1000.0 / ms : 0.0; };
    json j;
    j["format"] = "ck.decode_stats";
    j["version"] = 1;
    j["threads"] = dec.threads();
    j["mode"] = dec.model().mode;
    j["n_images"] = n_images;
    j["n_frames"] = n_bitmaps;
    j["n_prompt_tokens"] = sched.n_prompt_tokens;
    j["prefill"] = {{"ms", r.prefill_ms},
                    {"n_tokens", r.n_prompt_tokens},
                    {"n_ubatches", r.n_prompt_ubatches},
                    {"tokens_per_s", per_s(double(r.n_prompt_tokens), r.prefill_ms)}};
    j["decode"] = {{"ms", r.decode_ms},
                   {"n_tokens", r.tokens.size()},
                   {"n_forward", r.n_decode_passes},
                   {"tokens_per_s", per_s(double(r.tokens.size()), r.decode_ms)}};
    j["total_ms"] = ms;
    j["stop_reason"] = r.hit_eog ? "end_of_generation"
                                 : (n_predict >= 0 && int64_t(r.tokens.size()) == n_predict ? "n_predict"
                                                                                            : "context_full");
    j["n_generated"] = r.tokens.size();
    if (profile) j["profile"] = {{"prefill", prefill_profile.to_json()}, {"decode", decode_profile.to_json()}};
    if (json_out == "-") std::fprintf(stderr, "%s\n", j.dump(2).c_str());
    else ck::write_text_file(json_out, j.dump(2) + "\n");
  }
  if (!tokens_out.empty()) {
    std::string line;
    for (size_t i = 0; i < r.tokens.size(); ++i) line += (i ? " " : "") + std::to_string(r.tokens[i]);
    ck::write_text_file(tokens_out, line + "\n");
  }
  if (profile) {
    std::fprintf(stderr, "ck-decode: profile of the prompt (%.1f ms wall)\n%s", r.prefill_ms,
                 prefill_profile.to_table().c_str());
    std::fprintf(stderr, "ck-decode: profile of %lld generation steps (%.1f ms wall)\n%s",
                 (long long)r.n_decode_passes, r.decode_ms, decode_profile.to_table().c_str());
  }
  std::fprintf(stderr, "ck-decode: prompt %lld tokens in %lld ubatches, generated %zu tokens%s, %.1f ms\n",
               (long long)sched.n_prompt_tokens, (long long)r.n_prompt_ubatches, r.tokens.size(),
               r.hit_eog ? " (end of generation)" : "", ms);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return ck::run_tool("ck-decode", body, argc, argv); }
