// Video input exactly as llama.cpp b10256's tools/mtmd/mtmd-helper.cpp does it with MTMD_VIDEO
// (mtmd_helper_video: probe / start_ffmpeg / read_next), for Qwen-VL's temporal merge:
//   ffprobe -v quiet -show_entries stream=width,height,r_frame_rate,nb_frames,duration -select_streams v:0
//           -of default=noprint_wrappers=1 FILE                      -> width, height, r_frame_rate (> 0 needed)
//   ffmpeg -nostdin -i FILE -vf fps=4.000000 -f rawvideo -pix_fmt rgb24 pipe:1 -loglevel error
//                                                                    -> frames of width*height*3 bytes until EOF
// (a partial last frame is dropped, as fread returning 0 ends the stream there). The lazy bitmap expands into
// the parts "Video:" (text), frame 0, then per frame k a timestamp text "[%dm%.2fs]" right after frame k when its
// elapsed time (float)k / fps * 1000 reaches the next multiple of 5000 ms (so "[0m0.00s]" after frame 0).
// The binaries are looked up on PATH (subprocess_option_search_user_path), as upstream with no ffmpeg_bin_dir.
#pragma once
#include <string>
#include <vector>

#include "image/rgb_image.h"

namespace ck::video {

struct Options {
  float fps = 4.0f;                    // mtmd_helper_video_init_params_default: fps_target 4
  int timestamp_interval_ms = 5000;    // timestamp text every 5 s (0 = none)
  std::string prompt_start = "Video:"; // mtmd_helper_video::prompt_start
};

struct Part {
  bool frame = false;  // true: frames[index]; false: text
  int index = -1;
  std::string text;
};

struct Video {
  int width = 0, height = 0;  // source size (ffprobe), = every frame's size
  float source_fps = 0;       // r_frame_rate
  float fps = 0;              // sampling rate used (Options::fps, or the source's when <= 0)
  float duration = -1;        // ffprobe duration (or nb_frames / fps), -1 unknown
  std::vector<image::RgbImage> frames;
  std::vector<Part> parts;    // what mtmd_tokenizer's lazy expansion puts in place of the video's marker
  std::vector<std::string> ffmpeg_command, ffprobe_command;
};

// True when ffprobe finds a video stream with a size and a frame rate (mtmd_helper_video::probe succeeds).
// Throws ck::Error when ffprobe itself cannot be run (not installed).
bool probe(const std::string& path, Video* out);

// probe + read every frame. Throws ck::Error "<path>: <problem>" (not a video, no frames, ffmpeg missing/failing).
Video read_video(const std::string& path, const Options& opt = {});

// What the lazy bitmap of n_frames frames at `fps` expands into (read_next's order: prompt_start, then each frame
// followed by the timestamp text that falls due at it).
std::vector<Part> make_parts(int n_frames, float fps, const Options& opt = {});

// The timestamp text mtmd-helper emits after frame `k` (0-based) if any: advances *next_ms like read_next.
bool timestamp_after(int k, float fps, int interval_ms, float* next_ms, std::string* text);

}  // namespace ck::video
