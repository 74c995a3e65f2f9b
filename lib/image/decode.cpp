#include "image/decode.h"

#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "core/error.h"
#include "core/mapped_file.h"
#include "stb_image.h"

namespace ck::image {
namespace {

// mtmd_helper_bitmap_init_from_buf tries audio first (audio_helpers::is_audio_file): a buffer with a
// RIFF/WAVE, ID3, MPEG-sync or fLaC signature never reaches stb_image. A vision-only model then rejects it,
// so ck rejects exactly those buffers too instead of decoding something llama.cpp would not.
bool looks_like_audio(std::span<const uint8_t> b) {
  if (b.size() < 12) return false;
  const bool wav = std::memcmp(b.data(), "RIFF", 4) == 0 && std::memcmp(b.data() + 8, "WAVE", 4) == 0;
  const bool mp3 = std::memcmp(b.data(), "ID3", 3) == 0 || (b[0] == 0xFF && (b[1] & 0xE0) == 0xE0);
  const bool flac = std::memcmp(b.data(), "fLaC", 4) == 0;
  return wav || mp3 || flac;
}

// stb's reason is a terse code ("outofdata", "bad IHDR len"), and some failure paths set none (an empty or a
// stale reason). What it cannot say, ck says: a file that ends before its own structure does.
std::string stb_reason() {
  const char* r = stbi_failure_reason();
  return r && *r ? std::string(r) : std::string("no reason given");
}

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint32_t le32(const uint8_t* p) { return uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]; }

// "truncated PNG: ..." when the bytes end before the format's structure does; "" when they do not (or the
// format is not one of PNG, JPEG, GIF, BMP).
std::string truncation(std::span<const uint8_t> b) {
  const std::string size = std::to_string(b.size());
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  if (b.size() >= 8 && std::memcmp(b.data(), kPng, 8) == 0) {
    for (size_t p = 8;;) {
      if (p == b.size()) return "truncated PNG: the file ends after " + size + " bytes without an IEND chunk";
      if (b.size() - p < 12)
        return "truncated PNG: the file ends at byte " + size + " inside the chunk header at byte " + std::to_string(p);
      const uint64_t n = be32(b.data() + p);
      std::string type(reinterpret_cast<const char*>(b.data() + p + 4), 4);
      for (char& c : type)
        if (c < 0x20 || c > 0x7e) c = '?';
      if (n > b.size() - p - 12)
        return "truncated PNG: chunk " + type + " at byte " + std::to_string(p) + " needs " + std::to_string(12 + n) +
               " bytes, the file ends " + std::to_string(b.size() - p) + " bytes after it starts";
      if (type == "IEND") return {};
      p += 12 + n;
    }
  }
  if (b.size() >= 2 && b[0] == 0xff && b[1] == 0xd8) {
    // Entropy-coded data stuffs every 0xFF, so FF D9 only appears as a marker: no EOI = cut short.
    for (size_t i = 2; i + 1 < b.size(); ++i)
      if (b[i] == 0xff && b[i + 1] == 0xd9) return {};
    return "truncated JPEG: " + size + " bytes and no end-of-image marker (FF D9)";
  }
  if (b.size() >= 6 && (std::memcmp(b.data(), "GIF87a", 6) == 0 || std::memcmp(b.data(), "GIF89a", 6) == 0)) {
    if (b.back() != 0x3b) return "truncated GIF: " + size + " bytes and no trailer (3B) at the end";
    return {};
  }
  if (b.size() >= 14 && b[0] == 'B' && b[1] == 'M') {
    const uint32_t declared = le32(b.data() + 2), pixels = le32(b.data() + 10);
    if (pixels > b.size())
      return "truncated BMP: the pixel data starts at byte " + std::to_string(pixels) + ", the file has " + size;
    if (declared > b.size())
      return "truncated BMP: the header declares " + std::to_string(declared) + " bytes, the file has " + size;
  }
  return {};
}

std::string dims(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

}  // namespace

const char* decoder_version() { return "stb_image 2.30"; }

RgbImage decode_image(std::span<const uint8_t> bytes, const std::string& name, int64_t max_pixels) {
  if (bytes.empty()) fail(name, "empty file, not an image");
  // stbi_load_from_memory takes an int length (mtmd narrows its size_t silently).
  if (bytes.size() > static_cast<size_t>(INT_MAX)) fail(name, "image file larger than 2 GiB, beyond what stb_image reads");
  if (looks_like_audio(bytes)) {
    fail(name, "has an audio signature (RIFF/WAVE, ID3/MPEG or fLaC); llama.cpp treats it as audio, not an image");
  }
  const int len = static_cast<int>(bytes.size());

  // Refuse huge images before allocating them. stbi_info only parses headers; when it cannot, the real
  // decode below decides (and reports stb's reason), exactly as mtmd would.
  int iw = 0, ih = 0, in = 0;
  const bool info = stbi_info_from_memory(bytes.data(), len, &iw, &ih, &in) && iw > 0 && ih > 0;
  if (info && static_cast<int64_t>(iw) * ih > kMaxInputPixels) {
    fail(name, "image " + dims(iw, ih) + " is beyond the preprocess contract (more than " +
                   std::to_string(kMaxInputPixels) + " pixels)");
  }
  if (info && static_cast<int64_t>(iw) * ih > max_pixels)
    fail(name, "image " + dims(iw, ih) + " is larger than the limit of " + std::to_string(max_pixels) + " pixels");

  int w = 0, h = 0, n = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> data(stbi_load_from_memory(bytes.data(), len, &w, &h, &n, 3),
                                                  stbi_image_free);
  if (!data) {
    const std::string cut = truncation(bytes);
    if (!cut.empty()) fail(name, "cannot decode image: " + cut + " (stb_image 2.30: " + stb_reason() + ")");
    fail(name, "cannot decode image (stb_image 2.30: " + stb_reason() + ")");
  }
  if (w <= 0 || h <= 0) fail(name, "decoded image has zero size " + dims(w, h));
  if (static_cast<int64_t>(w) * h > kMaxInputPixels) {
    fail(name, "image " + dims(w, h) + " is beyond the preprocess contract (more than " +
                   std::to_string(kMaxInputPixels) + " pixels)");
  }
  if (static_cast<int64_t>(w) * h > max_pixels)
    fail(name, "image " + dims(w, h) + " is larger than the limit of " + std::to_string(max_pixels) + " pixels");

  RgbImage img;
  img.width = w;
  img.height = h;
  const size_t nbytes = static_cast<size_t>(w) * static_cast<size_t>(h) * 3;
  img.rgb.assign(data.get(), data.get() + nbytes);
  return img;
}

RgbImage decode_image_file(const std::string& path) {
  if (path == "-") {
    const std::string s = read_text_file("-");
    return decode_image({reinterpret_cast<const uint8_t*>(s.data()), s.size()}, "<stdin>");
  }
  MappedFile f(path);
  return decode_image(f.bytes(), path);
}

}  // namespace ck::image
