#include "graph/ir1.h"

#include <limits>
#include <map>
#include <type_traits>

#include "core/error.h"

namespace ck::graph {

json dim_to_json(const Dim& d) { return d.symbolic() ? json(d.sym) : json(d.value); }

json shape_to_json(const Shape& s) {
  json a = json::array();
  for (const auto& d : s) a.push_back(dim_to_json(d));
  return a;
}

// Reads a shape; symbol names get their max filled in later by the reader that knows the symbols.
Shape shape_from_json(const json& j, const std::string& where) {
  if (!j.is_array()) fail(where, "shape is not an array");
  Shape s;
  for (const auto& d : j) {
    if (d.is_number_integer()) s.push_back({d.get<int64_t>(), ""});
    else if (d.is_string()) s.push_back({0, d.get<std::string>()});
    else fail(where, "shape dimension is neither a number nor a symbol name");
  }
  return s;
}

uint64_t dtype_elem_bytes(const std::string& dtype, const std::string& where) {
  if (dtype == "f32" || dtype == "i32") return 4;
  if (dtype == "f16" || dtype == "bf16" || dtype == "i16") return 2;
  if (dtype == "i8") return 1;
  if (dtype == "i64" || dtype == "f64") return 8;
  fail(where, "activation dtype '" + dtype + "' has no fixed element size");
}

uint64_t worst_case_bytes(const Tensor& t) {
  uint64_t n = dtype_elem_bytes(t.dtype, t.id);
  for (const auto& d : t.shape) n *= uint64_t(d.value);
  return n;
}

const Tensor* find_tensor(const Ir1& ir, const std::string& id) {
  for (const auto& t : ir.tensors)
    if (t.id == id) return &t;
  return nullptr;
}

json ir1_to_json(const Ir1& ir) {
  json j;
  j["format"] = "ck.ir1";
  j["version"] = 2;
  j["source"] = ir.source;
  j["arch"] = ir.arch;
  j["template"] = ir.template_name;
  j["mode"] = ir.mode;
  json syms = json::array();
  for (const auto& s : ir.symbols) {
    json o{{"name", s.name}, {"max", s.max}, {"def", s.def}};
    if (!s.option.empty()) o["option"] = s.option;
    syms.push_back(o);
  }
  j["symbols"] = syms;
  json ws = json::array();
  for (const auto& w : ir.weights)
    ws.push_back({{"name", w.name}, {"dtype", w.dtype}, {"shape", w.shape}, {"offset", w.offset}, {"nbytes", w.nbytes}});
  j["weights"] = ws;
  json ts = json::array();
  for (const auto& t : ir.tensors) {
    json o{{"id", t.id}, {"kind", t.kind}, {"dtype", t.dtype}, {"shape", shape_to_json(t.shape)}};
    o["name"] = t.name ? json(*t.name) : json(nullptr);
    if (t.kind == "view") {
      o["view_of"] = t.view_of;
      o["view_offset"] = t.view_offset;
      if (!t.view_strides.empty()) o["view_strides"] = t.view_strides;
    }
    if (t.kind == "input") {
      o["role"] = t.role;
      if (!t.role_params.is_null()) o["role_params"] = t.role_params;
    }
    ts.push_back(o);
  }
  j["tensors"] = ts;
  json os = json::array();
  for (const auto& op : ir.ops) {
    json o{{"id", op.id}, {"op", op.op}, {"kernel", op.kernel}, {"section", op.section}, {"layer", op.layer}};
    o["name"] = op.name ? json(*op.name) : json(nullptr);
    o["in"] = op.in;
    json w = json::object();
    for (const auto& a : op.weights) w[a.role] = a.name;
    o["weights"] = w;
    o["out"] = op.out;
    o["params"] = op.params.is_null() ? json::object() : op.params;
    if (!op.when_input.empty()) o["when_input"] = op.when_input;
    os.push_back(o);
  }
  j["ops"] = os;
  j["outputs"] = ir.outputs;
  j["contracts"] = ir.contracts;
  return j;
}

// An integer of type T from a JSON number that is an integer in T's range. nlohmann's get<T>() converts a
// float or an out-of-range integer without a check (1e308 -> uint64_t is undefined behaviour, -1 wraps).
template <class T>
static T integer(const json& v, const char* key, const std::string& where) {
  if (!v.is_number_integer()) fail(where, std::string("key '") + key + "' is not an integer");
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<T>::max()))
      fail(where, std::string("key '") + key + "' is out of range (" + std::to_string(u) + ")");
    return static_cast<T>(u);
  }
  const int64_t x = v.get<int64_t>();
  if (x < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
      (x > 0 && static_cast<uint64_t>(x) > static_cast<uint64_t>(std::numeric_limits<T>::max())))
    fail(where, std::string("key '") + key + "' is out of range (" + std::to_string(x) + ")");
  return static_cast<T>(x);
}

