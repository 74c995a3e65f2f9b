#include "pipeline/video_input.h"

#include <filesystem>

#include "core/error.h"
#include "decode/chunks.h"

namespace ck::pipeline {

using json = nlohmann::ordered_json;

std::vector<std::string> video_prompt_parts(const video::Video& v, const std::string& marker) {
  std::vector<std::string> out;
  for (const auto& p : v.parts) out.push_back(p.frame ? marker : p.text);
  return out;
}

std::vector<VideoChunk> video_chunks(const video::Video& v, int max_frames) {
  const std::string marker = "\x01frame\x01";  // any string no text part equals
  const auto parts = video_prompt_parts(v, marker);
  const auto groups = decode::frame_groups_parts(parts, marker, max_frames, [](int, int) { return true; });
  std::vector<int> group_of(v.frames.size(), -1);
  for (size_t g = 0; g < groups.size(); ++g)
    for (int f : groups[g]) group_of[size_t(f)] = int(g);
  std::vector<VideoChunk> out(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) out[g].frames = groups[g];
  std::vector<std::string> pending;
  for (const auto& p : v.parts) {
    if (!p.frame) {
      pending.push_back(p.text);
      continue;
    }
    const int g = group_of[size_t(p.index)];
    if (out[size_t(g)].frames[0] == p.index) {
      out[size_t(g)].texts_before = pending;
      pending.clear();
    } else if (!pending.empty()) {
      throw Error("internal: text between the frames of one video chunk");
    }
  }
  if (!out.empty()) out.back().texts_after = pending;
  return out;
}

std::vector<std::shared_ptr<const EncodedImage>> encode_video(Encoder& enc, const video::Video& v,
                                                              const std::vector<VideoChunk>& chunks,
                                                              const std::string& path, const std::string& sha256,
                                                              const EncodeOptions& opt, const StillAfter* still) {
  if (still) {
    if (!still->image || chunks.empty() || chunks.back().frames.size() != 1 || !chunks.back().texts_after.empty())
      throw Error(path + ": internal: a still merges only with a video's last chunk of one frame and no text after it");
    if (still->image->width != v.width || still->image->height != v.height)
      throw Error(still->file + ": internal: a still of another size than the video does not merge with its frame");
  }
  std::vector<std::shared_ptr<const EncodedImage>> out;
  for (size_t c = 0; c < chunks.size(); ++c) {
    std::vector<image::RgbImage> frames;
    std::string key = "video:" + sha256;
    json idx = json::array(), times = json::array();
    for (int f : chunks[c].frames) {
      frames.push_back(v.frames[size_t(f)]);
      key += ":" + std::to_string(f);
      idx.push_back(f);
      times.push_back(double(float(f) / v.fps));
    }
    const bool with_still = still && c + 1 == chunks.size();
    if (with_still) {
      frames.push_back(*still->image);
      key += ":still:" + still->sha256;
    }
    auto e = std::make_shared<EncodedImage>(*enc.encode_owned(frames, path, opt, key));
    e->info.meta["video"] = {{"file", std::filesystem::path(path).filename().string()},
                             {"sha256", sha256},
                             {"chunk", c},
                             {"n_chunks", chunks.size()},
                             {"frame_indices", idx},
                             {"frame_times_s", times},
                             {"fps", v.fps},
                             {"source_fps", v.source_fps},
                             {"size", {v.width, v.height}},
                             {"texts_before", chunks[c].texts_before},
                             {"texts_after", chunks[c].texts_after}};
    if (with_still)
      e->info.meta["video"]["still"] = {{"file", std::filesystem::path(still->file).filename().string()},
                                        {"sha256", still->sha256}};
    out.push_back(e);
  }
  return out;
}

}  // namespace ck::pipeline
