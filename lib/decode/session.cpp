#include "decode/session.h"

#include <algorithm>

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

GenerateResult generate(DecoderBackend& be, const Schedule& s, const float* image_rows, int64_t row_width,
                        Sampler& sampler, const std::vector<int32_t>& stop_ids, const SessionOptions& o,
                        const std::function<void(int32_t)>& on_token) {
  KvCache kv(o.n_ctx);
  GenerateResult r;
  std::span<const float> logits;
  for (const auto& u : s.ubatches) {
    const UbatchInputs in = make_inputs(kv, u, image_rows, row_width, "prefill", o.head_dim_v);
    auto out = be.run(in);
    if (in.n_outputs > 0) logits = out;
    ++r.n_prompt_ubatches;
  }
  if (logits.empty()) throw ck::Error("the prompt produced no logits (empty prompt?)");
  r.first_logits.assign(logits.begin(), logits.end());
  int32_t pos = s.n_past;
  for (int32_t i = 0; o.n_predict < 0 || i < o.n_predict; ++i) {
    const int32_t tok = sampler.sample(logits);
    r.tokens.push_back(tok);
    if (std::find(stop_ids.begin(), stop_ids.end(), tok) != stop_ids.end()) {
      r.hit_eog = true;
      break;
    }
    if (on_token) on_token(tok);
    if (o.n_predict >= 0 && i + 1 == o.n_predict) break;  // as ref_decode: the last token is not fed back
    if (kv.used() >= kv.size()) break;                      // context full
    const UbatchInputs in =
        make_inputs(kv, generation_ubatch(tok, pos++), nullptr, 0, "gen" + std::to_string(i), o.head_dim_v);
    logits = be.run(in);
  }
  return r;
}

}  // namespace ck::decode
