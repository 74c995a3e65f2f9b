// Decoder — prompt + image prefixes in, tokens out, in process: the decoder plan (ck-layout -o DIR) is loaded once
// (tokenizer, chat contract, the runtime's program, executor and arena, which also holds the KV cache), then every
// prompt is planned (chat shell, mtmd chunks, M-RoPE positions, ubatches: lib/decode) and generated on it.
//
//   ck::pipeline::Decoder dec("plans/dec", {});
//   auto plan = dec.plan("Describe the image.", {{enc_img->info, enc_img->rows, "cat.png"}}, {});
//   ck::decode::Sampler sampler({});                                  // temp 0: greedy, the parity mode
//   auto r = dec.generate(plan, sampler, 64, [](int32_t id, const std::string& piece) { ...; return true; });
//
// Turns: by default every plan() starts a fresh sequence (the KV cache is cleared by generate). With
// PromptOptions::continue_chat the new prompt text is appended to the sequence already in the KV cache (positions
// from n_past()), as llama-mtmd-cli's chat mode does; reset() empties it.
// Prefix rows are borrowed: a DecodePlan points at the rows it was given, which must outlive generate().
// Thread-safety: none inside. One Decoder per thread / sequence (each owns its executor, arena and KV cache).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bridge/prefix.h"
#include "decode/chat.h"
#include "decode/chunks.h"
#include "decode/kv_cache.h"
#include "decode/model_info.h"
#include "decode/sampling.h"
#include "decode/session.h"
#include "decode/ubatch.h"
#include "runtime/profile.h"
#include "text/tokenizer.h"

namespace ck::pipeline {

struct DecoderOptions {
  int threads = 0;  // 0: all cores (std::thread::hardware_concurrency)
  int64_t ctx_size = 4096, n_batch = 2048, n_ubatch = 512;  // as llama.cpp's context; checked against the plan
  std::string dump_dir;                                     // every named activation as ck.dump (empty: none)
  runtime::Profile* prefill_profile = nullptr;              // per-kernel time of prompt ubatches / generation steps
  runtime::Profile* decode_profile = nullptr;
};

// One image's rows, borrowed (from a ck::bridge::Prefix, or an EncodedImage of pipeline/encoder.h).
struct PrefixRef {
  const bridge::PrefixInfo& info;
  std::span<const float> rows;
  std::string source;  // names the image in errors (file, shm:NAME, ...)
};

// A video's prefixes (ck-encode --video, ck-bridge --video) carry meta.video {file, sha256, chunk, n_chunks,
// texts_before, texts_after}: plan() takes consecutive ones (chunk 0..n_chunks-1) as one marker and splices the
// video's parts in its place (texts_before of each chunk, the chunk's frames as markers, texts_after of the last).
// Returns that expansion and leaves k at the video's last prefix; nullopt (k unchanged) for a still.
std::optional<std::vector<std::string>> video_expansion(const std::vector<struct PrefixRef>& prefixes, size_t& k,
                                                        const std::string& marker);

struct PromptOptions {
  bool raw = false;           // the prompt as is (no chat shell; the image marker rule still applies)
  bool image_first = false;   // images before the text when the prompt has no marker
  std::string system;         // a system message before the user's (chat shell only; empty: none)
  bool all_logits = false;    // every prompt token an output row (ck-decode --logits-all-out)
  bool continue_chat = false; // append to the sequence in the KV cache (a next turn)
  // mtmd b10256 merges two same-size images at adjacent markers into one 2-frame chunk ([QWEN_VIDEO]); the
  // prefixes must then be the merged ones (Encoder::encode_frames), and separate prefixes the pin would have
  // merged are refused. false: same-size images at adjacent markers stay separate chunks (--no-frame-merge,
  // llama.cpp's later mtmd_bitmap_set_mergeable).
  bool frame_merge = true;
  bool jinja = false;         // the jinja route's rendering (llama-server, llama-mtmd-cli --jinja): chat_formats.json "jinja"
};

struct DecodePlan {
  std::string formatted;  // the text tokenized (chat shell applied)
  std::vector<decode::Chunk> chunks;
  decode::Schedule schedule;
  std::vector<const float*> image_rows;  // one per image, in marker order
  int64_t row_width = 0;
  int32_t n_past0 = 0;  // first position (0, or the n_past of the turns before with continue_chat)
  bool all_logits = false, continue_chat = false;
  int64_t ctx_size = 0;
  // ck.decode_plan (ck-decode --plan, docs/formats/chat.md): chunks, positions, ubatches, n_kv.
  nlohmann::ordered_json to_json() const;
};

// Streaming callback: each generated non-EOG token and its text piece; return false to stop.
using TokenCallback = std::function<bool(int32_t id, const std::string& piece)>;

class Decoder {
 public:
  // Throws ck::Error("<file>: <problem>") for a bad plan or options beyond what it was planned for.
  Decoder(const std::string& dir, const DecoderOptions& opt);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  const decode::ModelInfo& model() const { return m_; }
  const text::Tokenizer& tokenizer() const { return *tok_; }
  std::vector<int32_t> tokenize(std::string_view text) const;  // a text part (special tokens parsed)
  const std::vector<int32_t>& stop_ids() const { return stops_; }
  int threads() const { return threads_; }

  // Plans a prompt: checks the prefixes against the model, applies the chat shell, chunks and schedules. No
  // graph runs. Throws ck::Error naming the prompt or the prefix at fault.
  DecodePlan plan(const std::string& prompt, const std::vector<PrefixRef>& prefixes, const PromptOptions& po) const;

  // The chat-formatted text of a prompt with n_bitmaps images (markers added as plan() does).
  std::string format(const std::string& prompt, int n_bitmaps, const PromptOptions& po) const;
  // How mtmd_tokenizer::tokenize groups the prompt's images into chunks: image j (0-based, marker order) with
  // source size sizes[j]; a group is {j} or {j, j+1} (max_frames >= 2, adjacent markers, same size). With
  // po.frame_merge false every image is its own group. Encode each group as one chunk, then plan().
  // `media` (optional): one entry per marker; a video's entry is its parts (text, and the marker once per frame),
  // sizes then runs over every bitmap after that expansion.
  std::vector<std::vector<int>> frame_groups(const std::string& prompt,
                                             const std::vector<std::pair<int64_t, int64_t>>& sizes, int max_frames,
                                             const PromptOptions& po,
                                             const std::vector<std::optional<std::vector<std::string>>>& media = {}) const;

  // Runs the prompt, then samples up to n_predict tokens (-1: until end of generation or a full context).
  // Throws RuntimeUnavailable (pipeline/decoder_backend.h) when the plan needs kernels this build lacks.
  decode::GenerateResult generate(const DecodePlan& plan, decode::Sampler& sampler, int32_t n_predict,
                                  const TokenCallback& on_token, bool feed_last = false);

  // Loads the runtime now (the first generate() does otherwise).
  void load();
  void reset();                    // empties the KV cache (the next continue_chat starts a new sequence)
  int32_t n_past() const { return n_past_; }

 private:
  DecoderOptions opt_;
  decode::ModelInfo m_;
  std::unique_ptr<text::Tokenizer> tok_;
  std::vector<int32_t> stops_;
  int threads_ = 0;
  std::unique_ptr<decode::DecoderBackend> be_;
  std::unique_ptr<decode::KvCache> kv_;
  int32_t n_past_ = 0;
};

}  // namespace ck::pipeline
