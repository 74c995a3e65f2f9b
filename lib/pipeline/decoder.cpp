#include "pipeline/decoder.h"

#include <algorithm>
#include <thread>

#include "core/error.h"
#include "pipeline/decoder_backend.h"
#include "text/vocab.h"

namespace ck::pipeline {

namespace dc = ck::decode;
using json = nlohmann::ordered_json;

json DecodePlan::to_json() const {
  json j;
  j["format"] = "ck.decode_plan";
  j["version"] = 1;
  j["formatted_prompt"] = formatted;
  json toks = json::array(), jc = json::array();
  int32_t n_past = n_past0;
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
      e["frames"] = c.frames;
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
  j["n_prompt_tokens"] = schedule.n_prompt_tokens;
  j["n_past_after_prompt"] = schedule.n_past;
  // n_kv as a fresh cache sees it (a continued chat adds the cells of the turns before).
  dc::KvCache kv(ctx_size);
  json ub = json::array();
  for (const auto& u : schedule.ubatches) {
    kv.place(u.pos);
    const int64_t n_kv = kv.n_kv();
    ub.push_back({{"chunk", u.chunk}, {"type", u.type == dc::ChunkType::Text ? "text" : "image"}, {"image", u.image},
                  {"n_tokens", u.n_tokens}, {"n_kv", n_kv}, {"n_outputs", u.out_rows.size()},
                  {"flash_attn", dc::to_string(dc::flash_attn_kernel(u.n_tokens, n_kv, 128))}});
  }
  j["ubatches"] = ub;
  j["kv_size"] = kv.size();
  return j;
}

Decoder::Decoder(const std::string& dir, const DecoderOptions& opt) : opt_(opt), m_(dc::ModelInfo::load(dir)) {
  if (m_.max_ctx > 0 && opt_.ctx_size > m_.max_ctx)
    fail(m_.call_json, "--ctx-size " + std::to_string(opt_.ctx_size) + " is above the planned " +
                           std::to_string(m_.max_ctx) + " (re-plan with ck-layout --ctx-size)");
  if (opt_.ctx_size < 1) throw Error("--ctx-size must be at least 1");
  if (m_.max_ubatch > 0 && std::min(opt_.n_ubatch, opt_.n_batch) > m_.max_ubatch)
    fail(m_.call_json, "--n-ubatch " + std::to_string(std::min(opt_.n_ubatch, opt_.n_batch)) +
                           " is above the planned " + std::to_string(m_.max_ubatch));
  tok_ = std::make_unique<text::Tokenizer>(text::load_vocab(m_.weights));
  stops_ = m_.chat.stop_ids;
  if (stops_.empty()) stops_.assign(tok_->eog_ids().begin(), tok_->eog_ids().end());
  threads_ = opt_.threads > 0 ? opt_.threads : int(std::thread::hardware_concurrency());
  kv_ = std::make_unique<dc::KvCache>(opt_.ctx_size);
}

Decoder::~Decoder() = default;

std::vector<int32_t> Decoder::tokenize(std::string_view text) const { return tok_->tokenize(text, false, true); }

std::string Decoder::format(const std::string& prompt, int n_bitmaps, const PromptOptions& po) const {
  const auto& formats = dc::ChatFormats::builtin();
  const bool next_turn = po.continue_chat && n_past_ > 0;
  const std::string content = dc::user_content(prompt, n_bitmaps, po.image_first, formats);
  if (po.raw) return content;
  if (next_turn && po.jinja) fail(m_.call_json, "--jinja: next chat turns are not implemented (a single turn only)");
  if (next_turn) return dc::next_turn_shell(m_.chat, {"user", content}, formats, m_.call_json);
  std::vector<dc::ChatMessage> msgs;
  if (!po.system.empty()) msgs.push_back({"system", po.system});
  msgs.push_back({"user", content});
  return po.jinja ? dc::apply_chat_shell_jinja(m_.chat, msgs, true, formats, m_.call_json)
                  : dc::apply_chat_shell(m_.chat, msgs, true, formats, m_.call_json);
}

std::vector<std::vector<int>> Decoder::frame_groups(const std::string& prompt,
                                                    const std::vector<std::pair<int64_t, int64_t>>& sizes,
                                                    int max_frames, const PromptOptions& po,
                                                    const std::vector<std::optional<std::vector<std::string>>>& media) const {
  std::vector<std::vector<int>> out;
  if (!po.frame_merge || max_frames < 2) {
    for (int j = 0; j < int(sizes.size()); ++j) out.push_back({j});
    return out;
  }
  const std::string& marker = dc::ChatFormats::builtin().media_marker;
  const int n_markers = media.empty() ? int(sizes.size()) : int(media.size());
  const auto parts = dc::expand_media(dc::split_text(format(prompt, n_markers, po), marker), marker, media);
  out = dc::frame_groups_parts(parts, marker, max_frames, [&](int a, int b) {
    return a < int(sizes.size()) && b < int(sizes.size()) && sizes[size_t(a)] == sizes[size_t(b)];
  });
  // more images than markers: make_chunks reports it in plan(); the rest stay single
  int n = 0;
  for (const auto& g : out) n += int(g.size());
  for (int j = n; j < int(sizes.size()); ++j) out.push_back({j});
  return out;
}

namespace {
// The frames of a video chunk that are the video's (meta.video.frame_indices): all of them, except in a last chunk
// that also holds the still right after the video (meta.video.still, mtmd's merge of the last frame with it).
uint32_t video_frames_of(const PrefixRef& p) {
  const auto& meta = p.info.meta;
  const json& v = meta.contains("video") && meta["video"].is_object() ? meta["video"] : json::object();
  if (!v.contains("still")) return p.info.frames;
  const json& idx = v.contains("frame_indices") && v["frame_indices"].is_array() ? v["frame_indices"] : json::array();
  if (!v["still"].is_object() || idx.size() != 1 || p.info.frames != 2)
    fail(p.source, "video chunk with a still: expected 2 frames, one of them the video's (frame_indices), and a "
                   "still object");
  return 1;
}
}  // namespace

std::optional<std::vector<std::string>> video_expansion(const std::vector<PrefixRef>& prefixes, size_t& k,
                                                        const std::string& marker) {
  const auto& meta = prefixes[k].info.meta;
  if (!meta.contains("video") || !meta["video"].is_object()) return std::nullopt;
  const json& v0 = meta["video"];
  const auto n = v0.value("n_chunks", int64_t(0));
  const std::string id = v0.value("sha256", "");
  if (v0.value("chunk", int64_t(-1)) != 0 || n < 1)
    fail(prefixes[k].source, "video chunk " + std::to_string(v0.value("chunk", int64_t(-1))) + " of " +
                                 std::to_string(n) + " does not start a video: give a video's prefixes together, in order");
  std::vector<std::string> parts;
  for (int64_t c = 0; c < n; ++c, ++k) {
    if (k >= prefixes.size())
      fail(prefixes.back().source, "the video has " + std::to_string(n) + " chunks but only " + std::to_string(c) +
                                       " prefixes follow: give all of a video's prefixes, in order");
    const auto& m = prefixes[k].info.meta;
    const json& v = m.contains("video") && m["video"].is_object() ? m["video"] : json::object();
    if (v.value("chunk", int64_t(-1)) != c || v.value("sha256", "") != id || v.value("n_chunks", int64_t(0)) != n)
      fail(prefixes[k].source, "expected chunk " + std::to_string(c) + " of " + std::to_string(n) + " of video " +
                                   v0.value("file", "") + ": give a video's prefixes together, in order");
    for (const auto& t : v.value("texts_before", json::array())) parts.push_back(t.get<std::string>());
    const uint32_t own = video_frames_of(prefixes[k]);
    if (own != prefixes[k].info.frames && (c != n - 1 || !v.value("texts_after", json::array()).empty()))
      fail(prefixes[k].source, "a video chunk holding a still must be the video's last, with no text after it");
    for (uint32_t f = 0; f < own; ++f) parts.push_back(marker);
    if (c == n - 1)
      for (const auto& t : v.value("texts_after", json::array())) parts.push_back(t.get<std::string>());
  }
  --k;
  return parts;
}

DecodePlan Decoder::plan(const std::string& prompt, const std::vector<PrefixRef>& prefixes,
                         const PromptOptions& po) const {
  for (const auto& p : prefixes) dc::check_prefix(m_, p.info, p.source);
  const int n_images = int(prefixes.size());
  const auto& formats = dc::ChatFormats::builtin();
  // Markers: a still prefix of f temporal frames stands for f images (markers), as mtmd's merged bitmaps; the
  // prefixes of one video (meta.video, chunk 0..n-1) stand for one marker, which expands into the video's parts
  // ("Video:", frames, timestamps) as mtmd_tokenizer's lazy bitmap does; a last video chunk that holds the still
  // right after the video (meta.video.still) also stands for that still's marker.
  std::vector<std::optional<std::vector<std::string>>> media;
  bool any_video = false;
  for (size_t k = 0; k < prefixes.size(); ++k) {
    auto v = video_expansion(prefixes, k, formats.media_marker);
    if (v) {
      media.push_back(std::move(v));
      any_video = true;
      for (uint32_t f = video_frames_of(prefixes[k]); f < prefixes[k].info.frames; ++f) media.push_back(std::nullopt);
    } else {
      for (uint32_t f = 0; f < prefixes[k].info.frames; ++f) media.push_back(std::nullopt);
    }
  }
  const bool next_turn = po.continue_chat && n_past_ > 0;
  const std::string formatted = format(prompt, int(media.size()), po);
  const auto parts = dc::expand_media(dc::split_text(formatted, formats.media_marker), formats.media_marker, media);

  dc::ChunkOptions co;
  co.media_marker = formats.media_marker;
  co.image_begin = m_.chat.image_begin;
  co.image_end = m_.chat.image_end;
  co.add_bos = m_.chat.add_bos && !next_turn;  // mtmd-cli: BOS with the first message only
  co.bos_id = m_.chat.bos_id.value_or(-1);
  int max_frames = 1;
  for (const auto& p : prefixes) {
    co.grids.emplace_back(p.info.grid_nx, p.info.grid_ny);
    co.frames.push_back(p.info.frames);
    const auto& br = p.info.meta.contains("bridge") && p.info.meta["bridge"].is_object() ? p.info.meta["bridge"]
                                                                                         : json::object();
    const int mf = br.contains("max_frames") && br["max_frames"].is_number_integer() ? br["max_frames"].get<int>() : 1;
    max_frames = std::max(max_frames, mf);
    if (int(p.info.frames) > std::max(1, mf))
      fail(p.source, "a prefix of " + std::to_string(p.info.frames) + " frames; its encoder's bridge contract merges "
                     "at most " + std::to_string(mf));
  }
  DecodePlan pl;
  pl.formatted = formatted;
  try {
    pl.chunks = dc::make_chunks_parts(parts, n_images, co, [&](std::string_view t) { return tokenize(t); });
  } catch (const Error& e) {
    std::string who = "prompt";
    if (n_images == 1) who = prefixes[0].source;
    else if (n_images > 1) who = "prompt with --prefix " + prefixes[0].source + " ... " + prefixes.back().source;
    throw Error(who + ": " + e.what());
  }
  // mtmd merges two adjacent markers whose images have the same source size into one 2-frame chunk (qwen-vl
  // temporal merge, bridge contract frame_merge / max_frames). The prefixes fix the chunks; refuse separate
  // prefixes the pin would have merged, unless po.frame_merge is off (then they are what was asked for).
  if (po.frame_merge && n_images > 0) {
    std::vector<int> bitmap_prefix;  // bitmap (marker) j -> prefix
    for (int k = 0; k < n_images; ++k)
      for (uint32_t f = 0; f < prefixes[size_t(k)].info.frames; ++f) bitmap_prefix.push_back(k);
    const auto source_size = [&](int j) {
      const int k = bitmap_prefix[size_t(j)];
      const auto& meta = prefixes[size_t(k)].info.meta;
      if (!meta.contains("preprocess") || !meta["preprocess"].is_object() || !meta["preprocess"].contains("source"))
        return std::pair<int64_t, int64_t>{-1 - j, -1};  // unknown: never equal to another image
      const auto& src = meta["preprocess"]["source"];
      return std::pair<int64_t, int64_t>{src.value("width", int64_t(-1 - j)), src.value("height", int64_t(-1))};
    };
    const auto groups = dc::frame_groups_parts(parts, formats.media_marker, max_frames,
                                               [&](int a, int b) { return source_size(a) == source_size(b); });
    for (const auto& g : groups) {
      if (g.size() < 2) continue;
      const int a = bitmap_prefix[size_t(g[0])], b = bitmap_prefix[size_t(g[1])];
      if (a != b)
        throw Error(prefixes[size_t(a)].source + " and " + prefixes[size_t(b)].source + ": images " +
                    std::to_string(g[0] + 1) + " and " + std::to_string(g[1] + 1) +
                    " have the same size and adjacent markers, which llama.cpp b10256's mtmd merges into one 2-frame "
                    "chunk: encode them together (ck-encode A B) or pass --no-frame-merge" +
                    (any_video ? std::string(" (a video's last frame merges with a same-size image right after its "
                                             "marker: ck-bridge --video V --image I encodes them as one chunk)")
                               : std::string()));
    }
  }
  const int64_t n_ub = std::min(opt_.n_ubatch, opt_.n_batch);
  if (po.all_logits && m_.max_outputs > 0 && m_.max_outputs < n_ub)
    fail(m_.call_json, "--logits-all-out makes every prompt token an output row, up to " + std::to_string(n_ub) +
                           " per ubatch, but the plan allows " + std::to_string(m_.max_outputs) +
                           " (re-plan with ck-layout --bound n_outputs=" + std::to_string(n_ub) + ")");
  pl.n_past0 = next_turn ? n_past_ : 0;
  pl.schedule = dc::schedule_prompt(pl.chunks, pl.n_past0, opt_.n_batch, opt_.n_ubatch, po.all_logits);
  if (pl.schedule.n_prompt_tokens == 0) throw Error("the prompt is empty after tokenization");
  const int64_t used = next_turn ? kv_->used() : 0;
  if (dc::pad_to(opt_.ctx_size, dc::kKvPad) < used + pl.schedule.n_prompt_tokens)
    throw Error("the prompt needs " + std::to_string(used + pl.schedule.n_prompt_tokens) +
                " tokens, more than --ctx-size " + std::to_string(opt_.ctx_size));
  for (const auto& p : prefixes) pl.image_rows.push_back(p.rows.data());
  pl.row_width = prefixes.empty() ? 0 : int64_t(prefixes[0].info.row_width);
  pl.all_logits = po.all_logits;
  pl.continue_chat = next_turn;
  pl.ctx_size = opt_.ctx_size;
  return pl;
}

void Decoder::load() {
  if (be_) return;
  BackendOptions bo;
  bo.threads = threads_;
  bo.dump_dir = opt_.dump_dir;
  bo.prefill_profile = opt_.prefill_profile;
  bo.decode_profile = opt_.decode_profile;
  be_ = make_runtime_backend(m_, bo);
}

void Decoder::reset() {
  kv_->clear();
  n_past_ = 0;
}

dc::GenerateResult Decoder::generate(const DecodePlan& plan, dc::Sampler& sampler, int32_t n_predict,
                                     const TokenCallback& on_token, bool feed_last) {
  load();
  if (!plan.continue_chat) reset();
  else if (plan.n_past0 != n_past_)
    throw Error("a continued prompt was planned at position " + std::to_string(plan.n_past0) +
                " but the sequence is at " + std::to_string(n_past_) + " (plan it again)");
  dc::SessionOptions so;
  so.n_ctx = opt_.ctx_size;
  so.n_batch = opt_.n_batch;
  so.n_ubatch = opt_.n_ubatch;
  so.n_predict = n_predict;
  so.all_logits = plan.all_logits;
  so.feed_last = feed_last;
  // A failure half way leaves the cache in an unknown state: the next turn starts afresh.
  n_past_ = 0;
  auto r = dc::generate(*be_, *kv_, plan.schedule, plan.image_rows, plan.row_width, sampler, stops_, so,
                        [&](int32_t id) { return on_token ? on_token(id, tok_->token_to_piece(id, true)) : true; });
  n_past_ = r.n_past;
  return r;
}

}  // namespace ck::pipeline
