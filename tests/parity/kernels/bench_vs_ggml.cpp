// bench_vs_ggml: GFLOP/s of ck's strict mat-mul paths next to the same ggml op of the oracle (linked statically;
// build_live.sh makes one binary per oracle build: -avx2 = the pinned numerics, -avx512 = the speed anchor),
// on the Qwen3-VL 2B shapes, plus this machine's FMA peak. `make bench-kernels` runs it. Not a test: nothing is
// asserted (the "bits" column only reports whether ck's output equals ggml's, expected with the AVX2 oracle).
//
// ggml side: one ggml_mul_mat graph (weights [k, m] of the same type, F32 activations [k, n]) computed on the
// CPU backend with the same thread count (ggml_backend_graph_compute = ggml_graph_plan + ggml_graph_compute, as
// llama.cpp runs it and as ggml_graph_compute_with_ctx does; activation conversion to vec_dot_type included);
// Q4_K weights live in the CPU_REPACK buffer (q4_K_8x8), as llama.cpp's loader puts them.
// ck side: the same composition lib/runtime uses (live_common.h ck_mul_mat: conversion + kernel, ck::ThreadPool).
// Each (shape, threads): a block of ck runs, then a block of ggml runs (1 warm-up each, then >= 5 timed runs each,
// median), then a 30 ms pause (see time_blocks).
//
// Then the decode gemvs (n = 1, text) with the caches flushed before every run, so the weights come from DRAM as in
// a real decode step (the first table keeps each matrix in L3 between runs), and flash attention (the encoder's
// tiled / one_chunk and the decoder's one_chunk / split-KV shapes).
// Usage: bench_vs_ggml [--json FILE] [--runs N] [--threads 1,2] [--long] [--filter SUBSTR] [--no-peak]
//   (markdown on stdout; JSON only with --json)
//   --long (or CK_BENCH_LONG=1): vision n = 256, 1024, 4096 and text lm_head prefill; default: vision n = 256 and
//   1024, text n = 1 and 512 without the lm_head prefill (~1.5 min per binary on the 2-core dev VM).
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "kernels/flash_attn.h"
#include "kernels/isa.h"
#include "live_common.h"

using namespace live;
using json = nlohmann::ordered_json;
using clk = std::chrono::steady_clock;

