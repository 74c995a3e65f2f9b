#include "image/contract.h"

#include <climits>
#include <set>

#include "core/error.h"

namespace ck::image {
namespace {

using json = nlohmann::ordered_json;

std::string q(const std::string& key) { return "\"" + key + "\""; }

int get_int(const json& j, const std::string& key, const std::string& where) {
  if (!j.contains(key)) fail(where, "missing " + q(key));
  const json& v = j.at(key);
  if (!v.is_number_integer()) fail(where, q(key) + " must be an integer");
  const int64_t x = v.get<int64_t>();
  if (x < INT_MIN || x > INT_MAX) fail(where, q(key) + " out of range");
  return static_cast<int>(x);
}

std::string get_str(const json& j, const std::string& key, const std::string& def, const std::string& where) {
  if (!j.contains(key)) return def;
  if (!j.at(key).is_string()) fail(where, q(key) + " must be a string");
  return j.at(key).get<std::string>();
}

std::array<float, 3> get_f3(const json& j, const std::string& key, const std::string& where) {
  if (!j.contains(key)) fail(where, "missing " + q(key));
  const json& v = j.at(key);
  if (!v.is_array() || v.size() != 3) fail(where, q(key) + " must be an array of 3 numbers");
  std::array<float, 3> out{};
  for (int i = 0; i < 3; ++i) {
    if (!v[i].is_number()) fail(where, q(key) + " must be an array of 3 numbers");
    // The manifest writes the GGUF's f32 as a double that round-trips; this cast recovers the f32 exactly.
    out[i] = static_cast<float>(v[i].get<double>());
  }
  return out;
}

}  // namespace

PreprocessContract contract_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) fail(where, "preprocess contract must be a JSON object");
  static const std::set<std::string> known = {
      "format", "version", "patch_size", "n_merge", "align", "image_mean", "image_std", "image_min_tokens",
      "image_max_tokens", "image_min_pixels", "image_max_pixels", "resize_algo", "resize_pad", "pad_color",
      "pixel_divisor", "layout"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key().rfind('_', 0) == 0) continue;
    if (!known.count(it.key())) {
      fail(where, "unknown preprocess contract key " + q(it.key()) + " (this ck implements " + kContractFormat +
                      " version " + std::to_string(kContractVersion) + ")");
    }
  }
  if (j.contains("format") && (!j["format"].is_string() || j["format"].get<std::string>() != kContractFormat)) {
    fail(where, std::string("preprocess contract \"format\" must be \"") + kContractFormat + "\"");
  }
  if (j.contains("version") && (!j["version"].is_number_integer() || j["version"].get<int64_t>() != kContractVersion)) {
    fail(where, "unsupported preprocess contract version " + j["version"].dump() + " (this ck reads " +
                    std::to_string(kContractVersion) + ")");
  }
  PreprocessContract c;
  c.patch_size = get_int(j, "patch_size", where);
  c.n_merge = get_int(j, "n_merge", where);
  c.image_mean = get_f3(j, "image_mean", where);
  c.image_std = get_f3(j, "image_std", where);
  c.image_min_tokens = get_int(j, "image_min_tokens", where);
  c.image_max_tokens = get_int(j, "image_max_tokens", where);
  c.resize_algo = get_str(j, "resize_algo", c.resize_algo, where);
  c.resize_pad = get_str(j, "resize_pad", c.resize_pad, where);
  c.layout = get_str(j, "layout", c.layout, where);
  if (j.contains("pad_color")) {
    const json& p = j["pad_color"];
    if (!p.is_array() || p.size() != 3) fail(where, "\"pad_color\" must be an array of 3 integers 0..255");
    for (int i = 0; i < 3; ++i) {
      if (!p[i].is_number_integer() || p[i].get<int64_t>() < 0 || p[i].get<int64_t>() > 255) {
        fail(where, "\"pad_color\" must be an array of 3 integers 0..255");
      }
      c.pad_color[i] = static_cast<uint8_t>(p[i].get<int64_t>());
    }
  }
  if (j.contains("pixel_divisor")) {
    if (!j["pixel_divisor"].is_number()) fail(where, "\"pixel_divisor\" must be a number");
    c.pixel_divisor = static_cast<float>(j["pixel_divisor"].get<double>());
  }
  validate(c, where);
  // Derived values, when the manifest carries them, must be what ck derives.
  const auto check_derived = [&](const char* key, int64_t want) {
    if (j.contains(key) && (!j[key].is_number_integer() || j[key].get<int64_t>() != want)) {
      fail(where, q(key) + " is " + j[key].dump() + ", inconsistent with the contract (expected " +
                      std::to_string(want) + ")");
    }
  };
  check_derived("align", c.align());
  check_derived("image_min_pixels", c.min_pixels());
  check_derived("image_max_pixels", c.max_pixels());
  return c;
}

