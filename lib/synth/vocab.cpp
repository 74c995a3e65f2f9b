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
  nlohmann::json tj;
  try {
    tj = nlohmann::json::parse(reinterpret_cast<const char*>(bytes.data()),
                               reinterpret_cast<const char*>(bytes.data()) + bytes.size());
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("not valid JSON: ") + e.what());
  }
  try {
    const auto& model = tj.at("model");
    if (model.value("type", std::string("BPE")) != "BPE") fail(path, "model.type is not BPE");
    // token -> id: the BPE vocab, then added tokens (which override, as python's dict update does).
    std::vector<std::string> rev(static_cast<size_t>(n_vocab));
    std::vector<bool> have(static_cast<size_t>(n_vocab), false);
    std::unordered_map<std::string, int64_t> id_of;
    for (const auto& [tok, idv] : model.at("vocab").items()) id_of[tok] = idv.get<int64_t>();
    std::unordered_map<int64_t, bool> added_special;  // id -> "special" flag of added tokens
    for (const auto& a : tj.at("added_tokens")) {
      const int64_t id = a.at("id").get<int64_t>();
      id_of[a.at("content").get<std::string>()] = id;
      added_special[id] = a.value("special", false);
    }
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
      if (!have[static_cast<size_t>(i)]) {
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
    const auto& merges = model.at("merges");
    v.merges.reserve(merges.size());
    for (const auto& m : merges) {
      if (m.is_string()) {
        v.merges.push_back(m.get<std::string>());
      } else {  // newer tokenizers.json: ["a", "b"]
        std::string s;
        for (const auto& part : m) {
          if (!s.empty()) s.push_back(' ');
          s.append(part.get_ref<const std::string&>());
        }
        v.merges.push_back(std::move(s));
      }
    }
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
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("not a Hugging Face tokenizer.json: ") + e.what());
  }
}

}  // namespace ck::synth
