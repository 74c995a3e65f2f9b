#include "text/tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "text/bpe.h"
#include "text/byte_encoding.h"
#include "text/pretokenize.h"
#include "text/unicode.h"

namespace ck::text {

struct Tokenizer::Impl {
  std::string source;
  std::vector<std::string> id_to_text;
  std::vector<uint32_t> attrs;
  // std::unordered_map as upstream's token_to_id: built by the same insertions, so iterating it visits tokens
  // in the same order as llama.cpp's auto-detection loops (which pick the *first* match for EOT/FIM ids).
  std::unordered_map<std::string, int32_t> token_to_id;
  MergeRanks ranks;
  int32_t bos = 11, eos = 11, eot = kTokenNull, eom = kTokenNull, unk = kTokenNull, sep = kTokenNull,
          pad = kTokenNull, mask = kTokenNull, fim_pre = kTokenNull, fim_suf = kTokenNull, fim_mid = kTokenNull,
          fim_pad = kTokenNull, fim_rep = kTokenNull, fim_sep = kTokenNull;
  bool add_bos = false, add_eos = false, add_sep = false;
  std::set<int32_t> eog;
  std::vector<int32_t> special_cache;    // cache_special_tokens
  std::vector<std::string> piece_cache;  // cache_token_to_piece (special = true)

  void load(const Vocab& v);
  void load_special_ids(const Vocab& v);
  void detect_special_tokens();
  std::string piece_uncached(int32_t id) const;
  void check_id(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= id_to_text.size())
      throw Error("token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                  std::to_string(id_to_text.size() - 1) + ") of " + source);
  }
  int32_t text_to_token(std::string_view t) const {
    auto it = token_to_id.find(std::string(t));
    return it == token_to_id.end() ? kTokenNull : it->second;
  }
  void tokenize_fragment(std::string_view text, std::vector<int32_t>& out) const;
};

namespace {

uint32_t attr_of_type(int32_t type) {
  switch (type) {
    case kTypeUnknown: return kAttrUnknown;
    case kTypeUnused: return kAttrUnused;
    case kTypeNormal: return kAttrNormal;
    case kTypeControl: return kAttrControl;
    case kTypeUserDefined: return kAttrUserDefined;
    case kTypeByte: return kAttrByte;
    case kTypeUndefined: return kAttrUndefined;
    default: return kAttrUndefined;
  }
}

bool one_of(const std::string& s, std::initializer_list<const char*> list) {
  for (const char* x : list)
    if (s == x) return true;
  return false;
}

}  // namespace

void Tokenizer::Impl::load(const Vocab& v) {
  source = v.source.empty() ? std::string("vocabulary") : v.source;
  if (v.model != "gpt2")
    fail(source, "tokenizer.ggml.model '" + v.model + "' is not supported (ck implements byte-level BPE, 'gpt2')");
  // llama_vocab::impl::load: the tokenizer.ggml.pre values that select LLAMA_VOCAB_PRE_TYPE_QWEN2
  if (!(v.pre == "qwen2" || v.pre == "deepseek-r1-qwen" || v.pre == "kormo" || v.pre == "f2llmv2"))
    fail(source, "tokenizer.ggml.pre '" + v.pre + "' is not supported (ck implements the qwen2 pre-tokenizer)");
  if (v.tokens.empty()) fail(source, "tokenizer.ggml.tokens is empty");
  if (v.tokens.size() > static_cast<size_t>(INT32_MAX)) fail(source, "too many tokens");
  const size_t n = v.tokens.size();
  if (!v.types.empty() && v.types.size() < n)
    fail(source, "tokenizer.ggml.token_type has " + std::to_string(v.types.size()) + " entries for " +
                     std::to_string(n) + " tokens");

  for (size_t i = 0; i < v.merges.size(); ++i) ranks.add(v.merges[i], static_cast<int32_t>(i));

  id_to_text.resize(n);
  attrs.assign(n, kAttrNormal);
  for (size_t i = 0; i < n; ++i) {
    std::string word = v.tokens[i];
    if (word.empty()) word = "[EMPTY_" + std::to_string(i) + "]";  // upstream warns and renames
    token_to_id[word] = static_cast<int32_t>(i);
    id_to_text[i] = std::move(word);
    if (!v.types.empty()) attrs[i] = attr_of_type(v.types[i]);
  }
  if (token_to_id.size() != n)  // GGML_ASSERT(id_to_token.size() == token_to_id.size()) upstream
    fail(source, "tokenizer.ggml.tokens has duplicate entries (llama.cpp aborts on such a vocabulary)");

  load_special_ids(v);
  detect_special_tokens();

  // cache_special_tokens: CONTROL / USER_DEFINED / UNKNOWN, longest text first (std::sort, not stable)
  for (int32_t id = 0; id < static_cast<int32_t>(n); ++id)
    if (attrs[id] & (kAttrControl | kAttrUserDefined | kAttrUnknown)) special_cache.push_back(id);
  std::sort(special_cache.begin(), special_cache.end(),
            [&](int32_t a, int32_t b) { return id_to_text[a].size() > id_to_text[b].size(); });

  piece_cache.resize(n);
  for (int32_t id = 0; id < static_cast<int32_t>(n); ++id) piece_cache[id] = piece_uncached(id);
}

