#include "text/pretokenize.h"

#include "core/error.h"
#include "text/byte_encoding.h"
#include "text/unicode.h"

namespace ck::text {

std::vector<size_t> split_qwen2(const std::vector<uint32_t>& cpts) {
  // Mirrors unicode_regex_split_custom_qwen2 statement by statement (single fragment: offset_ini = 0).
  std::vector<size_t> words;
  words.reserve(cpts.size() / 3 + 1);
  const size_t end = cpts.size();
  constexpr uint32_t kOutOfRange = 0xFFFFFFFF;
  auto get_cpt = [&](size_t pos) -> uint32_t { return pos < end ? cpts[pos] : kOutOfRange; };
  // out of range -> unicode_cpt_flags{} (all bits zero), not UNDEFINED
  auto get_flags = [&](size_t pos) -> uint16_t { return pos < end ? cpt_flags(cpts[pos]) : uint16_t{0}; };
  auto is = [](uint16_t f, uint16_t bit) { return (f & bit) != 0; };

  size_t prev_end = 0;
  auto add_token = [&](size_t e) -> size_t {
    const size_t len = e - prev_end;
    if (len > 0) words.push_back(len);
    prev_end = e;
    return len;
  };

  for (size_t pos = 0; pos < end;) {
    const uint32_t cpt = get_cpt(pos);
    const uint16_t flags = get_flags(pos);

    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if (cpt == '\'' && pos + 1 < end) {
      const uint32_t next = cpt_tolower(get_cpt(pos + 1));
      if (next == 's' || next == 't' || next == 'm' || next == 'd') {
        pos += add_token(pos + 2);
        continue;
      }
      if (pos + 2 < end) {
        const uint32_t next2 = cpt_tolower(get_cpt(pos + 2));
        if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l')) {
          pos += add_token(pos + 3);
          continue;
        }
      }
    }

    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!(cpt == '\r' || cpt == '\n' || is(flags, kNumber))) {
      if (is(flags, kLetter) || is(get_flags(pos + 1), kLetter)) {
        pos++;
        while (is(get_flags(pos), kLetter)) pos++;
        add_token(pos);
        continue;
      }
    }

    // \p{N}
    if (is(flags, kNumber)) {
      pos++;
      add_token(pos);
      continue;
    }

    // <space>?[^\s\p{L}\p{N}]+[\r\n]*   (note: the entry test uses `flags`, the loop `flags2`, as upstream)
    uint16_t flags2 = (cpt == ' ' ? get_flags(pos + 1) : flags);
    if (!(flags2 & (kWhitespace | kLetter | kNumber)) && flags) {
      pos += (cpt == ' ');
      while (!(flags2 & (kWhitespace | kLetter | kNumber)) && flags2) flags2 = get_flags(++pos);
      uint32_t cpt2 = get_cpt(pos);
      while (cpt2 == '\r' || cpt2 == '\n') cpt2 = get_cpt(++pos);
      add_token(pos);
      continue;
    }

    size_t num_whitespaces = 0;
    size_t last_end_r_or_n = 0;
    while (is(get_flags(pos + num_whitespaces), kWhitespace)) {
      const uint32_t cpt2 = get_cpt(pos + num_whitespaces);
      if (cpt2 == '\r' || cpt2 == '\n') last_end_r_or_n = pos + num_whitespaces + 1;
      num_whitespaces++;
    }

    // \s*[\r\n]+
    if (last_end_r_or_n > 0) {
      pos = last_end_r_or_n;
      add_token(pos);
      continue;
    }
    // \s+(?!\S)
    if (num_whitespaces > 1 && get_cpt(pos + num_whitespaces) != kOutOfRange) {
      pos += num_whitespaces - 1;
      add_token(pos);
      continue;
    }
    // \s+
    if (num_whitespaces > 0) {
      pos += num_whitespaces;
      add_token(pos);
      continue;
    }
    // no match
    add_token(++pos);
  }
  return words;
}

std::vector<std::string> pretokenize_qwen2(std::string_view text) {
  const std::vector<uint32_t> cpts = cpts_from_utf8(text);
  const std::vector<size_t> lens = split_qwen2(cpts);
  std::vector<std::string> words;
  words.reserve(lens.size());
  std::string utf8;
  size_t start = 0;
  for (size_t len : lens) {
    utf8.clear();
    for (size_t i = start; i < start + len; ++i) {
      if (!cpt_to_utf8(cpts[i], utf8))
        throw Error("text: invalid UTF-8: a sequence decodes to code point " + std::to_string(cpts[i]) +
                    " above U+10FFFF (llama.cpp's tokenizer throws \"invalid codepoint\" here too)");
    }
    start += len;
    std::string encoded;
    encoded.reserve(utf8.size() * 2);
    for (char c : utf8) encoded += byte_to_utf8(static_cast<uint8_t>(c));
    words.push_back(std::move(encoded));
  }
  return words;
}

}  // namespace ck::text
