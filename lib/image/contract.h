// PreprocessContract — the image preprocessing policy of a vision model as data (DESIGN.md §7), carried in
// weights_manifest.json ("preprocess" section, values from the GGUF) and executed by image::preprocess.
// Spec: docs/formats/preprocess.md. It mirrors the clip_hparams fields llama.cpp's
// mtmd_image_preprocessor_dyn_size reads: patch_size, n_merge, image_mean/std, image_min/max_pixels
// (= tokens * (patch*merge)^2, set_limit_image_tokens), image_resize_algo, image_resize_pad, image_pad_color.
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace ck::image {

inline constexpr const char* kContractFormat = "ck.preprocess";
inline constexpr int kContractVersion = 1;

struct PreprocessContract {
  int patch_size = 16;                       // clip.vision.patch_size
  int merge = 2;                             // clip.vision.spatial_merge_size (n_merge)
  std::array<float, 3> image_mean{0.5f, 0.5f, 0.5f};  // clip.vision.image_mean (exact f32 from the GGUF)
  std::array<float, 3> image_std{0.5f, 0.5f, 0.5f};   // clip.vision.image_std
  int min_tokens = 8;                        // model default budget in merged tokens (set_limit_image_tokens)
  int max_tokens = 4096;
  std::string resize = "bilinear";           // RESIZE_ALGO_BILINEAR: u8 bilinear, align-corners, truncation
  std::string pad = "ceil";                  // PAD_CEIL: aspect-preserving fit, centred, ceil'd new size
  std::array<uint8_t, 3> pad_color{0, 0, 0};
  std::string layout = "planar_rgb_f32";     // clip inp_raw: [3][height][width] float

  // User overrides (llama.cpp --image-min-tokens / --image-max-tokens -> custom_image_min/max_tokens):
  // a value > 0 replaces the model default; 0 (or negative) = none. Runtime input, not part of the JSON.
  int custom_min_tokens = 0;
  int custom_max_tokens = 0;

  int align() const { return patch_size * merge; }                  // 32 for Qwen-VL
  int patch_area() const { return align() * align(); }              // pixels per merged token
  int effective_min_tokens() const { return custom_min_tokens > 0 ? custom_min_tokens : min_tokens; }
  int effective_max_tokens() const { return custom_max_tokens > 0 ? custom_max_tokens : max_tokens; }
  int min_pixels() const { return effective_min_tokens() * patch_area(); }  // image_min_pixels (int, as clip)
  int max_pixels() const { return effective_max_tokens() * patch_area(); }  // image_max_pixels
};

// Parses and validates a contract object; `where` names its origin in errors ("m.json: preprocess: ...").
// "format"/"version", when present, must be "ck.preprocess" / 1. Unknown policies are rejected.
PreprocessContract contract_from_json(const nlohmann::ordered_json& j, const std::string& where);

// Serializes the model part (no user overrides), with "format" and "version"; stable key order.
nlohmann::ordered_json contract_to_json(const PreprocessContract& c);

// Applies user token overrides (> 0 replaces, as llama.cpp) and validates the resulting pixel budget
// fits in a C int, as clip computes it. Throws ck::Error naming `where`.
void set_token_overrides(PreprocessContract& c, int min_tokens, int max_tokens, const std::string& where);

// Throws if the contract (with overrides) is unusable: non-positive sizes, int overflow of the budget.
void validate(const PreprocessContract& c, const std::string& where);

}  // namespace ck::image