void Tokenizer::Impl::load_special_ids(const Vocab& v) {
  const int64_t n = static_cast<int64_t>(id_to_text.size());
  // same order as upstream's special_token_types; prefix/suffix/middle are the deprecated FIM keys
  const std::vector<std::pair<std::string, int32_t*>> ids = {
      {"bos", &bos}, {"eos", &eos}, {"eot", &eot}, {"eom", &eom}, {"unknown", &unk}, {"seperator", &sep},
      {"padding", &pad}, {"mask", &mask}, {"fim_pre", &fim_pre}, {"fim_suf", &fim_suf}, {"fim_mid", &fim_mid},
      {"fim_pad", &fim_pad}, {"fim_rep", &fim_rep}, {"fim_sep", &fim_sep}, {"prefix", &fim_pre},
      {"suffix", &fim_suf}, {"middle", &fim_mid}};
  for (const auto& [name, id] : ids) {
    if (*id >= 0 && *id >= n) *id = kTokenNull;  // default out of range: disabled
    auto it = v.special_ids.find(name);
    if (it == v.special_ids.end()) continue;
    // read as uint32 upstream; an id past the vocabulary keeps the default
    const uint32_t new_id = static_cast<uint32_t>(it->second);
    if (static_cast<int64_t>(new_id) < n) *id = static_cast<int32_t>(new_id);
  }
  if (v.add_bos) add_bos = *v.add_bos;
  if (v.add_eos) add_eos = *v.add_eos;
  if (v.add_sep) add_sep = *v.add_sep;
}

