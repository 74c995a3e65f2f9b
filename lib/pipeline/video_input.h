// A video as mtmd b10256 tokenizes it (lib/video reads it as mtmd-helper does): its parts ("Video:", frames,
// timestamp texts) grouped into chunks as mtmd_tokenizer::tokenize groups adjacent same-size bitmaps (frame 0 is
// alone: "Video:" precedes it and "[0m0.00s]" follows it; then pairs; a frame before a timestamp text or at the end
// may be alone), each chunk encoded as one prefix carrying meta.video (docs/formats/prefix.md) so that
// Decoder::plan can splice the video's parts back in place of its one marker.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "pipeline/encoder.h"
#include "video/video.h"

namespace ck::pipeline {

struct VideoChunk {
  std::vector<int> frames;                 // frame indices (1 or 2)
  std::vector<std::string> texts_before;   // text parts between the previous chunk and this one
  std::vector<std::string> texts_after;    // the last chunk: text parts after its frames
};

std::vector<VideoChunk> video_chunks(const video::Video& v, int max_frames);

// The parts of the video as prompt parts: texts, and `marker` once per frame (Decoder::frame_groups media).
std::vector<std::string> video_prompt_parts(const video::Video& v, const std::string& marker);

// A still image right after the video's marker (no text between) with the video's size, when the video's last
// chunk is a single frame: mtmd_tokenizer::tokenize pairs adjacent same-size bitmaps whatever they come from (a
// video's frames are bitmaps like stills, and a video ends with a frame, not text), so b10256 encodes that last
// frame and the still as one 2-frame chunk. (A still before a video never merges: the video starts with "Video:".)
struct StillAfter {
  const image::RgbImage* image = nullptr;
  std::string file, sha256;  // the still's file and the sha256 of its bytes
};

// Encodes every chunk (cached under the video's sha256 and the frame indices); meta.video filled. With `still`,
// the last chunk (one frame, no text after it) also holds the still as its second frame (meta.video.still).
std::vector<std::shared_ptr<const EncodedImage>> encode_video(Encoder& enc, const video::Video& v,
                                                              const std::vector<VideoChunk>& chunks,
                                                              const std::string& path, const std::string& sha256,
                                                              const EncodeOptions& opt,
                                                              const StillAfter* still = nullptr);

}  // namespace ck::pipeline
