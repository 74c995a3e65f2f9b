// llamafile tinyBLAS, float kernels.
//
// Mirrors tinyBLAS<8, __m256, __m256, TA, TB, float>::gemm_bloc (ggml/src/ggml-cpu/llamafile/sgemm.cpp, b10256;
// the AVX/AVX2 instantiation chosen by llamafile_sgemm for (F32, F32), (F16, F16) and (BF16, BF16)), per output
// element:
//   Cv = 0 (8 lanes); for l = 0, 8, ..., k-8: Cv = _mm256_fmadd_ps(load(A_row + l), load(B_row + l), Cv)
//   (F16 loads: _mm256_cvtph_ps; BF16 loads: widen + shift; both exact);  C = hsum(Cv) = (t0 + t2) + (t1 + t3), t_i = Cv[i] + Cv[i+4].
// One accumulator per output, no k blocking. Upstream's tile shapes (RM x RN x BM picked by mnpack from m and the
// thread count) and job distribution only decide who computes which output, never how — so ck tiles freely:
// 3 x 4 register tiles with the 16 ymm registers of AVX2 (12 accumulators + 3 A + 1 B; 4 x 3 needed 17 and GCC
// spilled an accumulator into a store/load on every step), 4 x 12 outputs in 24 zmm with AVX-512.
#include "kernels/matmul_tinyblas.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/hsum.h"
#include "kernels/isa.h"

