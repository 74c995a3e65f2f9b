// Tokenizer + chat rendering (lib/text, lib/decode chat) on arbitrary bytes, invalid UTF-8 included: the first
// byte picks the flags, the rest is the prompt. The prompt is rendered through the chat shell (with 0..3 image
// markers), tokenized with and without special-token parsing, and every id is turned back into its piece.
// The vocabulary is the real Qwen3 BPE one (the tiny synthetic text model's, from make deps' tokenizer.json).
#include <cstdlib>
#include <string>
#include <string_view>

#include "decode/chat.h"
#include "fuzz_common.h"
#include "synth/chat_template.h"
#include "synth/preset.h"
#include "synth/vocab.h"
#include "text/tokenizer.h"

namespace {

const ck::text::Tokenizer& tokenizer() {
  static const ck::text::Tokenizer t = [] {
    const char* deps = std::getenv("CK_DEPS_DIR");
    const std::string path = std::string(deps && *deps ? deps : CK_DEPS_DIR) + "/qwen3-tokenizer/tokenizer.json";
    const ck::synth::Vocab sv = ck::synth::load_qwen_vocab(path, ck::synth::preset("tiny").n_vocab);
    ck::text::Vocab v;
    v.source = path;
    v.model = "gpt2";
    v.pre = "qwen2";
    v.tokens = sv.tokens;
    v.types = sv.types;
    v.merges = sv.merges;
    v.special_ids = {{"bos", sv.bos}, {"eos", sv.eos}, {"padding", sv.pad}};
    v.add_bos = false;
    return ck::text::Tokenizer(v);
  }();
  return t;
}

}  // namespace

#ifndef CK_FUZZ_REPLAY
// The vocabulary (151k tokens + merges) is loaded before the first input: under ASan on a loaded machine it
// takes longer than the per-input -timeout.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tokenizer();
  return 0;
}
#endif

CK_FUZZ_TARGET(text) {
  if (size == 0) return 0;
  const auto& tok = tokenizer();
  const uint8_t flags = data[0];
  const std::string prompt(reinterpret_cast<const char*>(data + 1), size - 1);
  ck::fuzz::guarded([&] {
    const auto ids = tok.tokenize(prompt, flags & 1, flags & 2);
    (void)tok.detokenize(ids, flags & 4);
  });
  ck::fuzz::guarded([&] {
    const auto& formats = ck::decode::ChatFormats::builtin();
    ck::decode::ChatContract c;
    if (!(flags & 8)) c.chat_template = ck::synth::qwen3vl_chat_template();
    c.image_begin = "<|vision_start|>";
    c.image_end = "<|vision_end|>";
    const int n_images = (flags >> 4) & 3;
    const std::string content = ck::decode::user_content(prompt, n_images, flags & 64, formats);
    const std::string text = ck::decode::apply_chat_shell(c, content, formats, "fuzz");
    const auto ids = tok.tokenize(text, false, true);
    for (int32_t id : ids) (void)tok.token_to_piece(id, true);
  });
  return 0;
}
