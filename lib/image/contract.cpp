#include "image/contract.h"

#include <climits>

#include "core/error.h"

namespace ck::image {
namespace {

using json = nlohmann::ordered_json;

int get_int(const json& j, const char* key, int def, const std::string& where) {
  if (!j.contains(key)) return def;
  const json& v = j.at(key);
  if (!v.is_number_integer()) fail(where, std::string("\"") + key + "\" must be an integer");
  const int64_t x = v.get<int64_t>();
  if (x < INT_MIN || x > INT_MAX) fail(where, std::string("\"") + key + "\" out of range");
  return static_cast<int>(x);
}

std::string get_str(const json& j, const char* key, const std::string& def, const std::string& where) {
  if (!j.contains(key)) return def;
  if (!j.at(key).is_string()) fail(where, std::string("\"") + key + "\" must be a string");
  return j.at(key).get<std::string>();
}

std::array<float, 3> get_f3(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) fail(where, std::string("missing \"") + key + "\"");
  const json& v = j.at(key);
  // clip.cpp requires >= 3 elements and uses the first 3.
  if (!v.is_array() || v.size() < 3) fail(where, std::string("\"") + key + "\" must be an array of 3 numbers");
  std::array<float, 3> out{};
  for (int i = 0; i < 3; ++i) {
    if (!v[i].is_number()) fail(where, std::string("\"") + key + "\" must be an array of 3 numbers");
    // The manifest writes the GGUF's f32 as a double that round-trips; this cast recovers the f32 exactly.
    out[i] = static_cast<float>(v[i].get<double>());
  }
  return out;
}

}  // namespace

PreprocessContract contract_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) fail(where, "preprocess contract must be a JSON object");
  if (j.contains("format") && (!j["format"].is_string() || j["format"].get<std::string>() != kContractFormat)) {
    fail(where, std::string("preprocess contract \"format\" must be \"") + kContractFormat + "\"");
  }
  if (j.contains("version") && (!j["version"].is_number_integer() || j["version"].get<int64_t>() != kContractVersion)) {
    fail(where, "unsupported preprocess contract version " + j["version"].dump() + " (this ck reads " +
                    std::to_string(kContractVersion) + ")");
  }
  PreprocessContract c;
  c.patch_size = get_int(j, "patch_size", -1, where);
  if (!j.contains("patch_size")) fail(where, "missing \"patch_size\"");
  c.merge = get_int(j, "merge", 2, where);  // clip's default n_merge for Qwen-VL when the GGUF has none
  c.image_mean = get_f3(j, "image_mean", where);
  c.image_std = get_f3(j, "image_std", where);
  c.min_tokens = get_int(j, "min_tokens", -1, where);
  c.max_tokens = get_int(j, "max_tokens", -1, where);
  if (!j.contains("min_tokens") || !j.contains("max_tokens")) fail(where, "missing \"min_tokens\"/\"max_tokens\"");
  c.resize = get_str(j, "resize", c.resize, where);
  c.pad = get_str(j, "pad", c.pad, where);
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
  validate(c, where);
  return c;
}

json contract_to_json(const PreprocessContract& c) {
  json j;
  j["format"] = kContractFormat;
  j["version"] = kContractVersion;
  j["patch_size"] = c.patch_size;
  j["merge"] = c.merge;
  j["image_mean"] = {static_cast<double>(c.image_mean[0]), static_cast<double>(c.image_mean[1]),
                     static_cast<double>(c.image_mean[2])};
  j["image_std"] = {static_cast<double>(c.image_std[0]), static_cast<double>(c.image_std[1]),
                    static_cast<double>(c.image_std[2])};
  j["min_tokens"] = c.min_tokens;
  j["max_tokens"] = c.max_tokens;
  j["resize"] = c.resize;
  j["pad"] = c.pad;
  j["pad_color"] = {c.pad_color[0], c.pad_color[1], c.pad_color[2]};
  j["layout"] = c.layout;
  return j;
}

void validate(const PreprocessContract& c, const std::string& where) {
  // n_merge bounds as clip.cpp load_hparams checks them.
  if (c.patch_size <= 0 || c.patch_size > 4096) fail(where, "\"patch_size\" must be in 1..4096");
  if (c.merge <= 0 || c.merge >= 65536) fail(where, "\"merge\" must be in 1..65535");
  if (static_cast<int64_t>(c.patch_size) * c.merge > 4096) fail(where, "patch_size*merge must be at most 4096");
  if (c.min_tokens <= 0 || c.max_tokens <= 0) fail(where, "\"min_tokens\" and \"max_tokens\" must be positive");
  for (int i = 0; i < 3; ++i) {
    if (!(c.image_std[i] != 0.0f)) fail(where, "\"image_std\" must be non-zero");
  }
  if (c.resize != "bilinear") fail(where, "unsupported \"resize\" \"" + c.resize + "\" (ck implements \"bilinear\")");
  if (c.pad != "ceil") fail(where, "unsupported \"pad\" \"" + c.pad + "\" (ck implements \"ceil\")");
  if (c.layout != "planar_rgb_f32") {
    fail(where, "unsupported \"layout\" \"" + c.layout + "\" (ck implements \"planar_rgb_f32\")");
  }
  // clip computes tokens * patch_area in int; beyond INT_MAX llama.cpp overflows.
  const int64_t area = static_cast<int64_t>(c.align()) * c.align();
  for (int t : {c.effective_min_tokens(), c.effective_max_tokens()}) {
    if (static_cast<int64_t>(t) * area > INT_MAX) {
      fail(where, "token budget " + std::to_string(t) + " x " + std::to_string(area) +
                      " pixels overflows (llama.cpp computes it in int)");
    }
  }
  // clip.cpp load_hparams refuses the same (e.g. --image-min-tokens above the max).
  if (c.max_pixels() < c.min_pixels()) {
    fail(where, "max tokens " + std::to_string(c.effective_max_tokens()) + " is less than min tokens " +
                    std::to_string(c.effective_min_tokens()));
  }
}

void set_token_overrides(PreprocessContract& c, int min_tokens, int max_tokens, const std::string& where) {
  c.custom_min_tokens = min_tokens > 0 ? min_tokens : 0;
  c.custom_max_tokens = max_tokens > 0 ? max_tokens : 0;
  validate(c, where);
}

}  // namespace ck::image
