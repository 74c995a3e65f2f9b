// ck-bench-peak [threads...]: this machine's measured peak for each instruction the mat-mul kernels use, as JSON
// on stdout — independent accumulator chains (enough to cover latency x ports), best of 5 blocks of ~0.1 s, one
// chain set per thread. make bench-encode / bench-decode divide each row's GFLOP/s by the peak of the
// instruction that row's kernels use.
//   fma_ymm, fma_zmm  F32 FMA (2 flops per lane)              GFLOP/s
//   dpbf16_zmm        AVX512-BF16 vdpbf16ps (2 products = 4 flops per f32 lane)   GFLOP/s (0 if absent)
//   vnni_zmm          AVX512-VNNI vpdpbusd (4 int8 products = 8 ops per i32 lane)  GOP/s (0 if absent)
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "kernels/isa.h"
#include "kernels/matmul_fast.h"

// GCC 12 reports its own placeholders inside the reduce intrinsics as uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace {

constexpr int kAcc = 12;
volatile float g_sink;
volatile int g_isink;

CK_TARGET_AVX2 __attribute__((noinline)) float loop_fma_ymm(int64_t iters) {
  __m256 acc[kAcc];
  for (int j = 0; j < kAcc; ++j) acc[j] = _mm256_set1_ps(0.001f * float(j));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kAcc; ++j) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
  }
  __m256 s = acc[0];
  for (int j = 1; j < kAcc; ++j) s = _mm256_add_ps(s, acc[j]);
  return _mm256_cvtss_f32(s);
}
CK_TARGET_AVX512 __attribute__((noinline)) float loop_fma_zmm(int64_t iters) {
  __m512 acc[kAcc];
  for (int j = 0; j < kAcc; ++j) acc[j] = _mm512_set1_ps(0.001f * float(j));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kAcc; ++j) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
  }
  __m512 s = acc[0];
  for (int j = 1; j < kAcc; ++j) s = _mm512_add_ps(s, acc[j]);
  return _mm512_reduce_add_ps(s);
}
CK_TARGET_AVX512_BF16 __attribute__((noinline)) float loop_dpbf16(int64_t iters) {
  __m512 acc[kAcc];
  for (int j = 0; j < kAcc; ++j) acc[j] = _mm512_set1_ps(0.001f * float(j));
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3F80), b = (__m512bh)_mm512_set1_epi16(0x3380);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kAcc; ++j) acc[j] = _mm512_dpbf16_ps(acc[j], a, b);
  }
  __m512 s = acc[0];
  for (int j = 1; j < kAcc; ++j) s = _mm512_add_ps(s, acc[j]);
  return _mm512_reduce_add_ps(s);
}
CK_TARGET_AVX512_VNNI __attribute__((noinline)) int loop_vnni(int64_t iters) {
  __m512i acc[kAcc];
  for (int j = 0; j < kAcc; ++j) acc[j] = _mm512_set1_epi32(j);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 12
    for (int j = 0; j < kAcc; ++j) acc[j] = _mm512_dpbusd_epi32(acc[j], a, b);
  }
  __m512i s = acc[0];
  for (int j = 1; j < kAcc; ++j) s = _mm512_add_epi32(s, acc[j]);
  return _mm512_reduce_add_epi32(s);
}

// G(FL)OP/s of nth threads each running `loop`, ops_per_iter per thread-iteration.
template <class F>
double peak(F loop, double ops_per_iter, int nth) {
  const int64_t iters = 4000000;
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> th;
    for (int t = 0; t < nth; ++t) th.emplace_back([&] { loop(iters); });
    for (auto& t : th) t.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, ops_per_iter * double(iters) * nth / s / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  using ck::kernels::Isa;
  std::vector<int> threads;
  for (int i = 1; i < argc; ++i) threads.push_back(std::max(1, std::atoi(argv[i])));
  if (threads.empty()) threads = {1, 2};
  const bool avx512 = ck::kernels::cpu_supports(Isa::avx512);
  const bool bf16 = ck::kernels::matmul_fast_bf16_available(), vnni = avx512 && ck::kernels::use_avx512_vnni();
  std::printf("{\"format\": \"ck.bench_peak\", \"version\": 1, \"accumulators\": %d, \"peaks\": [", kAcc);
  for (size_t i = 0; i < threads.size(); ++i) {
    const int t = threads[i];
    const double y = peak([](int64_t n) { g_sink = loop_fma_ymm(n); }, kAcc * 8 * 2.0, t);
    const double z = avx512 ? peak([](int64_t n) { g_sink = loop_fma_zmm(n); }, kAcc * 16 * 2.0, t) : 0.0;
    const double d = bf16 ? peak([](int64_t n) { g_sink = loop_dpbf16(n); }, kAcc * 16 * 4.0, t) : 0.0;
    const double v = vnni ? peak([](int64_t n) { g_isink = loop_vnni(n); }, kAcc * 16 * 8.0, t) : 0.0;
    std::printf("%s{\"threads\": %d, \"fma_ymm\": %.1f, \"fma_zmm\": %.1f, \"dpbf16_zmm\": %.1f, \"vnni_zmm\": %.1f}",
                i ? ", " : "", t, y, z, d, v);
  }
  std::printf("]}\n");
  return 0;
}
