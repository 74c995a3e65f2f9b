// The preprocess contract executed: RGB8 image -> normalized planar f32 tensor, bit-identical to what
// llama.cpp b10256 feeds the vision encoder (mtmd_image_preprocessor_dyn_size::preprocess, then
// clip_image_f32::from_u8 + normalize, then the planar inp_raw copy of clip_image_batch_encode).
// Spec: docs/formats/preprocess.md.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "image/contract.h"
#include "image/resize.h"
#include "image/rgb_image.h"
#include "image/smart_resize.h"

namespace ck::image {

struct Preprocessed {
  int width = 0;   // preprocessed image size in pixels (multiples of patch*merge)
  int height = 0;
  int nx = 0;      // merged token grid: width / (patch*merge), height / (patch*merge)
  int ny = 0;
  std::vector<float> pixels;  // planar [3][height][width] (R plane, G plane, B plane) = clip's inp_raw
  nlohmann::ordered_json summary;  // see docs/formats/preprocess.md "summary"

  int n_tokens() const { return nx * ny; }
};

// Runs the contract on `img`; `name` names the image in errors. Throws ck::Error for a zero-size image or
// one beyond the contract: sizes overflowing int, or a token count above the effective max_tokens (only
// extreme aspect ratios or min_tokens > max_tokens get there; llama.cpp would encode those anyway, ck's
// encoder is planned for max_tokens). `allow_over_max_tokens` lifts the latter, for parity bisecting.
Preprocessed preprocess(const RgbImage& img, const PreprocessContract& contract, const std::string& name,
                        bool allow_over_max_tokens = false);

// Intermediate stages, exposed for bisecting against the oracle:
// the u8 image after resize+pad (before normalization) ...
PadResize preprocess_u8(const RgbImage& img, const PreprocessContract& contract, const std::string& name,
                        bool allow_over_max_tokens = false, TargetSize* target_out = nullptr);
// ... and the normalized interleaved image (clip_image_f32 layout, HWC, = ref_encode --preproc-out).
std::vector<float> normalize_hwc(const RgbImage& img, const PreprocessContract& contract);

// Interleaved HWC [h][w][3] -> planar [3][h][w].
std::vector<float> hwc_to_planar(const std::vector<float>& hwc, int width, int height);

}  // namespace ck::image
