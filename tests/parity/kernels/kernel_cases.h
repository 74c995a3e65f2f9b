// Shared by the golden generator (gen_goldens.cpp, linked against the oracle's ggml) and the unit tests
// (tests/unit/kernels_*_test.cpp): deterministic inputs and the golden fixture container.
//
// Inputs are not stored in the fixtures: both sides regenerate them from the case name with the integer-only
// generator below (bit-identical on every machine), and each fixture stores a fingerprint of the inputs it was
// made from, so a drift in input generation is reported as such and never as a kernel mismatch.
//
// Fixture file (tests/fixtures/kernels/<group>.ckg.zst): one zstd frame holding
//   "CKKGOLD1", then records { u32 name_len, name, u64 nbytes, bytes }.
// Record names: "<case>/<tensor>" ("<case>/inputs_fnv" = u64 FNV-1a of all generated input bytes).
#pragma once
#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace ck_kernel_cases {

// ---- deterministic inputs ----------------------------------------------------------------------------------------
struct Rng {
  uint64_t s;
  explicit Rng(const std::string& name) : s(0x9E3779B97F4A7C15ull) {
    for (unsigned char c : name) s = (s ^ c) * 0x100000001B3ull;
  }
  uint64_t next() {  // splitmix64
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi): 24 random bits scaled exactly, then one float fma-free affine map (deterministic).
  float uniform(float lo, float hi) {
    const float u = static_cast<float>(next() >> 40) * (1.0f / 16777216.0f);
    return lo + (hi - lo) * u;
  }
  // Random float with a random exponent in [emin, emax] and random sign: exercises rounding at every scale.
  float wide(int emin, int emax) {
    const uint64_t r = next();
    const uint32_t e = static_cast<uint32_t>(emin + static_cast<int>((r >> 32) % static_cast<uint64_t>(emax - emin + 1)));
    uint32_t bits = ((r & 1) << 31) | ((e + 127u) << 23) | static_cast<uint32_t>((r >> 8) & 0x7fffff);
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
};

inline float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline std::vector<float> uniform_vec(const std::string& name, size_t n, float lo, float hi) {
  Rng r(name);
  std::vector<float> v(n);
  for (auto& x : v) x = r.uniform(lo, hi);
  return v;
}

// Wide-range values plus the awkward ones (zeros, ties at fp16/bf16 rounding points, overflow, subnormals,
// infinities, NaNs with payloads), scattered at fixed positions including the last 3 (the scalar tail).
inline std::vector<float> special_vec(const std::string& name, size_t n) {
  Rng r(name);
  std::vector<float> v(n);
  for (auto& x : v) x = r.wide(-30, 18);
  const uint32_t specials[] = {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00000u,
                               0x7fc12345u, 0x7f800001u, 0xffa00abcu, 0x477fe000u, 0x477ff000u, 0x47800000u,
                               0x33000000u, 0x33000001u, 0x387fc000u, 0x38800000u, 0x3f801000u, 0x3f803000u,
                               0x3f808000u, 0x3f818000u, 0x00000001u, 0x807fffffu, 0x7f7fffffu, 0x3f7fffffu};
  const size_t ns = sizeof(specials) / sizeof(specials[0]);
  for (size_t i = 0; i < ns && i * 37 < n; ++i) v[i * 37] = from_bits(specials[i]);
  for (size_t i = 0; i < 3 && i < n; ++i) v[n - 1 - i] = from_bits(specials[(i * 5 + 4) % ns]);
  return v;
}

inline uint64_t fnv1a(const void* p, size_t n, uint64_t h = 0xcbf29ce484222325ull) {
  const unsigned char* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ull;
  return h;
}


// ---- per-group input generators (names are the case names) ---------------------------------------------------------
// Activations: mostly moderate, every 11th element large (reaches ggml_v_expf's |n| > 126 / > 192 branches).
inline std::vector<float> act_vec(const std::string& name, size_t n, float lo = -12.0f, float hi = 12.0f) {
  Rng r(name);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = (i % 11 == 5) ? r.uniform(-150.0f, 150.0f) : r.uniform(lo, hi);
  return v;
}

// Random fp16 bit patterns with |x| in [2^-6, 2^0): typical weight magnitudes, no conversion needed.
inline std::vector<uint16_t> f16_weights(const std::string& name, size_t n) {
  Rng r(name);
  std::vector<uint16_t> v(n);
  for (auto& h : v) {
    const uint64_t b = r.next();
    h = static_cast<uint16_t>(((b & 1) << 15) | ((9 + (b >> 8) % 6) << 10) | ((b >> 20) & 0x3ff));
  }
  return v;
}

// Raw Q8_0 blocks (34 bytes: fp16 d, 32 int8): d with |d| in [2^-10, 2^-6), quants uniform in [qmin, 127].
inline std::vector<uint8_t> q8_0_blocks(const std::string& name, size_t nblocks, int qmin) {
  Rng r(name);
  std::vector<uint8_t> v(nblocks * 34);
  for (size_t b = 0; b < nblocks; ++b) {
    const uint64_t x = r.next();
    const uint16_t d = static_cast<uint16_t>((5 + (x >> 8) % 4) << 10 | ((x >> 20) & 0x3ff));
    std::memcpy(&v[b * 34], &d, 2);
    for (int i = 0; i < 32; ++i) {
      const int q = qmin + static_cast<int>(r.next() % static_cast<uint64_t>(128 - qmin));
      v[b * 34 + 2 + i] = static_cast<uint8_t>(static_cast<int8_t>(q));
    }
  }
  return v;
}

// Raw quantized weight blocks of a ggml type (bytes per block `bsize`): random bytes, with the fp16 scale fields
// (at the given byte offsets) replaced by positive fp16 values in [2^-10, 2^-6).
inline std::vector<uint8_t> raw_blocks(const std::string& name, size_t nblocks, size_t bsize,
                                       std::initializer_list<size_t> f16_offsets) {
  Rng r(name);
  std::vector<uint8_t> v(nblocks * bsize);
  for (auto& b : v) b = static_cast<uint8_t>(r.next() >> 56);
  for (size_t b = 0; b < nblocks; ++b)
    for (size_t off : f16_offsets) {
      const uint64_t x = r.next();
      const uint16_t d = static_cast<uint16_t>((5 + (x >> 8) % 4) << 10 | ((x >> 20) & 0x3ff));
      std::memcpy(&v[b * bsize + off], &d, 2);
    }
  return v;
}
// Block geometry of the quantized weight types used by the tests: (bytes per block, fp16 field offsets).
inline std::vector<uint8_t> q4_0_blocks(const std::string& n, size_t nb) { return raw_blocks(n, nb, 18, {0}); }
inline std::vector<uint8_t> q5_0_blocks(const std::string& n, size_t nb) { return raw_blocks(n, nb, 22, {0}); }
inline std::vector<uint8_t> q4_K_blocks(const std::string& n, size_t nb) { return raw_blocks(n, nb, 144, {0, 2}); }
inline std::vector<uint8_t> q5_K_blocks(const std::string& n, size_t nb) { return raw_blocks(n, nb, 176, {0, 2}); }
inline std::vector<uint8_t> q6_K_blocks(const std::string& n, size_t nb) { return raw_blocks(n, nb, 210, {208}); }

// Raw q8_K activation blocks (292 bytes: f32 d, 256 int8 in [-127, 127], 16 int16 bsums consistent with qs).
inline std::vector<uint8_t> q8_K_blocks(const std::string& name, size_t nblocks) {
  Rng r(name);
  std::vector<uint8_t> v(nblocks * 292);
  for (size_t b = 0; b < nblocks; ++b) {
    uint8_t* p = &v[b * 292];
    const float d = r.uniform(1e-3f, 2e-2f);
    std::memcpy(p, &d, 4);
    int16_t bs[16] = {};
    for (int i = 0; i < 256; ++i) {
      const int q = static_cast<int>(r.next() % 255) - 127;
      p[4 + i] = static_cast<uint8_t>(static_cast<int8_t>(q));
      bs[i / 16] = static_cast<int16_t>(bs[i / 16] + q);
    }
    std::memcpy(p + 260, bs, 32);
  }
  return v;
}

// bf16 bit patterns of uniform floats in [lo, hi) (truncated, any pattern is a valid bf16).
inline std::vector<uint16_t> bf16_vec(const std::string& name, size_t n, float lo, float hi) {
  Rng r(name);
  std::vector<uint16_t> v(n);
  for (auto& h : v) {
    const float f = r.uniform(lo, hi);
    uint32_t u;
    std::memcpy(&u, &f, 4);
    h = static_cast<uint16_t>(u >> 16);
  }
  return v;
}

// bf16 values with a random sign, a biased exponent drawn from [e_lo, e_hi] and a random 7-bit significand.
inline std::vector<uint16_t> bf16_exp_band(const std::string& name, size_t n, unsigned e_lo, unsigned e_hi) {
  Rng r(name);
  std::vector<uint16_t> v(n);
  for (auto& h : v) {
    const uint64_t x = r.next();
    const unsigned e = e_lo + static_cast<unsigned>((x >> 32) % (e_hi - e_lo + 1));
    h = static_cast<uint16_t>(((x & 1) << 15) | (e << 7) | ((x >> 8) & 0x7F));
  }
  return v;
}

// BF16 mat-mul operands by biased-exponent band (matmul_tinyblas_bf16_dp.cpp's exact range for vdpbf16ps:
// Emin_A + Emin_B >= 142, Emax_A + Emax_B + bit_width(k) <= 378): {label, w band, x band}, x as bf16-exact floats.
// Bands: right at the lower edge of that range, one exponent below it, ordinary values with a band of tiny /
// denormal / infinite weight rows (those row chunks fall back, the others do not), right at the upper edge, and
// above it. At the lower edges, output (0, 0) is built to cancel down to one quantum (see bf16_exp_weights).
struct BfExp {
  const char* label;
  unsigned w_lo, w_hi, x_lo, x_hi;
};
inline constexpr BfExp kBfExp[] = {{"exp=edge", 23, 25, 119, 121}, {"exp=below", 22, 25, 119, 121},
                                   {"exp=rows", 110, 127, 110, 128}, {"exp=top", 200, 240, 120, 127},
                                   {"exp=over", 240, 250, 120, 127}};

// Whether band e's row 0 / column 0 carry the one-quantum cancellation.
inline bool bf16_exp_cancels(const BfExp& e) { return e.w_lo + e.x_lo <= 142; }

// Row 0 of the low bands: w[0] = 129 q_w, w[8] = -128 q_w, zeros elsewhere; with x[0] = 129 q_x, x[8] = 130 q_x
// (bf16_exp_act) output (0, 0) is 129*129 - 128*130 = 1 quantum = 2^(w_lo + x_lo - 268): after two steps of the
// same lane, 2^-126 at "edge" (normal), 2^-127 at "below" (denormal: vdpbf16ps would flush it to zero).
inline std::vector<uint16_t> bf16_exp_weights(const std::string& name, const BfExp& e, int64_t m, int64_t k) {
  auto w = bf16_exp_band(name, size_t(m * k), e.w_lo, e.w_hi);
  if (bf16_exp_cancels(e)) {
    std::fill(w.begin(), w.begin() + k, uint16_t{0});
    w[0] = static_cast<uint16_t>((e.w_lo << 7) | 1);
    w[8] = static_cast<uint16_t>(0x8000 | (e.w_lo << 7));
  }
  if (std::string(e.label) == "exp=rows" && m > 310) {
    for (int64_t i = 300 * k; i < 304 * k; ++i) w[size_t(i)] = static_cast<uint16_t>((w[size_t(i)] & 0x807F) | (3 << 7));
    w[size_t(301 * k + 5)] = 0x0005;                          // denormal
    if (m > 700) w[size_t(700 * k + 9)] = 0x7F80;             // +inf
  }
  return w;
}
inline std::vector<float> bf16_exp_act(const std::string& name, const BfExp& e, int64_t n, int64_t k) {
  auto h = bf16_exp_band(name, size_t(n * k), e.x_lo, e.x_hi);
  if (bf16_exp_cancels(e)) {
    h[0] = static_cast<uint16_t>((e.x_lo << 7) | 1);
    h[8] = static_cast<uint16_t>((e.x_lo << 7) | 2);
  }
  std::vector<float> x(h.size());
  for (size_t i = 0; i < h.size(); ++i) {
    const uint32_t u = static_cast<uint32_t>(h[i]) << 16;
    std::memcpy(&x[i], &u, 4);
  }
  return x;
}

// The fixture cases (tests/unit/kernels_quant_test.cpp): every band but "rows" (which needs m > 700).
struct BfExpMM {
  int band, m, n, k;
};
inline constexpr BfExpMM kBfExpFixtures[] = {{0, 64, 5, 1024}, {0, 32, 3, 1032}, {1, 64, 5, 1024},
                                             {3, 32, 3, 1024}, {4, 32, 3, 1024}};
inline std::string bf16_exp_name(const BfExpMM& c) {
  return std::string("mm_bf16/") + kBfExp[c.band].label + ",m=" + std::to_string(c.m) + ",n=" + std::to_string(c.n) +
         ",k=" + std::to_string(c.k);
}

// Quantizer inputs: uniform rows, with one all-zero block, one tiny block and one huge-range block per row.
inline std::vector<float> quant_input(const std::string& name, size_t rows, size_t k, size_t block) {
  std::vector<float> v = uniform_vec(name, rows * k, -3.0f, 3.0f);
  for (size_t r = 0; r < rows; ++r) {
    float* x = v.data() + r * k;
    for (size_t i = 0; i < block; ++i) x[block + i] = 0.0f;
    if (k >= 3 * block)
      for (size_t i = 0; i < block; ++i) x[2 * block + i] *= 1e-20f;
    if (k >= 4 * block)
      for (size_t i = 0; i < block; ++i) x[3 * block + i] *= 1e20f;
  }
  return v;
}

// ---- rope cases (shared by gen_goldens and kernels_rope_test) ----------------------------------------------------
struct RopeCase {
  const char* name;
  int mode;         // 24 VISION, 40 IMROPE, 8 MROPE
  int d_head;       // ne0
  int n_dims;
  int sections[4];
  float freq_base;
  int n_heads, n_tokens;
  int grid_w;       // image grid width for the position planes
  int pos0;         // first position
};
inline const std::vector<RopeCase>& rope_cases() {
  static const std::vector<RopeCase> cases = {
      {"vision/d=64", 24, 64, 32, {16, 16, 16, 16}, 10000.0f, 2, 32, 8, 0},
      {"vision/d=72", 24, 72, 36, {18, 18, 18, 18}, 10000.0f, 2, 20, 5, 0},
      {"vision/d=64,big", 24, 64, 32, {16, 16, 16, 16}, 10000.0f, 1, 16, 4, 150},
      {"imrope/d=128", 40, 128, 128, {24, 20, 20, 0}, 5000000.0f, 2, 24, 5, 4},
      {"imrope/d=128,far", 40, 128, 128, {24, 20, 20, 0}, 5000000.0f, 1, 12, 3, 250000},
      {"mrope/d=128", 8, 128, 128, {24, 20, 20, 0}, 1000000.0f, 1, 8, 3, 7},
  };
  return cases;
}
// Position planes (t, h, w, e), n_tokens each. VISION: (row, col, row, col) of a grid_w-wide grid (+pos0), as
// clip's qwen3vl positions. Other modes: the first quarter are text tokens (p, p, p, 0), the rest image tokens
// (pos0', pos0' + row, pos0' + col, 0) as mtmd's M-RoPE positions.
inline std::vector<int32_t> rope_positions(const RopeCase& c) {
  const int n = c.n_tokens;
  std::vector<int32_t> pos(static_cast<size_t>(4 * n));
  for (int i = 0; i < n; ++i) {
    if (c.mode == 24) {
      const int r = c.pos0 + i / c.grid_w, col = c.pos0 + i % c.grid_w;
      pos[i] = r, pos[i + n] = col, pos[i + 2 * n] = r, pos[i + 3 * n] = col;
    } else if (i < n / 4) {
      const int p = c.pos0 + i;
      pos[i] = p, pos[i + n] = p, pos[i + 2 * n] = p, pos[i + 3 * n] = 0;
    } else {
      const int j = i - n / 4, p0 = c.pos0 + n / 4;
      pos[i] = p0, pos[i + n] = p0 + j / c.grid_w, pos[i + 2 * n] = p0 + j % c.grid_w, pos[i + 3 * n] = 0;
    }
  }
  return pos;
}

// ---- mat-mul cases of the dotq group (ggml_mul_mat on a plain CPU buffer) ------------------------------------------
struct DotqMM {
  const char* type;
  int m, n, k;
};
inline const std::vector<DotqMM>& dotq_matmul_cases() {
  static const std::vector<DotqMM> cases = {
      {"q4_K", 16, 3, 1024}, {"q4_K", 8, 1, 2048}, {"q5_K", 16, 2, 2048}, {"q6_K", 16, 3, 1024},
      {"q4_0", 16, 3, 1024}, {"q4_0", 8, 1, 1024}, {"bf16", 32, 5, 1024}, {"bf16", 32, 1, 1024},
      {"bf16", 8, 3, 1020},  {"bf16", 8, 2, 4304}, {"f32", 16, 1, 1024},  {"f32", 8, 3, 1020},
  };
  return cases;
}
inline std::string dotq_matmul_name(const DotqMM& mm) {
  return std::string("mm_") + mm.type + "/m=" + std::to_string(mm.m) + ",n=" + std::to_string(mm.n) +
         ",k=" + std::to_string(mm.k);
}

// ---- Q4_K mat-muls through CPU_REPACK (gemm rows < n - n%4, gemv for the rest) ----------------------------------
struct RepackMM {
  int m, n, k;
};
inline const std::vector<RepackMM>& repack_cases() {
  static const std::vector<RepackMM> cases = {{16, 7, 1024}, {32, 1, 2048}, {8, 4, 512}, {24, 3, 768}, {16, 9, 256}};
  return cases;
}
inline std::string repack_name(const RepackMM& mm) {
  return "mm_q4_K_repack/m=" + std::to_string(mm.m) + ",n=" + std::to_string(mm.n) + ",k=" + std::to_string(mm.k);
}

// ---- Q4_0 mat-muls through CPU_REPACK (q4_0_8x8_q8_0: gemm rows < n - n%4, gemv for the rest) ---------------------
// n = 1 (gemv only), 4..8 (gemm + tails), >= 64 (many gemm groups + tail); m = 8, 16, 24, 32, 64 row groups.
inline const std::vector<RepackMM>& repack_q4_0_cases() {
  static const std::vector<RepackMM> cases = {{16, 1, 1024}, {8, 1, 256},  {16, 4, 512}, {24, 5, 768},
                                              {8, 6, 256},   {32, 7, 1024}, {16, 8, 512}, {64, 3, 2048},
                                              {16, 64, 256}, {8, 67, 512}};
  return cases;
}
inline std::string repack_q4_0_name(const RepackMM& mm) {
  return "mm_q4_0_repack/m=" + std::to_string(mm.m) + ",n=" + std::to_string(mm.n) + ",k=" + std::to_string(mm.k);
}

// ---- flash attention cases (F32 Q [DK, N, H], F16 K/V [D, KV, Hk], F16 mask [KV, N]) ---------------------------
struct FaCase {
  const char* name;
  int DK, DV, N, KV, H, Hk;
  int used;      // 0: no mask; else cells [0, used) valid, causal over the last N of them, the rest -inf
  int threads;   // oracle threads (the KV chunk count of split-KV)
};
inline const std::vector<FaCase>& fa_cases() {
  static const std::vector<FaCase> cases = {
      {"tiled/d=64,n=70", 64, 64, 70, 70, 1, 1, 0, 2},
      {"tiled/d=72,n=64", 72, 72, 64, 64, 1, 1, 0, 2},
      {"one_chunk/d=72,n=10", 72, 72, 10, 10, 2, 2, 0, 2},
      {"one_chunk/d=128,n=20,gqa,mask", 128, 128, 20, 256, 4, 2, 50, 2},
      {"tiled/d=128,n=64,gqa,mask", 128, 128, 64, 256, 2, 1, 100, 2},
      {"one_chunk/d=128,n=1,kv=256", 128, 128, 1, 256, 4, 2, 77, 2},
      {"split_kv/d=128,kv=512,t=2", 128, 128, 1, 512, 4, 2, 300, 2},
      {"split_kv/d=128,kv=768,t=3", 128, 128, 1, 768, 4, 2, 700, 3},
      {"split_kv/d=128,kv=512,t=4", 128, 128, 1, 512, 4, 2, 260, 4},
  };
  return cases;
}
struct FaInputs {
  std::vector<float> q;
  std::vector<uint16_t> k, v, mask;  // mask empty when used == 0
};
inline FaInputs fa_inputs(const FaCase& c) {
  const std::string n = std::string("fa/") + c.name;
  FaInputs in;
  in.q = uniform_vec(n + "/q", size_t(c.DK) * c.N * c.H, -6.0f, 6.0f);
  in.k = f16_weights(n + "/k", size_t(c.DK) * c.KV * c.Hk);
  in.v = f16_weights(n + "/v", size_t(c.DV) * c.KV * c.Hk);
  if (c.used > 0) {
    in.mask.assign(size_t(c.KV) * c.N, 0xFC00);  // -inf
    for (int i = 0; i < c.N; ++i) {
      const int pos = c.used - c.N + i;  // query i sits at cell pos
      for (int j = 0; j <= pos; ++j) in.mask[size_t(i) * c.KV + j] = 0;
    }
  }
  return in;
}

// ---- mixture of experts (group moe: ggml_mul_mat_id per weight type, the build_moe_ffn routing chain) ----------
// mul_mat_id: experts [E][M][K] of `type`, x F32 [T][ne11][K] (per_slot: ne11 = n_used, else 1), ids [T][n_used]
// distinct experts per token drawn from the first E - empty experts (the last `empty` experts are never chosen).
// Q4_K with M % 8 == 0 runs from the CPU_REPACK buffer (as llama.cpp places it), everything else from a plain one.
struct MoeMM {
  const char* type;
  int E, M, K, T, n_used;
  bool per_slot;
  int empty;
};
inline const std::vector<MoeMM>& moe_mm_cases() {
  static const std::vector<MoeMM> cases = {
      {"f16", 5, 16, 256, 3, 2, false, 1},  {"f16", 7, 12, 1024, 1, 3, true, 2}, {"f16", 9, 64, 512, 33, 4, false, 1},
      {"bf16", 5, 16, 256, 4, 2, false, 1}, {"bf16", 3, 8, 1027, 2, 2, true, 0},
      {"q8_0", 5, 16, 1024, 3, 2, false, 1}, {"q8_0", 3, 8, 256, 1, 3, true, 0}, {"q8_0", 7, 32, 512, 20, 3, false, 2},
      {"q4_K", 5, 16, 512, 6, 2, false, 1}, {"q4_K", 7, 8, 256, 1, 3, true, 2},  {"q4_K", 9, 32, 768, 17, 4, false, 1},
      {"q4_K", 5, 12, 256, 3, 2, false, 1},
      {"q5_K", 5, 16, 512, 3, 2, false, 1}, {"q5_K", 3, 8, 256, 5, 3, true, 0},
      {"q6_K", 5, 16, 256, 3, 2, true, 1},  {"q6_K", 7, 24, 512, 9, 3, false, 2},
  };
  return cases;
}
inline std::string moe_mm_name(const MoeMM& c) {
  return std::string("mul_mat_id_") + c.type + "/E=" + std::to_string(c.E) + ",M=" + std::to_string(c.M) +
         ",K=" + std::to_string(c.K) + ",T=" + std::to_string(c.T) + ",used=" + std::to_string(c.n_used) +
         (c.per_slot ? ",per_slot" : "") + ",empty=" + std::to_string(c.empty);
}
inline std::vector<int32_t> moe_ids(const std::string& name, int E, int T, int n_used, int empty) {
  Rng r(name);
  std::vector<int32_t> ids(size_t(T) * n_used);
  const int avail = E - empty;
  for (int t = 0; t < T; ++t) {
    std::vector<int32_t> pool(static_cast<size_t>(avail));
    for (int e = 0; e < avail; ++e) pool[size_t(e)] = e;
    for (int j = 0; j < n_used; ++j) {  // partial Fisher-Yates: distinct experts, random order
      const size_t pick = size_t(j) + size_t(r.next() % uint64_t(avail - j));
      std::swap(pool[size_t(j)], pool[pick]);
      ids[size_t(t) * n_used + j] = pool[size_t(j)];
    }
  }
  return ids;
}

// The routing chain of build_moe_ffn (softmax gating, norm_w): logits [T][E] -> soft_max -> argsort_top_k(k) ->
// get_rows + sum_rows + clamp + div; and the combination of experts [T][k][H] with those weights. `ties`: logits
// rounded to multiples of 1/4 in a narrow range, so most rows hold equal probabilities (argsort tie order).
struct MoeRouteCase {
  int E, T, k, H;
  bool ties;
};
inline const std::vector<MoeRouteCase>& moe_route_cases() {
  static const std::vector<MoeRouteCase> cases = {
      {128, 5, 8, 64, false}, {128, 7, 8, 40, true}, {7, 9, 3, 33, true}, {5, 3, 1, 16, false}, {60, 4, 4, 2048, true}};
  return cases;
}
inline std::string moe_route_name(const MoeRouteCase& c) {
  return "moe_route/E=" + std::to_string(c.E) + ",T=" + std::to_string(c.T) + ",k=" + std::to_string(c.k) +
         ",H=" + std::to_string(c.H) + (c.ties ? ",ties" : "");
}
inline std::vector<float> moe_logits(const std::string& name, const MoeRouteCase& c) {
  auto v = uniform_vec(name + "/logits", size_t(c.E) * c.T, -4.0f, 4.0f);
  if (c.ties)
    for (auto& x : v) x = std::floor(x * 0.5f) * 0.25f;  // -0.5 .. 0.5 in steps of 1/4
  return v;
}

// ---- fixture container -------------------------------------------------------------------------------------------
using Records = std::map<std::string, std::vector<uint8_t>>;

inline std::vector<uint8_t> serialize(const std::vector<std::pair<std::string, std::vector<uint8_t>>>& recs) {
  std::vector<uint8_t> out(8);
  std::memcpy(out.data(), "CKKGOLD1", 8);
  for (const auto& [name, data] : recs) {
    const uint32_t nl = static_cast<uint32_t>(name.size());
    const uint64_t nb = data.size();
    const size_t o = out.size();
    out.resize(o + 4 + nl + 8 + nb);
    std::memcpy(&out[o], &nl, 4);
    std::memcpy(&out[o + 4], name.data(), nl);
    std::memcpy(&out[o + 4 + nl], &nb, 8);
    if (nb) std::memcpy(&out[o + 12 + nl], data.data(), nb);
  }
  return out;
}

inline Records load_fixture(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error(path + ": cannot open golden fixture");
  std::vector<uint8_t> comp;
  uint8_t buf[65536];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) comp.insert(comp.end(), buf, buf + got);
  std::fclose(f);
  const unsigned long long size = ZSTD_getFrameContentSize(comp.data(), comp.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
    throw std::runtime_error(path + ": not a zstd frame with a known size");
  std::vector<uint8_t> raw(size);
  const size_t r = ZSTD_decompress(raw.data(), raw.size(), comp.data(), comp.size());
  if (ZSTD_isError(r) || r != size) throw std::runtime_error(path + ": zstd decompression failed");
  if (raw.size() < 8 || std::memcmp(raw.data(), "CKKGOLD1", 8) != 0)
    throw std::runtime_error(path + ": bad magic (expected CKKGOLD1)");
  Records recs;
  size_t o = 8;
  while (o < raw.size()) {
    uint32_t nl;
    uint64_t nb;
    if (o + 4 > raw.size()) throw std::runtime_error(path + ": truncated record");
    std::memcpy(&nl, &raw[o], 4);
    if (o + 12 + nl > raw.size()) throw std::runtime_error(path + ": truncated record");
    std::string name(reinterpret_cast<const char*>(&raw[o + 4]), nl);
    std::memcpy(&nb, &raw[o + 4 + nl], 8);
    if (o + 12 + nl + nb > raw.size()) throw std::runtime_error(path + ": truncated record " + name);
    recs[name].assign(raw.begin() + static_cast<std::ptrdiff_t>(o + 12 + nl),
                      raw.begin() + static_cast<std::ptrdiff_t>(o + 12 + nl + nb));
    o += 12 + nl + nb;
  }
  return recs;
}

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

}  // namespace ck_kernel_cases

