// View / Scratch / BoundCall (bound_call.h): the argument side of every kernel binding.
#include "runtime/bound_call.h"

#include <sys/mman.h>

#include "core/error.h"
#include "runtime/program.h"

namespace ck::runtime {


int64_t View::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

bool View::contiguous() const {
  int64_t s = int64_t(traits(dtype).type_size);
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] != 1 && strides[i] != s) return false;
    s *= shape[i];
  }
  return true;
}

bool View::uniform_rows() const {
  const int64_t es = int64_t(traits(dtype).type_size);
  if (shape.empty() || (shape.back() > 1 && strides.back() != es)) return false;
  if (shape.size() == 1) return true;
  // dims before the last must collapse into one constant stride: stride[i] = stride[i+1] * shape[i+1]
  for (size_t i = 0; i + 2 < shape.size(); ++i)
    if (shape[i] > 1 && strides[i] != strides[i + 1] * shape[i + 1]) return false;
  return true;
}

int64_t View::row_stride() const {
  if (shape.size() == 1) return int64_t(traits(dtype).type_size) * shape[0];
  return strides[shape.size() - 2];
}

void* Scratch::get(size_t slot, size_t bytes) {
  if (slot >= 4) fail("runtime scratch", "slot out of range");
  Buf& b = bufs_[slot];
  if (bytes > b.n) {
    if (b.p) munmap(b.p, b.n);
    const size_t n = (bytes + 4095) & ~size_t(4095);
    void* p = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fail("runtime scratch", "cannot allocate " + std::to_string(n) + " bytes");
    b.p = p;
    b.n = n;
  }
  return b.p;
}

Scratch::~Scratch() {
  for (auto& b : bufs_)
    if (b.p) munmap(b.p, b.n);
}

const View* BoundCall::weight_opt(std::string_view role) const {
  for (size_t i = 0; i < call->weights.size(); ++i)
    if (call->weights[i].arg == role) return &w[i];
  return nullptr;
}

const View& BoundCall::weight(std::string_view role) const {
  const View* v = weight_opt(role);
  if (!v) fail("call " + call->id, "no weight with role '" + std::string(role) + "'");
  return *v;
}

namespace {
const Scalar* find_scalar(const Call& c, std::string_view name) {
  for (const auto& s : c.scalars)
    if (s.arg == name) return &s;
  return nullptr;
}
}  // namespace

bool BoundCall::has_param(std::string_view name) const { return find_scalar(*call, name) != nullptr; }

double BoundCall::param_f(std::string_view name) const {
  const Scalar* s = find_scalar(*call, name);
  if (!s) fail("call " + call->id, "missing parameter '" + std::string(name) + "'");
  if (s->sym >= 0) return double((*symbol_values)[size_t(s->sym)]);
  if (s->value.is_boolean()) return s->value.get<bool>() ? 1.0 : 0.0;
  if (!s->value.is_number()) fail("call " + call->id, "parameter '" + std::string(name) + "' is not a number");
  return s->value.get<double>();
}

int64_t BoundCall::param_i(std::string_view name) const {
  const Scalar* s = find_scalar(*call, name);
  if (!s) fail("call " + call->id, "missing parameter '" + std::string(name) + "'");
  if (s->sym >= 0) return (*symbol_values)[size_t(s->sym)];
  if (!s->value.is_number_integer()) fail("call " + call->id, "parameter '" + std::string(name) + "' is not an integer");
  return s->value.get<int64_t>();
}

std::vector<int64_t> BoundCall::param_list(std::string_view name) const {
  const Scalar* s = find_scalar(*call, name);
  if (!s || !s->value.is_array()) fail("call " + call->id, "missing list parameter '" + std::string(name) + "'");
  std::vector<int64_t> out;
  for (const auto& v : s->value) {
    if (!v.is_number_integer()) fail("call " + call->id, "parameter '" + std::string(name) + "' must list integers");
    out.push_back(v.get<int64_t>());
  }
  return out;
}

void BoundCall::bad(const std::string& what) const {
  fail("call " + std::to_string(call->index) + " (" + call->id + ", " + call->kernel + ")", what);
}

}  // namespace ck::runtime
