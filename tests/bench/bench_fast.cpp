// ck-bench-fast [threads] [layers] [ms]: the fast bf16 mat-mul (lib/kernels/matmul_fast_bf16.cpp) on the 2B model's
// shapes as a prefill / an encode runs them: every weight matrix of `layers` layers (F16, distinct buffers, so the
// weights stream from DRAM as in a whole model; default 4 layers = 400 MB of text weights), activations of n rows,
// B packed per call. Two ways of reading the weights, same bits: "per call" (matmul_fast_bf16 converts each F16
// chunk when it needs it) and "prepacked" (matmul_fast_bf16_pack_a once, as lib/runtime does at load in fast mode).
// GFLOP/s = 2·m·n·k per matrix over the whole pass, best of the repeats. Not a test; markdown on stdout.
// Building it against an older matmul_fast_bf16.cpp with -DCK_BENCH_FAST_NO_PREPACK gives the "per call" rows of
// that kernel (an A/B on the same machine at the same moment).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/half.h"
#include "core/thread_pool.h"
#include "kernels/matmul_fast.h"

namespace kn = ck::kernels;

namespace {

struct Mat {
  int64_t m, k;
  std::vector<uint16_t> f16;
  std::vector<uint16_t> packed;  // prepacked bf16
};

struct Shape {
  const char* name;
  int64_t m, k;
};

double run_pass(ck::ThreadPool& pool, std::vector<Mat>& mats, int64_t n, const std::vector<float>& x,
                std::vector<uint16_t>& pb, std::vector<float>& c, bool prepacked) {
  const auto t0 = std::chrono::steady_clock::now();
  for (auto& M : mats) {
    pool.run([&](int ith, int nth) { kn::matmul_fast_bf16_pack_b(n, M.k, x.data(), M.k, pb.data(), ith, nth); });
#ifndef CK_BENCH_FAST_NO_PREPACK
    if (prepacked) {
      pool.run([&](int ith, int nth) {
        kn::matmul_fast_bf16_prepacked(M.m, n, M.k, M.packed.data(), pb.data(), c.data(), M.m, ith, nth);
      });
      continue;
    }
#else
    (void)prepacked;
#endif
    pool.run([&](int ith, int nth) {
      kn::matmul_fast_bf16(kn::FastWeight::f16, M.m, n, M.k, M.f16.data(), M.k, pb.data(), c.data(), M.m, ith, nth);
    });
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void bench(const char* what, const std::vector<Shape>& layer, int layers, int64_t n, int threads, double ms) {
  ck::ThreadPool pool(threads);
  std::vector<Mat> mats;
  uint64_t s = 12345;
  double flop = 0;
  int64_t kmax = 0, mmax = 0;
  for (int l = 0; l < layers; ++l)
    for (const auto& sh : layer) {
      Mat M{sh.m, sh.k, std::vector<uint16_t>(size_t(sh.m * sh.k)), {}};
      for (auto& v : M.f16) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        v = ck::fp32_to_fp16(float(int64_t(s >> 40) - (1 << 23)) * 0x1p-28f);
      }
#ifndef CK_BENCH_FAST_NO_PREPACK
      M.packed.resize(kn::matmul_fast_bf16_packed_a_words(sh.m, sh.k));
      kn::matmul_fast_bf16_pack_a(kn::FastWeight::f16, sh.m, sh.k, M.f16.data(), sh.k, M.packed.data(), 0, 1);
#endif
      flop += 2.0 * double(sh.m) * double(n) * double(sh.k);
      kmax = std::max(kmax, sh.k);
      mmax = std::max(mmax, sh.m);
      mats.push_back(std::move(M));
    }
  std::vector<float> x(size_t(n * kmax));
  for (auto& v : x) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    v = float(int64_t(s >> 40) - (1 << 23)) * 0x1p-23f;
  }
  std::vector<uint16_t> pb(kn::matmul_fast_bf16_packed_words(n, kmax));
  std::vector<float> c(size_t(n * mmax));
  for (int variant = 0; variant < 2; ++variant) {
#ifdef CK_BENCH_FAST_NO_PREPACK
    if (variant == 1) break;
#endif
    double best = 1e30, el = 0;
    int reps = 0;
    while (reps < 2 || el * 1e3 < ms) {
      const double t = run_pass(pool, mats, n, x, pb, c, variant == 1);
      best = std::min(best, t);
      el += t;
      ++reps;
    }
    std::printf("| %s | %d | %lld | %s | %.1f | %.1f |\n", what, threads, static_cast<long long>(n),
                variant ? "prepacked" : "per call", best * 1e3 / layers, flop / best * 1e-9);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int layers = argc > 2 ? std::atoi(argv[2]) : 4;
  const double ms = argc > 3 ? std::atof(argv[3]) : 2000;
  if (!kn::matmul_fast_bf16_available()) {
    std::printf("no AVX512-BF16 on this CPU: the fast mat-mul does not run here\n");
    return 0;
  }
  std::printf("| shapes | thr | n | weights | ms per layer | GFLOP/s |\n|---|---|---|---|---|---|\n");
  // 2B text layer: q, k, v, o, gate, up, down (n = 272: bench-decode's prompt)
  const std::vector<Shape> text = {{"q", 2048, 2048}, {"k", 1024, 2048}, {"v", 1024, 2048}, {"o", 2048, 2048},
                                   {"gate", 6144, 2048}, {"up", 6144, 2048}, {"down", 2048, 6144}};
  bench("2B text layer", text, layers, 272, threads, ms);
  bench("2B text layer", text, layers, 12, threads, ms);  // a prompt's text chunk
  // 2B vision layer: qkv, o, ffn up, ffn down (n = 1024 patches: a 512² image)
  const std::vector<Shape> vision = {{"qkv", 3072, 1024}, {"o", 1024, 1024}, {"up", 4096, 1024}, {"down", 1024, 4096}};
  bench("2B vision layer", vision, layers, 1024, threads, ms);
  return 0;
}
