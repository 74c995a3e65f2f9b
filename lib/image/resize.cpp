#include "image/resize.h"

#include <algorithm>
#include <cmath>

namespace ck::image {
namespace {

// img_tool::lerp. Must not be fused into an FMA (mtmd is built for baseline x86-64; this library is built
// with -ffp-contract=off).
inline float lerp(float s, float e, float t) { return s + (e - s) * t; }

}  // namespace

RgbImage resize_bilinear(const RgbImage& src, int target_width, int target_height) {
  RgbImage dst;
  if (src.width == 0 || src.height == 0) return dst;  // upstream: dst {0,0}
  if (target_width <= 0) target_width = 1;
  if (target_height <= 0) target_height = 1;
  dst.width = target_width;
  dst.height = target_height;
  dst.rgb.assign(static_cast<size_t>(target_width) * static_cast<size_t>(target_height) * 3, 0);

  const int sw = src.width, sh = src.height;
  const float x_ratio = target_width > 1 ? static_cast<float>(sw - 1) / static_cast<float>(target_width - 1) : 0.0f;
  const float y_ratio = target_height > 1 ? static_cast<float>(sh - 1) / static_cast<float>(target_height - 1) : 0.0f;

  uint8_t* out = dst.rgb.data();
  for (int y = 0; y < target_height; ++y) {
    // Upstream recomputes py per pixel; the value is the same (y * y_ratio, int -> float, float multiply).
    const float py = static_cast<float>(y) * y_ratio;
    const int y0 = std::min(static_cast<int>(py), sh - 1);  // truncation toward zero (py >= 0)
    const int y1 = std::min(y0 + 1, sh - 1);
    const float yf = py - static_cast<float>(y0);
    for (int x = 0; x < target_width; ++x) {
      const float px = static_cast<float>(x) * x_ratio;
      const int x0 = std::min(static_cast<int>(px), sw - 1);
      const int x1 = std::min(x0 + 1, sw - 1);
      const float xf = px - static_cast<float>(x0);
      for (int c = 0; c < 3; ++c) {
        const float top = lerp(static_cast<float>(src.at(x0, y0, c)), static_cast<float>(src.at(x1, y0, c)), xf);
        const float bottom = lerp(static_cast<float>(src.at(x0, y1, c)), static_cast<float>(src.at(x1, y1, c)), xf);
        *out++ = static_cast<uint8_t>(lerp(top, bottom, yf));  // truncation, as upstream's static_cast
      }
    }
  }
  return dst;
}

PadResize resize_with_pad_ceil(const RgbImage& src, int target_width, int target_height,
                               const std::array<uint8_t, 3>& pad_color) {
  PadResize r;
  if (src.width == target_width && src.height == target_height) {
    r.image = src;
    r.copied = true;
    r.resized_width = target_width;
    r.resized_height = target_height;
    return r;
  }
  const float scale_w = static_cast<float>(target_width) / static_cast<float>(src.width);
  const float scale_h = static_cast<float>(target_height) / static_cast<float>(src.height);
  const float scale = std::min(scale_w, scale_h);
  // src.width * scale: int * float -> float product, then std::ceil(float).
  const int new_w = std::min(static_cast<int>(std::ceil(static_cast<float>(src.width) * scale)), target_width);
  const int new_h = std::min(static_cast<int>(std::ceil(static_cast<float>(src.height) * scale)), target_height);

  const RgbImage resized = resize_bilinear(src, new_w, new_h);

  RgbImage& dst = r.image;
  dst.width = target_width;
  dst.height = target_height;
  dst.rgb.resize(static_cast<size_t>(target_width) * static_cast<size_t>(target_height) * 3);
  for (size_t i = 0; i < dst.rgb.size(); i += 3) {
    dst.rgb[i] = pad_color[0];
    dst.rgb[i + 1] = pad_color[1];
    dst.rgb[i + 2] = pad_color[2];
  }
  const int off_x = (target_width - resized.width) / 2;
  const int off_y = (target_height - resized.height) / 2;
  // img_tool::composite: copy, skipping pixels outside dst (cannot happen with PAD_CEIL, kept for safety).
  for (int y = 0; y < resized.height; ++y) {
    const int dy = y + off_y;
    if (dy < 0 || dy >= target_height) continue;
    for (int x = 0; x < resized.width; ++x) {
      const int dx = x + off_x;
      if (dx < 0 || dx >= target_width) continue;
      for (int c = 0; c < 3; ++c) {
        dst.rgb[(static_cast<size_t>(dy) * target_width + dx) * 3 + c] = resized.at(x, y, c);
      }
    }
  }
  r.resized_width = resized.width;
  r.resized_height = resized.height;
  r.offset_x = off_x;
  r.offset_y = off_y;
  return r;
}

}  // namespace ck::image
