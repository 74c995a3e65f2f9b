// Template expansion. The op vocabulary's shape rules live in shape_rules.cpp; everything model-specific
// (which ops, which weights, which names, how many layers) comes from the template and the manifest.
#include "lower/lower.h"

#include <map>
#include <set>

#include "core/error.h"
#include "graph/expr.h"
#include "lower/shape_rules.h"
#include "manifest/template_select.h"

namespace ck::lower {

using graph::Dim;
using graph::Number;
using graph::Shape;
using graph::Tensor;

namespace {

const std::set<std::string> kOpKeys = {"id", "op", "in", "w", "params", "name", "out", "shape", "when",
                                       "into", "collect", "when_input", "offset", "strides", "comment", "ggml"};

// The manifest's tensor table as ir1 weights (row-major shapes; the manifest lists ggml's ne, fastest first).
std::vector<graph::Weight> ir1_weights(const Manifest& m) {
  std::vector<graph::Weight> out;
  out.reserve(m.tensors.size());
  for (const auto& t : m.tensors) out.push_back({t.name, t.dtype, {t.ne.rbegin(), t.ne.rend()}, t.offset, t.nbytes});
  return out;
}

struct Scope {
  std::map<std::string, std::string> names;  // local name -> tensor id
  const Scope* parent = nullptr;
  const std::string* lookup(const std::string& n) const {
    auto it = names.find(n);
    if (it != names.end()) return &it->second;
    return parent ? parent->lookup(n) : nullptr;
  }
};

struct Lowerer {
  const Manifest& m;
  const json& t;
  const std::string& tpath;
  Options opt;
  graph::Ir1 ir;
  std::map<std::string, size_t> sym_index;
  std::map<std::string, const graph::Weight*> weights;
  std::set<std::string> used;
  std::map<std::string, size_t> tensor_index;
  std::map<std::string, std::vector<std::string>> collected;
  std::set<std::string> op_ids;

  // A config key ("n_embd"), or "<section>.<key>" of another manifest contract ("preprocess.image_max_tokens").
  const json* lookup_key(const std::string& n) const {
    if (m.config.contains(n)) return &m.config[n];
    auto dot = n.find('.');
    if (dot == std::string::npos) return nullptr;
    const std::string sec = n.substr(0, dot), key = n.substr(dot + 1);
    if (sec == "tensors" || !m.doc.contains(sec) || !m.doc[sec].is_object() || !m.doc[sec].contains(key)) return nullptr;
    return &m.doc[sec][key];
  }
  graph::NameResolver resolver(int layer) const {
    return [this, layer](const std::string& n) -> std::optional<Number> {
      if (n == "layer" && layer >= 0) return Number::of_int(layer);
      const json* vp = lookup_key(n);
      if (!vp) return std::nullopt;
      const json& v = *vp;
      if (v.is_boolean()) return Number::of_int(v.get<bool>() ? 1 : 0);
      if (v.is_number_integer()) return Number::of_int(v.get<int64_t>());
      if (v.is_number()) return Number::of_float(v.get<double>());
      return std::nullopt;
    };
  }
  int64_t ival(const json& e, const std::string& where, int layer) const {
    if (e.is_number_integer()) return e.get<int64_t>();
    if (!e.is_string()) fail(where, "expected a number or an expression string");
    return graph::eval_int(e.get<std::string>(), resolver(layer), where);
  }
  // "{...}" parts of a pattern are expressions ("v.blk.{layer}.ln1.weight", "norm_w-{n_layer}").
  std::string subst(const std::string& pat, const std::string& where, int layer) const {
    std::string out;
    for (size_t i = 0; i < pat.size(); ++i) {
      if (pat[i] != '{') { out += pat[i]; continue; }
      size_t j = pat.find('}', i);
      if (j == std::string::npos) fail(where, "unterminated '{' in '" + pat + "'");
      out += std::to_string(graph::eval_int(pat.substr(i + 1, j - i - 1), resolver(layer), where));
      i = j;
    }
    return out;
  }
  Dim dim(const json& d, const std::string& where, int layer) const {
    if (d.is_string() && graph::is_identifier(d.get<std::string>()) && sym_index.count(d.get<std::string>())) {
      const auto& s = ir.symbols[sym_index.at(d.get<std::string>())];
      return {s.max, s.name};
    }
    int64_t v = ival(d, where, layer);
    if (v < 0) fail(where, "negative dimension");
    return {v, ""};
  }
  Shape shape(const json& a, const std::string& where, int layer) const {
    if (!a.is_array()) fail(where, "\"shape\" must be an array");
    Shape s;
    for (const auto& d : a) s.push_back(dim(d, where, layer));
    return s;
  }
  json param(const json& v, const std::string& where, int layer) const {
    if (v.is_number() || v.is_boolean() || v.is_null()) return v;
    if (v.is_array()) {
      json a = json::array();
      for (const auto& x : v) a.push_back(param(x, where, layer));
      return a;
    }
    if (v.is_object()) {
      if (v.size() == 1 && v.contains("str") && v["str"].is_string()) return v["str"];
      fail(where, "a parameter object must be {\"str\": \"...\"}");
    }
    const std::string s = v.get<std::string>();
    if (graph::is_identifier(s)) {
      if (sym_index.count(s)) return json{{"symbol", s}};
      const json* cv = s == "layer" ? nullptr : lookup_key(s);
      if (cv && !cv->is_number() && !cv->is_boolean()) return *cv;  // lists (rope sections) pass through
    }
    Number n = graph::eval_expr(s, resolver(layer), where);
    return n.is_float ? json(n.f) : json(n.i);
  }
  bool when(const json& w, const std::string& where, int layer) const {
    if (!w.is_object() || w.size() != 1) fail(where, "\"when\" must have exactly one condition");
    auto [k, v] = *w.items().begin();
    if (k == "layer_in") {
      if (!v.is_string()) fail(where, "layer_in needs a config key");
      const std::string key = v.get<std::string>();
      if (!m.config.contains(key)) fail(where, "unknown config key '" + key + "'");
      if (!m.config[key].is_array()) fail(m.path, "config key '" + key + "' is not a list");
      for (const auto& x : m.config[key])
        if (x.is_number_integer() && x.get<int64_t>() == layer) return true;
      return false;
    }
    int64_t x = ival(v, where, layer);
    if (k == "layer_lt") return layer < x;
    if (k == "layer_eq") return layer == x;
    if (k == "layer_ne") return layer != x;
    if (k == "layer_ge") return layer >= x;
    fail(where, "unknown condition '" + k + "'");
  }

