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

// Encodes every chunk (cached under the video's sha256 and the frame indices); meta.video filled.
std::vector<std::shared_ptr<const EncodedImage>> encode_video(Encoder& enc, const video::Video& v,
                                                              const std::vector<VideoChunk>& chunks,
                                                              const std::string& path, const std::string& sha256,
                                                              const EncodeOptions& opt);

}  // namespace ck::pipeline