template <class T>
static T get(const json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) fail(where, std::string("missing key '") + key + "'");
  const json& v = j.at(key);
  if constexpr (std::is_integral_v<T>) {
    return integer<T>(v, key, where);
  } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
    if (!v.is_array()) fail(where, std::string("key '") + key + "' is not an array of integers");
    T out;
    for (const auto& e : v) out.push_back(integer<int64_t>(e, key, where));
    return out;
  } else {
    try {
      return v.get<T>();
    } catch (const json::exception&) {
      fail(where, std::string("key '") + key + "' has the wrong type");
    }
  }
}

// An optional string member: absent or null gives ""; another type is an error (value() would throw
// nlohmann's type_error).
static std::string opt_string(const json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || j.at(key).is_null()) return {};
  if (!j.at(key).is_string()) fail(where, std::string("key '") + key + "' is not a string");
  return j.at(key).get<std::string>();
}

static Ir1 ir1_from_json_checked(const json& j, const std::string& where);

Ir1 ir1_from_json(const json& j, const std::string& where) {
  // Every member is read through a typed check above; a json::exception that still escapes (a reader path
  // not yet covered) becomes the same one-line error with the file name.
  try {
    return ir1_from_json_checked(j, where);
  } catch (const json::exception& e) {
    fail(where, std::string("malformed ck.ir1: ") + e.what());
  }
}