  Tensor& add_tensor(Tensor x, const std::string& where) {
    if (tensor_index.count(x.id)) fail(where, "duplicate tensor id '" + x.id + "'");
    tensor_index[x.id] = ir.tensors.size();
    ir.tensors.push_back(std::move(x));
    return ir.tensors.back();
  }
  const Tensor& tensor(const std::string& id) const { return ir.tensors[tensor_index.at(id)]; }

  void symbols() {
    if (!t.contains("symbols")) return;
    if (!t["symbols"].is_object()) fail(tpath, "\"symbols\" must be an object");
    for (const auto& [name, s] : t["symbols"].items()) {
      const std::string where = tpath + ": symbol '" + name + "'";
      graph::Symbol y;
      y.name = name;
      y.option = s.value("option", std::string());
      if (s.contains("of")) {
        const std::string base = s["of"].get<std::string>();
        if (!sym_index.count(base)) fail(where, "unknown symbol '" + base + "'");
        int64_t mul = s.contains("mul") ? ival(s["mul"], where, -1) : 1, div = s.contains("div") ? ival(s["div"], where, -1) : 1;
        if (mul <= 0 || div <= 0) fail(where, "mul/div must be positive");
        y.def = {{"of", base}, {"mul", mul}, {"div", div}};
        y.max = ir.symbols[sym_index.at(base)].max * mul / div;
      } else if (s.contains("product")) {
        for (const auto& f : s["product"])
          if (!f.is_string() || !sym_index.count(f.get<std::string>())) fail(where, "product of unknown symbols");
        y.def = {{"product", s["product"]}, {"div", s.contains("div") ? ival(s["div"], where, -1) : 1}};
      }
      if (s.contains("max")) y.max = ival(s["max"], where, -1);
      else if (!s.contains("of")) fail(where, "needs \"max\" (its worst case)");
      if (y.max <= 0) fail(where, "max must be positive");
      sym_index[name] = ir.symbols.size();
      ir.symbols.push_back(y);
    }
  }