json contract_to_json(const PreprocessContract& c) {
  json j;
  j["format"] = kContractFormat;
  j["version"] = kContractVersion;
  j["patch_size"] = c.patch_size;
  j["n_merge"] = c.n_merge;
  j["align"] = c.align();
  j["image_mean"] = {static_cast<double>(c.image_mean[0]), static_cast<double>(c.image_mean[1]),
                     static_cast<double>(c.image_mean[2])};
  j["image_std"] = {static_cast<double>(c.image_std[0]), static_cast<double>(c.image_std[1]),
                    static_cast<double>(c.image_std[2])};
  j["image_min_tokens"] = c.image_min_tokens;
  j["image_max_tokens"] = c.image_max_tokens;
  j["image_min_pixels"] = c.image_min_tokens * c.patch_area();
  j["image_max_pixels"] = c.image_max_tokens * c.patch_area();
  j["resize_algo"] = c.resize_algo;
  j["resize_pad"] = c.resize_pad;
  j["pad_color"] = {c.pad_color[0], c.pad_color[1], c.pad_color[2]};
  j["pixel_divisor"] = static_cast<double>(c.pixel_divisor);
  j["layout"] = c.layout;
  return j;
}

void validate(const PreprocessContract& c, const std::string& where) {
  // Bounds as clip.cpp load_hparams checks them (patch_size and n_merge in 1..65535).
  if (c.patch_size <= 0 || c.patch_size >= 65536) fail(where, "\"patch_size\" must be in 1..65535");
  if (c.n_merge <= 0 || c.n_merge >= 65536) fail(where, "\"n_merge\" must be in 1..65535");
  if (static_cast<int64_t>(c.patch_size) * c.n_merge > 4096) fail(where, "patch_size * n_merge must be at most 4096");
  if (c.image_min_tokens <= 0 || c.image_max_tokens <= 0) {
    fail(where, "\"image_min_tokens\" and \"image_max_tokens\" must be positive");
  }
  for (int i = 0; i < 3; ++i) {
    if (!(c.image_std[i] != 0.0f)) fail(where, "\"image_std\" must be non-zero");
  }
  if (c.pixel_divisor != 255.0f) fail(where, "unsupported \"pixel_divisor\" (clip divides by 255.0f)");
  if (c.resize_algo != "bilinear") {
    fail(where, "unsupported \"resize_algo\" \"" + c.resize_algo + "\" (ck implements \"bilinear\")");
  }
  if (c.resize_pad != "pad_ceil") {
    fail(where, "unsupported \"resize_pad\" \"" + c.resize_pad + "\" (ck implements \"pad_ceil\")");
  }
  if (c.layout != "planar_rgb_f32") {
    fail(where, "unsupported \"layout\" \"" + c.layout + "\" (ck implements \"planar_rgb_f32\")");
  }
  // clip computes tokens * patch_area in int; beyond INT_MAX llama.cpp overflows.
  const int64_t area = static_cast<int64_t>(c.align()) * c.align();
  for (int t : {c.image_min_tokens, c.image_max_tokens, c.min_tokens(), c.max_tokens()}) {
    if (static_cast<int64_t>(t) * area > INT_MAX) {
      fail(where, "token budget " + std::to_string(t) + " x " + std::to_string(area) +
                      " pixels overflows (llama.cpp computes it in int)");
    }
  }
  if (c.max_pixels() < c.min_pixels()) {
    fail(where, "max tokens " + std::to_string(c.max_tokens()) + " is less than min tokens " +
                    std::to_string(c.min_tokens()) + " (llama.cpp refuses this too)");
  }
}

void set_token_overrides(PreprocessContract& c, int min_tokens, int max_tokens, const std::string& where) {
  c.custom_min_tokens = min_tokens > 0 ? min_tokens : 0;
  c.custom_max_tokens = max_tokens > 0 ? max_tokens : 0;
  validate(c, where);
}

}  // namespace ck::image
