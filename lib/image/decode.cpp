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

std::string stb_reason() {
  const char* r = stbi_failure_reason();
  return r ? std::string(r) : std::string("unknown error");
}

std::string dims(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

}  // namespace

const char* decoder_version() { return "stb_image 2.30"; }

RgbImage decode_image(std::span<const uint8_t> bytes, const std::string& name) {
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
  if (stbi_info_from_memory(bytes.data(), len, &iw, &ih, &in) && iw > 0 && ih > 0 &&
      static_cast<int64_t>(iw) * ih > kMaxInputPixels) {
    fail(name, "image " + dims(iw, ih) + " is beyond the preprocess contract (more than " +
                   std::to_string(kMaxInputPixels) + " pixels)");
  }

  int w = 0, h = 0, n = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> data(stbi_load_from_memory(bytes.data(), len, &w, &h, &n, 3),
                                                  stbi_image_free);
  if (!data) fail(name, "cannot decode image (stb_image 2.30: " + stb_reason() + ")");
  if (w <= 0 || h <= 0) fail(name, "decoded image has zero size " + dims(w, h));
  if (static_cast<int64_t>(w) * h > kMaxInputPixels) {
    fail(name, "image " + dims(w, h) + " is beyond the preprocess contract (more than " +
                   std::to_string(kMaxInputPixels) + " pixels)");
  }

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
