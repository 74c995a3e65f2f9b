#include "plan/call_file.h"

#include <filesystem>

#include "core/error.h"
#include "core/mapped_file.h"
#include "core/paths.h"

namespace ck::plan {

namespace fs = std::filesystem;

namespace {

struct Parser {
  std::string path;  // call.json, for errors
  const std::vector<SymbolDef>* symbols = nullptr;

  [[noreturn]] void bad(const std::string& where, const std::string& what) const { fail(path, where + ": " + what); }

  const json& object(const json& o, const std::string& where) const {
    if (!o.is_object()) bad(where, "expected an object");
    return o;
  }

  std::string str(const json& o, const char* key, const std::string& where, const std::string& dflt = "") const {
    if (!o.contains(key)) return dflt;
    if (!o[key].is_string()) bad(where, std::string("'") + key + "' must be a string");
    return o[key].get<std::string>();
  }

  int64_t integer(const json& o, const char* key, const std::string& where, int64_t dflt) const {
    if (!o.contains(key)) return dflt;
    if (!o[key].is_number_integer()) bad(where, std::string("'") + key + "' must be an integer");
    return o[key].get<int64_t>();
  }

  uint64_t u64(const json& o, const char* key, const std::string& where) const {
    if (!o.contains(key) || !o[key].is_number_unsigned()) bad(where, std::string("missing or negative '") + key + "'");
    return o[key].get<uint64_t>();
  }

  const json& array(const json& o, const char* key, const std::string& where) const {
    static const json empty = json::array();
    if (!o.contains(key)) return empty;
    if (!o[key].is_array()) bad(where, std::string("'") + key + "' must be an array");
    return o[key];
  }

  int sym(const json& name, const std::string& where) const {
    if (!name.is_string()) bad(where, "a symbol reference must be a string");
    for (size_t i = 0; i < symbols->size(); ++i)
      if ((*symbols)[i].name == name.get<std::string>()) return int(i);
    bad(where, "unknown symbol '" + name.get<std::string>() + "'");
  }

