// ck-decode: image prefix + prompt -> generated text, like llama-mtmd-cli single turn (docs/formats/chat.md).
//   ck-decode -m dec/ --prefix img.prefix -p "Describe this image." -n 32      (prefix: FILE, -, shm:NAME)
//   ck-decode -m dec/ --prefix a.prefix --prefix b.prefix -p "<__media__>A? <__media__>B?"   (image k -> marker k)
//   ck-decode -m dec/ -p "Hello" --plan          the prompt schedule as JSON (no decoding)
//   ck-decode -m dec/ --tokenize "Hello world"   token ids of a text part
// Text goes to stdout as it is generated, statistics to stderr. Exit 0 ok, 2 bad input, 3 runtime missing.
#include <chrono>
#include <cstdio>
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
#include "decode/chat.h"
#include "decode/chunks.h"
#include "decode/kv_cache.h"
#include "decode/model_info.h"
#include "decode/sampling.h"
#include "decode/session.h"
#include "decode/ubatch.h"
#include "runtime_backend.h"
#include "text/tokenizer.h"
#include "text/vocab.h"

namespace {

using json = nlohmann::ordered_json;
namespace dc = ck::decode;

constexpr int kExitNoRuntime = 3;

json plan_json(const std::string& formatted, const std::vector<dc::Chunk>& chunks, const dc::Schedule& s,
               int64_t n_ctx, int64_t head_dim_v) {
  json j;
  j["format"] = "ck.decode_plan";
  j["version"] = 1;
  j["formatted_prompt"] = formatted;
  json toks = json::array(), jc = json::array();
  int32_t n_past = 0;
  for (const auto& c : chunks) {
    json e;
    if (c.type == dc::ChunkType::Text) {
      for (int32_t t : c.tokens) toks.push_back(t);
      e["type"] = "text";
      e["n_tokens"] = c.tokens.size();
      n_past += int32_t(c.tokens.size());
    } else {
      e["type"] = "image";
      e["image"] = c.image;
      e["n_tokens"] = c.n_tokens();
      e["grid"] = {c.nx, c.ny};
      e["n_pos"] = dc::image_n_pos(c.nx, c.ny);
      e["pos0"] = n_past;
      const dc::Pos4 last = dc::image_pos(n_past, c.nx, c.n_tokens() - 1);
      e["last_token_pos_thw"] = {last.t, last.h, last.w, last.e};
      n_past += dc::image_n_pos(c.nx, c.ny);
    }
    jc.push_back(e);
  }
  j["prompt_text_tokens"] = toks;
  j["chunks"] = jc;
  j["n_prompt_tokens"] = s.n_prompt_tokens;
  j["n_past_after_prompt"] = s.n_past;
  dc::KvCache kv(n_ctx);
  json ub = json::array();
  for (const auto& u : s.ubatches) {
    kv.place(u.pos);
    const int64_t n_kv = kv.n_kv();
    ub.push_back({{"chunk", u.chunk}, {"type", u.type == dc::ChunkType::Text ? "text" : "image"}, {"image", u.image},
                  {"n_tokens", u.n_tokens}, {"n_kv", n_kv}, {"n_outputs", u.out_rows.size()},
                  {"flash_attn", dc::to_string(dc::flash_attn_kernel(u.n_tokens, n_kv, head_dim_v))}});
  }
  j["ubatches"] = ub;
  j["kv_size"] = kv.size();
  return j;
}

int body(int argc, char** argv) {
  CLI::App app{"ck-decode: generate text from an image prefix and a prompt (llama-mtmd-cli single turn)"};
  std::string model_dir, prompt, prompt_file, dump_dir, logits_out, tokens_out, tokenize_text, json_out,
      logits_all_out;
  std::vector<std::string> prefix_srcs;
  int n_predict = -1, threads = 0;
  int64_t ctx_size = 4096, n_batch = 2048, n_ubatch = 512;
  bool raw = false, image_first = false, plan = false, profile = false;
  dc::SamplingParams sp;
  app.add_option("-m,--model", model_dir, "decoder directory (call.json + layout.json from ck-layout)")->required();
  app.add_option("--prefix", prefix_srcs, "image prefix from ck-encode: FILE, - (stdin) or shm:NAME; repeat for "
                                         "several images (the k-th --prefix goes to the k-th marker)")
      ->allow_extra_args(false);
  app.add_option("-p,--prompt", prompt, "the user prompt (image markers <__media__> place the images in order; "
                                        "without any, one marker per image follows the text, as llama-mtmd-cli)");
  app.add_option("-f,--file", prompt_file, "read the prompt from FILE (- = stdin)");
  app.add_option("-n,--n-predict", n_predict, "tokens to generate (-1: until end of generation or full context)");
  app.add_option("-t,--threads", threads, "threads (0: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--ctx-size", ctx_size, "KV cache size in tokens (rounded up to 256; at most the planned size)");
  app.add_option("--n-batch", n_batch, "logical batch (llama_decode call) size")->check(CLI::PositiveNumber);
  app.add_option("--n-ubatch", n_ubatch, "physical batch size (at most the planned n_tokens)")->check(CLI::PositiveNumber);
  app.add_flag("--raw", raw, "use the prompt as is (no chat shell; the image marker rule still applies)");
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
  app.add_option("--temp", sp.temp, "temperature (<= 0: greedy, the default and the parity mode)");
  app.add_option("--top-k", sp.top_k, "top-k (<= 0: off)");
  app.add_option("--top-p", sp.top_p, "top-p (>= 1: off)");
  app.add_option("--min-p", sp.min_p, "min-p (<= 0: off)");
  app.add_option("--seed", sp.seed, "sampling seed (default: random)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    throw ck::Error(std::string(e.what()) + " (see ck-decode --help)");
  }

  const dc::ModelInfo m = dc::ModelInfo::load(model_dir);
  if (m.max_ctx > 0 && ctx_size > m.max_ctx)
    ck::fail(m.call_json, "--ctx-size " + std::to_string(ctx_size) + " is above the planned " +
                              std::to_string(m.max_ctx) + " (re-plan with ck-layout --ctx-size)");
  if (ctx_size < 1) throw ck::Error("--ctx-size must be at least 1");
  if (m.max_ubatch > 0 && std::min(n_ubatch, n_batch) > m.max_ubatch)
    ck::fail(m.call_json, "--n-ubatch " + std::to_string(std::min(n_ubatch, n_batch)) + " is above the planned " +
                              std::to_string(m.max_ubatch));
  if (!prompt.empty() && !prompt_file.empty()) throw ck::Error("give the prompt with -p or -f, not both");
  if (!prompt_file.empty()) prompt = ck::read_text_file(prompt_file);

  const ck::text::Tokenizer tok(ck::text::load_vocab(m.weights));
  const auto tokenize = [&](std::string_view t) { return tok.tokenize(t, false, true); };
  if (!tokenize_text.empty()) {
    const auto ids = tokenize(tokenize_text);
    for (size_t i = 0; i < ids.size(); ++i) std::printf("%s%d", i ? " " : "", ids[i]);
    std::printf("\n");
    return 0;
  }
  if (prompt.empty() && prompt_file.empty()) throw ck::Error("no prompt: give -p TEXT or -f FILE");

  // Prefixes, one per image, in marker order.
  int n_stdin = 0;
  for (const auto& src : prefix_srcs) n_stdin += src == "-";
  if (n_stdin > 1) throw ck::Error("--prefix -: stdin can carry one prefix only");
  std::vector<ck::bridge::Prefix> prefixes;
  for (const auto& src : prefix_srcs) {
    prefixes.push_back(ck::bridge::Prefix::open(src));
    dc::check_prefix(m, prefixes.back().info(), src);
  }
  const int n_images = int(prefixes.size());
  const auto& formats = dc::ChatFormats::builtin();
  const std::string content = dc::user_content(prompt, n_images, image_first, formats);
  const std::string formatted = raw ? content : dc::apply_chat_shell(m.chat, content, formats, m.call_json);

  dc::ChunkOptions co;
  co.media_marker = formats.media_marker;
  co.image_begin = m.chat.image_begin;
  co.image_end = m.chat.image_end;
  co.add_bos = m.chat.add_bos;
  co.bos_id = m.chat.bos_id.value_or(-1);
  for (const auto& p : prefixes) co.grids.emplace_back(p.info().grid_nx, p.info().grid_ny);
  std::vector<dc::Chunk> chunks;
  try {
    chunks = dc::make_chunks(formatted, n_images, co, tokenize);
  } catch (const ck::Error& e) {
    std::string who = "prompt";
    if (n_images == 1) who = prefix_srcs[0];
    else if (n_images > 1) who = "prompt with --prefix " + prefix_srcs[0] + " ... " + prefix_srcs.back();
    throw ck::Error(who + ": " + e.what());
  }
  // mtmd merges two adjacent markers whose images have the same source size into one 2-frame chunk (qwen-vl
  // temporal merge). ck does not reproduce that; refuse rather than decode something llama.cpp would not.
  const auto source_size = [&](int k) {
    const auto& meta = prefixes[size_t(k)].info().meta;
    if (!meta.contains("preprocess") || !meta["preprocess"].is_object() || !meta["preprocess"].contains("source"))
      return std::pair<int64_t, int64_t>{-1 - k, -1};  // unknown: never equal to another image
    const auto& src = meta["preprocess"]["source"];
    return std::pair<int64_t, int64_t>{src.value("width", int64_t(-1 - k)), src.value("height", int64_t(-1))};
  };
  const auto merges = dc::temporal_merges(formatted, formats.media_marker,
                                          [&](int a, int b) { return source_size(a) == source_size(b); });
  if (!merges.empty()) {
    const auto [a, b] = merges.front();
    throw ck::Error(prefix_srcs[size_t(a)] + " and " + prefix_srcs[size_t(b)] + ": images " + std::to_string(a + 1) +
                    " and " + std::to_string(b + 1) + " have the same size and adjacent markers, which llama.cpp's "
                    "mtmd merges into one 2-frame (video) chunk; ck does not implement that: put text between the "
                    "markers");
  }
  const bool all_logits = !logits_all_out.empty();
  if (all_logits && m.max_outputs > 0 && m.max_outputs < std::min(n_ubatch, n_batch))
    ck::fail(m.call_json, "--logits-all-out makes every prompt token an output row, up to " +
                              std::to_string(std::min(n_ubatch, n_batch)) + " per ubatch, but the plan allows " +
                              std::to_string(m.max_outputs) + " (re-plan with ck-layout --bound n_outputs=" +
                              std::to_string(std::min(n_ubatch, n_batch)) + ")");
  const dc::Schedule sched = dc::schedule_prompt(chunks, 0, n_batch, n_ubatch, all_logits);
  if (sched.n_prompt_tokens == 0) throw ck::Error("the prompt is empty after tokenization");
  if (dc::pad_to(ctx_size, dc::kKvPad) < sched.n_prompt_tokens)
    throw ck::Error("the prompt needs " + std::to_string(sched.n_prompt_tokens) + " tokens, more than --ctx-size " +
                    std::to_string(ctx_size));
  if (plan) {
    std::printf("%s\n", plan_json(formatted, chunks, sched, ctx_size, 128).dump(1).c_str());
    return 0;
  }

  std::unique_ptr<dc::DecoderBackend> be;
  ck::runtime::Profile prefill_profile, decode_profile;
  try {
    ck::decode_cli::BackendOptions bo;
    bo.threads = threads > 0 ? threads : int(std::thread::hardware_concurrency());
    bo.dump_dir = dump_dir;
    if (profile) {
      bo.prefill_profile = &prefill_profile;
      bo.decode_profile = &decode_profile;
    }
    be = ck::decode_cli::make_runtime_backend(m, bo);
  } catch (const ck::decode_cli::RuntimeUnavailable& e) {
    std::fprintf(stderr, "ck-decode: error: %s\n", e.what());
    return kExitNoRuntime;
  }
  std::vector<int32_t> stops = m.chat.stop_ids;
  if (stops.empty()) stops.assign(tok.eog_ids().begin(), tok.eog_ids().end());
  dc::Sampler sampler(sp);
  dc::SessionOptions so;
  so.n_ctx = ctx_size;
  so.n_batch = n_batch;
  so.n_ubatch = n_ubatch;
  so.n_predict = n_predict;
  so.all_logits = all_logits;
  std::vector<const float*> image_rows;
  for (const auto& p : prefixes) image_rows.push_back(p.rows().data());
  const int64_t row_width = prefixes.empty() ? 0 : int64_t(prefixes[0].info().row_width);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = dc::generate(*be, sched, image_rows, row_width, sampler, stops, so, [&](int32_t id) {
                                const std::string& piece = tok.token_to_piece(id, true);
                                std::fwrite(piece.data(), 1, piece.size(), stdout);
                                std::fflush(stdout);
                              });
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
    j["threads"] = threads > 0 ? threads : int(std::thread::hardware_concurrency());
    j["n_images"] = n_images;
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
