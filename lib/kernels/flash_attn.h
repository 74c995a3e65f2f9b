// CPU flash attention, bit-exact with ggml_compute_forward_flash_attn_ext_f16 (ggml-cpu/ops.cpp, b10256) of the
// portable AVX2 build for F32 Q, F16 K/V, optional F16 mask, no ALiBi / softcap / sinks (as Qwen3-VL runs it).
#pragma once
#include <cstdint>

namespace ck::kernels {

struct FlashAttnShape {
  int64_t DK = 0, DV = 0;
  int64_t N = 0;    // query tokens (neq1)
  int64_t KV = 0;   // keys (nek1)
  int64_t H = 0;    // query heads (neq2)
  int64_t Hk = 0;   // key/value heads (GQA: query head h reads kv head h / (H / Hk))
  float scale = 1.0f;
  // Strides in elements. q row (token i, head h) at q + i*q_si + h*q_sh; k/v row (key j, kv head g) at
  // k + j*k_sj + g*k_sg; mask row i at mask + i*mask_si (mask shared by all heads); out row (i, h) at
  // out + (i*H + h)*DV (ggml's permuted dst).
  int64_t q_si = 0, q_sh = 0, k_sj = 0, k_sg = 0, v_sj = 0, v_sg = 0, mask_si = 0;
};

enum class FlashAttnPath { one_chunk, tiled, split_kv };

// ggml's choice: N == 1 && KV >= 512 -> split_kv; N >= 64 && DV % 8 == 0 (GGML_F32_EPR of AVX2) -> tiled;
// else one_chunk.
FlashAttnPath flash_attn_path(const FlashAttnShape& s);

// out = attention(q, k, v, mask) with the path ggml takes. split_kv results depend on the ORACLE's thread
// count (the number of KV chunks): pass it as kv_chunks (llama.cpp's -t for 1-token ubatches); ck's own
// threading (ith, nth: rows, resp. heads for split_kv) never changes results.
void flash_attn_ext(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                    const uint16_t* mask, float* out, int kv_chunks, int ith, int nth);

// The three kernels for one query row (token i, head h), plain C++ (scalar) and compiled for AVX2 (same
// arithmetic; dot products by dot_f16_avx2). out: DV floats.
void flash_attn_row_one_chunk_scalar(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                                     const uint16_t* mask, int64_t i, int64_t h, float* out);
void flash_attn_row_one_chunk_avx2(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                                   const uint16_t* mask, int64_t i, int64_t h, float* out);
void flash_attn_row_tiled_scalar(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                                 const uint16_t* mask, int64_t i, int64_t h, float* out);
void flash_attn_row_tiled_avx2(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                               const uint16_t* mask, int64_t i, int64_t h, float* out);
// The tiled kernel for a block of query rows i in [i0, i1) (at most 64) of head h, sharing each converted K/V
// tile; out is the whole output (row (i, h) at out + (i*H + h)*DV). Same bits as the per-row functions.
void flash_attn_block_tiled_scalar(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                                   const uint16_t* mask, int64_t h, int64_t i0, int64_t i1, float* out);
void flash_attn_block_tiled_avx2(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                                 const uint16_t* mask, int64_t h, int64_t i0, int64_t i1, float* out);
// The same with two rows at a time through AVX-512 score and V loops (DV % 16 == 0); identical values.
void flash_attn_block_tiled_avx512(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                                   const uint16_t* mask, int64_t h, int64_t i0, int64_t i1, float* out);
void flash_attn_row_split_kv_scalar(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                                    const uint16_t* mask, int64_t i, int64_t h, int kv_chunks, float* out);
void flash_attn_row_split_kv_avx2(const FlashAttnShape& s, const float* q, const uint16_t* k, const uint16_t* v,
                                  const uint16_t* mask, int64_t i, int64_t h, int kv_chunks, float* out);

}  // namespace ck::kernels