namespace ck::kernels {

namespace {

// BF16 element tag (same bits as uint16_t; a distinct type so the templates pick the bf16 load).
struct Bf16 {
  uint16_t bits;
};
static_assert(sizeof(Bf16) == 2, "Bf16 is a bare uint16_t");

// ---- scalar reference: the per-output arithmetic written out ---------------------------------------------------
inline float to_f32(float v) { return v; }
inline float to_f32(uint16_t v) { return fp16_to_fp32(v); }
inline float to_f32(Bf16 v) { return bf16_to_fp32(v.bits); }

template <typename T>
void tinyblas_scalar(int64_t m, int64_t n, int64_t k, const T* A, int64_t lda, const T* B, int64_t ldb, float* C,
                     int64_t ldc, int ith, int nth) {
  const int64_t total = m * n;
  const int64_t per = (total + nth - 1) / nth, e0 = std::min(total, per * ith), e1 = std::min(total, e0 + per);
  for (int64_t e = e0; e < e1; ++e) {
    const int64_t i = e % m, j = e / m;
    float acc[8] = {};
    for (int64_t l = 0; l < k; l += 8)
      for (int z = 0; z < 8; ++z)
        acc[z] = std::fmaf(to_f32(A[i * lda + l + z]), to_f32(B[j * ldb + l + z]), acc[z]);
    C[j * ldc + i] = detail::hsum8_pairs02(acc);
  }
}

// ---- SIMD: register-tiled, same per-output chain -----------------------------------------------------------------
CK_TARGET_AVX2 __attribute__((always_inline)) inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
CK_TARGET_AVX2 __attribute__((always_inline)) inline __m256 load8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// tinyBLAS load(const ggml_bf16_t*) on AVX2: widen to 32 bits and shift (exact).
CK_TARGET_AVX2 __attribute__((always_inline)) inline __m256 load8(const Bf16* p) {
  return _mm256_castsi256_ps(
      _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}

template <int RM, int RN, typename T>
CK_TARGET_AVX2 __attribute__((always_inline)) inline void bloc(int64_t k, const T* A, int64_t lda, const T* B,
                                                               int64_t ldb, float* C, int64_t ldc, int64_t ii,
                                                               int64_t jj) {
  __m256 Cv[RN][RM];
  for (int j = 0; j < RN; ++j)
    for (int i = 0; i < RM; ++i) Cv[j][i] = _mm256_setzero_ps();
  for (int64_t l = 0; l < k; l += 8) {
    __m256 Av[RM];
    for (int i = 0; i < RM; ++i) Av[i] = load8(A + lda * (ii + i) + l);
    for (int j = 0; j < RN; ++j) {
      const __m256 Bv = load8(B + ldb * (jj + j) + l);
      for (int i = 0; i < RM; ++i) Cv[j][i] = _mm256_fmadd_ps(Av[i], Bv, Cv[j][i]);
    }
  }
  for (int j = 0; j < RN; ++j)
    for (int i = 0; i < RM; ++i) C[ldc * (jj + j) + (ii + i)] = detail::hsum8_pairs02(Cv[j][i]);
}

// Column remainder dispatch (rn < RN) for a fixed row tile height.
template <int RM, int RN, typename T>
CK_TARGET_AVX2 __attribute__((always_inline)) inline void bloc_cols(int rn, int64_t k, const T* A, int64_t lda,
                                                                    const T* B, int64_t ldb, float* C, int64_t ldc,
                                                                    int64_t ii, int64_t jj) {
  if constexpr (RN >= 1) {
    if (rn == RN) return bloc<RM, RN>(k, A, lda, B, ldb, C, ldc, ii, jj);
    if constexpr (RN > 1) return bloc_cols<RM, RN - 1>(rn, k, A, lda, B, ldb, C, ldc, ii, jj);
  }
}

// Jobs = (row tiles of RM) x (column tiles of RN); thread ith takes a contiguous range of jobs.
// Rows m % RM left over are done with 1-row tiles.
template <int RM, int RN, typename T>
CK_TARGET_AVX2 __attribute__((always_inline)) inline void tinyblas_tiled(int64_t m, int64_t n, int64_t k, const T* A,
                                                                         int64_t lda, const T* B, int64_t ldb,
                                                                         float* C, int64_t ldc, int ith, int nth) {
  const int64_t mt_full = m / RM, mrem = m % RM;
  const int64_t mt = mt_full + mrem;  // leftover rows as single-row tiles
  const int64_t nt = (n + RN - 1) / RN;
  const int64_t jobs = mt * nt;
  const int64_t per = (jobs + nth - 1) / nth, j0 = std::min(jobs, per * ith), j1 = std::min(jobs, j0 + per);
  // Job order (never an output's arithmetic): A rows in L2-sized chunks; a chunk passes every column tile, row
  // tiles fastest, so the chunk stays in L2 and each RN-column B tile is reused by all its row tiles.
  const int64_t chunk = std::max<int64_t>(1, (int64_t(256) << 10) / (RM * k * int64_t(sizeof(T))));
  for (int64_t job = j0; job < j1; ++job) {
    const int64_t c = job / (chunk * nt), rows_c = std::min(chunk, mt - c * chunk), rem = job - c * chunk * nt;
    const int64_t it = c * chunk + rem % rows_c, jt = rem / rows_c;
    const int64_t jj = jt * RN;
    const int rn = static_cast<int>(std::min<int64_t>(RN, n - jj));
    if (it < mt_full) {
      bloc_cols<RM, RN>(rn, k, A, lda, B, ldb, C, ldc, it * RM, jj);
    } else {
      bloc_cols<1, RN>(rn, k, A, lda, B, ldb, C, ldc, mt_full * RM + (it - mt_full), jj);
    }
  }
}

// ---- AVX-512: one zmm = the 8-lane accumulators of two outputs (rows i, columns j and j+1) -----------------------
// Lane z of each half runs exactly the ymm chain above (fmadd of A[i][l+z] * B[j][l+z]), and each half is reduced
// with the same hsum, so the bits are those of tinyBLAS<8, __m256>. A's 8-element chunk is broadcast to both
// halves; B is converted to F32 (exact) and packed per column tile: for each l-step, RNP pairs of
// [B[j][l..l+8) | B[j+1][l..l+8)] (missing columns zero, their outputs discarded).
// GCC 12 reports its own _mm512_undefined_ps() placeholders inside these intrinsics as maybe-uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
CK_TARGET_AVX512 __attribute__((always_inline)) inline __m512 load8x2(const float* p) {
  return _mm512_broadcast_f32x8(_mm256_loadu_ps(p));
}
CK_TARGET_AVX512 __attribute__((always_inline)) inline __m512 load8x2(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
CK_TARGET_AVX512 __attribute__((always_inline)) inline __m512 load8x2(const Bf16* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(
      _mm512_cvtepu16_epi32(_mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)))), 16));
}

constexpr int kRNP = 6;  // column pairs per tile (12 columns); 4 x 6 zmm accumulators + 4 A + 1 B registers
constexpr int64_t kL3ChunkBytes = int64_t(8) << 20;  // A rows per pass over the column tiles (an L3 share)

