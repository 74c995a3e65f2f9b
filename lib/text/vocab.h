// The tokenizer's vocabulary, independent of where it came from: the GGUF keys tokenizer.ggml.* that
// llama.cpp b10256 llama_vocab::impl::load reads for a byte-level BPE model, kept raw (token types as stored,
// merges as "a b" strings, special ids as found) so that Tokenizer applies llama.cpp's load-time rules itself.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ck::gguf {
class Reader;
}
namespace ck::bump {
class Reader;
}

namespace ck::text {

// llama_token_type (llama.h), the values of tokenizer.ggml.token_type.
enum TokenType : int32_t {
  kTypeUndefined = 0, kTypeNormal = 1, kTypeUnknown = 2, kTypeControl = 3,
  kTypeUserDefined = 4, kTypeUnused = 5, kTypeByte = 6,
};

struct Vocab {
  std::string source;                // file name, for error messages
  std::string model;                 // tokenizer.ggml.model ("gpt2")
  std::string pre;                   // tokenizer.ggml.pre ("qwen2")
  std::vector<std::string> tokens;   // tokenizer.ggml.tokens
  std::vector<int32_t> types;        // tokenizer.ggml.token_type (empty: key absent)
  std::vector<std::string> merges;   // tokenizer.ggml.merges, rank = index
  // tokenizer.ggml.<name>_token_id keys present in the source, by key suffix ("bos", "eos", "padding", ...).
  std::map<std::string, int64_t> special_ids;
  std::optional<bool> add_bos, add_eos, add_sep;  // tokenizer.ggml.add_{bos,eos,sep}_token
};

// The special-id key names llama.cpp reads ("tokenizer.ggml." + name + "_token_id").
const std::vector<std::string>& special_id_names();

// From a GGUF's metadata (the primary source). Throws ck::Error("<file>: <problem>") when a key is missing
// or malformed.
Vocab vocab_from_gguf(const gguf::Reader& r);
Vocab vocab_from_gguf_file(const std::string& path);

// From a bump's metadata JSON (ck-convert carries every GGUF key losslessly, bump/metadata.h).
Vocab vocab_from_bump(const bump::Reader& r);

// Opens `path` as a GGUF or a bump (by magic).
Vocab load_vocab(const std::string& path);

// sha256 over a canonical serialization of tokens, types and merges (length-prefixed), identifying the
// vocabulary whatever file carried it; recorded in tests/fixtures/tokenizer/manifest.json.
std::string vocab_digest(const Vocab& v);

}  // namespace ck::text
