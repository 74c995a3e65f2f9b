// Image input role fillers (moved from lib/runtime, which knows no images): what the encoder writes into a program's input tensors (docs/formats/template.md,
// `role`), exactly as llama.cpp's host code fills the corresponding graph inputs.
//   image_planar            clip_image_batch_encode: inp_raw = the preprocessed frame(s), planar [n][3][H][W] f32
//   mrope_positions_vision  clip_image_batch_encode (QWEN3VL): 4 planes of n_pos i32 (y, x, y, x) in 2x2
//                           merge-window order
#pragma once
#include <span>
#include <string>

#include "dump/writer.h"
#include "image/preprocess.h"
#include "runtime/executor.h"

namespace ck::pipeline {

// Binds the image's patch grid to the program's free symbols (via the image_planar role parameters), then
// fills every input. `what` names the image in errors. With `dump`, the inputs are recorded first, under the
// oracle's names and shapes (inp_raw [3][H][W], positions [4*n_pos]).
void feed_image(runtime::Executor& ex, const image::Preprocessed& img, const std::string& what, DumpWriter* dump);
// The same for a chunk of temporal frames (all of one size; at most the plan's max of its `frames` symbol):
// inp_raw holds them frame-major, [n_frames][3][H][W], as clip_image_batch_encode lays out a batch.
void feed_frames(runtime::Executor& ex, std::span<const image::Preprocessed> frames, const std::string& what,
                 DumpWriter* dump);

// The vision positions of a grid_w x grid_h patch grid (clip.cpp, rn:L4070): plane k of n_pos values.
std::vector<int32_t> vision_positions(int64_t grid_w, int64_t grid_h, int64_t merge);

}  // namespace ck::pipeline
