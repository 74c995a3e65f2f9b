#include "runtime/executor.h"

#include <sys/mman.h>

#include <chrono>
#include <cstring>

#include "core/error.h"
#include "runtime/bindings.h"
#include "runtime/symbols.h"

namespace ck::runtime {

Executor::Executor(const Program& p, int n_threads) : p_(p) {
  if (n_threads < 1) fail("runtime", "thread count must be >= 1");
  pool_ = std::make_unique<ThreadPool>(n_threads);
  // The arena is sized for the planned worst case (max image tokens); an anonymous mapping only commits the
  // pages a smaller input touches.
  arena_mapped_ = std::max<size_t>((p.arena_bytes() + 4095) & ~size_t(4095), 4096);
  void* a = mmap(nullptr, arena_mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (a == MAP_FAILED) fail(p.path(), "cannot reserve the arena (" + std::to_string(p.arena_bytes()) + " bytes)");
  arena_ = static_cast<uint8_t*>(a);
  packs_ = bindings::pack_fast_weights(p, *pool_);
}

Executor::~Executor() {
  if (arena_) munmap(arena_, arena_mapped_);
}

void Executor::bind(const std::map<std::string, int64_t>& free_values, const std::string& what) {
  values_ = bind_symbols(p_, free_values, what);
  bound_ = true;
  fed_.clear();
  seen_names_.clear();
}

int64_t Executor::symbol(const std::string& name) const {
  int i = p_.symbol_index(name);
  if (i < 0 || !bound_) fail(p_.path(), "no bound size '" + name + "'");
  return values_[size_t(i)];
}

View Executor::view(const TensorRef& t) const {
  View v;
  v.dtype = t.dtype;
  v.shape = bind_shape(t.shape, values_);
  if (t.weight) {
    v.data = const_cast<uint8_t*>(p_.weight_base() + t.byte_offset);  // read-only mapping; kernels never write weights
  } else {
    v.data = arena_ + t.byte_offset;
  }
  v.strides.resize(v.shape.size());
  if (!t.strides.empty()) {
    v.strides = t.strides;
  } else {
    const auto& tr = traits(t.dtype);
    int64_t s = int64_t(tr.type_size);
    for (size_t i = v.shape.size(); i-- > 0;) {
      if (i + 1 == v.shape.size() && tr.quantized) {
        v.strides[i] = int64_t(tr.type_size);  // per block; rows are (ne / block) blocks
        s = int64_t(tr.type_size) * (v.shape[i] / int64_t(tr.block_size));
        continue;
      }
      v.strides[i] = s;
      s *= v.shape[i];
    }
  }
  return v;
}

std::string Executor::occurrence_name(const std::string& name) {
  int k = seen_names_[name]++;
  return k == 0 ? name : name + "__" + std::to_string(k);
}

void Executor::dump_view(DumpWriter* dump, const std::string& name, const View& v, std::vector<int64_t> shape) {
  if (!dump) return;
  DumpDType dt;
  switch (v.dtype) {
    case DType::F32: dt = DumpDType::F32; break;
    case DType::F16: dt = DumpDType::F16; break;
    case DType::I32: dt = DumpDType::I32; break;
    default: return;  // quantized tensors are not dumped (as the oracle)
  }
  const size_t es = traits(v.dtype).type_size;
  const int64_t n = v.numel();
  std::vector<uint8_t> buf(size_t(n) * es);
  if (v.contiguous()) {
    std::memcpy(buf.data(), v.data, buf.size());
  } else {  // logical order of a strided view
    std::vector<int64_t> idx(v.shape.size(), 0);
    for (int64_t e = 0; e < n; ++e) {
      int64_t off = 0;
      for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * v.strides[d];
      std::memcpy(buf.data() + size_t(e) * es, v.data + off, es);
      for (size_t d = idx.size(); d-- > 0;) {
        if (++idx[d] < v.shape[d]) break;
        idx[d] = 0;
      }
    }
  }
  if (shape.empty()) shape = v.shape;
  std::vector<int64_t> ne(shape.rbegin(), shape.rend());
  while (ne.size() > 4) {  // fold outer dims (ggml has 4)
    ne[3] *= ne.back();
    ne.pop_back();
  }
  dump->add(name, dt, ne, buf.data(), buf.size());
}

void Executor::fed(const InputRef& in, DumpWriter* dump, const std::string& dump_name,
                   const std::vector<int64_t>& dump_shape) {
  fed_.insert(in.t.tensor);
  if (!dump_name.empty()) {
    const std::string nm = occurrence_name(dump_name);
    if (dump) dump_view(dump, dump_name, view(in.t), dump_shape);
    (void)nm;
  }
}

RunStats Executor::run(const RunOptions& opt) {
  if (!bound_) fail(p_.path(), "run() before bind()");
  RunStats st;
  const auto t0 = std::chrono::steady_clock::now();
  ExecContext ex{pool_.get(), &scratch_, packs_.get()};
  // Named views are dumped just before the first call that reads them (after their base was written).
  std::set<std::string> views_done;
  const size_t total = p_.calls().size();
  size_t done = 0;
  // Activation names (and their occurrence counts) matter only to a dump or a borrow; a plain run skips them.
  const bool named = opt.dump || opt.borrow;
  for (const Call& c : p_.calls()) {
    ++done;
    if (!c.when_input.empty() && !fed_.count(c.when_input)) continue;
    if (named)
      for (const auto& in : c.ins)
        for (const auto& [vt, vname] : p_.named_views())
          if (vt.tensor == in.tensor && views_done.insert(vt.tensor).second) {
            const std::string nm = occurrence_name(vname);
            if (opt.dump) dump_view(opt.dump, vname, view(vt));
            (void)nm;
          }
    BoundCall bc;
    bc.call = &c;
    bc.symbol_values = &values_;
    for (const auto& t : c.ins) bc.in.push_back(view(t));
    bc.out = view(c.out);
    for (const auto& t : c.weights) bc.w.push_back(view(t));
    const std::string oname = !named || c.name.empty() ? std::string() : occurrence_name(c.name);
    if (bc.out.numel() == 0) {
      // nothing to compute (n_outputs = 0 rows in a prompt ubatch); still recorded, as ggml's callback does
    } else if (c.kernel_fn) {
      if (opt.profile) {
        const auto tc = std::chrono::steady_clock::now();
        c.kernel_fn->fn(bc, ex);
        opt.profile->add(c.kernel, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - tc).count());
      } else {
        c.kernel_fn->fn(bc, ex);
      }
      ++st.calls_run;
    } else {
      const DumpRecord* r = nullptr;
      if (opt.borrow && !oname.empty()) r = opt.borrow->find(opt.borrow_phase, oname);
      if (r && bc.out.contiguous() && r->elements() == uint64_t(bc.out.numel()) &&
          ((r->dtype == DumpDType::F32 && bc.out.dtype == DType::F32) ||
           (r->dtype == DumpDType::F16 && bc.out.dtype == DType::F16))) {
        zstd_read_exact_into(opt.borrow->path_of(*r), bc.out.data, r->nbytes);
        ++st.calls_borrowed;
      } else if (opt.stop_at_missing) {
        st.stopped_at = &c;
        break;
      } else {
        fail(p_.path(), "call " + std::to_string(c.index) + " (" + c.id + "): kernel '" + c.kernel +
                            "' is not implemented in this build");
      }
    }
    if (!oname.empty() && opt.dump) dump_view(opt.dump, c.name, bc.out);
    if (opt.progress) opt.progress(c, done, total);
  }
  seen_names_.clear();
  st.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return st;
}

}  // namespace ck::runtime