template <int RM, int RNP, typename T>
CK_TARGET_AVX512 __attribute__((always_inline)) inline void bloc512(int64_t k, const T* A, int64_t lda,
                                                                   const float* Bp, float* C, int64_t ldc, int64_t ii,
                                                                   int64_t jj, int rn) {
  __m512 Cv[RNP][RM];
  for (int p = 0; p < RNP; ++p)
    for (int i = 0; i < RM; ++i) Cv[p][i] = _mm512_setzero_ps();
  for (int64_t l = 0; l < k; l += 8, Bp += 16 * kRNP) {
    __m512 Av[RM];
    for (int i = 0; i < RM; ++i) Av[i] = load8x2(A + lda * (ii + i) + l);
    for (int p = 0; p < RNP; ++p) {
      const __m512 Bv = _mm512_loadu_ps(Bp + 16 * p);
      for (int i = 0; i < RM; ++i) Cv[p][i] = _mm512_fmadd_ps(Av[i], Bv, Cv[p][i]);
    }
  }
  for (int p = 0; p < RNP; ++p)
    for (int i = 0; i < RM; ++i) {
      C[ldc * (jj + 2 * p) + (ii + i)] = detail::hsum8_pairs02(_mm512_castps512_ps256(Cv[p][i]));
      if (2 * p + 1 < rn) C[ldc * (jj + 2 * p + 1) + (ii + i)] = detail::hsum8_pairs02(_mm512_extractf32x8_ps(Cv[p][i], 1));
    }
}

template <int RM, int RNP, typename T>
CK_TARGET_AVX512 __attribute__((always_inline)) inline void bloc512_cols(int rnp, int64_t k, const T* A, int64_t lda,
                                                                        const float* Bp, float* C, int64_t ldc,
                                                                        int64_t ii, int64_t jj, int rn) {
  if constexpr (RNP >= 1) {
    if (rnp == RNP) return bloc512<RM, RNP>(k, A, lda, Bp, C, ldc, ii, jj, rn);
    if constexpr (RNP > 1) return bloc512_cols<RM, RNP - 1>(rnp, k, A, lda, Bp, C, ldc, ii, jj, rn);
  }
}

// Column tile jt of nt = ceil(ceil(n / 2) / kRNP): the column pairs spread evenly over the tiles (64 columns:
// 6 6 5 5 5 5 pairs, not 6 6 6 6 6 2), so no tile runs with a few accumulators. Returns {first column, columns}.
struct ColTile {
  int64_t jj;
  int rn;
};
inline ColTile col_tile(int64_t n, int64_t nt, int64_t jt) {
  const int64_t pairs = (n + 1) / 2, base = pairs / nt, extra = pairs % nt;
  const int64_t jj = 2 * (jt * base + std::min(jt, extra));
  return {jj, static_cast<int>(std::min<int64_t>(2 * (base + (jt < extra)), n - jj))};
}

// B column tile [jj, jj + rn) packed as tinyblas_tiled512 uses it (kRNP pairs per step; missing columns zero).
template <typename T>
CK_TARGET_AVX512 void pack512(int64_t k, const T* B, int64_t ldb, ColTile ct, float* d) {
  constexpr int RN = 2 * kRNP;
  const int64_t jj = ct.jj;
  const int rn = ct.rn;
  for (int64_t l = 0; l < k; l += 8)
    for (int c = 0; c < RN; ++c, d += 8)
      _mm256_storeu_ps(d, c < rn ? load8(B + ldb * (jj + c) + l) : _mm256_setzero_ps());
}
// One output tile: row tile `it` (4 rows, or a single leftover row past mt_full) x column tile ct.
template <typename T>
CK_TARGET_AVX512 void run512(int64_t k, const T* A, int64_t lda, const float* bp, float* C, int64_t ldc,
                             int64_t mt_full, int64_t it, ColTile ct) {
  constexpr int RM = 4;
  const int64_t jj = ct.jj;
  const int rn = ct.rn;
  const int rnp = (rn + 1) / 2;
  if (it < mt_full) bloc512_cols<RM, kRNP>(rnp, k, A, lda, bp, C, ldc, it * RM, jj, rn);
  else bloc512_cols<1, kRNP>(rnp, k, A, lda, bp, C, ldc, mt_full * RM + (it - mt_full), jj, rn);
}

