// ck-bench-kernels: throughput of the strict kernels (best ISA of this CPU, 1 thread) next to a plain scalar
// loop computing the same function the naive way (not bit-exact, just the baseline a compiler gives).
// Usage: ck-bench-kernels [repeat-ms]. Not a test: nothing is asserted, numbers go to stdout as a markdown table.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "core/half.h"
#include "kernels/convert_fp16.h"
#include "kernels/dot_f16.h"
#include "kernels/dot_kquants.h"
#include "kernels/dot_q8_0.h"
#include "kernels/flash_attn.h"
#include "kernels/matmul_q4_K_repack.h"
#include "kernels/quantize_q8_K.h"
#include "kernels/rope.h"
#include "kernels/gelu.h"
#include "kernels/isa.h"
#include "kernels/layer_norm.h"
#include "kernels/matmul_tinyblas.h"
#include "kernels/quantize_q8_0.h"
#include "kernels/rms_norm.h"
#include "kernels/silu.h"

namespace kn = ck::kernels;

namespace {
double g_ms = 200;

// Median-free simple timing: repeat until g_ms elapsed, return seconds per call.
double time_it(const std::function<void()>& f) {
  f();
  using clk = std::chrono::steady_clock;
  int iters = 0;
  const auto t0 = clk::now();
  double el = 0;
  do {
    f();
    ++iters;
    el = std::chrono::duration<double>(clk::now() - t0).count();
  } while (el * 1e3 < g_ms);
  return el / iters;
}

volatile float g_sink;

void row(const char* name, const char* unit, double work, double t_strict, double t_naive) {
  std::printf("| %-34s | %9.2f %-6s | %9.2f %-6s | %5.2fx |\n", name, work / t_strict / 1e9, unit, work / t_naive / 1e9,
              unit, t_naive / t_strict);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) g_ms = std::atof(argv[1]);
  std::printf("ck-bench-kernels: isa=%s, 1 thread, %.0f ms per measurement\n\n", kn::isa_name(kn::active_isa()), g_ms);
  std::printf("| kernel                             | strict           | naive scalar     | ratio  |\n");
  std::printf("|------------------------------------|------------------|------------------|--------|\n");
  const int64_t n = 1 << 16;
  std::vector<float> x(n), y(n), g(n), w(n, 1.0f);
  for (int64_t i = 0; i < n; ++i) x[i] = std::sin(0.001f * i) * 4, g[i] = std::cos(0.002f * i);
  std::vector<uint16_t> h(n);

