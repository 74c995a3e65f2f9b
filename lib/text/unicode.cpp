#include "text/unicode.h"

#include <algorithm>

namespace ck::text {

namespace {

struct FlagRun {
  uint32_t first;
  uint16_t flags;
};
struct CaseMap {
  uint32_t from;
  uint32_t to;
};

#include "text/unicode_flags_table.inc"

// unicode_cpt_flags_array(): one uint16 per code point, expanded once from the runs.
const std::vector<uint16_t>& flag_array() {
  static const std::vector<uint16_t> flags = [] {
    std::vector<uint16_t> f(kMaxCodepoints, kUndefined);
    constexpr size_t n = sizeof(kFlagRuns) / sizeof(kFlagRuns[0]);
    for (size_t i = 0; i + 1 < n; ++i)
      std::fill(f.begin() + kFlagRuns[i].first, f.begin() + kFlagRuns[i + 1].first, kFlagRuns[i].flags);
    return f;
  }();
  return flags;
}

}  // namespace

uint16_t cpt_flags(uint32_t cpt) {
  const auto& f = flag_array();
  return cpt < f.size() ? f[cpt] : uint16_t{kUndefined};
}

uint32_t cpt_tolower(uint32_t cpt) {
  const auto* end = std::end(kLowercaseMap);
  const auto* it = std::lower_bound(std::begin(kLowercaseMap), end, cpt,
                                    [](const CaseMap& p, uint32_t v) { return p.from < v; });
  return (it != end && it->from == cpt) ? it->to : cpt;
}

size_t utf8_len(char lead) {
  static constexpr size_t lookup[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return lookup[static_cast<uint8_t>(lead) >> 4];
}

std::vector<uint32_t> cpts_from_utf8(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  const size_t n = s.size();
  auto cont = [&](size_t i) { return (static_cast<uint8_t>(s[i]) & 0xC0) == 0x80; };
  size_t i = 0;
  while (i < n) {
    const uint32_t b0 = static_cast<uint8_t>(s[i]);
    // unicode_cpt_from_utf8; every failure throws there and unicode_cpts_from_utf8 turns it into U+FFFD, +1 byte
    if (!(b0 & 0x80)) {
      out.push_back(b0);
      i += 1;
      continue;
    }
    if (b0 & 0x40) {
      if (!(b0 & 0x20)) {
        if (i + 1 < n && cont(i + 1)) {
          out.push_back(((b0 & 0x1F) << 6) | (static_cast<uint8_t>(s[i + 1]) & 0x3F));
          i += 2;
          continue;
        }
      } else if (!(b0 & 0x10)) {
        if (i + 2 < n && cont(i + 1) && cont(i + 2)) {
          out.push_back(((b0 & 0x0F) << 12) | ((static_cast<uint8_t>(s[i + 1]) & 0x3F) << 6) |
                        (static_cast<uint8_t>(s[i + 2]) & 0x3F));
          i += 3;
          continue;
        }
      } else if (!(b0 & 0x08)) {
        if (i + 3 < n && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
          out.push_back(((b0 & 0x07) << 18) | ((static_cast<uint8_t>(s[i + 1]) & 0x3F) << 12) |
                        ((static_cast<uint8_t>(s[i + 2]) & 0x3F) << 6) | (static_cast<uint8_t>(s[i + 3]) & 0x3F));
          i += 4;
          continue;
        }
      }
    }
    out.push_back(0xFFFD);
    i += 1;
  }
  return out;
}

bool cpt_to_utf8(uint32_t cpt, std::string& out) {
  if (cpt <= 0x7F) {
    out.push_back(static_cast<char>(cpt));
  } else if (cpt <= 0x7FF) {
    out.push_back(static_cast<char>(0xC0 | ((cpt >> 6) & 0x1F)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else if (cpt <= 0xFFFF) {
    out.push_back(static_cast<char>(0xE0 | ((cpt >> 12) & 0x0F)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else if (cpt <= 0x10FFFF) {
    out.push_back(static_cast<char>(0xF0 | ((cpt >> 18) & 0x07)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cpt >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cpt & 0x3F)));
  } else {
    return false;
  }
  return true;
}

}  // namespace ck::text
