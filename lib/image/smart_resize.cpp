#include "image/smart_resize.h"

#include <algorithm>
#include <cmath>

namespace ck::image {
namespace {

// The three lambdas of calc_size_preserved_ratio take `float x`: int arguments are converted to float,
// divided by (float)align in float, rounded by std::round/ceil/floor (float overloads), then truncated to
// int and multiplied by align. std::round rounds half away from zero.
int round_by_factor(float x, int f) { return static_cast<int>(std::round(x / static_cast<float>(f))) * f; }
int ceil_by_factor(float x, int f) { return static_cast<int>(std::ceil(x / static_cast<float>(f))) * f; }
int floor_by_factor(float x, int f) { return static_cast<int>(std::floor(x / static_cast<float>(f))) * f; }

}  // namespace

const char* branch_name(BudgetBranch b) {
  switch (b) {
    case BudgetBranch::kRound: return "round";
    case BudgetBranch::kShrink: return "max_pixels";
    case BudgetBranch::kGrow: return "min_pixels";
  }
  return "?";
}

TargetSize smart_resize(int width, int height, int align, int min_pixels, int max_pixels) {
  TargetSize t;
  // "always align up first"
  int h_bar = std::max(align, round_by_factor(static_cast<float>(height), align));
  int w_bar = std::max(align, round_by_factor(static_cast<float>(width), align));

  if (h_bar * w_bar > max_pixels) {
    // std::sqrt(float) -> float; (float)(H*W) / (float)max_pixels; H / beta is int/float -> float.
    const float beta = std::sqrt(static_cast<float>(height * width) / static_cast<float>(max_pixels));
    h_bar = std::max(align, floor_by_factor(static_cast<float>(height) / beta, align));
    w_bar = std::max(align, floor_by_factor(static_cast<float>(width) / beta, align));
    t.branch = BudgetBranch::kShrink;
  } else if (h_bar * w_bar < min_pixels) {
    // (float)min_pixels / (H*W): the int product converted to float; no max(align, .) in this branch.
    const float beta = std::sqrt(static_cast<float>(min_pixels) / static_cast<float>(height * width));
    h_bar = ceil_by_factor(static_cast<float>(height) * beta, align);
    w_bar = ceil_by_factor(static_cast<float>(width) * beta, align);
    t.branch = BudgetBranch::kGrow;
  }
  t.width = w_bar;
  t.height = h_bar;
  return t;
}

}  // namespace ck::image
