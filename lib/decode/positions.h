// M-RoPE positions of the decoder input (4 planes t, h, w, e of n_tokens int32 each; ggml_rope_multi's layout).
//   text token at position p            -> (p, p, p, 0)          llm_graph_input_pos::set_input (llama-graph.cpp)
//   image token i of an nx*ny grid at p0 -> (p0, p0 + i/nx, p0 + i%nx, 0)
//                                          mtmd_image_tokens_get_decoder_pos + set_position_mrope_2d
//   after an image the next position is p0 + max(nx, ny)  (mtmd_image_tokens_get_n_pos)
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ck::decode {

struct Pos4 {
  int32_t t = 0, h = 0, w = 0, e = 0;
  bool operator==(const Pos4&) const = default;
};

inline Pos4 text_pos(int32_t p) { return {p, p, p, 0}; }
inline Pos4 image_pos(int32_t p0, uint32_t nx, int64_t i) {
  return {p0, p0 + int32_t(i / nx), p0 + int32_t(i % nx), 0};
}
// Positions an image chunk consumes (n_past advance): max(nx, ny).
inline int32_t image_n_pos(uint32_t nx, uint32_t ny) { return int32_t(nx > ny ? nx : ny); }

// Planar layout [t0..tn-1, h0.., w0.., e0..] of a list of positions (the inp_pos tensor).
std::vector<int32_t> to_planes(const std::vector<Pos4>& pos);

}  // namespace ck::decode
