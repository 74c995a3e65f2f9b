// Token budget -> target size: img_tool::calc_size_preserved_ratio(size, align, min_pixels, max_pixels)
// of llama.cpp's tools/mtmd/mtmd-image.cpp ("smart_resize" in transformers), reproduced in float exactly as
// clip computes it (HF's Python does it in double and can differ by one alignment step).
#pragma once

namespace ck::image {

enum class BudgetBranch { kRound, kShrink, kGrow };  // which branch of calc_size_preserved_ratio was taken
const char* branch_name(BudgetBranch b);             // "round" | "max_pixels" | "min_pixels"

struct TargetSize {
  int width = 0;
  int height = 0;
  BudgetBranch branch = BudgetBranch::kRound;
};

// Inputs must be positive and width*height must fit in int (decode enforces it), as in clip.
TargetSize smart_resize(int width, int height, int align, int min_pixels, int max_pixels);

}  // namespace ck::image