// Jobs as tinyblas_tiled (row tiles of 4 plus single leftover rows) x (column tiles of <= 2 * kRNP); a thread packs
// the B column tile of its jobs when it changes (jobs are ordered row-tile-fastest).
template <typename T>
CK_TARGET_AVX512 void tinyblas_tiled512(int64_t m, int64_t n, int64_t k, const T* A, int64_t lda, const T* B,
                                        int64_t ldb, float* C, int64_t ldc, int ith, int nth) {
  constexpr int RM = 4;
  const int64_t mt_full = m / RM, mrem = m % RM;
  const int64_t mt = mt_full + mrem;
  const int64_t nt = ((n + 1) / 2 + kRNP - 1) / kRNP;
  thread_local std::vector<float> packed;
  const size_t tile_floats = static_cast<size_t>(k / 8 * 16 * kRNP);
  // Weights much larger than the activations (the merger's 4096 x 4096, any short n): each thread takes a
  // contiguous range of row tiles, packs every column tile of B once, and walks its rows in L2-sized chunks so
  // an A chunk is reused by all column tiles instead of all of A streaming from memory once per column tile.
  // Only the order of whole output tiles changes, never an output's arithmetic.
  if (double(m) * double(k) * sizeof(T) > 2.0 * double(n) * double(k) * 4.0 && nt > 1) {
    const auto [t0, t1] = split_range(static_cast<size_t>(mt), ith, nth);
    if (t0 >= t1) return;
    packed.resize(tile_floats * static_cast<size_t>(nt));
    for (int64_t jt = 0; jt < nt; ++jt) pack512(k, B, ldb, col_tile(n, nt, jt), packed.data() + tile_floats * static_cast<size_t>(jt));
    const int64_t chunk = std::max<int64_t>(1, (int64_t(256) << 10) / (RM * k * int64_t(sizeof(T))));
    for (int64_t c0 = int64_t(t0); c0 < int64_t(t1); c0 += chunk) {
      const int64_t c1 = std::min<int64_t>(int64_t(t1), c0 + chunk);
      for (int64_t jt = 0; jt < nt; ++jt)
        for (int64_t it = c0; it < c1; ++it)
          run512(k, A, lda, packed.data() + tile_floats * static_cast<size_t>(jt), C, ldc, mt_full, it,
                 col_tile(n, nt, jt));
    }
    return;
  }
  // Jobs: row tiles fastest within a column tile, so the packed column tile stays in L2 while A streams past it.
  // A larger than an L3 share would stream from DRAM once per column tile; then rows go in chunks of
  // kL3ChunkBytes, each chunk passing every column tile before the next chunk starts.
  const int64_t chunk = std::max<int64_t>(1, kL3ChunkBytes / (RM * k * int64_t(sizeof(T))));
  const int64_t jobs = mt * nt;
  const int64_t per = (jobs + nth - 1) / nth, j0 = std::min(jobs, per * ith), j1 = std::min(jobs, j0 + per);
  if (j0 >= j1) return;
  packed.resize(tile_floats);
  int64_t packed_jt = -1, packed_c = -1;
  for (int64_t job = j0; job < j1; ++job) {
    const int64_t c = job / (chunk * nt), rows_c = std::min(chunk, mt - c * chunk), rem = job - c * chunk * nt;
    const int64_t it = c * chunk + rem % rows_c, jt = rem / rows_c;
    if (c != packed_c) packed_jt = -1, packed_c = c;
    const ColTile ct = col_tile(n, nt, jt);
    if (jt != packed_jt) {
      pack512(k, B, ldb, ct, packed.data());
      packed_jt = jt;
    }
    run512(k, A, lda, packed.data(), C, ldc, mt_full, it, ct);
  }
}

#pragma GCC diagnostic pop

}  // namespace

