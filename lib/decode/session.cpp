#include "decode/session.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"

namespace ck::decode {

UbatchInputs make_inputs(KvCache& kv, const Ubatch& u, const float* image_rows, int64_t row_width,
                         const std::string& phase, int64_t head_dim_v) {
  UbatchInputs in;
  in.phase = phase;
  in.type = u.type;
  in.n_tokens = u.n_tokens;
  in.ctx_size = kv.size();
  if (u.type == ChunkType::Text) {
    in.tokens = u.tokens;
  } else {
    if (!image_rows) throw ck::Error("image ubatch without image rows");
    in.embd = image_rows + u.offset * row_width;
    in.embd_row_width = row_width;
  }
  in.positions = to_planes(u.pos);
  in.kv_slots = kv.place(u.pos);
  in.n_kv = kv.n_kv();
  in.kq_mask = kv.mask(u.pos, in.n_kv);
  in.out_ids = u.out_rows;
  in.n_outputs = int64_t(u.out_rows.size());
  in.fa = flash_attn_kernel(in.n_tokens, in.n_kv, head_dim_v);
  return in;
}

namespace {
double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

GenerateResult generate(DecoderBackend& be, const Schedule& s, const std::vector<const float*>& images,
                        int64_t row_width, Sampler& sampler, const std::vector<int32_t>& stop_ids,
                        const SessionOptions& o, const std::function<void(int32_t)>& on_token) {
  KvCache kv(o.n_ctx);
  return generate(be, kv, s, images, row_width, sampler, stop_ids, o, [&](int32_t id) {
    if (on_token) on_token(id);
    return true;
  });
}

GenerateResult generate(DecoderBackend& be, KvCache& kv, const Schedule& s, const std::vector<const float*>& images,
                        int64_t row_width, Sampler& sampler, const std::vector<int32_t>& stop_ids,
                        const SessionOptions& o, const std::function<bool(int32_t)>& on_token) {
  GenerateResult r;
  std::span<const float> logits;
  const auto t_prefill = std::chrono::steady_clock::now();
  for (const auto& u : s.ubatches) {
    const float* rows = nullptr;
    if (u.type == ChunkType::Image) {
      const size_t k = u.image < 0 ? 0 : size_t(u.image);
      if (k >= images.size()) throw ck::Error("image ubatch for image " + std::to_string(k + 1) + " of " +
                                              std::to_string(images.size()));
      rows = images[k];
    }
    const UbatchInputs in = make_inputs(kv, u, rows, row_width, "prefill", o.head_dim_v);
    auto out = be.run(in);
    if (in.n_outputs > 0) {
      if (out.empty() || out.size() % size_t(in.n_outputs) != 0)
        throw ck::Error("the decoder returned " + std::to_string(out.size()) + " logits for " +
                        std::to_string(in.n_outputs) + " output rows");
      const size_t nv = out.size() / size_t(in.n_outputs);
      if (o.all_logits) r.all_logits.insert(r.all_logits.end(), out.begin(), out.end());
      logits = out.subspan(out.size() - nv);  // the last output row: the one generation continues from
    }
    r.n_prompt_tokens += u.n_tokens;
    ++r.n_prompt_ubatches;
  }
  r.prefill_ms = ms_since(t_prefill);
  if (logits.empty()) throw ck::Error("the prompt produced no logits (empty prompt?)");
  r.first_logits.assign(logits.begin(), logits.end());
  r.n_vocab = int64_t(logits.size());
  const auto t_decode = std::chrono::steady_clock::now();
  int32_t pos = s.n_past;
  for (int32_t i = 0; o.n_predict < 0 || i < o.n_predict; ++i) {
    if (o.all_logits) r.all_logits.insert(r.all_logits.end(), logits.begin(), logits.end());
    const int32_t tok = sampler.sample(logits);
    r.tokens.push_back(tok);
    if (std::find(stop_ids.begin(), stop_ids.end(), tok) != stop_ids.end()) {
      r.hit_eog = true;
      break;
    }
    if (on_token && !on_token(tok)) {
      r.stopped = true;
      break;
    }
    const bool last = o.n_predict >= 0 && i + 1 == o.n_predict;
    if (last && !o.feed_last) break;     // as ref_decode: the last token is not fed back
    if (kv.used() >= kv.size()) break;   // context full
    const UbatchInputs in =
        make_inputs(kv, generation_ubatch(tok, pos++), nullptr, 0, "gen" + std::to_string(i), o.head_dim_v);
    logits = be.run(in);
    ++r.n_decode_passes;
    if (last) break;
  }
  r.n_past = pos;
  r.decode_ms = ms_since(t_decode);
  return r;
}

GenerateResult generate(DecoderBackend& be, const Schedule& s, const float* image_rows, int64_t row_width,
                        Sampler& sampler, const std::vector<int32_t>& stop_ids, const SessionOptions& o,
                        const std::function<void(int32_t)>& on_token) {
  return generate(be, s, std::vector<const float*>{image_rows}, row_width, sampler, stop_ids, o, on_token);
}

}  // namespace ck::decode