// ---- test-side helpers ---------------------------------------------------------------------------------------------
#ifdef CK_SOURCE_DIR
namespace ck_kernel_cases {
inline const Records& fixture(const std::string& group) {
  static std::map<std::string, Records> cache;
  auto it = cache.find(group);
  if (it == cache.end())
    it = cache.emplace(group, load_fixture(std::string(CK_SOURCE_DIR) + "/tests/fixtures/kernels/" + group + ".ckg.zst"))
             .first;
  return it->second;
}
inline const std::vector<uint8_t>& golden(const std::string& group, const std::string& name) {
  const Records& r = fixture(group);
  auto it = r.find(name);
  if (it == r.end()) throw std::runtime_error(group + ": no golden record " + name);
  return it->second;
}
inline uint64_t golden_u64(const std::string& group, const std::string& name) {
  uint64_t v;
  const auto& b = golden(group, name);
  if (b.size() != 8) throw std::runtime_error(group + ": record " + name + " is not a u64");
  std::memcpy(&v, b.data(), 8);
  return v;
}
inline uint64_t fingerprint(std::initializer_list<std::pair<const void*, size_t>> inputs) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (auto [p, n] : inputs) h = fnv1a(p, n, h);
  return h;
}
// "" if equal, else where the first difference is (element index of elem_size-byte elements).
inline std::string first_diff(const void* got, const std::vector<uint8_t>& want, size_t nbytes, size_t elem_size) {
  if (want.size() != nbytes) return "size " + std::to_string(nbytes) + " != golden " + std::to_string(want.size());
  const uint8_t* g = static_cast<const uint8_t*>(got);
  for (size_t i = 0; i < nbytes; ++i)
    if (g[i] != want[i]) {
      size_t e = i / elem_size;
      uint64_t gv = 0, wv = 0;
      std::memcpy(&gv, g + e * elem_size, elem_size < 8 ? elem_size : 8);
      std::memcpy(&wv, want.data() + e * elem_size, elem_size < 8 ? elem_size : 8);
      char buf[160];
      std::snprintf(buf, sizeof buf, "first difference at element %zu: got 0x%llx, golden 0x%llx", e,
                    static_cast<unsigned long long>(gv), static_cast<unsigned long long>(wv));
      return buf;
    }
  return "";
}
}  // namespace ck_kernel_cases
#endif
