#include "core/thread_pool.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#include <immintrin.h>

namespace ck {

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
  threads_.reserve(static_cast<size_t>(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (auto& t : threads_) t.join();
}

namespace {

// Pause iterations a waiting thread spins before it blocks in the kernel (futex via std::atomic::wait). Ops of a
// decode step are microseconds apart, so spinning saves a futex wake-up per op: with 2000 pauses ck's 2-thread
// gemv ran at 26 GFLOP/s against ggml's 92 (libgomp spins too), with 100000 (a few ms) at 92. But on a loaded
// machine a spinning thread only takes CPU from the thread it waits for (tiny-model decode, 2 threads, load ~5:
// 7 s wall with 2000, 23 s with 100000). So each waiting thread adapts its own budget between kMinSpin and
// kMaxSpin: a wait that ends while spinning doubles it, a wait that has to block halves it — an idle machine
// settles at the maximum, a busy one near the minimum. CK_POOL_SPIN=N fixes the budget (0 = block at once).
constexpr int kMinSpin = 1000, kMaxSpin = 100000;

struct SpinBudget {
  int fixed = -1;  // CK_POOL_SPIN, or -1: adaptive
  int current = kMaxSpin;
  SpinBudget() {
    const char* e = std::getenv("CK_POOL_SPIN");
    if (e && *e) fixed = std::max(0, std::atoi(e));
  }
  int get() const { return fixed >= 0 ? fixed : current; }
  void spun_out(bool blocked) {
    if (fixed >= 0) return;
    current = blocked ? std::max(kMinSpin, current / 2) : std::min(kMaxSpin, current * 2);
  }
};

}  // namespace

void ThreadPool::run(const Task& task) {
  if (n_threads_ == 1) {
    task(0, 1);
    return;
  }
  task_ = &task;
  error_ = nullptr;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  try {
    task(0, n_threads_);
  } catch (...) {
    std::lock_guard<std::mutex> lk(err_mu_);
    if (!error_) error_ = std::current_exception();
  }
  thread_local SpinBudget caller_budget;
  const int budget = caller_budget.get();
  int p = pending_.load(std::memory_order_acquire);
  for (int spin = 0; p != 0 && spin < budget; ++spin) {
    _mm_pause();
    p = pending_.load(std::memory_order_acquire);
  }
  caller_budget.spun_out(p != 0);
  while (p != 0) {
    pending_.wait(p, std::memory_order_acquire);
    p = pending_.load(std::memory_order_acquire);
  }
  task_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::worker(int ith) {
  uint64_t seen = 0;
  SpinBudget budget;
  for (;;) {
    uint64_t g = generation_.load(std::memory_order_acquire);
    const int b = budget.get();
    for (int spin = 0; g == seen && spin < b; ++spin) {
      _mm_pause();
      g = generation_.load(std::memory_order_acquire);
    }
    budget.spun_out(g == seen);
    while (g == seen) {
      generation_.wait(seen, std::memory_order_acquire);
      g = generation_.load(std::memory_order_acquire);
    }
    seen = g;
    if (stop_.load()) return;
    try {
      (*task_)(ith, n_threads_);
    } catch (...) {
      std::lock_guard<std::mutex> lk(err_mu_);
      if (!error_) error_ = std::current_exception();
    }
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
  }
}

int ThreadPool::physical_cores() {
  // Count distinct (package, core) pairs; fall back to hardware_concurrency.
  std::set<std::pair<std::string, std::string>> cores;
  for (unsigned cpu = 0; cpu < 4096; ++cpu) {
    const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::ifstream pk(base + "physical_package_id"), co(base + "core_id");
    if (!pk || !co) break;
    std::string p, c;
    pk >> p;
    co >> c;
    cores.insert({p, c});
  }
  if (!cores.empty()) return static_cast<int>(cores.size());
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace ck
