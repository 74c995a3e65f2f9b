#include "serve/pipeline_engine.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <list>
#include <map>

#include "core/error.h"
#include "core/sha256.h"
#include "core/thread_pool.h"
#include "decode/chat.h"
#include "decode/ubatch.h"
#include "image/decode.h"
#include "pipeline/compile.h"
#include "pipeline/decoder.h"
#include "pipeline/decoder_backend.h"
#include "pipeline/encoder.h"
#include "pipeline/plan_cache.h"

namespace ck::serve {

namespace fs = std::filesystem;
namespace pl = ck::pipeline;
namespace dc = ck::decode;
using ojson = nlohmann::ordered_json;

namespace {

std::string sha256_str(const std::string& s) {
  return ck::sha256_hex({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

RequestError bad(std::string msg, std::string param = {}) {
  return RequestError{400, "invalid_request_error", std::move(msg), std::move(param)};
}

// What a KV cache holds, one entry per cell group: a text token, or a whole image (its sha256 and token count).
struct Item {
  int32_t token = -1;
  std::string image;  // the image chunk's cache key: sha256 of its image bytes, "a+b" for 2 frames (empty: text)
  int64_t n_tokens = 1;
  bool operator==(const Item& o) const { return token == o.token && image == o.image && n_tokens == o.n_tokens; }
};

}  // namespace

Plans prepare_plans(const PlanInputs& in) {
  for (const auto* f : {&in.mmproj, &in.model}) {
    std::error_code ec;
    if (!fs::is_regular_file(*f, ec)) ck::fail(*f, "no such GGUF file");
  }
  pl::PlanCache cache(in.cache_root);
  const std::string tsha = pl::templates_sha256(in.templates_dir);
  Plans out;
  out.cached = true;
  pl::CompileOptions co;
  co.templates_dir = in.templates_dir;
  co.mode = in.mode;
  auto dir_of = [&](const std::string& gguf) {
    return cache.plan_dir(sha256_str(cache.file_sha256(gguf).sha256 + tsha + in.salt + in.mode + "ck-serve"));
  };
  const std::string edir = dir_of(in.mmproj), ddir = dir_of(in.model);
  co.stop_after = "convert";
  const auto em = pl::compile(in.mmproj, edir, co), dm = pl::compile(in.model, ddir, co);
  pl::check_model_pair(in.mmproj, em.manifest, in.model, dm.manifest);
  co.stop_after = "";
  const auto e = pl::compile(in.mmproj, edir, co), d = pl::compile(in.model, ddir, co);
  out.cached = em.all_cached() && dm.all_cached() && e.all_cached() && d.all_cached();
  out.encoder = e.plan_dir;
  out.decoder = d.plan_dir;
  return out;
}

struct PipelineEngine::Impl {
  struct Slot {
    std::unique_ptr<pl::Decoder> dec;
    std::vector<Item> kv;  // what its KV cache holds (empty: nothing reusable)
    int32_t kv_n_past = 0;
    bool busy = false;
    uint64_t last_used = 0;
  };
  std::mutex mu;  // slots' busy / kv / last_used
  std::vector<Slot> slots;
  uint64_t clock = 0;

  std::mutex enc_mu;  // the encoder and the image cache
  std::unique_ptr<pl::Encoder> encoder;
  std::list<std::string> lru;  // most recent first
  std::map<std::string, std::pair<std::shared_ptr<const pl::EncodedImage>, std::list<std::string>::iterator>> images;
};

PipelineEngine::PipelineEngine(const PipelineEngineOptions& o) : opt_(o), impl_(std::make_unique<Impl>()) {
  opt_.parallel = std::max(1, opt_.parallel);
  const int cores = ck::ThreadPool::physical_cores();
  if (opt_.threads <= 0) opt_.threads = std::max(1, cores / opt_.parallel);
  if (opt_.encoder_threads <= 0) opt_.encoder_threads = std::max(1, cores);
  impl_->encoder = std::make_unique<pl::Encoder>(opt_.encoder_plan, opt_.encoder_threads);
  pl::DecoderOptions dopt;
  dopt.threads = opt_.threads;
  dopt.ctx_size = opt_.ctx_size;
  dopt.n_batch = opt_.n_batch;
  dopt.n_ubatch = opt_.n_ubatch;
  impl_->slots.resize(size_t(opt_.parallel));
  for (auto& s : impl_->slots) {
    s.dec = std::make_unique<pl::Decoder>(opt_.decoder_plan, dopt);
    try {
      s.dec->load();
    } catch (const pl::RuntimeUnavailable& e) {
      throw ck::Error(e.what());
    }
  }
}

PipelineEngine::~PipelineEngine() = default;

void PipelineEngine::validate(const ChatRequest& req) const {
  if (req.max_tokens > opt_.max_tokens)
    throw bad("max_tokens " + std::to_string(req.max_tokens) + " is above this server's limit of " +
                  std::to_string(opt_.max_tokens),
              "max_tokens");
  const std::string& marker = dc::ChatFormats::builtin().media_marker;
  for (const auto& m : req.messages)
    for (const auto& p : m.content)
      if (p.kind == ContentPart::Kind::text && p.text.find(marker) != std::string::npos)
        throw bad("message text must not contain the media marker " + marker, "messages");
}

GenerateResult PipelineEngine::generate(const ChatRequest& req, const std::function<bool(std::string_view)>& on_piece) {
  Impl& I = *impl_;
  GenerateResult out;
  const auto& formats = dc::ChatFormats::builtin();
  validate(req);
  const int n_predict = req.max_tokens < 0 ? opt_.max_tokens : req.max_tokens;

  // The conversation: text parts as they are, each image part the media marker (mtmd's prompt convention).
  std::vector<dc::ChatMessage> msgs;
  std::vector<const ContentPart*> parts;
  for (const auto& m : req.messages) {
    std::string content;
    for (const auto& p : m.content) {
      if (p.kind == ContentPart::Kind::text) {
        content += p.text;
      } else {
        content += formats.media_marker;
        parts.push_back(&p);
      }
    }
    msgs.push_back({m.role, content});
  }

  // The prompt text, from the whole conversation (any slot's model: they are one model).
  std::string formatted;
  try {
    formatted = dc::apply_chat_shell(I.slots[0].dec->model().chat, msgs, true, formats, "model");
  } catch (const ck::Error& e) {
    throw bad(e.what(), "messages");
  }
  pl::PromptOptions po;
  po.raw = true;

  // Images: grouped into chunks as mtmd_tokenizer::tokenize groups them (pipeline::Decoder::frame_groups, the
  // grouping ck-bridge uses: two same-size images at adjacent markers = one 2-frame chunk), each chunk encoded once
  // per content: the cache key is the sha256 of the image bytes, of a 2-frame chunk its two hashes in order.
  std::vector<std::string> shas;
  std::vector<std::pair<int64_t, int64_t>> sizes;
  for (const auto* p : parts) {
    shas.push_back(sha256_str(p->image));
    if (p->image_width > 0 && p->image_height > 0) {
      sizes.emplace_back(p->image_width, p->image_height);  // parse_chat_request decoded it
    } else {
      try {
        const auto img = ck::image::decode_image(
            {reinterpret_cast<const uint8_t*>(p->image.data()), p->image.size()}, "image " + std::to_string(sizes.size() + 1));
        sizes.emplace_back(img.width, img.height);
      } catch (const ck::Error& e) {
        throw bad(e.what(), "messages");
      }
    }
  }
  std::vector<std::vector<int>> groups;
  try {
    groups = I.slots[0].dec->frame_groups(formatted, sizes, I.encoder->max_frames(), po);
  } catch (const ck::Error& e) {
    throw bad(e.what(), "messages");
  }
  std::vector<std::shared_ptr<const pl::EncodedImage>> encoded;
  std::vector<std::string> keys, names;  // per chunk
  for (const auto& g : groups) {
    std::string key, name = g.size() == 1 ? "image " + std::to_string(g[0] + 1) : "images ";
    std::vector<std::span<const uint8_t>> frames;
    for (size_t f = 0; f < g.size(); ++f) {
      const std::string& bytes = parts.at(size_t(g[f]))->image;
      frames.emplace_back(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      key += (f ? "+" : "") + shas[size_t(g[f])];
      if (g.size() > 1) name += (f ? " and " : "") + std::to_string(g[f] + 1);
    }
    std::lock_guard lk(I.enc_mu);
    if (auto it = I.images.find(key); it != I.images.end()) {
      I.lru.splice(I.lru.begin(), I.lru, it->second.second);
      encoded.push_back(it->second.first);
      out.images_cached += int(g.size());
    } else {
      pl::EncodeOptions eo;
      eo.min_tokens = opt_.image_min_tokens;
      eo.max_tokens = opt_.image_max_tokens;
      std::shared_ptr<const pl::EncodedImage> e;
      try {
        e = I.encoder->encode_cached(frames, name, eo);
      } catch (const ck::Error& err) {
        throw bad(err.what(), "messages");
      }
      I.encoder->clear_cache();  // ours is the cache (bounded)
      out.encode_ms += e->preprocess_ms + e->encode_ms;
      out.images_encoded += int(g.size());
      I.lru.push_front(key);
      I.images[key] = {e, I.lru.begin()};
      while (I.images.size() > std::max<size_t>(opt_.image_cache, 1)) {
        I.images.erase(I.lru.back());
        I.lru.pop_back();
      }
      encoded.push_back(e);
    }
    keys.push_back(std::move(key));
    names.push_back(std::move(name));
  }
  std::vector<pl::PrefixRef> refs;
  for (size_t k = 0; k < encoded.size(); ++k) refs.push_back({encoded[k]->info, encoded[k]->rows, names[k]});

  // A free slot (the server admits at most `parallel` requests, so there is one), least recently used first.
  size_t si = 0;
  {
    std::lock_guard lk(I.mu);
    size_t best = I.slots.size();
    for (size_t i = 0; i < I.slots.size(); ++i)
      if (!I.slots[i].busy && (best == I.slots.size() || I.slots[i].last_used < I.slots[best].last_used)) best = i;
    if (best == I.slots.size()) throw std::runtime_error("no free sequence slot (more requests than --parallel)");
    I.slots[best].busy = true;
    si = best;
  }
  struct Release {
    Impl& I;
    size_t* si;
    ~Release() {
      std::lock_guard lk(I.mu);
      I.slots[*si].busy = false;
      I.slots[*si].last_used = ++I.clock;
    }
  } release{I, &si};

  // The whole prompt, from scratch (the same tokens whatever the cache holds).
  pl::DecodePlan plan;
  try {
    plan = I.slots[si].dec->plan(formatted, refs, po);
  } catch (const ck::Error& e) {
    throw bad(e.what(), "messages");
  }
  std::vector<Item> items;
  std::vector<std::pair<size_t, size_t>> where;  // item -> (chunk, offset in its tokens)
  for (size_t c = 0; c < plan.chunks.size(); ++c) {
    const auto& ch = plan.chunks[c];
    if (ch.type == dc::ChunkType::Text)
      for (size_t t = 0; t < ch.tokens.size(); ++t) {
        items.push_back({ch.tokens[t], {}, 1});
        where.emplace_back(c, t);
      }
    else {
      items.push_back({-1, keys.at(size_t(ch.image)), ch.n_tokens()});
      where.emplace_back(c, 0);
    }
  }

  // Prefer a free slot whose cache holds a strict prefix of these items (the longest).
  {
    std::lock_guard lk(I.mu);
    auto reusable = [&](const Impl::Slot& s) {
      return !s.kv.empty() && s.kv.size() < items.size() && std::equal(s.kv.begin(), s.kv.end(), items.begin());
    };
    size_t best = reusable(I.slots[si]) ? si : I.slots.size();
    for (size_t i = 0; i < I.slots.size(); ++i)
      if (!I.slots[i].busy && reusable(I.slots[i]) &&
          (best == I.slots.size() || I.slots[i].kv.size() > I.slots[best].kv.size()))
        best = i;
    if (best != I.slots.size() && best != si) {
      I.slots[best].busy = true;
      I.slots[si].busy = false;
      si = best;
    }
  }
  Impl::Slot& slot = I.slots[si];
  pl::Decoder& dec = *slot.dec;
  out.usage.prompt_tokens = int(plan.schedule.n_prompt_tokens);
  const size_t keep = (!slot.kv.empty() && slot.kv.size() < items.size() &&
                       std::equal(slot.kv.begin(), slot.kv.end(), items.begin()) && slot.kv_n_past == dec.n_past())
                          ? slot.kv.size()
                          : 0;
  pl::DecodePlan run = plan;
  if (keep > 0) {
    // Continue the sequence in the cache: only the chunks after the kept items are prefilled.
    const auto [c0, t0] = where[keep];
    std::vector<dc::Chunk> rest;
    for (size_t c = c0; c < plan.chunks.size(); ++c) {
      dc::Chunk ch = plan.chunks[c];
      if (c == c0 && ch.type == dc::ChunkType::Text) ch.tokens.erase(ch.tokens.begin(), ch.tokens.begin() + long(t0));
      rest.push_back(std::move(ch));
    }
    run.chunks = std::move(rest);
    run.n_past0 = dec.n_past();
    run.schedule = dc::schedule_prompt(run.chunks, run.n_past0, opt_.n_batch, opt_.n_ubatch, false);
    run.continue_chat = true;
    for (size_t i = 0; i < keep; ++i) out.usage.cached_tokens += int(items[i].n_tokens);
  }
  slot.kv.clear();  // unknown until this generation ends well

  dc::SamplingParams sp;
  sp.temp = req.temperature;
  sp.top_k = req.top_k;
  sp.top_p = req.top_p;
  sp.min_p = req.min_p;
  if (req.has_seed) sp.seed = uint32_t(req.seed);
  dc::Sampler sampler(sp);
  dc::GenerateResult r;
  try {
    r = dec.generate(run, sampler, n_predict, [&](int32_t, const std::string& piece) { return on_piece(piece); },
                     /*feed_last=*/true);
  } catch (const pl::RuntimeUnavailable& e) {
    throw std::runtime_error(e.what());
  }
  // The cache now holds the prompt and every generated token that was fed back.
  const int64_t fed = int64_t(r.n_past) - int64_t(run.schedule.n_past);
  if (fed >= 0 && fed <= int64_t(r.tokens.size())) {
    slot.kv = std::move(items);
    for (int64_t i = 0; i < fed; ++i) slot.kv.push_back({r.tokens[size_t(i)], {}, 1});
    slot.kv_n_past = r.n_past;
  }
  out.usage.completion_tokens = int(r.tokens.size()) - (r.hit_eog ? 1 : 0);
  out.finish_reason = r.hit_eog || r.stopped ? "stop" : "length";
  return out;
}

}  // namespace ck::serve