namespace {

// ---- FMA peak: independent accumulator chains, enough to cover FMA latency x ports ------------------------------
constexpr int kAcc = 12;
CK_TARGET_AVX2 __attribute__((noinline)) float fma_loop_ymm(int64_t iters) {
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
CK_TARGET_AVX512 __attribute__((noinline)) float fma_loop_zmm(int64_t iters) {
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
volatile float g_sink;

// GFLOP/s of nth threads each running the loop (best of 5 blocks of ~0.1 s).
double fma_peak(bool zmm, int nth) {
  const int64_t iters = 4000000;
  const double flops_per_iter = kAcc * (zmm ? 16 : 8) * 2.0;
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = clk::now();
    std::vector<std::thread> th;
    for (int t = 0; t < nth; ++t)
      th.emplace_back([&] { g_sink = zmm ? fma_loop_zmm(iters) : fma_loop_ymm(iters); });
    for (auto& t : th) t.join();
    const double s = std::chrono::duration<double>(clk::now() - t0).count();
    best = std::max(best, flops_per_iter * double(iters) * nth / s / 1e9);
  }
  return best;
}

// ---- mat-mul cases ------------------------------------------------------------------------------------------------
struct Mat {
  const char* section;  // vision / text
  const char* name;
  int64_t m, k;         // weight [m rows][k]: k -> m
  int n_div;            // tokens seen by this matrix = n / n_div (merger: 4 patches per token)
};

// A block of ck runs, then a block of ggml runs (1 warm-up + `runs` timed runs each, back to back as a runtime
// issues consecutive ops), then a pause: libgomp's idle threads keep spinning for a few ms after each
// ggml_graph_compute (GOMP_SPINCOUNT) and must not take a core from ck's next timed run (interleaving single
// runs measured ck's 2-thread flash attention at half speed).
void time_blocks(int runs, const std::function<void()>& ck_run, const std::function<void()>& ggml_run,
                 std::vector<double>& tc, std::vector<double>& tg) {
  for (int r = 0; r <= runs; ++r) {
    const auto t0 = clk::now();
    ck_run();
    if (r) tc.push_back(std::chrono::duration<double>(clk::now() - t0).count());
  }
  for (int r = 0; r <= runs; ++r) {
    const auto t0 = clk::now();
    ggml_run();
    if (r) tg.push_back(std::chrono::duration<double>(clk::now() - t0).count());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
}

// Evicts the caches (an L3 is <= 32 MB on these hosts): the threads of a run read one int per 64-byte line of
// their slice of a 256 MB buffer.
std::vector<int>& flush_buffer() {
  static std::vector<int> buf(size_t(64) << 20, 1);
  return buf;
}
void flush_slice(int ith, int nth) {
  const std::vector<int>& buf = flush_buffer();
  const size_t per = (buf.size() + nth - 1) / nth, i0 = per * ith, i1 = std::min(buf.size(), i0 + per);
  int acc = 0;
  for (size_t i = i0; i < i1; i += 16) acc += buf[i];
  volatile int sink = acc;
  (void)sink;
}

// time_blocks with the caches flushed before every run (outside the timed region): weights come from DRAM, as
// they do in a decode step (every weight matrix once per token, the model far larger than any cache). Each side
// flushes with its own threads (ck's pool, the OpenMP team ggml computes with), so they are awake and spinning
// when the timed run starts, as between the back-to-back ops of a decode step.
void time_blocks_cold(int runs, int nth, ck::ThreadPool& pool, const std::function<void()>& ck_run,
                      const std::function<void()>& ggml_run, std::vector<double>& tc, std::vector<double>& tg) {
  for (int r = 0; r <= runs; ++r) {
    pool.run([](int ith, int n) { flush_slice(ith, n); });
    const auto t0 = clk::now();
    ck_run();
    if (r) tc.push_back(std::chrono::duration<double>(clk::now() - t0).count());
  }
  for (int r = 0; r <= runs; ++r) {
#pragma omp parallel num_threads(nth)
    flush_slice(omp_get_thread_num(), omp_get_num_threads());
    const auto t0 = clk::now();
    ggml_run();
    if (r) tg.push_back(std::chrono::duration<double>(clk::now() - t0).count());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

}  // namespace

int main(int argc, char** argv) {
  // ck::ThreadPool workers block after CK_POOL_SPIN pause iterations (default 2000, ~tens of us); libgomp's spin
  // for ~ms (GOMP_SPINCOUNT 300000) before sleeping. With back-to-back ops, as both runtimes issue them, the
  // default made ck's 2-thread gemv rows measure futex wake-ups (26 vs 92 GFLOP/s for 2048x2048 Q8_0). The bench
  // compares kernels, so ck's pool spins like libgomp unless the caller sets CK_POOL_SPIN.
  setenv("CK_POOL_SPIN", "100000", 0);
  std::string json_path, filter;  // no JSON unless --json FILE
  int runs = 5;
  std::vector<int> threads = {1, 2};
  bool long_run = std::getenv("CK_BENCH_LONG") && std::string(std::getenv("CK_BENCH_LONG")) == "1";
  bool peak = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json" && i + 1 < argc) json_path = argv[++i];
    else if (a == "--runs" && i + 1 < argc) runs = std::max(5, std::atoi(argv[++i]));
    else if (a == "--filter" && i + 1 < argc) filter = argv[++i];
    else if (a == "--long") long_run = true;
    else if (a == "--no-peak") peak = false;
    else if (a == "--threads" && i + 1 < argc) {
      threads.clear();
      for (const char* p = argv[++i]; *p;) {
        threads.push_back(std::atoi(p));
        while (*p && *p != ',') ++p;
        if (*p == ',') ++p;
      }
    } else {
      std::fprintf(stderr,
                   "usage: bench_vs_ggml [--json FILE] [--runs N>=5] [--threads 1,2] [--long] [--filter S] [--no-peak]\n");
      return 2;
    }
  }
  try {
    ggml_log_set([](ggml_log_level level, const char* text, void*) {
      if (level >= GGML_LOG_LEVEL_WARN) std::fputs(text, stderr);
    }, nullptr);
    ggml_cpu_init();
    const char* oracle_isa = ggml_cpu_has_avx512() ? "avx512" : "avx2";
    const auto t_start = clk::now();
    std::string loadavg = "?";
    if (std::ifstream la("/proc/loadavg"); la) std::getline(la, loadavg);
    const unsigned ncpu = std::thread::hardware_concurrency();
    json out = {{"format", "ck.bench_vs_ggml"}, {"version", 1}, {"oracle_isa", oracle_isa},
                {"ck_isa", kn::isa_name(kn::active_isa())}, {"runs", runs}, {"long", long_run},
                {"cpus", ncpu}, {"loadavg_at_start", loadavg},
                {"GOMP_SPINCOUNT", std::getenv("GOMP_SPINCOUNT") ? std::getenv("GOMP_SPINCOUNT") : "default"},
                {"CK_POOL_SPIN", std::getenv("CK_POOL_SPIN")}};
    std::printf("bench_vs_ggml: ck isa=%s vs ggml (llama.cpp b10256, %s build); median of %d runs; %s\n",
                kn::isa_name(kn::active_isa()), oracle_isa, runs, long_run ? "long run" : "default run");
    std::printf("machine: %u logical CPUs, load average %s (other jobs skew the 2-thread rows most); "
                "GOMP_SPINCOUNT=%s, CK_POOL_SPIN=%s\n\n", ncpu, loadavg.c_str(),
                std::getenv("GOMP_SPINCOUNT") ? std::getenv("GOMP_SPINCOUNT") : "default", std::getenv("CK_POOL_SPIN"));

    if (peak) {
      json pk = json::object();
      std::printf("FMA peak (F32, %d independent accumulators):\n\n| vector | threads | GFLOP/s |\n|---|---|---|\n", kAcc);
      for (bool zmm : {false, true}) {
        if (zmm && !kn::cpu_supports(kn::Isa::avx512)) continue;
        for (int t : {1, 2}) {
          const double g = fma_peak(zmm, t);
          std::printf("| %s | %d | %.1f |\n", zmm ? "zmm (AVX-512)" : "ymm (AVX2)", t, g);
          pk[std::string(zmm ? "zmm" : "ymm") + "_t" + std::to_string(t)] = g;
        }
      }
      out["fma_peak_gflops"] = pk;
      std::printf("\n");
    }

    const std::vector<Mat> vision = {
        {"vision", "attn_qkv", 3072, 1024, 1}, {"vision", "attn_out", 1024, 1024, 1},
        {"vision", "ffn_up", 4096, 1024, 1},   {"vision", "ffn_down", 1024, 4096, 1},
        {"vision", "merger_fc1", 4096, 4096, 4}, {"vision", "merger_fc2", 2048, 4096, 4},
        {"vision", "patch_embd", 1024, 768, 1},
    };
    const std::vector<Mat> text = {
        {"text", "attn_q/o", 2048, 2048, 1}, {"text", "attn_k/v", 1024, 2048, 1},
        {"text", "ffn_gate/up", 6144, 2048, 1}, {"text", "ffn_down", 2048, 6144, 1},
        {"text", "lm_head", 151936, 2048, 1},
    };
    struct Job { Mat mat; const char* type; std::vector<int64_t> ns; };
    std::vector<Job> jobs;
    const std::vector<int64_t> vis_n = long_run ? std::vector<int64_t>{256, 1024, 4096} : std::vector<int64_t>{256, 1024};
    for (const char* ty : {"f32", "f16", "bf16", "q8_0"})
      for (const Mat& m : vision) {
        if (std::string(m.name) == "patch_embd" && std::string(ty) != "f32" && std::string(ty) != "f16") continue;
        jobs.push_back({m, ty, vis_n});
      }
    for (const char* ty : {"f16", "q8_0", "q4_K", "q6_K"})
      for (const Mat& m : text) {
        std::vector<int64_t> ns = {1, 512};
        if (std::string(m.name) == "lm_head" && !long_run) ns = {1};
        jobs.push_back({m, ty, ns});
      }

    std::printf("| section | matrix | type | ggml path | k->m | n | threads | ck GFLOP/s | ggml GFLOP/s | ck/ggml | bits |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    std::fflush(stdout);
    json rows = json::array();
    std::map<int, ck::ThreadPool*> pools;
    std::vector<std::unique_ptr<ck::ThreadPool>> pool_store;
    for (int t : threads) {
      pool_store.push_back(std::make_unique<ck::ThreadPool>(t));
      pools[t] = pool_store.back().get();
    }
    std::vector<uint8_t> scratch;
    std::vector<double> ratios;
    for (const Job& j : jobs) {
      const WType& t = wtype(j.type);
      const std::string key = std::string(j.mat.section) + " " + j.mat.name + " " + j.type;
      if (!filter.empty() && key.find(filter) == std::string::npos) continue;
      const bool repack = std::string(j.type) == "q4_K" && j.mat.m % 8 == 0;
      auto w = make_weights(key, t, j.mat.m, j.mat.k);
      for (int64_t n_tok : j.ns) {
        const int64_t n = std::max<int64_t>(1, n_tok / j.mat.n_div), m = j.mat.m, k = j.mat.k;
        auto x = uniform_vec(key + "/x" + std::to_string(n), size_t(n * k), -2.0f, 2.0f);
        GgmlMulMat g(t, m, n, k, w.data(), repack);
        std::memcpy(g.input(), x.data(), x.size() * 4);
        std::vector<float> y(size_t(m * n));
        const double flops = 2.0 * double(m) * double(n) * double(k);
        const std::string path = mm_path(t, m, n, k, repack);
        for (int nth : threads) {
          ck::ThreadPool& pool = *pools[nth];
          std::vector<double> tc, tg;
          time_blocks(runs, [&] { ck_mul_mat(pool, t, m, n, k, w.data(), x.data(), y.data(), repack, scratch); },
                      [&] { g.run(nth); }, tc, tg);
          const bool same = std::memcmp(y.data(), g.result(), y.size() * 4) == 0;
          const double gc = flops / median(tc) / 1e9, gg = flops / median(tg) / 1e9;
          ratios.push_back(gc / gg);
          std::printf("| %s | %s | %s | %s | %lld->%lld | %lld | %d | %.1f | %.1f | %.2f | %s |\n", j.mat.section,
                      j.mat.name, j.type, path.c_str(), (long long)k, (long long)m, (long long)n, nth, gc, gg, gc / gg,
                      same ? "=" : "differ");
          std::fflush(stdout);
          rows.push_back({{"section", j.mat.section}, {"matrix", j.mat.name}, {"type", j.type}, {"path", path},
                          {"m", m}, {"k", k}, {"n", n}, {"threads", nth}, {"ck_gflops", gc}, {"ggml_gflops", gg},
                          {"ratio", gc / gg}, {"ck_ms", median(tc) * 1e3}, {"ggml_ms", median(tg) * 1e3},
                          {"bit_identical", same}});
        }
      }
    }
    // The decode gemvs again with every run's weights coming from DRAM (time_blocks_cold). The rows above keep the
    // matrix in L3 between runs, which a decode step never does (a 2B model's weights are 1-3.4 GB).
    std::printf("\n| gemv, weights from DRAM | type | k->m | threads | ck GFLOP/s | ggml GFLOP/s | ck/ggml | bits |\n");
    std::printf("|---|---|---|---|---|---|---|---|\n");
    json cold_rows = json::array();
    std::vector<double> cold_ratios;
    for (const Job& j : jobs) {
      if (std::string(j.mat.section) != "text" || std::string(j.mat.name) == "lm_head") continue;  // lm_head: 0.3-0.6 GB, never cache-resident anyway
      const WType& t = wtype(j.type);
      const std::string key = std::string(j.mat.section) + " " + j.mat.name + " " + j.type;
      if (!filter.empty() && (key + " cold").find(filter) == std::string::npos) continue;
      const bool repack = std::string(j.type) == "q4_K" && j.mat.m % 8 == 0;
      const int64_t m = j.mat.m, k = j.mat.k, n = 1;
      auto w = make_weights(key, t, m, k);
      auto x = uniform_vec(key + "/x1", size_t(k), -2.0f, 2.0f);
      GgmlMulMat g(t, m, n, k, w.data(), repack);
      std::memcpy(g.input(), x.data(), x.size() * 4);
      std::vector<float> y(static_cast<size_t>(m));
      const double flops = 2.0 * double(m) * double(k);
      for (int nth : threads) {
        ck::ThreadPool& pool = *pools[nth];
        std::vector<double> tc, tg;
        time_blocks_cold(runs, nth, pool, [&] { ck_mul_mat(pool, t, m, n, k, w.data(), x.data(), y.data(), repack, scratch); },
                         [&] { g.run(nth); }, tc, tg);
        const bool same = std::memcmp(y.data(), g.result(), y.size() * 4) == 0;
        const double gc = flops / median(tc) / 1e9, gg = flops / median(tg) / 1e9;
        cold_ratios.push_back(gc / gg);
        std::printf("| %s | %s | %lld->%lld | %d | %.1f | %.1f | %.2f | %s |\n", j.mat.name, j.type, (long long)k,
                    (long long)m, nth, gc, gg, gc / gg, same ? "=" : "differ");
        std::fflush(stdout);
        cold_rows.push_back({{"matrix", j.mat.name}, {"type", j.type}, {"m", m}, {"k", k}, {"n", n},
                             {"threads", nth}, {"ck_gflops", gc}, {"ggml_gflops", gg}, {"ratio", gc / gg},
                             {"ck_ms", median(tc) * 1e3}, {"ggml_ms", median(tg) * 1e3}, {"bit_identical", same}});
      }
    }
    out["gemv_dram_rows"] = cold_rows;
    // Flash attention (F32 Q, F16 K/V, F16 causal mask for text): the kernels behind the encoder's and the
    // decoder's attention, same shapes on both sides; FLOPs counted as 2*N*KV*H*(DK+DV) (masked keys included).
    struct FaJob { const char* name; int DK, DV, N, KV, H, Hk; bool causal; };
    std::vector<FaJob> fa_jobs = {
        {"vision tiled n=256", 64, 64, 256, 256, 16, 16, false},
        {"vision one_chunk n=36 (tiny image)", 64, 64, 36, 36, 16, 16, false},
        {"text prefill tiled n=512", 128, 128, 512, 512, 16, 8, true},
        {"text decode one_chunk kv=256", 128, 128, 1, 256, 16, 8, true},
        {"text decode split_kv kv=1024", 128, 128, 1, 1024, 16, 8, true},
    };
    if (long_run) fa_jobs.push_back({"vision tiled n=1024", 64, 64, 1024, 1024, 16, 16, false});
    std::printf("\n| attention | DK | N | KV | H/Hk | threads | ck GFLOP/s | ggml GFLOP/s | ck/ggml | bits |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
    json fa_rows = json::array();
    for (const FaJob& fj : fa_jobs) {
      if (!filter.empty() && std::string("attn ").append(fj.name).find(filter) == std::string::npos) continue;
      FaCase fc{fj.name, fj.DK, fj.DV, fj.N, fj.KV, fj.H, fj.Hk, fj.causal ? fj.KV : 0, 1};
      const FaInputs in = fa_inputs(fc);
      ggml_init_params ip = {(in.q.size() * 4 + (in.k.size() + in.v.size() + in.mask.size()) * 2 +
                              size_t(fj.N) * fj.H * fj.DV * 4) + (size_t(8) << 20), nullptr, false};
      ggml_context* ctx = ggml_init(ip);
      ggml_tensor* q = ggml_new_tensor_3d(ctx, GGML_TYPE_F32, fj.DK, fj.N, fj.H);
      std::memcpy(q->data, in.q.data(), in.q.size() * 4);
      ggml_tensor* kt = ggml_new_tensor_3d(ctx, GGML_TYPE_F16, fj.DK, fj.KV, fj.Hk);
      std::memcpy(kt->data, in.k.data(), in.k.size() * 2);
      ggml_tensor* vt = ggml_new_tensor_3d(ctx, GGML_TYPE_F16, fj.DV, fj.KV, fj.Hk);
      std::memcpy(vt->data, in.v.data(), in.v.size() * 2);
      ggml_tensor* mt = nullptr;
      if (!in.mask.empty()) {
        mt = ggml_new_tensor_2d(ctx, GGML_TYPE_F16, fj.KV, fj.N);
        std::memcpy(mt->data, in.mask.data(), in.mask.size() * 2);
      }
      const float scale = 1.0f / std::sqrt(float(fj.DK));
      ggml_tensor* o = ggml_flash_attn_ext(ctx, q, kt, vt, mt, scale, 0.0f, 0.0f);
      ggml_cgraph* gf = ggml_new_graph(ctx);
      ggml_build_forward_expand(gf, o);
      kn::FlashAttnShape fs;
      fs.DK = fj.DK, fs.DV = fj.DV, fs.N = fj.N, fs.KV = fj.KV, fs.H = fj.H, fs.Hk = fj.Hk, fs.scale = scale;
      fs.q_si = fj.DK, fs.q_sh = int64_t(fj.N) * fj.DK, fs.k_sj = fj.DK, fs.k_sg = int64_t(fj.KV) * fj.DK;
      fs.v_sj = fj.DV, fs.v_sg = int64_t(fj.KV) * fj.DV, fs.mask_si = fj.KV;
      std::vector<float> y(size_t(fj.N) * fj.H * fj.DV);
      const double flops = 2.0 * fj.N * double(fj.KV) * fj.H * (fj.DK + fj.DV);
      for (int nth : threads) {
        ggml_cplan plan = ggml_graph_plan(gf, nth, nullptr);
        std::vector<uint8_t> work(plan.work_size + 64);
        plan.work_data = work.data();
        std::vector<double> tc, tg;
        time_blocks(runs, [&] {
          pools[nth]->run([&](int ith, int nt) {
            kn::flash_attn_ext(fs, in.q.data(), in.k.data(), in.v.data(), in.mask.empty() ? nullptr : in.mask.data(),
                               y.data(), nth, ith, nt);
          });
        }, [&] {
          if (ggml_graph_compute(gf, &plan) != GGML_STATUS_SUCCESS) throw std::runtime_error("ggml fa compute");
        }, tc, tg);
        const bool same = std::memcmp(y.data(), o->data, y.size() * 4) == 0;
        const double gc = flops / median(tc) / 1e9, gg = flops / median(tg) / 1e9;
        std::printf("| %s | %d | %d | %d | %d/%d | %d | %.2f | %.2f | %.2f | %s |\n", fj.name, fj.DK, fj.N, fj.KV, fj.H,
                    fj.Hk, nth, gc, gg, gc / gg, same ? "=" : "differ");
        std::fflush(stdout);
        fa_rows.push_back({{"case", fj.name}, {"DK", fj.DK}, {"N", fj.N}, {"KV", fj.KV}, {"H", fj.H}, {"Hk", fj.Hk},
                           {"threads", nth}, {"ck_gflops", gc}, {"ggml_gflops", gg}, {"ratio", gc / gg},
                           {"ck_ms", median(tc) * 1e3}, {"ggml_ms", median(tg) * 1e3}, {"bit_identical", same}});
      }
      ggml_free(ctx);
    }
    out["flash_attn_rows"] = fa_rows;
    out["rows"] = rows;
    double lg = 0;
    for (double r : ratios) lg += std::log(r);
    const double geo = ratios.empty() ? 0 : std::exp(lg / double(ratios.size()));
    out["geomean_ratio"] = geo;
    const double secs = std::chrono::duration<double>(clk::now() - t_start).count();
    out["seconds"] = secs;
    double lc = 0;
    for (double r : cold_ratios) lc += std::log(r);
    const double geo_cold = cold_ratios.empty() ? 0 : std::exp(lc / double(cold_ratios.size()));
    out["gemv_dram_geomean_ratio"] = geo_cold;
    std::printf("\ngeometric mean ck/ggml over %zu rows: %.2f; gemv from DRAM, %zu rows: %.2f (%.0f s)\n",
                ratios.size(), geo, cold_ratios.size(), geo_cold, secs);
    if (!json_path.empty()) {
      std::ofstream f(json_path);
      if (!f) throw std::runtime_error(json_path + ": cannot write");
      f << out.dump(1) << "\n";
      std::printf("JSON: %s\n", json_path.c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_vs_ggml: error: %s\n", e.what());
    return 2;
  }
}