  row("fp32->fp16 row (64K)", "GB/s", 6.0 * n, time_it([&] { kn::fp32_to_fp16_row(x.data(), h.data(), n); }),
      time_it([&] { for (int64_t i = 0; i < n; ++i) h[i] = ck::fp32_to_fp16(x[i]); }));
  {
    std::vector<kn::BlockQ8_0> q(n / 32);
    row("quantize q8_0 (64K)", "GB/s", 4.0 * n + 34.0 * n / 32, time_it([&] { kn::quantize_row_q8_0(x.data(), q.data(), n); }),
        time_it([&] {
          for (int64_t b = 0; b < n / 32; ++b) {
            float a = 0;
            for (int i = 0; i < 32; ++i) a = std::max(a, std::fabs(x[b * 32 + i]));
            const float id = a ? 127.f / a : 0.f;
            q[b].d = ck::fp32_to_fp16(a / 127.f);
            for (int i = 0; i < 32; ++i) q[b].qs[i] = static_cast<int8_t>(std::nearbyint(x[b * 32 + i] * id));
          }
        }));
  }
  row("gelu (table, 64K)", "GB/s", 8.0 * n, time_it([&] { kn::gelu_row(x.data(), y.data(), n); }),
      time_it([&] { for (int64_t i = 0; i < n; ++i) y[i] = 0.5f * x[i] * (1.0f + tanhf(0.7978845608f * x[i] * (1.0f + 0.044715f * x[i] * x[i]))); }));
  row("swiglu (64K)", "GB/s", 12.0 * n, time_it([&] { kn::swiglu_row(x.data(), g.data(), y.data(), n); }),
      time_it([&] { for (int64_t i = 0; i < n; ++i) y[i] = x[i] / (1.0f + expf(-x[i])) * g[i]; }));
  {
    const int64_t c = 1024, r = n / c;
    row("layer_norm 64x1024 (+w,b)", "GB/s", 16.0 * n,
        time_it([&] { for (int64_t i = 0; i < r; ++i) kn::layer_norm_row(x.data() + i * c, y.data() + i * c, c, 1e-6f, w.data(), g.data()); }),
        time_it([&] {
          for (int64_t i = 0; i < r; ++i) {
            const float* xr = x.data() + i * c;
            float* yr = y.data() + i * c;
            float s = 0, v = 0;
            for (int64_t j = 0; j < c; ++j) s += xr[j];
            const float mean = s / c;
            for (int64_t j = 0; j < c; ++j) v += (xr[j] - mean) * (xr[j] - mean);
            const float sc = 1.0f / std::sqrt(v / c + 1e-6f);
            for (int64_t j = 0; j < c; ++j) yr[j] = (xr[j] - mean) * sc * w[j] + g[j];
          }
        }));
    const int64_t c2 = 2048, r2 = n / c2;
    row("rms_norm 32x2048 (*w)", "GB/s", 12.0 * n,
        time_it([&] { for (int64_t i = 0; i < r2; ++i) kn::rms_norm_row(x.data() + i * c2, y.data() + i * c2, c2, 1e-6f, w.data()); }),
        time_it([&] {
          for (int64_t i = 0; i < r2; ++i) {
            const float* xr = x.data() + i * c2;
            float s = 0;
            for (int64_t j = 0; j < c2; ++j) s += xr[j] * xr[j];
            const float sc = 1.0f / std::sqrt(s / c2 + 1e-6f);
            for (int64_t j = 0; j < c2; ++j) y[i * c2 + j] = xr[j] * sc * w[j];
          }
        }));
  }
  // Mat-muls: m x k weights, n activation rows.
  {
    const int64_t m = 1024, k = 2048;
    std::vector<uint16_t> W(m * k), X(64 * k);
    for (size_t i = 0; i < W.size(); ++i) W[i] = ck::fp32_to_fp16(std::sin(0.37f * i) * 0.05f);
    for (size_t i = 0; i < X.size(); ++i) X[i] = ck::fp32_to_fp16(std::cos(0.11f * i));
    std::vector<float> Wf(m * k), Xf(64 * k), C(m * 64);
    for (size_t i = 0; i < Wf.size(); ++i) Wf[i] = ck::fp16_to_fp32(W[i]);
    for (size_t i = 0; i < Xf.size(); ++i) Xf[i] = ck::fp16_to_fp32(X[i]);
    auto naive = [&](int64_t nn) {
      for (int64_t j = 0; j < nn; ++j)
        for (int64_t i = 0; i < m; ++i) {
          float s = 0;
          for (int64_t l = 0; l < k; ++l) s += Wf[i * k + l] * Xf[j * k + l];
          C[j * m + i] = s;
        }
    };
    const double fl1 = 2.0 * m * k, fl64 = 2.0 * m * k * 64;
    row("vec_dot_f16 mat-vec 1024x2048", "GFLOP/s", fl1,
        time_it([&] { kn::matmul_vecdot_f16(m, 1, k, W.data(), k, X.data(), k, C.data(), m, 0, 1); }),
        time_it([&] { naive(1); }));
    row("tinyBLAS f16 1024x2048 x n=64", "GFLOP/s", fl64,
        time_it([&] { kn::matmul_tinyblas_f16(m, 64, k, W.data(), k, X.data(), k, C.data(), m, 0, 1); }),
        time_it([&] { naive(64); }));
    if (kn::cpu_supports(kn::Isa::avx2))
      row("  (avx2 variant)", "GFLOP/s", fl64,
          time_it([&] { kn::matmul_tinyblas_f16_avx2(m, 64, k, W.data(), k, X.data(), k, C.data(), m, 0, 1); }),
          time_it([&] { naive(64); }));
    row("tinyBLAS f32 1024x2048 x n=64", "GFLOP/s", fl64,
        time_it([&] { kn::matmul_tinyblas_f32(m, 64, k, Wf.data(), k, Xf.data(), k, C.data(), m, 0, 1); }),
        time_it([&] { naive(64); }));
    std::vector<kn::BlockQ8_0> Wq(m * k / 32), Xq(64 * k / 32);
    for (int64_t i = 0; i < m; ++i) kn::quantize_row_q8_0(Wf.data() + i * k, Wq.data() + i * k / 32, k);
    for (int64_t j = 0; j < 64; ++j) kn::quantize_row_q8_0(Xf.data() + j * k, Xq.data() + j * k / 32, k);
    row("q8_0 x q8_0 1024x2048 x n=64", "GFLOP/s", fl64,
        time_it([&] { kn::matmul_q8_0(m, 64, k, Wq.data(), k / 32, Xq.data(), k / 32, C.data(), m, 0, 1); }),
        time_it([&] { naive(64); }));
    // K-quants: random-looking blocks (the timing does not depend on the values), activations via q8_K.
    std::vector<kn::BlockQ8_K> X8(64 * k / 256);
    kn::quantize_rows_q8_K(Xf.data(), k, X8.data(), k / 256, k, 64, 0, 1);
    std::vector<kn::BlockQ4_K> W4(m * k / 256);
    std::vector<kn::BlockQ6_K> W6(m * k / 256);
    for (size_t i = 0; i < W4.size(); ++i) {
      auto* b = reinterpret_cast<uint8_t*>(&W4[i]);
      for (size_t j = 0; j < sizeof(kn::BlockQ4_K); ++j) b[j] = static_cast<uint8_t>(i * 131 + j * 7);
      W4[i].d = W4[i].dmin = ck::fp32_to_fp16(0.001f);
      auto* b6 = reinterpret_cast<uint8_t*>(&W6[i]);
      for (size_t j = 0; j < sizeof(kn::BlockQ6_K); ++j) b6[j] = static_cast<uint8_t>(i * 37 + j * 11);
      W6[i].d = ck::fp32_to_fp16(0.001f);
    }
    row("q4_K repack gemm 1024x2048 x n=64", "GFLOP/s", fl64,
        time_it([&] { kn::matmul_q4_K_repack(m, 64, k, W4.data(), k / 256, X8.data(), k / 256, C.data(), m, 0, 1); }),
        time_it([&] { naive(64); }));
    row("q4_K repack gemv 1024x2048 (n=1)", "GFLOP/s", fl1,
        time_it([&] { kn::matmul_q4_K_repack(m, 1, k, W4.data(), k / 256, X8.data(), k / 256, C.data(), m, 0, 1); }),
        time_it([&] { naive(1); }));
    row("q6_K vec_dot 1024x2048 x n=64", "GFLOP/s", fl64,
        time_it([&] { kn::matmul_q6_K(m, 64, k, W6.data(), k / 256, X8.data(), k / 256, C.data(), m, 0, 1); }),
        time_it([&] { naive(64); }));
  }
  // RoPE (IMROPE, 128-dim heads, 16 heads x 256 tokens) and flash attention (d=128, 8 heads, 256 keys).
  {
    kn::RopeParams p;
    p.n_dims = 128;
    p.mode = kn::kRopeImrope;
    p.sections[0] = 24, p.sections[1] = 20, p.sections[2] = 20;
    p.freq_base = 5e6f;
    const int64_t T = 256, H = 16, D = 128;
    std::vector<float> q(T * H * D), o(T * H * D);
    for (size_t i = 0; i < q.size(); ++i) q[i] = std::sin(0.013f * i);
    std::vector<int32_t> pos(4 * T);
    for (int64_t t = 0; t < T; ++t) pos[t] = pos[t + T] = pos[t + 2 * T] = static_cast<int32_t>(t), pos[t + 3 * T] = 0;
    row("rope IMROPE 256 tok x 16 heads", "GB/s", 8.0 * T * H * D,
        time_it([&] { kn::rope_multi_rows(p, q.data(), o.data(), D, H, T, pos.data(), 0, 1); }),
        time_it([&] {
          for (int64_t t = 0; t < T; ++t)
            for (int64_t h = 0; h < H; ++h)
              for (int64_t i = 0; i < D / 2; ++i) {
                const float th = t * std::pow(5e6f, -2.0f * i / D), c = std::cos(th), sn = std::sin(th);
                const float* x = q.data() + (t * H + h) * D;
                float* y = o.data() + (t * H + h) * D;
                y[i] = x[i] * c - x[i + D / 2] * sn;
                y[i + D / 2] = x[i] * sn + x[i + D / 2] * c;
              }
        }));
    const int64_t KV = 256, Hq = 8;
    std::vector<uint16_t> K(KV * Hq * D), V(KV * Hq * D);
    for (size_t i = 0; i < K.size(); ++i) K[i] = ck::fp32_to_fp16(std::cos(0.007f * i) * 0.3f), V[i] = ck::fp32_to_fp16(std::sin(0.003f * i));
    kn::FlashAttnShape s;
    s.DK = s.DV = D, s.KV = KV, s.H = s.Hk = Hq, s.scale = 1.0f / std::sqrt(128.0f);
    s.q_si = D, s.k_sj = D, s.k_sg = KV * D, s.v_sj = D, s.v_sg = KV * D;
    for (int64_t N : {int64_t(256), int64_t(16)}) {
      s.N = N, s.q_sh = N * D;
      const double fl = 4.0 * N * KV * D * Hq;
      row(N == 256 ? "flash_attn tiled 256q x 256kv x 8h" : "flash_attn one_chunk 16q x 256kv", "GFLOP/s", fl,
          time_it([&] { kn::flash_attn_ext(s, q.data(), K.data(), V.data(), nullptr, o.data(), 1, 0, 1); }),
          time_it([&] {
            std::vector<float> sc(KV);
            for (int64_t h = 0; h < Hq; ++h)
              for (int64_t i = 0; i < N; ++i) {
                float mx = -INFINITY, sum = 0;
                for (int64_t j = 0; j < KV; ++j) {
                  float a = 0;
                  for (int64_t d = 0; d < D; ++d) a += q[(h * N + i) * D + d] * ck::fp16_to_fp32(K[(h * KV + j) * D + d]);
                  sc[j] = a * s.scale, mx = std::max(mx, sc[j]);
                }
                for (int64_t j = 0; j < KV; ++j) sc[j] = std::exp(sc[j] - mx), sum += sc[j];
                float* y = o.data() + (i * Hq + h) * D;
                for (int64_t d = 0; d < D; ++d) {
                  float a = 0;
                  for (int64_t j = 0; j < KV; ++j) a += sc[j] * ck::fp16_to_fp32(V[(h * KV + j) * D + d]);
                  y[d] = a / sum;
                }
              }
          }));
    }
  }
  g_sink = y[0];
  return 0;
}
