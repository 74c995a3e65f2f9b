#include "runtime/program.h"

#include <filesystem>
#include <set>

#include "core/error.h"
#include "runtime/kernel_table.h"

namespace ck::runtime {

namespace fs = std::filesystem;

std::unique_ptr<Program> Program::load(const std::string& dir_or_call) {
  std::unique_ptr<Program> p(new Program());
  p->file_ = plan::read_call_file(dir_or_call);
  const plan::CallFile& f = p->file_;
  auto bad = [&](const std::string& where, const std::string& what) { fail(f.path, where + ": " + what); };

  // Weights: the bump next to the plan, mapped read-only; it must be the bump the plan was made for.
  {
    std::error_code wec;
    if (!fs::is_regular_file(f.weights_path, wec))
      fail(f.path, "weights file " + f.weights_recorded + " (" + f.weights_path +
                       ") not found: the bump must stay at that path relative to the plan (move them together)");
  }
  p->bump_ = std::make_unique<bump::Reader>(f.weights_path);
  if (!f.weights_sha256.empty() && p->bump_->recorded_sha256() != f.weights_sha256)
    fail(p->bump_->path(), "content sha256 " + p->bump_->recorded_sha256() + " is not the one " + f.path +
                               " was planned for (" + f.weights_sha256 + "): re-run ck-lower | ck-layout for this bump");
  if (!p->bump_->tensors().empty()) {
    const auto& t0 = p->bump_->tensors().front();
    p->weight_base_ = t0.data - t0.offset;
  }

  // Every weight argument names a tensor of the bump with the same offset, size, dtype and element count.
  auto check_weight = [&](const TensorRef& t, const std::string& where) {
    const bump::Tensor* bt = p->bump_->find(t.tensor);
    if (!bt) bad(where, "weight '" + t.tensor + "' is not in " + p->bump_->path());
    if (bt->offset != t.byte_offset || bt->nbytes != t.nbytes || bt->dtype != t.dtype)
      bad(where, "weight '" + t.tensor + "' does not match " + p->bump_->path() + " (offset/size/dtype)");
    uint64_t n = 1;
    for (const auto& x : t.shape) n *= uint64_t(x.value);
    uint64_t ne = 1;
    for (auto x : bt->ne) ne *= uint64_t(x);
    if (n != ne) bad(where, "weight '" + t.tensor + "' shape does not match the bump");
  };
  for (const auto& i : f.inputs)
    if (i.t.weight) check_weight(i.t, "input " + i.t.tensor);
  for (const auto& o : f.outputs)
    if (o.weight) check_weight(o, "output " + o.tensor);
  for (const auto& [v, name] : f.named_views)
    if (v.weight) check_weight(v, "view " + v.tensor);
  for (const auto& c : f.calls) {
    const std::string where = "call " + std::to_string(c.index) + " (" + c.id + ")";
    for (const auto& w : c.weights) check_weight(w, where);
    Call call;
    static_cast<plan::CallEntry&>(call) = c;
    call.kernel_fn = find_binding(call.kernel);
    p->calls_.push_back(std::move(call));
  }
  return p;
}

std::vector<std::string> Program::missing_kernels() const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& c : calls_)
    if (!c.kernel_fn && seen.insert(c.kernel).second) out.push_back(c.kernel);
  return out;
}

}  // namespace ck::runtime
