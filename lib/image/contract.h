// PreprocessContract — the image preprocessing policy of a vision model as data (DESIGN.md §7), carried in
// weights_manifest.json (section "preprocess", resolved from the GGUF by templates/*.json) and executed by
// image::preprocess. Spec: docs/formats/preprocess.md. Field names are the manifest's; they mirror the
// clip_hparams fields llama.cpp's mtmd_image_preprocessor_dyn_size reads: patch_size, n_merge,
// image_mean/std, image_min/max_pixels (= tokens * (patch_size*n_merge)^2, set_limit_image_tokens),
// image_resize_algo, image_resize_pad, image_pad_color.
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace ck::image {

inline constexpr const char* kContractFormat = "ck.preprocess";
inline constexpr int kContractVersion = 1;

struct PreprocessContract {
  int patch_size = 16;                                 // clip.vision.patch_size
  int n_merge = 2;                                     // clip.vision.spatial_merge_size
  std::array<float, 3> image_mean{0.5f, 0.5f, 0.5f};  // clip.vision.image_mean (exact f32 from the GGUF)
  std::array<float, 3> image_std{0.5f, 0.5f, 0.5f};   // clip.vision.image_std
  int image_min_tokens = 8;                            // model budget in merged tokens (set_limit_image_tokens)
  int image_max_tokens = 4096;
  std::string resize_algo = "bilinear";                // RESIZE_ALGO_BILINEAR: u8, align-corners, truncation
  std::string resize_pad = "pad_ceil";                 // PAD_CEIL: aspect-preserving fit, centred, ceil'd size
  std::array<uint8_t, 3> pad_color{0, 0, 0};
  float pixel_divisor = 255.0f;                        // clip_image_f32::from_u8: x / 255.0f
  std::string layout = "planar_rgb_f32";               // clip inp_raw: [3][height][width] float

  // User overrides (llama.cpp --image-min-tokens / --image-max-tokens -> custom_image_min/max_tokens):
  // a value > 0 replaces the model's; 0 = none. A runtime input, not part of the contract JSON.
  int custom_min_tokens = 0;
  int custom_max_tokens = 0;

  int align() const { return patch_size * n_merge; }  // 32 for Qwen-VL
  int patch_area() const { return align() * align(); }  // pixels per merged token
  int min_tokens() const { return custom_min_tokens > 0 ? custom_min_tokens : image_min_tokens; }
  int max_tokens() const { return custom_max_tokens > 0 ? custom_max_tokens : image_max_tokens; }
  int min_pixels() const { return min_tokens() * patch_area(); }  // clip image_min_pixels (int)
  int max_pixels() const { return max_tokens() * patch_area(); }  // clip image_max_pixels
};

// Parses and validates a contract object (the manifest's "preprocess" section); `where` names its origin in
// errors ("m.json: preprocess"). "format"/"version", when present, must be "ck.preprocess" / 1; keys
// starting with "_" are comments; derived keys (align, image_min/max_pixels), when present, must agree;
// unknown keys and policies ck does not implement are errors (ck could not promise llama.cpp's pixels).
PreprocessContract contract_from_json(const nlohmann::ordered_json& j, const std::string& where);

// Serializes the contract (model values, no user overrides) with "format"/"version" and the derived keys.
nlohmann::ordered_json contract_to_json(const PreprocessContract& c);

// Applies user token overrides (> 0 replaces, as llama.cpp) and re-validates. Throws ck::Error naming `where`.
void set_token_overrides(PreprocessContract& c, int min_tokens, int max_tokens, const std::string& where);

// Throws if the contract (with overrides) is unusable: non-positive sizes, a pixel budget overflowing int,
// max below min (clip.cpp load_hparams refuses the same), unsupported policies.
void validate(const PreprocessContract& c, const std::string& where);

}  // namespace ck::image
