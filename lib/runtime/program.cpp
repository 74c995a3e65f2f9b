#include "runtime/program.h"

#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/mapped_file.h"
#include "core/paths.h"
#include "runtime/kernel_table.h"

namespace ck::runtime {

namespace fs = std::filesystem;

namespace {

struct Parser {
  std::string path;  // call.json, for errors
  const std::vector<SymbolDef>* symbols = nullptr;

  [[noreturn]] void bad(const std::string& where, const std::string& what) const { fail(path, where + ": " + what); }

  int sym(const std::string& name, const std::string& where) const {
    for (size_t i = 0; i < symbols->size(); ++i)
      if ((*symbols)[i].name == name) return int(i);
    bad(where, "unknown symbol '" + name + "'");
  }

  std::vector<Dim> shape(const json& j, const std::string& where) const {
    if (!j.is_array() || j.empty() || j.size() > 8) bad(where, "shape must be a non-empty array of at most 8 dims");
    std::vector<Dim> s;
    for (const auto& d : j) {
      if (d.is_number_integer()) {
        if (d.get<int64_t>() < 0) bad(where, "negative dimension");
        s.push_back({d.get<int64_t>(), -1});
      } else if (d.is_string()) {
        int i = sym(d.get<std::string>(), where);
        s.push_back({(*symbols)[size_t(i)].max, i});
      } else {
        bad(where, "dimension must be an integer or a symbol name");
      }
    }
    return s;
  }

  DType dtype(const json& j, const std::string& where) const {
    if (!j.is_string()) bad(where, "dtype must be a string");
    auto t = dtype_from_name(j.get<std::string>());
    if (!t) bad(where, "unknown dtype '" + j.get<std::string>() + "'");
    return *t;
  }

  uint64_t u64(const json& o, const char* key, const std::string& where) const {
    if (!o.contains(key) || !o[key].is_number_unsigned()) bad(where, std::string("missing or negative '") + key + "'");
    return o[key].get<uint64_t>();
  }

