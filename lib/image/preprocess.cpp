#include "image/preprocess.h"

#include <climits>

#include "core/error.h"
#include "core/sha256.h"
#include "image/decode.h"

namespace ck::image {

PadResize preprocess_u8(const RgbImage& img, const PreprocessContract& c, const std::string& name,
                        bool allow_over_max_tokens, TargetSize* target_out) {
  validate(c, name);
  if (img.width <= 0 || img.height <= 0) fail(name, "image has zero size");
  if (static_cast<int64_t>(img.width) * img.height > kMaxInputPixels) {
    fail(name, "image " + std::to_string(img.width) + "x" + std::to_string(img.height) +
                   " is beyond the preprocess contract (more than " + std::to_string(kMaxInputPixels) + " pixels)");
  }
  const TargetSize t = smart_resize(img.width, img.height, c.align(), c.min_pixels(), c.max_pixels());
  if (target_out) *target_out = t;

  // ck plans the encoder for at most max_tokens (DESIGN.md §1): a target above it (possible only for
  // extreme aspect ratios, where clip's max(align, .) clamps, or a min budget above the max) is refused,
  // where llama.cpp would go on and encode it.
  const int64_t tokens = (static_cast<int64_t>(t.width) / c.align()) * (t.height / c.align());
  if (static_cast<int64_t>(t.width) * t.height * 3 > INT_MAX ||
      (tokens > c.max_tokens() && !allow_over_max_tokens)) {
    fail(name, "image " + std::to_string(img.width) + "x" + std::to_string(img.height) + " preprocesses to " +
                   std::to_string(t.width) + "x" + std::to_string(t.height) + " (" + std::to_string(tokens) +
                   " tokens), beyond the contract's max_tokens " + std::to_string(c.max_tokens()));
  }
  return resize_with_pad_ceil(img, t.width, t.height, c.pad_color);
}

std::vector<float> normalize_hwc(const RgbImage& img, const PreprocessContract& c) {
  std::vector<float> out(img.rgb.size());
  // clip_image_f32::from_u8: (float)u8 / 255.0f (a division, not a multiply by 1/255) ...
  for (size_t i = 0; i < img.rgb.size(); ++i) out[i] = static_cast<float>(img.rgb[i]) / c.pixel_divisor;  // 255.0f
  // ... then normalize: (x - mean[c]) / std[c], again a division, per interleaved pixel.
  const size_t n_pixels = img.rgb.size() / 3;
  for (size_t i = 0; i < n_pixels; ++i) {
    for (int ch = 0; ch < 3; ++ch) out[i * 3 + ch] = (out[i * 3 + ch] - c.image_mean[ch]) / c.image_std[ch];
  }
  return out;
}

std::vector<float> hwc_to_planar(const std::vector<float>& hwc, int width, int height) {
  // clip_image_batch_encode: inp_raw[c*nx*ny + y*nx + x] = buf[3*(y*nx + x) + c]
  const size_t plane = static_cast<size_t>(width) * static_cast<size_t>(height);
  std::vector<float> out(plane * 3);
  for (size_t p = 0; p < plane; ++p) {
    out[p] = hwc[p * 3 + 0];
    out[plane + p] = hwc[p * 3 + 1];
    out[2 * plane + p] = hwc[p * 3 + 2];
  }
  return out;
}

Preprocessed preprocess(const RgbImage& img, const PreprocessContract& c, const std::string& name,
                        bool allow_over_max_tokens) {
  TargetSize t;
  const PadResize pr = preprocess_u8(img, c, name, allow_over_max_tokens, &t);

  Preprocessed out;
  out.width = pr.image.width;
  out.height = pr.image.height;
  out.nx = out.width / c.align();
  out.ny = out.height / c.align();
  out.pixels = hwc_to_planar(normalize_hwc(pr.image, c), out.width, out.height);

  using json = nlohmann::ordered_json;
  json s;
  s["format"] = "ck.preprocess_summary";
  s["version"] = 1;
  s["decoder"] = decoder_version();
  s["contract"] = contract_to_json(c);
  s["min_tokens"] = c.min_tokens();
  s["max_tokens"] = c.max_tokens();
  s["custom_min_tokens"] = c.custom_min_tokens > 0;  // --image-min-tokens given
  s["custom_max_tokens"] = c.custom_max_tokens > 0;
  s["min_pixels"] = c.min_pixels();
  s["max_pixels"] = c.max_pixels();
  s["source"] = {{"width", img.width}, {"height", img.height}};
  s["budget_branch"] = branch_name(t.branch);
  s["target"] = {{"width", out.width}, {"height", out.height}};
  s["copied"] = pr.copied;
  s["content"] = {{"width", pr.resized_width}, {"height", pr.resized_height},
                  {"offset_x", pr.offset_x}, {"offset_y", pr.offset_y}};
  s["patches"] = {{"x", out.width / c.patch_size}, {"y", out.height / c.patch_size}};
  s["grid"] = {{"nx", out.nx}, {"ny", out.ny}};
  s["n_tokens"] = out.n_tokens();
  s["over_max_tokens"] = out.n_tokens() > c.max_tokens();
  s["layout"] = c.layout;
  s["shape"] = {3, out.height, out.width};
  s["pixels_sha256"] = sha256_hex({reinterpret_cast<const uint8_t*>(out.pixels.data()),
                                   out.pixels.size() * sizeof(float)});
  out.summary = std::move(s);
  return out;
}

}  // namespace ck::image