static Ir1 ir1_from_json_checked(const json& j, const std::string& where) {
  if (!j.is_object()) fail(where, "not a JSON object");
  if (!j.contains("format") || j["format"] != "ck.ir1") fail(where, "not a ck.ir1 file (format)");
  // 2: source.bump.path is relative to the ir1's location (1: to ck-lower's working directory)
  if (!j.contains("version") || j["version"] != 2) fail(where, "unsupported ck.ir1 version (this ck reads 2; re-run ck-lower)");
  Ir1 ir;
  ir.source = j.value("source", json(nullptr));
  ir.arch = get<std::string>(j, "arch", where);
  ir.template_name = get<std::string>(j, "template", where);
  ir.mode = get<std::string>(j, "mode", where);
  std::map<std::string, int64_t> maxes;
  const json jsyms = get<json>(j, "symbols", where), jws = get<json>(j, "weights", where),
             jts = get<json>(j, "tensors", where), jops = get<json>(j, "ops", where);
  for (const auto& s : jsyms) {
    Symbol y{get<std::string>(s, "name", where), get<int64_t>(s, "max", where), s.value("def", json(nullptr)),
             opt_string(s, "option", where)};
    if (y.max < 0) fail(where, "symbol '" + y.name + "' has a negative max");
    maxes[y.name] = y.max;
    ir.symbols.push_back(y);
  }
  for (const auto& w : jws)
    ir.weights.push_back({get<std::string>(w, "name", where), get<std::string>(w, "dtype", where),
                          get<std::vector<int64_t>>(w, "shape", where), get<uint64_t>(w, "offset", where),
                          get<uint64_t>(w, "nbytes", where)});
  for (const auto& t : jts) {
    Tensor x;
    x.id = get<std::string>(t, "id", where);
    std::string tw = where + ": tensor '" + x.id + "'";
    x.kind = get<std::string>(t, "kind", tw);
    x.dtype = get<std::string>(t, "dtype", tw);
    x.shape = shape_from_json(get<json>(t, "shape", tw), tw);
    for (auto& d : x.shape) {
      if (!d.symbolic()) {
        if (d.value < 0) fail(tw, "negative dimension");
        continue;
      }
      auto it = maxes.find(d.sym);
      if (it == maxes.end()) fail(tw, "unknown symbol '" + d.sym + "'");
      d.value = it->second;
    }
    if (t.contains("name") && t["name"].is_string()) x.name = t["name"].get<std::string>();
    if (x.kind == "view") {
      x.view_of = get<std::string>(t, "view_of", tw);
      x.view_offset = get<int64_t>(t, "view_offset", tw);
      if (t.contains("view_strides")) x.view_strides = get<std::vector<int64_t>>(t, "view_strides", tw);
    } else if (x.kind == "input") {
      x.role = get<std::string>(t, "role", tw);
      x.role_params = t.value("role_params", json(nullptr));
    } else if (x.kind != "state" && x.kind != "activation") {
      fail(tw, "unknown kind '" + x.kind + "'");
    }
    dtype_elem_bytes(x.dtype, tw);
    ir.tensors.push_back(std::move(x));
  }
  for (const auto& o : jops) {
    Op op;
    op.id = get<std::string>(o, "id", where);
    std::string ow = where + ": op '" + op.id + "'";
    op.op = get<std::string>(o, "op", ow);
    op.kernel = get<std::string>(o, "kernel", ow);
    op.section = get<std::string>(o, "section", ow);
    op.layer = get<int>(o, "layer", ow);
    if (o.contains("name") && o["name"].is_string()) op.name = o["name"].get<std::string>();
    op.in = get<std::vector<std::string>>(o, "in", ow);
    const json wmap = get<json>(o, "weights", ow);
    if (!wmap.is_object()) fail(ow, "\"weights\" must be an object");
    for (const auto& [role, name] : wmap.items()) {
      if (!name.is_string()) fail(ow, "weight '" + role + "' is not a name");
      op.weights.push_back({role, name.get<std::string>()});
    }
    op.out = get<std::string>(o, "out", ow);
    op.params = o.value("params", json::object());
    op.when_input = opt_string(o, "when_input", ow);
    ir.ops.push_back(std::move(op));
  }
  ir.outputs = get<std::vector<std::string>>(j, "outputs", where);
  ir.contracts = j.value("contracts", json(nullptr));
  // Referential integrity: every tensor an op names exists; views point at existing tensors.
  std::map<std::string, bool> have;
  for (const auto& t : ir.tensors) {
    if (have.count(t.id)) fail(where, "duplicate tensor id '" + t.id + "'");
    have[t.id] = true;
  }
  for (const auto& t : ir.tensors)
    if (t.kind == "view" && !have.count(t.view_of)) fail(where, "view '" + t.id + "' of unknown tensor '" + t.view_of + "'");
  std::map<std::string, bool> wh;
  for (const auto& w : ir.weights) wh[w.name] = true;
  for (const auto& op : ir.ops) {
    for (const auto& i : op.in)
      if (!have.count(i)) fail(where, "op '" + op.id + "' reads unknown tensor '" + i + "'");
    if (!have.count(op.out)) fail(where, "op '" + op.id + "' writes unknown tensor '" + op.out + "'");
    for (const auto& w : op.weights)
      if (!wh.count(w.name)) fail(where, "op '" + op.id + "' uses unknown weight '" + w.name + "'");
  }
  for (const auto& o : ir.outputs)
    if (!have.count(o)) fail(where, "unknown output tensor '" + o + "'");
  return ir;
}

}  // namespace ck::graph
