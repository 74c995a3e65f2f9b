// RgbImage — interleaved 8-bit RGB pixels, row-major, no padding: what llama.cpp's mtmd_bitmap /
// clip_image_u8 hold after stb_image decoded a file with 3 requested channels.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ck::image {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // [height][width][3]

  // Pixel (x, y), channel c. Index arithmetic in size_t (mtmd uses int; ck rejects images where that overflows).
  uint8_t at(int x, int y, int c) const {
    return rgb[(static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) * 3 + static_cast<size_t>(c)];
  }
};

}  // namespace ck::image
