#include "pipeline/inputs.h"

#include <cstring>

#include "core/error.h"

namespace ck::pipeline {

using runtime::Executor;
using runtime::InputRef;
using runtime::Program;
using runtime::View;
using json = nlohmann::ordered_json;

namespace {

// A role parameter: an integer, or {"symbol": name} resolved through the executor's bound values.
std::string param_symbol(const InputRef& in, const char* key, const std::string& where) {
  const json& v = in.role_params.value(key, json());
  if (!v.is_object() || !v.contains("symbol") || !v["symbol"].is_string())
    fail(where, std::string("input '") + in.t.tensor + "' role parameter '" + key + "' must name a size symbol");
  return v["symbol"].get<std::string>();
}

int64_t param_int(const Executor& ex, const InputRef& in, const char* key, const std::string& where) {
  const json& v = in.role_params.value(key, json());
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_object() && v.contains("symbol")) return ex.symbol(v["symbol"].get<std::string>());
  fail(where, std::string("input '") + in.t.tensor + "' lacks role parameter '" + key + "'");
}

}  // namespace

std::vector<int32_t> vision_positions(int64_t pw, int64_t ph, int64_t merge) {
  // clip_image_batch_encode, PROJECTOR_TYPE_QWEN2VL/QWEN3VL: windows of merge x merge patches, row by row; the
  // inner loops are literally dy < 2, dx < 2 upstream (merge is 2 for these models; checked by the caller).
  const int64_t n = pw * ph;
  std::vector<int32_t> pos(size_t(n * 4));
  int64_t ptr = 0;
  for (int64_t y = 0; y < ph; y += merge)
    for (int64_t x = 0; x < pw; x += merge)
      for (int64_t dy = 0; dy < 2; dy++)
        for (int64_t dx = 0; dx < 2; dx++) {
          pos[size_t(ptr)] = int32_t(y + dy);
          pos[size_t(n + ptr)] = int32_t(x + dx);
          pos[size_t(2 * n + ptr)] = int32_t(y + dy);
          pos[size_t(3 * n + ptr)] = int32_t(x + dx);
          ptr++;
        }
  return pos;
}

void feed_image(Executor& ex, const image::Preprocessed& img, const std::string& what, DumpWriter* dump) {
  feed_frames(ex, std::span<const image::Preprocessed>(&img, 1), what, dump);
}

void feed_frames(Executor& ex, std::span<const image::Preprocessed> frames, const std::string& what,
                 DumpWriter* dump) {
  const Program& p = ex.program();
  const InputRef* raw = p.input_by_role("image_planar");
  if (!raw) fail(p.path(), "not an image encoder plan (no input with role image_planar)");
  const std::string where = p.path();
  if (frames.empty()) fail(what, "no frames");
  const image::Preprocessed& img = frames[0];
  const int64_t ps = raw->role_params.value("patch_size", int64_t(0));
  if (ps <= 0) fail(where, "image_planar input lacks an integer patch_size");
  if (img.width % ps || img.height % ps)
    fail(what, "preprocessed size " + std::to_string(img.width) + "x" + std::to_string(img.height) +
                   " is not a multiple of the model's patch size " + std::to_string(ps));
  // clip_image_batch_encode: all entries of a temporal batch have the first one's size (mtmd merges only
  // bitmaps of the same size, so their preprocessed sizes agree too).
  for (size_t f = 1; f < frames.size(); ++f)
    if (frames[f].width != img.width || frames[f].height != img.height)
      fail(what, "frame " + std::to_string(f + 1) + " is " + std::to_string(frames[f].width) + "x" +
                     std::to_string(frames[f].height) + ", frame 1 is " + std::to_string(img.width) + "x" +
                     std::to_string(img.height) + " (frames of one chunk have one size)");
  std::map<std::string, int64_t> free;
  free[param_symbol(*raw, "grid_w", where)] = img.width / ps;
  free[param_symbol(*raw, "grid_h", where)] = img.height / ps;
  if (raw->role_params.contains("frames")) {
    const std::string fs = param_symbol(*raw, "frames", where);
    const int si = p.symbol_index(fs);
    const int64_t max_frames = si >= 0 ? p.symbols()[size_t(si)].max : 1;
    if (int64_t(frames.size()) > max_frames)
      fail(what, std::to_string(frames.size()) + " frames in one chunk, the model merges at most " +
                     std::to_string(max_frames));
    free[fs] = int64_t(frames.size());
  } else if (frames.size() != 1) {
    fail(where, "this plan takes one frame per chunk (its image_planar input has no frames parameter; re-plan "
                "with the current template)");
  }
  ex.bind(free, what);
  const int64_t gw = img.width / ps, gh = img.height / ps;

  for (const auto& in : p.inputs()) {
    View v = ex.view(in.t);
    if (in.role == "image_planar") {
      const size_t per = img.pixels.size();
      if (v.dtype != DType::F32 || !v.contiguous() || uint64_t(v.numel()) != per * frames.size())
        fail(where, "input '" + in.t.tensor + "' does not hold the planar frames (" + std::to_string(v.numel()) +
                        " floats for " + std::to_string(frames.size()) + " x " + std::to_string(per) + ")");
      for (size_t f = 0; f < frames.size(); ++f)
        std::memcpy(v.ptr<float>() + f * per, frames[f].pixels.data(), per * sizeof(float));
      if (frames.size() == 1) ex.fed(in, dump, "inp_raw", {3, img.height, img.width});
      else ex.fed(in, dump, "inp_raw", {int64_t(frames.size()), 3, img.height, img.width});
    } else if (in.role == "mrope_positions_vision") {
      const int64_t merge = param_int(ex, in, "merge", where);
      if (merge != 2) fail(where, "mrope_positions_vision: clip.cpp lays out 2x2 windows only (merge = 2)");
      if (gw % merge || gh % merge) fail(what, "patch grid is not a multiple of the merge size");
      const auto pos = vision_positions(gw, gh, merge);
      if (v.dtype != DType::I32 || !v.contiguous() || uint64_t(v.numel()) != pos.size())
        fail(where, "input '" + in.t.tensor + "' is not [4][n_pos] i32");
      std::memcpy(v.data, pos.data(), pos.size() * sizeof(int32_t));
      ex.fed(in, dump, "positions", {int64_t(pos.size())});
    } else {
      fail(where, "input '" + in.t.tensor + "' has role '" + in.role + "', which an image encoder cannot fill");
    }
  }
}

}  // namespace ck::pipeline
