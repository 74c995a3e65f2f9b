#include "text/byte_encoding.h"

#include <array>

#include "text/unicode.h"

namespace ck::text {

namespace {

struct Tables {
  std::array<std::string, 256> to_utf8;
  std::array<int16_t, 324> from_cpt;  // code points 0..323 (256 + 68 - 1 is the largest used)
};

const Tables& tables() {
  static const Tables t = [] {
    Tables t;
    std::array<uint32_t, 256> cpt{};
    std::array<bool, 256> direct{};
    for (int c = 0x21; c <= 0x7E; ++c) direct[c] = true;
    for (int c = 0xA1; c <= 0xAC; ++c) direct[c] = true;
    for (int c = 0xAE; c <= 0xFF; ++c) direct[c] = true;
    uint32_t n = 0;
    for (int c = 0; c < 256; ++c) cpt[c] = direct[c] ? static_cast<uint32_t>(c) : 256 + n++;
    t.from_cpt.fill(-1);
    for (int c = 0; c < 256; ++c) {
      cpt_to_utf8(cpt[c], t.to_utf8[c]);
      t.from_cpt[cpt[c]] = static_cast<int16_t>(c);
    }
    return t;
  }();
  return t;
}

}  // namespace

const std::string& byte_to_utf8(uint8_t b) { return tables().to_utf8[b]; }

std::optional<uint8_t> cpt_to_byte(uint32_t cpt) {
  const auto& t = tables();
  if (cpt >= t.from_cpt.size() || t.from_cpt[cpt] < 0) return std::nullopt;
  return static_cast<uint8_t>(t.from_cpt[cpt]);
}

}  // namespace ck::text
