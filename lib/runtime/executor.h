// Executor — runs a Program's calls in order over one arena, for one input at a time. bind() sets the
// actual sizes (no re-planning), the input fillers (inputs.h) write the input tensors, run() executes every
// call through the binding table on the persistent thread pool and, with a dump writer, records every named
// activation (ggml callback names, so `ck-diff oracle_dump ck_dump` lines them up).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "dump/reader.h"
#include "dump/writer.h"
#include "runtime/kernel_table.h"
#include "runtime/profile.h"
#include "runtime/program.h"
#include "runtime/weight_packs.h"

namespace ck::runtime {

struct RunOptions {
  DumpWriter* dump = nullptr;  // record named activations (phase must be set by the caller)
  // Called after each executed call (index, total calls) — progress display.
  std::function<void(const Call&, size_t done, size_t total)> progress;
  // Bisecting aid for kernels this build lacks: take such a call's output from this dump (by callback name,
  // phase `borrow_phase`) instead of failing. Results are then only as exact as the borrowed tensors.
  const DumpReader* borrow = nullptr;
  std::string borrow_phase = "encode";
  // Stop (without error) before the first call whose kernel is missing; `stopped_at` tells where.
  bool stop_at_missing = false;
  // Per-kernel wall time of the executed calls is added here (profile.h).
  Profile* profile = nullptr;
};

struct RunStats {
  double ms = 0;
  size_t calls_run = 0, calls_borrowed = 0;
  const Call* stopped_at = nullptr;  // stop_at_missing: the first call that could not run
};

class Executor {
 public:
  Executor(const Program& p, int n_threads);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  const Program& program() const { return p_; }
  // Weights this executor converted at construction (fast mode's packed bf16), or nullptr.
  const WeightPacks* weight_packs() const { return packs_.get(); }
  ThreadPool& pool() { return *pool_; }

  // Binds the free symbols (e.g. grid_w, grid_h) for the next run; `what` names the input in errors.
  void bind(const std::map<std::string, int64_t>& free_values, const std::string& what);
  const std::vector<int64_t>& symbol_values() const { return values_; }
  int64_t symbol(const std::string& name) const;

  View view(const TensorRef& t) const;  // bound view into the arena or the weights
  // Marks an input as fed (calls with when_input run only for fed inputs) and dumps it under `dump_name`
  // with `dump_shape` (row-major; the oracle's shape for that graph input) when dumping.
  void fed(const InputRef& in, DumpWriter* dump, const std::string& dump_name, const std::vector<int64_t>& dump_shape);

  RunStats run(const RunOptions& opt);

 private:
  void dump_view(DumpWriter* dump, const std::string& name, const View& v, std::vector<int64_t> shape = {});
  std::string occurrence_name(const std::string& name);

  const Program& p_;
  std::unique_ptr<ThreadPool> pool_;
  Scratch scratch_;
  std::unique_ptr<WeightPacks> packs_;
  uint8_t* arena_ = nullptr;
  size_t arena_mapped_ = 0;
  std::vector<int64_t> values_;
  bool bound_ = false;
  std::set<std::string> fed_;
  std::map<std::string, int> seen_names_;  // callback name -> occurrences this run (for "__k")
};

}  // namespace ck::runtime