  void declare(const json& list, const std::string& kind, Scope& scope, const std::string& prefix, int layer) {
    if (!list.is_array()) fail(tpath, "\"" + kind + "\" must be a list");
    for (const auto& d : list) {
      if (!d.is_object() || !d.contains("id") || !d["id"].is_string()) fail(tpath, kind + " entry without an id");
      const std::string id = d["id"].get<std::string>();
      const std::string where = tpath + ": " + kind + " '" + id + "'";
      Tensor x;
      x.id = prefix + id;
      x.kind = kind == "inputs" ? "input" : "state";
      x.dtype = d.value("dtype", std::string());
      if (x.dtype.empty()) fail(where, "missing dtype");
      graph::dtype_elem_bytes(x.dtype, where);
      if (!d.contains("shape")) fail(where, "missing shape");
      x.shape = shape(d["shape"], where, layer);
      if (d.contains("name")) x.name = subst(d["name"].get<std::string>(), where, layer);
      if (x.kind == "input") {
        x.role = d.value("role", std::string());
        if (x.role.empty()) fail(where, "an input needs a \"role\" (what the runtime writes there)");
        if (d.contains("role_params")) {
          x.role_params = json::object();
          for (const auto& [k, v] : d["role_params"].items()) x.role_params[k] = param(v, where, layer);
        }
      }
      scope.names[id] = x.id;
      add_tensor(std::move(x), where);
    }
  }

  std::string resolve_in(const Scope& scope, const std::string& n, const std::string& where) const {
    const std::string* id = scope.lookup(n);
    if (!id) fail(where, "unknown tensor '" + n + "'");
    return *id;
  }

  const graph::Weight* bind_weight(const json& ref, const std::string& where, int layer) {
    std::vector<std::string> names;
    if (ref.is_string()) names.push_back(subst(ref.get<std::string>(), where, layer));
    else if (ref.is_object() && ref.contains("name")) {
      names.push_back(subst(ref["name"].get<std::string>(), where, layer));
      if (ref.contains("or")) names.push_back(subst(ref["or"].get<std::string>(), where, layer));
    } else fail(where, "a weight reference is a name pattern or {\"name\", \"or\"}");
    for (const auto& n : names) {
      auto it = weights.find(n);
      if (it == weights.end()) continue;
      used.insert(n);
      check_weight_shape(*it->second, ref.is_string() ? ref.get<std::string>() : ref["name"].get<std::string>(), layer);
      return it->second;
    }
    fail(m.path, "template weight '" + names[0] + "' is missing from the model (" + where + ")");
  }
  void check_weight_shape(const graph::Weight& w, const std::string& pattern, int layer) {
    if (!t.contains("weights") || !t["weights"].contains(pattern)) return;
    const std::string where = tpath + ": weights '" + pattern + "'";
    const json& exp = t["weights"][pattern];
    bool ok = exp.size() == w.shape.size();
    for (size_t i = 0; ok && i < exp.size(); ++i)
      if (!(exp[i].is_string() && exp[i] == "*") && ival(exp[i], where, layer) != w.shape[i]) ok = false;
    if (!ok) {
      std::string want, got;
      for (size_t i = 0; i < exp.size(); ++i) {
        if (i) want += ',';
        want += exp[i] == "*" ? std::string("*") : std::to_string(ival(exp[i], where, layer));
      }
      for (size_t i = 0; i < w.shape.size(); ++i) {
        if (i) got += ',';
        got += std::to_string(w.shape[i]);
      }
      fail(m.path, "shape mismatch: tensor '" + w.name + "' is [" + got + "], template expects [" + want + "]");
    }
  }

