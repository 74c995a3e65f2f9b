// What a kernel binding receives: its tensors as Views at the bound (actual) sizes, the call's scalar
// parameters, and the executor's thread pool and scratch memory. A bound call hands the kernel its tensors
// with the image's actual sizes (symbols bound, strides in bytes for every dim) and its scalar parameters;
// the kernel splits its work over the executor's thread pool so that every output element is computed by one
// thread in a fixed order (results independent of -t).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "core/thread_pool.h"

namespace ck::runtime {

struct Call;
class WeightPacks;

// A tensor at its bound size. `strides` are bytes per dim (always filled); `shape` row-major.
struct View {
  uint8_t* data = nullptr;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;

  int64_t numel() const;
  int64_t dim(int i) const { return shape[size_t(i < 0 ? int(shape.size()) + i : i)]; }  // dim(-1) = last
  int64_t cols() const { return shape.back(); }
  int64_t rows() const { return cols() ? numel() / cols() : 0; }
  bool contiguous() const;
  // Rows with a contiguous last dim laid out at a constant stride (true for every contiguous tensor and for
  // the column views of qkv): row r starts at data + r * row_stride().
  bool uniform_rows() const;
  int64_t row_stride() const;  // bytes; valid when uniform_rows()
  template <class T> T* ptr() const { return reinterpret_cast<T*>(data); }
  template <class T> T* row(int64_t r) const { return reinterpret_cast<T*>(data + r * row_stride()); }
};

// Scratch memory that persists across calls and runs (grows, never shrinks): activation conversions
// (F16/BF16/Q8_0 rows before a mat-mul), gathered views.
class Scratch {
 public:
  void* get(size_t slot, size_t bytes);  // 64-byte aligned; slot 0..3 (independent buffers)
  ~Scratch();
 private:
  struct Buf {
    void* p = nullptr;
    size_t n = 0;
  };
  Buf bufs_[4];
};

struct BoundCall {
  const Call* call = nullptr;
  std::vector<View> in;
  View out;
  std::vector<View> w;  // weights, in call order (the catalogue's roles: "w", "b")
  const std::vector<int64_t>* symbol_values = nullptr;

  const View& weight(std::string_view role) const;  // throws if absent
  const View* weight_opt(std::string_view role) const;
  bool has_param(std::string_view name) const;
  double param_f(std::string_view name) const;       // number (or bound symbol)
  int64_t param_i(std::string_view name) const;      // integer (or bound symbol)
  std::vector<int64_t> param_list(std::string_view name) const;
  // Throws "call N (id, kernel): what" — the one error form of every binding.
  [[noreturn]] void bad(const std::string& what) const;
};

struct ExecContext {
  ThreadPool* pool = nullptr;
  Scratch* scratch = nullptr;
  const WeightPacks* packs = nullptr;  // weights converted at load (weight_packs.h); null: none
};

}  // namespace ck::runtime
