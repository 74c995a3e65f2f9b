// u8 resizing as llama.cpp's img_tool (tools/mtmd/mtmd-image.cpp): resize_bilinear and resize() with
// PAD_CEIL padding, the path mtmd_image_preprocessor_dyn_size takes for Qwen-VL (RESIZE_ALGO_BILINEAR).
#pragma once
#include <array>
#include <cstdint>

#include "image/rgb_image.h"

namespace ck::image {

// img_tool::resize_bilinear: align-corners sampling (ratio (src-1)/(dst-1) in float), float lerps
// s + (e - s) * t without contraction, truncation to u8. Target sizes <= 0 become 1, as upstream.
RgbImage resize_bilinear(const RgbImage& src, int target_width, int target_height);

struct PadResize {
  RgbImage image;          // target_width x target_height
  bool copied = false;     // target == source size: plain copy, no resampling, no padding
  int resized_width = 0;   // size of the bilinear-resized content inside the padding
  int resized_height = 0;
  int offset_x = 0;        // where that content starts (centred, integer division)
  int offset_y = 0;
};

// img_tool::resize(src, dst, target, RESIZE_ALGO_BILINEAR, PAD_CEIL, pad_color): aspect-preserving fit
// (new = min(ceil(src * min(tw/sw, th/sh)), target), all float), bilinear to that size, fill with
// pad_color, composite at ((tw-new_w)/2, (th-new_h)/2).
PadResize resize_with_pad_ceil(const RgbImage& src, int target_width, int target_height,
                               const std::array<uint8_t, 3>& pad_color);

}  // namespace ck::image
