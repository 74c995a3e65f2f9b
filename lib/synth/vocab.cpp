#include "synth/vocab.h"

#include <nlohmann/json.hpp>
#include <string_view>
#include <unordered_map>

#include "core/error.h"
#include "core/mapped_file.h"
#include "core/sha256.h"

namespace ck::synth {

namespace {

bool starts_with(const std::string& s, std::string_view p) { return s.size() >= p.size() && s.compare(0, p.size(), p) == 0; }
bool ends_with(const std::string& s, std::string_view p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// The parts of tokenizer.json we need, collected by a SAX pass (a DOM of the 11 MB file costs ~1 s).
struct Raw {
  std::string model_type = "BPE";
  std::vector<std::pair<std::string, int64_t>> vocab;  // model.vocab in file order
  std::vector<std::string> merges;                     // model.merges ("a b" or ["a", "b"] joined by a space)
  struct Added {
    int64_t id = -1;
    std::string content;
    bool special = false;
  };
  std::vector<Added> added;  // added_tokens
};

class Sax : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit Sax(Raw& raw) : raw_(raw) {}

  bool start_object(std::size_t) override {
    const Ctx p = parent();
    Ctx c = kOther;
    if (stack_.empty()) c = kRoot;
    else if (p == kRoot && key_ == "model") c = kModel;
    else if (p == kModel && key_ == "vocab") c = kVocab;
    else if (p == kAddedList) c = kAdded, raw_.added.emplace_back();
    stack_.push_back(c);
    return true;
  }
  bool end_object() override { return pop(); }
  bool start_array(std::size_t) override {
    const Ctx p = parent();
    Ctx c = kOther;
    if (p == kRoot && key_ == "added_tokens") c = kAddedList;
    else if (p == kModel && key_ == "merges") c = kMerges;
    else if (p == kMerges) c = kMergePair, raw_.merges.emplace_back();
    stack_.push_back(c);
    return true;
  }
  bool end_array() override { return pop(); }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool string(string_t& s) override {
    switch (parent()) {
      case kMerges: raw_.merges.push_back(std::move(s)); break;
      case kMergePair:
        if (!raw_.merges.back().empty()) raw_.merges.back().push_back(' ');
        raw_.merges.back().append(s);
        break;
      case kAdded:
        if (key_ == "content") raw_.added.back().content = std::move(s);
        break;
      case kModel:
        if (key_ == "type") raw_.model_type = std::move(s);
        break;
      default: break;
    }
    return true;
  }
  bool number_unsigned(number_unsigned_t v) override { return integer(v > INT64_MAX ? -1 : static_cast<int64_t>(v)); }
  bool number_integer(number_integer_t v) override { return integer(v); }
  bool boolean(bool v) override {
    if (parent() == kAdded && key_ == "special") raw_.added.back().special = v;
    return true;
  }
  bool null() override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception& e) override {
    error = "not valid JSON at byte " + std::to_string(pos) + ": " + e.what();
    return false;
  }
  std::string error;

 private:
  enum Ctx { kOther, kRoot, kModel, kVocab, kMerges, kMergePair, kAddedList, kAdded };
  Ctx parent() const { return stack_.empty() ? kOther : stack_.back(); }
  bool pop() {
    stack_.pop_back();
    return true;
  }
  bool integer(int64_t v) {
    if (parent() == kVocab) raw_.vocab.emplace_back(key_, v);
    else if (parent() == kAdded && key_ == "id") raw_.added.back().id = v;
    return true;
  }
  Raw& raw_;
  std::vector<Ctx> stack_;
  std::string key_;
};

}  // namespace

bool looks_special(const std::string& tok) {
  // "<" U+FF5C ... U+FF5C ">" (FULLWIDTH VERTICAL LINE, UTF-8 EF BD 9C)
  if (tok == "<pad>" || tok == "<mask>" || tok == "<2mass>" || tok == "[@BOS@]") return true;
  if (starts_with(tok, "<|") && ends_with(tok, "|>")) return true;
  if (starts_with(tok, "<\xEF\xBD\x9C") && ends_with(tok, "\xEF\xBD\x9C>")) return true;
  if (starts_with(tok, "<start_of_") && ends_with(tok, ">")) return true;
  if (starts_with(tok, "<end_of_") && ends_with(tok, ">")) return true;
  return false;
}

Vocab load_qwen_vocab(const std::string& path, int n_vocab) {
  MappedFile file(path);
  const auto bytes = file.bytes();
  Raw raw;
  Sax sax(raw);
  const char* b = reinterpret_cast<const char*>(bytes.data());
  if (!nlohmann::json::sax_parse(b, b + bytes.size(), &sax)) fail(path, sax.error.empty() ? "not valid JSON" : sax.error);
  if (raw.model_type != "BPE") fail(path, "model.type is '" + raw.model_type + "', not BPE");
  if (raw.vocab.empty()) fail(path, "no model.vocab (not a Hugging Face BPE tokenizer.json)");

  // token -> id: the BPE vocab, then the added tokens (which override, as python's dict update does).
  std::unordered_map<std::string, int64_t> id_of;
  id_of.reserve(raw.vocab.size() + raw.added.size());
  for (auto& [tok, id] : raw.vocab) id_of[std::move(tok)] = id;
  std::unordered_map<int64_t, bool> added_special;  // id -> "special" flag
  for (const auto& a : raw.added) {
    if (a.id < 0) fail(path, "added token without an id");
    id_of[a.content] = a.id;
    added_special[a.id] = a.special;
  }
  std::vector<std::string> rev(static_cast<size_t>(n_vocab));
  std::vector<bool> have(static_cast<size_t>(n_vocab), false);
  for (const auto& [tok, id] : id_of) {
    if (id < 0 || id >= n_vocab)
      fail(path, "token id " + std::to_string(id) + " outside the vocabulary size " + std::to_string(n_vocab));
    if (have[static_cast<size_t>(id)]) fail(path, "two tokens share id " + std::to_string(id));
    have[static_cast<size_t>(id)] = true;
    rev[static_cast<size_t>(id)] = tok;
  }
  Vocab v;
  v.tokens.reserve(static_cast<size_t>(n_vocab));
  v.types.reserve(static_cast<size_t>(n_vocab));
  for (int64_t i = 0; i < n_vocab; ++i) {
    if (!have[static_cast<size_t>(i)]) {  // convert_hf_to_gguf get_vocab_base: "[PAD{i}]", UNUSED
      v.tokens.push_back("[PAD" + std::to_string(i) + "]");
      v.types.push_back(kTokUnused);
      continue;
    }
    std::string& t = rev[static_cast<size_t>(i)];
    const auto it = added_special.find(i);
    if (it != added_special.end())
      v.types.push_back(it->second || looks_special(t) ? kTokControl : kTokUserDefined);
    else
      v.types.push_back(kTokNormal);
    v.tokens.push_back(std::move(t));
  }
  v.merges = std::move(raw.merges);
  auto id = [&](const char* tok) -> uint32_t {
    const auto it = id_of.find(tok);
    if (it == id_of.end()) fail(path, std::string("no token ") + tok);
    return static_cast<uint32_t>(it->second);
  };
  v.bos = id("<|endoftext|>");
  v.eos = id("<|im_end|>");
  v.pad = id("<|endoftext|>");
  v.source_sha256 = sha256_hex(bytes);
  return v;
}

}  // namespace ck::synth
