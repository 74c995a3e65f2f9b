// Byte-level BPE tokenizer reproducing llama.cpp b10256 (src/llama-vocab.cpp) for tokenizer.ggml.model "gpt2"
// with pre-tokenizer LLAMA_VOCAB_PRE_TYPE_QWEN2 (tokenizer.ggml.pre "qwen2", "deepseek-r1-qwen", "kormo",
// "f2llmv2"): llama_tokenize() and llama_token_to_piece() give the same ids and bytes. docs/TOKENIZER.md.
//
// Load-time rules applied here exactly as llama_vocab::impl::load applies them: token types -> attributes;
// default special ids (gpt2: bos = eos = 11) overridden by the GGUF keys; auto-detected EOT/EOM/FIM tokens
// and the end-of-generation set by token text (llama.cpp forces CONTROL on those -- e.g. Qwen's normal
// token "</s>" becomes a special token that parse_special splits out); the special-token cache sorted by
// text length (std::sort, as upstream: ties keep libstdc++'s order).
#pragma once
#include <cstdint>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/vocab.h"

namespace ck::text {

// llama_token_attr (llama.h).
enum TokenAttr : uint32_t {
  kAttrUndefined = 0, kAttrUnknown = 1u << 0, kAttrUnused = 1u << 1, kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3, kAttrUserDefined = 1u << 4, kAttrByte = 1u << 5, kAttrNormalized = 1u << 6,
  kAttrLstrip = 1u << 7, kAttrRstrip = 1u << 8, kAttrSingleWord = 1u << 9,
};

inline constexpr int32_t kTokenNull = -1;  // LLAMA_TOKEN_NULL

class Tokenizer {
 public:
  // Throws ck::Error("<vocab.source>: <problem>") for an unsupported model/pre-tokenizer or a malformed vocab.
  explicit Tokenizer(const Vocab& vocab);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // llama_tokenize(vocab, text, add_special, parse_special). add_special adds BOS/EOS only where the vocab
  // says so (Qwen: neither). parse_special splits out CONTROL/UNKNOWN token strings as single tokens;
  // USER_DEFINED strings are split out either way. Throws ck::Error where llama.cpp throws (a UTF-8 sequence
  // decoding above U+10FFFF).
  std::vector<int32_t> tokenize(std::string_view text, bool add_special = true, bool parse_special = true) const;

  // llama_token_to_piece(vocab, id, buf, len, lstrip=0, special): the bytes of one token. With special=false
  // CONTROL/UNKNOWN tokens give "". Byte-level tokens decode through the GPT-2 table, so a piece can be a
  // fragment of a UTF-8 sequence. Throws ck::Error for an id outside the vocabulary.
  const std::string& token_to_piece(int32_t id, bool special = true) const;
  // Concatenated pieces (what a streaming printer writes, token by token).
  std::string detokenize(std::span<const int32_t> ids, bool special = true) const;

  size_t n_tokens() const;
  const std::string& token_text(int32_t id) const;  // as stored (byte-level encoded)
  uint32_t token_attr(int32_t id) const;            // TokenAttr bits after the load-time rules
  int32_t find_token(std::string_view text) const;   // exact text -> id, or kTokenNull
  int32_t merge_rank(std::string_view left, std::string_view right) const;  // or -1

  int32_t bos() const;
  int32_t eos() const;
  int32_t eot() const;
  bool add_bos() const;
  bool add_eos() const;
  const std::set<int32_t>& eog_ids() const;  // llama_vocab_is_eog
  bool is_eog(int32_t id) const;
  // Token ids partitioned before pre-tokenization, in the order they are tried (longest text first).
  const std::vector<int32_t>& special_tokens() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ck::text