void matmul_tinyblas_f32_scalar(int64_t m, int64_t n, int64_t k, const float* A, int64_t lda, const float* B,
                                int64_t ldb, float* C, int64_t ldc, int ith, int nth) {
  tinyblas_scalar(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
}
CK_TARGET_AVX2 void matmul_tinyblas_f32_avx2(int64_t m, int64_t n, int64_t k, const float* A, int64_t lda,
                                             const float* B, int64_t ldb, float* C, int64_t ldc, int ith, int nth) {
  tinyblas_tiled<3, 4>(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
}
CK_TARGET_AVX512 void matmul_tinyblas_f32_avx512(int64_t m, int64_t n, int64_t k, const float* A, int64_t lda,
                                                 const float* B, int64_t ldb, float* C, int64_t ldc, int ith,
                                                 int nth) {
  tinyblas_tiled512(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
}
void matmul_tinyblas_f32(int64_t m, int64_t n, int64_t k, const float* A, int64_t lda, const float* B, int64_t ldb,
                         float* C, int64_t ldc, int ith, int nth) {
  switch (active_isa()) {
    case Isa::avx512: return matmul_tinyblas_f32_avx512(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
    case Isa::avx2: return matmul_tinyblas_f32_avx2(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
    case Isa::scalar: break;
  }
  matmul_tinyblas_f32_scalar(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
}

void matmul_tinyblas_f16_scalar(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                                int64_t ldb, float* C, int64_t ldc, int ith, int nth) {
  tinyblas_scalar(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
}
CK_TARGET_AVX2 void matmul_tinyblas_f16_avx2(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda,
                                             const uint16_t* B, int64_t ldb, float* C, int64_t ldc, int ith,
                                             int nth) {
  tinyblas_tiled<3, 4>(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
}
CK_TARGET_AVX512 void matmul_tinyblas_f16_avx512(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda,
                                                 const uint16_t* B, int64_t ldb, float* C, int64_t ldc, int ith,
                                                 int nth) {
  tinyblas_tiled512(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
}
void matmul_tinyblas_f16(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                         int64_t ldb, float* C, int64_t ldc, int ith, int nth) {
  switch (active_isa()) {
    case Isa::avx512: return matmul_tinyblas_f16_avx512(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
    case Isa::avx2: return matmul_tinyblas_f16_avx2(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
    case Isa::scalar: break;
  }
  matmul_tinyblas_f16_scalar(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
}

// BF16 (tinyBLAS<8, __m256, __m256, ggml_bf16_t, ggml_bf16_t, float>, AVX2 build without AVX512-BF16).
void matmul_tinyblas_bf16_scalar(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                                 int64_t ldb, float* C, int64_t ldc, int ith, int nth) {
  tinyblas_scalar(m, n, k, reinterpret_cast<const Bf16*>(A), lda, reinterpret_cast<const Bf16*>(B), ldb, C, ldc, ith,
                  nth);
}
CK_TARGET_AVX2 void matmul_tinyblas_bf16_avx2(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda,
                                              const uint16_t* B, int64_t ldb, float* C, int64_t ldc, int ith,
                                              int nth) {
  tinyblas_tiled<3, 4>(m, n, k, reinterpret_cast<const Bf16*>(A), lda, reinterpret_cast<const Bf16*>(B), ldb, C, ldc,
                       ith, nth);
}
CK_TARGET_AVX512 void matmul_tinyblas_bf16_avx512(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda,
                                                  const uint16_t* B, int64_t ldb, float* C, int64_t ldc, int ith,
                                                  int nth) {
  tinyblas_tiled512(m, n, k, reinterpret_cast<const Bf16*>(A), lda, reinterpret_cast<const Bf16*>(B), ldb, C, ldc,
                    ith, nth);
}
void matmul_tinyblas_bf16(int64_t m, int64_t n, int64_t k, const uint16_t* A, int64_t lda, const uint16_t* B,
                          int64_t ldb, float* C, int64_t ldc, int ith, int nth) {
  switch (active_isa()) {
    case Isa::avx512:
      if (use_avx512_bf16() && matmul_tinyblas_bf16_avx512dp(m, n, k, A, lda, B, ldb, C, ldc, ith, nth)) return;
      return matmul_tinyblas_bf16_avx512(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
    case Isa::avx2: return matmul_tinyblas_bf16_avx2(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
    case Isa::scalar: break;
  }
  matmul_tinyblas_bf16_scalar(m, n, k, A, lda, B, ldb, C, ldc, ith, nth);
}

}  // namespace ck::kernels
