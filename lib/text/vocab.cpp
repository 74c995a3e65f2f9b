#include "text/vocab.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "bump/reader.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "core/sha256.h"
#include "gguf/gguf.h"

namespace ck::text {

const std::vector<std::string>& special_id_names() {
  // llama_vocab::impl::load special_token_types (LLM_KV_TOKENIZER_*_ID, llama-arch.cpp), in its order.
  static const std::vector<std::string> names = {
      "bos", "eos", "eot", "eom", "unknown", "seperator", "padding", "mask",
      "fim_pre", "fim_suf", "fim_mid", "fim_pad", "fim_rep", "fim_sep", "prefix", "suffix", "middle"};
  return names;
}

namespace {

constexpr const char* kTokens = "tokenizer.ggml.tokens";
constexpr const char* kTypes = "tokenizer.ggml.token_type";
constexpr const char* kMerges = "tokenizer.ggml.merges";

std::vector<std::string> gguf_strings(const gguf::Reader& r, const char* key, bool required) {
  const gguf::Value* v = r.find(key);
  if (!v) {
    if (required) fail(r.path(), std::string("missing key ") + key);
    return {};
  }
  if (v->type != gguf::ValueType::ARRAY || v->elem_type != gguf::ValueType::STRING)
    fail(r.path(), std::string(key) + " is not an array of strings");
  std::vector<std::string> out;
  out.reserve(v->arr.size());
  for (const auto& e : v->arr) out.push_back(e.s);
  return out;
}

}  // namespace

Vocab vocab_from_gguf(const gguf::Reader& r) {
  Vocab v;
  v.source = r.path();
  v.model = r.get_string_opt("tokenizer.ggml.model").value_or("");
  v.pre = r.get_string_opt("tokenizer.ggml.pre").value_or("");
  v.tokens = gguf_strings(r, kTokens, true);
  v.merges = gguf_strings(r, kMerges, true);  // llama.cpp: "cannot find tokenizer merges"
  if (const gguf::Value* t = r.find(kTypes)) {
    if (t->type != gguf::ValueType::ARRAY || !(t->elem_type == gguf::ValueType::INT32))
      fail(r.path(), std::string(kTypes) + " is not an array of i32");
    v.types.reserve(t->arr.size());
    for (const auto& e : t->arr) v.types.push_back(static_cast<int32_t>(e.i));
  }
  for (const auto& name : special_id_names())
    if (auto id = r.get_int_opt("tokenizer.ggml." + name + "_token_id")) v.special_ids[name] = *id;
  v.add_bos = r.get_bool_opt("tokenizer.ggml.add_bos_token");
  v.add_eos = r.get_bool_opt("tokenizer.ggml.add_eos_token");
  v.add_sep = r.get_bool_opt("tokenizer.ggml.add_sep_token");
  return v;
}

Vocab vocab_from_gguf_file(const std::string& path) { return vocab_from_gguf(gguf::Reader(path)); }

namespace {

using json = nlohmann::ordered_json;

// A string element as bump/metadata.cpp writes it: a JSON string, or {"hex": "..."} for non-UTF-8 bytes.
std::string bump_string(const json& e, const std::string& path, const char* key) {
  if (e.is_string()) return e.get<std::string>();
  if (e.is_object() && e.contains("hex") && e["hex"].is_string()) {
    const std::string h = e["hex"].get<std::string>();
    if (h.size() % 2) fail(path, std::string(key) + ": odd-length hex string");
    std::string out;
    for (size_t i = 0; i < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
    return out;
  }
  fail(path, std::string(key) + ": string element expected");
}

const json* bump_find(const json& kv, const char* key, const char* type, const std::string& path) {
  if (!kv.contains(key)) return nullptr;
  const json& e = kv[key];
  if (!e.is_object() || !e.contains("type") || e["type"] != type || !e.contains("value"))
    fail(path, std::string(key) + ": expected a " + type + " value in the metadata");
  return &e;
}

}  // namespace

Vocab vocab_from_bump(const bump::Reader& r) {
  const std::string& path = r.path();
  Vocab v;
  v.source = path;
  try {
    const json& kv = r.kv();
    auto str = [&](const char* key) -> std::string {
      const json* e = bump_find(kv, key, "string", path);
      return e ? bump_string((*e)["value"], path, key) : std::string();
    };
    auto strings = [&](const char* key, bool required) {
      std::vector<std::string> out;
      const json* e = bump_find(kv, key, "array", path);
      if (!e) {
        if (required) fail(path, std::string("missing key ") + key);
        return out;
      }
      if ((*e)["elem_type"] != "string") fail(path, std::string(key) + " is not an array of strings");
      for (const auto& s : (*e)["value"]) out.push_back(bump_string(s, path, key));
      return out;
    };
    v.model = str("tokenizer.ggml.model");
    v.pre = str("tokenizer.ggml.pre");
    v.tokens = strings(kTokens, true);
    v.merges = strings(kMerges, true);
    if (const json* e = bump_find(kv, kTypes, "array", path))
      for (const auto& t : (*e)["value"]) v.types.push_back(t.get<int32_t>());
    for (const auto& name : special_id_names()) {
      const std::string key = "tokenizer.ggml." + name + "_token_id";
      if (kv.contains(key) && kv[key].contains("value") && kv[key]["value"].is_number_integer())
        v.special_ids[name] = kv[key]["value"].get<int64_t>();
    }
    auto flag = [&](const char* key) -> std::optional<bool> {
      const json* e = bump_find(kv, key, "bool", path);
      if (!e) return std::nullopt;
      return (*e)["value"].get<bool>();
    };
    v.add_bos = flag("tokenizer.ggml.add_bos_token");
    v.add_eos = flag("tokenizer.ggml.add_eos_token");
    v.add_sep = flag("tokenizer.ggml.add_sep_token");
  } catch (const json::exception& e) {
    fail(path, std::string("malformed tokenizer metadata: ") + e.what());
  }
  return v;
}

Vocab load_vocab(const std::string& path) {
  bool is_bump = false;
  {
    MappedFile f(path);
    is_bump = f.size() >= sizeof(bump::kMagic) && std::memcmp(f.data(), bump::kMagic, sizeof(bump::kMagic)) == 0;
  }
  if (is_bump) return vocab_from_bump(bump::Reader(path));
  return vocab_from_gguf_file(path);
}

std::string vocab_digest(const Vocab& v) {
  Sha256 h;
  auto put_u64 = [&](uint64_t x) { h.update(&x, sizeof x); };
  auto put_str = [&](const std::string& s) {
    put_u64(s.size());
    h.update(s.data(), s.size());
  };
  put_u64(v.tokens.size());
  for (const auto& t : v.tokens) put_str(t);
  put_u64(v.types.size());
  for (int32_t t : v.types) put_u64(static_cast<uint64_t>(static_cast<int64_t>(t)));
  put_u64(v.merges.size());
  for (const auto& m : v.merges) put_str(m);
  return h.hex_digest();
}

}  // namespace ck::text