  std::vector<Dim> shape(const json& j, const std::string& where) const {
    if (!j.is_array() || j.empty() || j.size() > 8) bad(where, "shape must be a non-empty array of at most 8 dims");
    std::vector<Dim> s;
    for (const auto& d : j) {
      if (d.is_number_integer()) {
        if (d.get<int64_t>() < 0) bad(where, "negative dimension");
        s.push_back({d.get<int64_t>(), -1});
      } else if (d.is_string()) {
        int i = sym(d, where);
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

  TensorRef tensor(const json& j, const std::string& where) const {
    const json& o = object(j, where);
    TensorRef t;
    t.arg = str(o, "arg", where);
    t.weight = str(o, "buffer", where, "arena") == "weights";
    t.tensor = t.weight ? str(o, "weight", where) : str(o, "tensor", where);
    if (t.tensor.empty()) bad(where, "tensor argument without a tensor/weight name");
    t.byte_offset = u64(o, "byte_offset", where);
    t.dtype = dtype(o.contains("dtype") ? o["dtype"] : json(), where);
    if (t.weight) {
      t.nbytes = u64(o, "nbytes", where);
      if (!o.contains("shape") || !o["shape"].is_array() || o["shape"].empty() || o["shape"].size() > 8)
        bad(where, "weight without a shape");
      for (const auto& d : o["shape"]) {
        if (!d.is_number_unsigned()) bad(where, "weight shape must be constant");
        t.shape.push_back({d.get<int64_t>(), -1});
      }
    } else {
      t.shape = shape(o.contains("shape") ? o["shape"] : json(), where);
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

// Bytes spanned by an arena tensor at its planned worst case (saturating: a hostile file cannot wrap it).
uint64_t worst_extent(const TensorRef& t) {
  const auto& tr = traits(t.dtype);
  if (tr.quantized) return 0;
  constexpr uint64_t kHuge = uint64_t(1) << 62;
  auto mul = [&](uint64_t a, uint64_t b) { return (b != 0 && a > kHuge / b) ? kHuge : a * b; };
  uint64_t e = tr.type_size;
  if (t.strides.empty()) {
    for (const auto& d : t.shape) e = mul(e, uint64_t(d.value));
    return e;
  }
  for (size_t i = 0; i < t.shape.size(); ++i)
    if (t.shape[i].value > 0) e = std::min(kHuge, e + mul(uint64_t(t.shape[i].value - 1), uint64_t(t.strides[i])));
  return e;
}

}  // namespace

int CallFile::symbol_index(const std::string& name) const {
  for (size_t i = 0; i < symbols.size(); ++i)
    if (symbols[i].name == name) return int(i);
  return -1;
}

int64_t CallFile::symbol_max(const std::string& name) const {
  const int i = symbol_index(name);
  return i < 0 ? 0 : symbols[size_t(i)].max;
}

const InputRef* CallFile::input_by_role(const std::string& role) const {
  for (const auto& i : inputs)
    if (i.role == role) return &i;
  return nullptr;
}

CallFile read_call_file(const std::string& dir_or_call) {
  CallFile f;
  fs::path cp = dir_or_call;
  std::error_code ec;
  if (fs::is_directory(cp, ec)) cp /= "call.json";
  f.path = cp.string();
  if (!fs::is_regular_file(cp, ec))
    fail(f.path, "no such file (expected a plan directory written by ck-layout -o DIR)");
  try {
    f.doc = json::parse(read_text_file(f.path));
  } catch (const json::exception& e) {
    fail(f.path, std::string("invalid JSON: ") + e.what());
  }
  const json& d = f.doc;
  Parser ps{f.path, &f.symbols};
  if (!d.is_object() || !d.contains("format") || d["format"] != kCallFormat)
    fail(f.path, std::string("not a ") + kCallFormat + " document (format)");
  if (!d.contains("version") || d["version"] != kCallVersion)
    fail(f.path, std::string("unsupported ") + kCallFormat + " version (this ck reads version " +
                     std::to_string(kCallVersion) + ")");
  f.template_name = ps.str(d, "template", "document");
  f.arch = ps.str(d, "arch", "document");
  f.mode = ps.str(d, "mode", "document", "strict");
  if (d.contains("contracts")) f.contracts = ps.object(d["contracts"], "contracts");

  // Symbols: free ones bound from the input, derived ones computed in declaration order.
  for (const auto& s : ps.array(d, "symbols", "symbols")) {
    ps.object(s, "symbols");
    SymbolDef sd;
    sd.name = ps.str(s, "name", "symbols");
    if (sd.name.empty() || !s.contains("max") || !s["max"].is_number_integer() || s["max"].get<int64_t>() < 0)
      ps.bad("symbols", "malformed symbol");
    sd.max = s["max"].get<int64_t>();
    const std::string where = "symbol " + sd.name;
    if (s.contains("def") && !s["def"].is_null()) {
      const json& def = ps.object(s["def"], where);
      if (def.contains("product")) {
        if (!def["product"].is_array() || def["product"].empty()) ps.bad(where, "'product' must be a list of symbols");
        for (const auto& o : def["product"]) sd.of.push_back(ps.sym(o, where));
      } else if (def.contains("of")) {
        sd.of.push_back(ps.sym(def["of"], where));
      } else {
        ps.bad(where, "def needs 'product' or 'of'");
      }
      sd.mul = ps.integer(def, "mul", where, 1);
      sd.div = ps.integer(def, "div", where, 1);
      if (sd.mul <= 0 || sd.div <= 0) ps.bad(where, "mul/div must be positive");
    }
    f.symbols.push_back(sd);
  }

  const json& arena = d.contains("arena") ? ps.object(d["arena"], "arena") : json::object();
  f.arena_bytes = ps.u64(arena, "bytes", "arena");
  f.arena_alignment = arena.contains("alignment") ? ps.u64(arena, "alignment", "arena") : 64;
  if (f.arena_alignment == 0 || (f.arena_alignment & (f.arena_alignment - 1)) || f.arena_alignment > 4096)
    ps.bad("arena", "alignment must be a power of two <= 4096");

  const json& w = d.contains("weights") ? ps.object(d["weights"], "weights") : json::object();
  if (!w.contains("file") || !w["file"].is_string()) ps.bad("weights", "missing 'file'");
  f.weights_recorded = w["file"].get<std::string>();
  f.weights_path = path_from_artifact(f.weights_recorded, f.path);
  if (w.contains("source") && w["source"].is_object() && w["source"].contains("bump") &&
      w["source"]["bump"].is_object())
    f.weights_sha256 = ps.str(w["source"]["bump"], "content_sha256", "weights.source.bump");

  auto check_arena = [&](const TensorRef& t, const std::string& where) {
    if (t.weight) return;  // checked against the bump by the runtime
    if (traits(t.dtype).quantized) ps.bad(where, "quantized arena tensors are not supported");
    if (t.byte_offset > f.arena_bytes || worst_extent(t) > f.arena_bytes - t.byte_offset)
      ps.bad(where, "tensor '" + t.tensor + "' lies outside the arena at its planned size");
  };

  for (const auto& i : ps.array(d, "inputs", "inputs")) {
    InputRef in;
    in.t = ps.tensor(i, "inputs");
    in.role = ps.str(i, "role", "input " + in.t.tensor);
    in.role_params = i.contains("role_params") ? ps.object(i["role_params"], "input " + in.t.tensor) : json::object();
    check_arena(in.t, "input " + in.t.tensor);
    f.inputs.push_back(in);
  }
  for (const auto& o : ps.array(d, "outputs", "outputs")) {
    f.outputs.push_back(ps.tensor(o, "outputs"));
    check_arena(f.outputs.back(), "output " + f.outputs.back().tensor);
  }
  for (const auto& v : ps.array(d, "named_views", "named_views")) {
    TensorRef t = ps.tensor(v, "named_views");
    check_arena(t, "view " + t.tensor);
    f.named_views.push_back({t, ps.str(v, "name", "view " + t.tensor, t.tensor)});
  }
  if (!d.contains("calls") || !d["calls"].is_array()) ps.bad("calls", "missing");
  for (const auto& c : d["calls"]) {
    ps.object(c, "calls");
    CallEntry call;
    call.index = int(ps.integer(c, "index", "calls", int64_t(f.calls.size())));
    call.id = ps.str(c, "id", "calls");
    const std::string where = "call " + std::to_string(call.index) + " (" + call.id + ")";
    call.op = ps.str(c, "op", where);
    call.kernel = ps.str(c, "kernel", where);
    call.layer = int(ps.integer(c, "layer", where, -1));
    if (c.contains("name") && c["name"].is_string()) call.name = c["name"].get<std::string>();
    call.when_input = ps.str(c, "when_input", where);
    bool have_out = false;
    for (const auto& a : ps.array(c, "args", where)) {
      ps.object(a, where);
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
        s.arg = ps.str(a, "arg", where);
        if (a.contains("symbol")) s.sym = ps.sym(a["symbol"], where);
        else s.value = a.contains("value") ? a["value"] : json();
        call.scalars.push_back(s);
      }
    }
    if (!have_out) ps.bad(where, "no 'out' argument");
    f.calls.push_back(std::move(call));
  }
  return f;
}

}  // namespace ck::plan
