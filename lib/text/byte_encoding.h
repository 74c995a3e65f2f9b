// GPT-2 byte-level encoding (unicode.cpp unicode_byte_to_utf8_map / unicode_utf8_to_byte_map): every byte
// maps to one printable code point -- '!'..'~', '¡'..'¬', '®'..'ÿ' to themselves, the other 68 bytes in
// ascending order to U+0100, U+0101, ... -- so byte-level BPE tokens are valid UTF-8 strings.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ck::text {

// The UTF-8 of the code point byte `b` maps to (2 bytes at most).
const std::string& byte_to_utf8(uint8_t b);

// The byte whose mapped code point is `cpt`, or nothing if `cpt` is not one of the 256.
std::optional<uint8_t> cpt_to_byte(uint32_t cpt);

}  // namespace ck::text