  void expand(const json& ops, const std::string& section, int layer, Scope& scope, const std::string& prefix) {
    if (!ops.is_array()) fail(tpath, "\"" + section + "\" ops must be a list");
    for (const auto& o : ops) {
      if (!o.is_object() || !o.contains("id") || !o["id"].is_string() || !o.contains("op") || !o["op"].is_string())
        fail(tpath, section + ": every op needs string \"id\" and \"op\"");
      const std::string oid = o["id"].get<std::string>(), opname = o["op"].get<std::string>();
      std::string where = tpath + ": " + section + " op '" + oid + "'";
      if (layer >= 0) where += " (layer " + std::to_string(layer) + ")";
      for (const auto& [k, v] : o.items())
        if (!kOpKeys.count(k)) fail(where, "unknown key '" + k + "'");
      if (o.contains("when") && !when(o["when"], where, layer)) continue;
      const std::string id = prefix + oid;
      if (!op_ids.insert(id).second) fail(where, "duplicate op id '" + id + "'");
      const std::string local = o.value("out", oid);

      std::vector<std::string> in;
      for (const auto& x : o.value("in", json::array())) {
        if (!x.is_string()) fail(where, "inputs are tensor names");
        const std::string n = x.get<std::string>();
        if (n.size() > 1 && n[0] == '@') {  // a collected list (branch outputs), in collection order
          auto it = collected.find(n.substr(1));  // nothing collected (no tapped layer) = empty list
          if (it != collected.end()) in.insert(in.end(), it->second.begin(), it->second.end());
        } else {
          in.push_back(resolve_in(scope, n, where));
        }
      }
      std::optional<std::string> name;
      if (o.contains("name") && o["name"].is_string()) name = subst(o["name"].get<std::string>(), where, layer);

      if (opname == "view") {  // an alias, no call: shape + element offset + element strides of input 0
        if (in.size() != 1) fail(where, "a view has exactly one input");
        const Tensor& base = tensor(in[0]);
        const uint64_t es = graph::dtype_elem_bytes(base.dtype, where);
        Tensor v;
        v.id = id;
        v.kind = "view";
        v.dtype = base.dtype;
        v.shape = shape(o.value("shape", json()), where, layer);
        v.name = name;
        v.view_of = in[0];
        v.view_offset = o.contains("offset") ? ival(o["offset"], where, layer) * int64_t(es) : 0;
        if (o.contains("strides")) {
          for (const auto& s : o["strides"]) v.view_strides.push_back(ival(s, where, layer) * int64_t(es));
          if (v.view_strides.size() != v.shape.size()) fail(where, "strides and shape differ in rank");
        }
        check_view_fits(v, base, where);
        scope.names[local] = id;
        add_tensor(std::move(v), where);
        continue;
      }

      graph::Op op;
      op.id = id;
      op.op = opname;
      op.section = section;
      op.layer = layer;
      op.name = name;
      op.in = in;
      std::vector<const graph::Weight*> ws;
      if (o.contains("w")) {
        if (!o["w"].is_object()) fail(where, "\"w\" maps roles to weight names");
        for (const auto& [role, ref] : o["w"].items()) {
          const graph::Weight* w = bind_weight(ref, where, layer);
          op.weights.push_back({role, w->name});
          ws.push_back(w);
        }
      }
      const std::string wdt = ws.empty() ? "none" : ws[0]->dtype;
      const std::string adt = in.empty() ? "none" : tensor(in[0]).dtype;
      const auto* k = registry::find_kernel(opname, wdt, adt, opt.mode);
      if (!k) {
        if (!registry::has_op(opname)) fail(where, "unknown op '" + opname + "'");
        fail(where, "no kernel for op '" + opname + "' with weight dtype " + wdt + " and activation dtype " + adt +
                        " (mode " + registry::mode_name(opt.mode) + ")" + (ws.empty() ? "" : ", weight '" + ws[0]->name + "'"));
      }
      op.kernel = k->id;
      const std::string odt = std::string(k->out) == "same" ? adt : k->out;

      std::vector<const Tensor*> ins;
      for (const auto& x : in) ins.push_back(&tensor(x));
      std::optional<Shape> explicit_shape;
      if (o.contains("shape")) explicit_shape = shape(o["shape"], where, layer);
      if (o.contains("params")) {
        if (!o["params"].is_object()) fail(where, "\"params\" must be an object");
        op.params = json::object();
        for (const auto& [pk, pv] : o["params"].items()) op.params[pk] = param(pv, where, layer);
      }
      Shape out_shape = infer_shape(opname, ins, ws, explicit_shape, m.path, where,
                                    o.contains("params") ? &op.params : nullptr);
      op.when_input = o.value("when_input", std::string());
      if (!op.when_input.empty() && !scope.lookup(op.when_input)) fail(where, "when_input names unknown input '" + op.when_input + "'");
      if (!op.when_input.empty()) op.when_input = *scope.lookup(op.when_input);

      if (o.contains("into")) {  // writes an existing input/state tensor (KV cache store, embedding select)
        const std::string target = resolve_in(scope, o["into"].get<std::string>(), where);
        const Tensor& tt = tensor(target);
        if (tt.kind != "state" && tt.kind != "input") fail(where, "\"into\" must name an input or state tensor");
        if (tt.dtype != odt) fail(where, "kernel " + op.kernel + " writes " + odt + " but '" + target + "' is " + tt.dtype);
        if (!explicit_shape && !same_shape(out_shape, tt.shape)) fail(m.path, "shape mismatch: " + where + " output does not fit '" + target + "'");
        op.out = target;
      } else {
        Tensor x;
        x.id = id;
        x.kind = "activation";
        x.dtype = odt;
        x.shape = out_shape;
        x.name = name;
        add_tensor(std::move(x), where);
        op.out = id;
        scope.names[local] = id;
      }
      if (o.contains("collect")) collected[o["collect"].get<std::string>()].push_back(op.out);
      ir.ops.push_back(std::move(op));
    }
  }