void Tokenizer::Impl::detect_special_tokens() {
  // "auto-detect special tokens by text": the first token (in token_to_id order) matching each list becomes
  // that special id and is forced CONTROL
  auto force_control = [&](int32_t id) { attrs[id] |= kAttrControl; };
  for (const auto& [text, id] : token_to_id) {
    if (eot == kTokenNull &&
        one_of(text, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
                      "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"})) {
      eot = id;
      force_control(id);
    }
    if (eom == kTokenNull && text == "<|eom_id|>") {
      eom = id;
      force_control(id);
    }
    if (fim_pre == kTokenNull && one_of(text, {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>",
                                               "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"})) {
      fim_pre = id;
      force_control(id);
    }
    if (fim_suf == kTokenNull && one_of(text, {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>",
                                               "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"})) {
      fim_suf = id;
      force_control(id);
    }
    if (fim_mid == kTokenNull && one_of(text, {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>",
                                               "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"})) {
      fim_mid = id;
      force_control(id);
    }
    if (fim_pad == kTokenNull && one_of(text, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"})) {
      fim_pad = id;
      force_control(id);
    }
    if (fim_rep == kTokenNull && one_of(text, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"})) {
      fim_rep = id;
      force_control(id);
    }
    if (fim_sep == kTokenNull && text == "<|file_sep|>") {
      fim_sep = id;
      force_control(id);
    }
  }

  // control tokens named "...unused..." are marked UNUSED too
  for (const auto& [text, id] : token_to_id)
    if ((attrs[id] & kAttrControl) && !(attrs[id] & kAttrUnused) && text.find("unused") != std::string::npos)
      attrs[id] |= kAttrUnused;

  // end-of-generation set
  eog.clear();
  for (int32_t id : {fim_pad, fim_rep, fim_sep})
    if (id != kTokenNull) eog.insert(id);
  for (const auto& [text, id] : token_to_id) {
    if (one_of(text, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
                      "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
                      "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
                      "<｜end▁of▁sentence｜>", "[e~["})) {
      eog.insert(id);
      force_control(id);
    }
  }
  // gpt-oss: always rendered
  for (const auto& [text, id] : token_to_id)
    if (one_of(text, {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"})) attrs[id] = kAttrUserDefined;

  for (int32_t id : {eos, eot, eom})
    if (id != kTokenNull) eog.insert(id);

  // o200k_harmony / solar-open: "<|end|>" is not end-of-generation when "<|return|>"/"<|call|>" exist
  {
    bool has_return = false, has_call = false, has_end = false, has_flush = false;
    int32_t end_id = kTokenNull;
    for (int32_t id : eog) {
      if (id < 0 || id >= static_cast<int32_t>(id_to_text.size())) continue;
      const std::string& t = id_to_text[id];
      if (t == "<|return|>") has_return = true;
      else if (t == "<|call|>" || t == "<|calls|>") has_call = true;
      else if (t == "<|flush|>") has_flush = true;
      else if (t == "<|end|>") {
        has_end = true;
        end_id = id;
      }
    }
    if ((has_return && has_call && has_end) || (has_call && has_flush && has_end)) {
      eog.erase(end_id);
      attrs[end_id] = kAttrUserDefined;
    }
  }
  // gemma4 / paddleocr: "</s>" is not end-of-generation when "<|tool_response>" is
  {
    bool has_tool_response = false, has_s = false;
    int32_t s_id = kTokenNull;
    for (int32_t id : eog) {
      if (id < 0 || id >= static_cast<int32_t>(id_to_text.size())) continue;
      const std::string& t = id_to_text[id];
      if (t == "<|tool_response>") has_tool_response = true;
      else if (t == "</s>") {
        has_s = true;
        s_id = id;
      }
    }
    if (has_tool_response && has_s) {
      eog.erase(s_id);
      attrs[s_id] = kAttrNormal;
    }
  }
}

std::string Tokenizer::Impl::piece_uncached(int32_t id) const {
  // llama_vocab::impl::token_to_piece, LLAMA_VOCAB_TYPE_BPE, special = true, lstrip = 0
  const uint32_t attr = attrs[id];
  const std::string& text = id_to_text[id];
  if (attr & (kAttrUnknown | kAttrControl | kAttrUserDefined)) return text;
  if (attr & kAttrNormal) {
    // llama_decode_text: each code point back to its byte; unknown ones spelled out as upstream does
    std::string out;
    for (uint32_t cpt : cpts_from_utf8(text)) {
      if (auto b = cpt_to_byte(cpt)) {
        out.push_back(static_cast<char>(*b));
        continue;
      }
      std::string utf8;
      if (!cpt_to_utf8(cpt, utf8))
        fail(source, "token " + std::to_string(id) + " holds a code point above U+10FFFF");
      out += "[UNK_BYTE_0x";
      char hex[3];
      for (char c : utf8) {
        std::snprintf(hex, sizeof hex, "%02x", static_cast<uint8_t>(c));
        out += hex;
      }
      out += text + "]";
    }
    return out;
  }
  if (attr & kAttrByte) {
    // token_to_byte for BPE: "<0xXX>" -> strtol(text.substr(3, 2), 16)
    const std::string hex = text.size() > 3 ? text.substr(3, 2) : std::string();
    return std::string(1, static_cast<char>(std::strtol(hex.c_str(), nullptr, 16)));
  }
  return std::string();  // UNUSED / UNDEFINED
}

void Tokenizer::Impl::tokenize_fragment(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<std::string_view> symbols;
  for (const std::string& word : pretokenize_qwen2(text)) {
    symbols.clear();
    bpe_merge(word, ranks, symbols);
    for (std::string_view s : symbols) {
      const int32_t id = text_to_token(s);
      if (id != kTokenNull) {
        out.push_back(id);
        continue;
      }
      // no token for the merged symbol: one token per byte of its (byte-encoded) text, where one exists
      for (char c : s) {
        const int32_t b = text_to_token(std::string_view(&c, 1));
        if (b != kTokenNull) out.push_back(b);
      }
    }
  }
}

Tokenizer::Tokenizer(const Vocab& vocab) : impl_(std::make_unique<Impl>()) { impl_->load(vocab); }
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int32_t> Tokenizer::tokenize(std::string_view text, bool add_special, bool parse_special) const {
  const Impl& m = *impl_;
  // tokenizer_st_partition: fragments are raw text [offset, offset+length) or a token id
  struct Fragment {
    int32_t token;  // kTokenNull for raw text
    size_t offset, length;
  };
  std::vector<Fragment> frags, next;
  if (!text.empty()) frags.push_back({kTokenNull, 0, text.size()});
  for (int32_t special : m.special_cache) {
    const uint32_t attr = m.attrs[special];
    if (!parse_special && (attr & (kAttrControl | kAttrUnknown))) continue;
    const std::string& st = m.id_to_text[special];
    next.clear();
    for (const Fragment& f : frags) {
      if (f.token != kTokenNull) {
        next.push_back(f);
        continue;
      }
      // leftmost occurrences, left to right, never overlapping (std::string_view::find from the offset)
      size_t off = f.offset, len = f.length;
      while (true) {
        const size_t match = text.substr(0, off + len).find(st, off);
        if (match == std::string_view::npos) {
          next.push_back({kTokenNull, off, len});
          break;
        }
        if (match > off) next.push_back({kTokenNull, off, match - off});
        next.push_back({special, 0, 0});
        const size_t right = match + st.size();
        if (right >= off + len) break;
        len = off + len - right;
        off = right;
      }
    }
    frags.swap(next);
  }

  std::vector<int32_t> out;
  if (add_special && m.add_bos) {
    if (m.bos == kTokenNull) fail(m.source, "add_bos is set but the vocabulary has no BOS token");
    out.push_back(m.bos);
  }
  for (const Fragment& f : frags) {
    if (f.token != kTokenNull) out.push_back(f.token);
    else m.tokenize_fragment(text.substr(f.offset, f.length), out);
  }
  if (add_special && m.add_eos) {
    if (m.eos == kTokenNull) fail(m.source, "add_eos is set but the vocabulary has no EOS token");
    out.push_back(m.eos);
  }
  return out;
}

const std::string& Tokenizer::token_to_piece(int32_t id, bool special) const {
  static const std::string empty;
  impl_->check_id(id);
  if (!special && (impl_->attrs[id] & (kAttrUnknown | kAttrControl))) return empty;
  return impl_->piece_cache[id];
}

std::string Tokenizer::detokenize(std::span<const int32_t> ids, bool special) const {
  std::string out;
  for (int32_t id : ids) out += token_to_piece(id, special);
  return out;
}

size_t Tokenizer::n_tokens() const { return impl_->id_to_text.size(); }
const std::string& Tokenizer::token_text(int32_t id) const {
  impl_->check_id(id);
  return impl_->id_to_text[id];
}
uint32_t Tokenizer::token_attr(int32_t id) const {
  impl_->check_id(id);
  return impl_->attrs[id];
}
int32_t Tokenizer::find_token(std::string_view text) const { return impl_->text_to_token(text); }
int32_t Tokenizer::merge_rank(std::string_view l, std::string_view r) const { return impl_->ranks.find(l, r); }
int32_t Tokenizer::bos() const { return impl_->bos; }
int32_t Tokenizer::eos() const { return impl_->eos; }
int32_t Tokenizer::eot() const { return impl_->eot; }
bool Tokenizer::add_bos() const { return impl_->add_bos; }
bool Tokenizer::add_eos() const { return impl_->add_eos; }
const std::set<int32_t>& Tokenizer::eog_ids() const { return impl_->eog; }
bool Tokenizer::is_eog(int32_t id) const { return id != kTokenNull && impl_->eog.count(id) > 0; }
const std::vector<int32_t>& Tokenizer::special_tokens() const { return impl_->special_cache; }

}  // namespace ck::text
