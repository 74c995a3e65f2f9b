#include "decode/positions.h"

namespace ck::decode {

std::vector<int32_t> to_planes(const std::vector<Pos4>& pos) {
  const size_t n = pos.size();
  std::vector<int32_t> out(4 * n);
  for (size_t i = 0; i < n; ++i) {
    out[i] = pos[i].t;
    out[n + i] = pos[i].h;
    out[2 * n + i] = pos[i].w;
    out[3 * n + i] = pos[i].e;
  }
  return out;
}

}  // namespace ck::decode