  void check_view_fits(const Tensor& v, const Tensor& base, const std::string& where) const {
    for (int64_t s : v.view_strides)
      if (s < 0) fail(where, "negative stride");
    // Worst-case extent of the view must lie inside the base.
    const uint64_t es = graph::dtype_elem_bytes(v.dtype, where);
    uint64_t end = uint64_t(v.view_offset) + es;
    if (v.view_strides.empty()) {
      uint64_t n = 1;
      for (const auto& d : v.shape) n *= uint64_t(d.value);
      end = uint64_t(v.view_offset) + n * es;
    } else {
      for (size_t i = 0; i < v.shape.size(); ++i)
        if (v.shape[i].value > 0) end += uint64_t(v.shape[i].value - 1) * uint64_t(v.view_strides[i]);
      for (size_t i = 0; i < v.shape.size(); ++i)
        if (v.shape[i].symbolic() && i > 0) fail(where, "only the outermost dimension of a strided view may be symbolic");
    }
    if (end > graph::worst_case_bytes(base)) fail(m.path, "shape mismatch: " + where + " reaches past the end of '" + base.id + "'");
  }

  graph::Ir1 run() {
    if (!t.is_object()) fail(tpath, "not a JSON object");
    if (!t.contains("format") || t["format"] != manifest::kTemplateFormat)
      fail(tpath, std::string("not a ") + manifest::kTemplateFormat + " file (format)");
    if (!t.contains("version") || t["version"] != manifest::kTemplateVersion)
      fail(tpath, std::string("unsupported ") + manifest::kTemplateFormat + " version (this ck reads " +
                      std::to_string(manifest::kTemplateVersion) + ")");
    if (!t.contains("body")) fail(tpath, "missing \"body\"");
    ir.weights = ir1_weights(m);
    for (const auto& w : ir.weights) weights[w.name] = &w;
    ir.arch = m.arch;
    ir.template_name = t.value("name", std::string());
    ir.mode = registry::mode_name(opt.mode);
    ir.source = {{"manifest", m.path}, {"gguf", m.doc.value("source", json(nullptr))}, {"bump", m.doc.value("bump", json(nullptr))}};
    symbols();
    Scope global;
    if (t.contains("inputs")) declare(t["inputs"], "inputs", global, "", -1);
    if (t.contains("state")) declare(t["state"], "state", global, "", -1);
    if (t.contains("header")) expand(t["header"], "header", -1, global, "");

    const json& body = t["body"];
    if (!body.is_object() || !body.contains("repeat") || !body.contains("ops")) fail(tpath, "\"body\" needs \"repeat\" and \"ops\"");
    const int64_t n = ival(body["repeat"], tpath + ": body.repeat", -1);
    if (n < 0 || n > 100000) fail(tpath, "body.repeat out of range");
    std::map<std::string, std::string> carry;  // carried name -> tensor id for the next layer
    if (body.contains("carry"))
      for (const auto& [name, c] : body["carry"].items())
        carry[name] = resolve_in(global, c.at("init").get<std::string>(), tpath + ": body.carry." + name);
    for (int L = 0; L < int(n); ++L) {
      Scope s;
      s.parent = &global;
      for (const auto& [name, id] : carry) s.names[name] = id;
      const std::string prefix = "blk." + std::to_string(L) + ".";
      if (body.contains("state")) declare(body["state"], "state", s, prefix, L);
      expand(body["ops"], "body", L, s, prefix);
      if (body.contains("carry"))
        for (const auto& [name, c] : body["carry"].items())
          carry[name] = resolve_in(s, c.at("next").get<std::string>(), tpath + ": body.carry." + name);
    }
    for (const auto& [name, id] : carry) global.names[name] = id;
    if (t.contains("footer")) expand(t["footer"], "footer", -1, global, "");
    if (!t.contains("outputs") || !t["outputs"].is_array() || t["outputs"].empty()) fail(tpath, "missing \"outputs\"");
    for (const auto& o : t["outputs"]) ir.outputs.push_back(resolve_in(global, o.get<std::string>(), tpath + ": outputs"));

    for (const auto& w : m.tensors)
      if (!used.count(w.name))
        fail(m.path, "model tensor '" + w.name + "' is not used by template " + ir.template_name);
    json contracts = json::object();
    for (const char* k : {"preprocess", "chat", "bridge", "numerics", "config"})
      if (m.doc.contains(k)) contracts[k] = m.doc[k];
    if (t.contains("contracts")) contracts["graph"] = t["contracts"];
    ir.contracts = contracts;
    return std::move(ir);
  }
};

}  // namespace

graph::Ir1 lower(const Manifest& m, const json& tmpl, const std::string& template_path, const Options& opt) {
  Lowerer L{m, tmpl, template_path, opt, {}, {}, {}, {}, {}, {}, {}};
  return L.run();
}

}  // namespace ck::lower
