// ThreadPool — a persistent pool that runs one function on N threads at once, ggml-style: every thread gets
// (ith, nth) and computes a fixed slice of the outputs, so results never depend on scheduling. The calling thread
// is thread 0. Workers spin briefly on a generation counter (ops in a decode step are microseconds apart),
// then block on it (futex, std::atomic::wait); the caller waits for the workers the same way (CK_POOL_SPIN sets
// the spin budget).
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ck {

class ThreadPool {
 public:
  using Task = std::function<void(int ith, int nth)>;
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }
  // Runs task(ith, n_threads) on every thread and returns when all have finished. Not reentrant.
  // An exception thrown by any thread is rethrown here (the first one).
  void run(const Task& task);

  // Physical cores of this machine (logical CPUs / SMT siblings, from /sys), at least 1.
  static int physical_cores();

 private:
  void worker(int ith);
  int n_threads_;
  std::vector<std::thread> threads_;
  const Task* task_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::mutex err_mu_;
  std::exception_ptr error_;
};

// Splits [0, n) into nth contiguous chunks; returns [begin, end) of chunk ith (ggml's dr = (n + nth - 1) / nth).
inline std::pair<size_t, size_t> split_range(size_t n, int ith, int nth) {
  const size_t per = (n + static_cast<size_t>(nth) - 1) / static_cast<size_t>(nth);
  size_t b = per * static_cast<size_t>(ith);
  size_t e = b + per;
  if (b > n) b = n;
  if (e > n) e = n;
  return {b, e};
}

}  // namespace ck