  TensorRef tensor(const json& o, const std::string& where) const {
    if (!o.is_object()) bad(where, "expected an object");
    TensorRef t;
    t.arg = o.value("arg", "");
    t.weight = o.value("buffer", "arena") == "weights";
    t.tensor = t.weight ? o.value("weight", "") : o.value("tensor", "");
    if (t.tensor.empty()) bad(where, "tensor argument without a tensor/weight name");
    t.byte_offset = u64(o, "byte_offset", where);
    t.dtype = dtype(o.value("dtype", json()), where);
    if (t.weight) {
      t.nbytes = u64(o, "nbytes", where);
      if (!o.contains("shape") || !o["shape"].is_array()) bad(where, "weight without shape");
      for (const auto& d : o["shape"]) {
        if (!d.is_number_unsigned()) bad(where, "weight shape must be constant");
        t.shape.push_back({d.get<int64_t>(), -1});
      }
    } else {
      t.shape = shape(o.value("shape", json()), where);
    }
    if (o.contains("strides")) {
      if (!o["strides"].is_array() || o["strides"].size() != t.shape.size()) bad(where, "strides must match the shape");
      for (const auto& s : o["strides"]) {
        if (!s.is_number_integer() || s.get<int64_t>() < 0) bad(where, "strides must be non-negative integers");
        t.strides.push_back(s.get<int64_t>());
      }
    }
    return t;
  }
};

uint64_t elem_bytes(DType t) {
  const auto& tr = traits(t);
  return tr.quantized ? 0 : tr.type_size;
}

// Bytes spanned by an arena tensor at its planned worst case.
uint64_t worst_extent(const TensorRef& t) {
  const uint64_t eb = elem_bytes(t.dtype);
  if (eb == 0) return 0;
  if (t.strides.empty()) {
    uint64_t n = eb;
    for (const auto& d : t.shape) n *= uint64_t(d.value);
    return n;
  }
  uint64_t e = eb;
  for (size_t i = 0; i < t.shape.size(); ++i)
    if (t.shape[i].value > 0) e += uint64_t(t.shape[i].value - 1) * uint64_t(t.strides[i]);
  return e;
}

}  // namespace

std::unique_ptr<Program> Program::load(const std::string& dir_or_call) {
  std::unique_ptr<Program> p(new Program());
  fs::path cp = dir_or_call;
  std::error_code ec;
  if (fs::is_directory(cp, ec)) cp /= "call.json";
  p->path_ = cp.string();
  if (!fs::exists(cp, ec)) fail(p->path_, "no such file (expected a model directory written by ck-layout -o DIR)");
  try {
    p->doc_ = json::parse(read_text_file(p->path_));
  } catch (const json::exception& e) {
    fail(p->path_, std::string("invalid JSON: ") + e.what());
  }
  const json& d = p->doc_;
  Parser ps{p->path_, &p->symbols_};
  if (!d.is_object() || d.value("format", json()) != "ck.call") fail(p->path_, "not a ck.call document (format)");
  if (d.value("version", json()) != 1) fail(p->path_, "unsupported ck.call version (this runtime reads version 1)");
  p->template_ = d.value("template", "");
  p->contracts_ = d.value("contracts", json::object());

  // Symbols: free ones bound from the input, derived ones computed in declaration order.
  for (const auto& s : d.value("symbols", json::array())) {
    SymbolDef sd;
    sd.name = s.value("name", "");
    if (sd.name.empty() || !s.contains("max") || !s["max"].is_number_integer()) ps.bad("symbols", "malformed symbol");
    sd.max = s["max"].get<int64_t>();
    const json& def = s.value("def", json());
    if (def.is_object()) {
      std::vector<std::string> of;
      if (def.contains("product")) of = def["product"].get<std::vector<std::string>>();
      else if (def.contains("of")) of.push_back(def["of"].get<std::string>());
      else ps.bad("symbol " + sd.name, "def needs 'product' or 'of'");
      for (const auto& o : of) sd.of.push_back(ps.sym(o, "symbol " + sd.name));
      sd.mul = def.value("mul", int64_t(1));
      sd.div = def.value("div", int64_t(1));
      if (sd.mul <= 0 || sd.div <= 0) ps.bad("symbol " + sd.name, "mul/div must be positive");
    }
    p->symbols_.push_back(sd);
  }

  const json& arena = d.value("arena", json::object());
  p->arena_bytes_ = ps.u64(arena, "bytes", "arena");
  p->arena_alignment_ = arena.value("alignment", uint64_t(64));
  if (p->arena_alignment_ == 0 || (p->arena_alignment_ & (p->arena_alignment_ - 1)) || p->arena_alignment_ > 4096)
    ps.bad("arena", "alignment must be a power of two <= 4096");

  // Weights: the bump next to the plan, mapped read-only; it must be the bump the plan was made for.
  const json& w = d.value("weights", json::object());
  if (!w.contains("file") || !w["file"].is_string()) ps.bad("weights", "missing 'file'");
  const std::string wf = path_from_artifact(w["file"].get<std::string>(), p->path_);
  {
    std::error_code wec;
    if (!fs::is_regular_file(wf, wec))
      fail(p->path_, "weights file " + w["file"].get<std::string>() + " (" + wf +
                         ") not found: the bump must stay at that path relative to the plan (move them together)");
  }
  p->bump_ = std::make_unique<bump::Reader>(wf);
  const json& src_bump = w.value("source", json::object()).value("bump", json::object());
  if (src_bump.contains("content_sha256")) {
    const std::string want = src_bump["content_sha256"].get<std::string>();
    if (p->bump_->recorded_sha256() != want)
      fail(p->bump_->path(), "content sha256 " + p->bump_->recorded_sha256() + " is not the one " + p->path_ +
                                 " was planned for (" + want + "): re-run ck-lower | ck-layout for this bump");
  }
  if (!p->bump_->tensors().empty()) {
    const auto& t0 = p->bump_->tensors().front();
    p->weight_base_ = t0.data - t0.offset;
  }

  auto check_arena = [&](const TensorRef& t, const std::string& where) {
    if (t.weight) {
      const bump::Tensor* bt = p->bump_->find(t.tensor);
      if (!bt) ps.bad(where, "weight '" + t.tensor + "' is not in " + p->bump_->path());
      if (bt->offset != t.byte_offset || bt->nbytes != t.nbytes || bt->dtype != t.dtype)
        ps.bad(where, "weight '" + t.tensor + "' does not match " + p->bump_->path() + " (offset/size/dtype)");
      uint64_t n = 1;
      for (const auto& x : t.shape) n *= uint64_t(x.value);
      uint64_t ne = 1;
      for (auto x : bt->ne) ne *= uint64_t(x);
      if (n != ne) ps.bad(where, "weight '" + t.tensor + "' shape does not match the bump");
      return;
    }
    if (elem_bytes(t.dtype) == 0) ps.bad(where, "quantized arena tensors are not supported");
    if (t.byte_offset + worst_extent(t) > p->arena_bytes_)
      ps.bad(where, "tensor '" + t.tensor + "' lies outside the arena at its planned size");
  };

  for (const auto& i : d.value("inputs", json::array())) {
    InputRef in;
    in.t = ps.tensor(i, "inputs");
    in.role = i.value("role", "");
    in.role_params = i.value("role_params", json::object());
    check_arena(in.t, "input " + in.t.tensor);
    p->inputs_.push_back(in);
  }
  for (const auto& o : d.value("outputs", json::array())) {
    p->outputs_.push_back(ps.tensor(o, "outputs"));
    check_arena(p->outputs_.back(), "output " + p->outputs_.back().tensor);
  }
  for (const auto& v : d.value("named_views", json::array())) {
    TensorRef t = ps.tensor(v, "named_views");
    check_arena(t, "view " + t.tensor);
    p->named_views_.push_back({t, v.value("name", t.tensor)});
  }
  if (!d.contains("calls") || !d["calls"].is_array()) ps.bad("calls", "missing");
  for (const auto& c : d["calls"]) {
    Call call;
    call.index = c.value("index", int(p->calls_.size()));
    call.id = c.value("id", "");
    call.op = c.value("op", "");
    call.kernel = c.value("kernel", "");
    call.layer = c.value("layer", -1);
    if (c.contains("name") && c["name"].is_string()) call.name = c["name"].get<std::string>();
    call.when_input = c.value("when_input", "");
    const std::string where = "call " + std::to_string(call.index) + " (" + call.id + ")";
    bool have_out = false;
    for (const auto& a : c.value("args", json::array())) {
      if (a.contains("buffer")) {
        TensorRef t = ps.tensor(a, where);
        check_arena(t, where);
        if (t.weight) call.weights.push_back(t);
        else if (t.arg == "out") {
          call.out = t;
          have_out = true;
        } else call.ins.push_back(t);
      } else {
        Scalar s;
        s.arg = a.value("arg", "");
        if (a.contains("symbol")) s.sym = ps.sym(a["symbol"].get<std::string>(), where);
        else s.value = a.value("value", json());
        call.scalars.push_back(s);
      }
    }
    if (!have_out) ps.bad(where, "no 'out' argument");
    call.kernel_fn = find_binding(call.kernel);
    p->calls_.push_back(std::move(call));
  }
  return p;
}

int Program::symbol_index(const std::string& name) const {
  for (size_t i = 0; i < symbols_.size(); ++i)
    if (symbols_[i].name == name) return int(i);
  return -1;
}

const InputRef* Program::input_by_role(const std::string& role) const {
  for (const auto& i : inputs_)
    if (i.role == role) return &i;
  return nullptr;
}

std::vector<std::string> Program::missing_kernels() const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& c : calls_)
    if (!c.kernel_fn && seen.insert(c.kernel).second) out.push_back(c.kernel);
  return out;
}

}  // namespace ck::runtime
