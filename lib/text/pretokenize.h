// Pre-tokenization of one text fragment for byte-level BPE, the path llama.cpp b10256 takes for
// LLAMA_VOCAB_PRE_TYPE_QWEN2: unicode_regex_split() with the single expression
//   (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|
//    ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// which unicode_regex_split_custom() recognizes by string and hands to unicode_regex_split_custom_qwen2()
// -- a hand-written scanner, not std::regex -- over llama.cpp's own code point flags (unicode.h). Its
// results differ from a true regex engine in corner cases (e.g. the contraction rule lowercases with
// unicode_tolower, "\s+(?!\S)" is decided by a look at one code point); we reproduce the scanner, not the
// regex. Then unicode_byte_encoding_process(): each word's UTF-8 bytes mapped through the GPT-2 byte table.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ck::text {

// unicode_regex_split_custom_qwen2 over one fragment: the length (in code points) of each word, in order.
std::vector<size_t> split_qwen2(const std::vector<uint32_t>& cpts);

// The whole of unicode_regex_split(text, {qwen2 regex}, byte_encode=true): the byte-encoded words.
// Invalid UTF-8 becomes U+FFFD per bad byte (as llama.cpp); a sequence decoding above U+10FFFF throws
// ck::Error (llama.cpp throws std::invalid_argument out of llama_tokenize there).
std::vector<std::string> pretokenize_qwen2(std::string_view text);

}  // namespace ck::text
