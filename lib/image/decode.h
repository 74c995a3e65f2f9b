// Image decoding exactly as llama.cpp's mtmd_helper_bitmap_init_from_buf (tools/mtmd/mtmd-helper.cpp):
// stbi_load_from_memory(buf, len, &w, &h, &n, 3) from stb_image v2.30 -> interleaved RGB8. Alpha is dropped
// (not composited), grey is replicated, 16-bit channels keep their high byte, no EXIF rotation, GIF gives
// its first frame. Whatever stb v2.30 decodes (including truncated JPEGs, DESIGN.md §9) ck decodes to the
// same bytes; whatever it rejects, ck rejects with one line naming the file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "image/rgb_image.h"

namespace ck::image {

// Largest image ck accepts: width*height*3 must fit in a C int, because mtmd indexes pixels with int
// arithmetic ((y*nx+x)*3, clip-impl.h get_pixel) and multiplies sizes as int in the smart resize; beyond
// that llama.cpp's behaviour is undefined, so ck has nothing to be exact to.
inline constexpr int64_t kMaxInputPixels = 0x7fffffff / 3;

// Decodes `bytes`; `name` is used in error messages (usually the file path). Throws ck::Error
// "<name>: <problem>" for empty/corrupt/unsupported/too-large input. `max_pixels` (at most kMaxInputPixels)
// is checked on the header before anything is allocated, for every format stb reads (a caller's limit, e.g.
// ck-serve's --max-image-pixels: a few hundred bytes of JPEG or GIF can declare gigabytes of pixels).
RgbImage decode_image(std::span<const uint8_t> bytes, const std::string& name, int64_t max_pixels = kMaxInputPixels);

// Reads and decodes a file ("-" reads stdin).
RgbImage decode_image_file(const std::string& path);

// Version string of the decoder, for summaries ("stb_image 2.30").
const char* decoder_version();

}  // namespace ck::image
