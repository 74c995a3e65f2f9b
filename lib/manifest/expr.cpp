#include "manifest/expr.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/arith.h"
#include "core/error.h"

namespace ck::manifest {

void EvalContext::template_error(const std::string& what) const { fail(template_path, where + ": " + what); }

void EvalContext::model_error(const std::string& what) const {
  fail(gguf.path(), what + " (template " + std::filesystem::path(template_path).filename().string() + ", " + where +
                        ")");
}

std::string EvalContext::key(const std::string& pattern) const {
  std::string k = pattern;
  for (size_t p = k.find("%s"); p != std::string::npos; p = k.find("%s", p + arch.size())) {
    if (arch.empty()) model_error("missing general.architecture, needed for key \"" + pattern + "\"");
    k.replace(p, 2, arch);
  }
  return k;
}

bool truthy(const json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) return !v.get<std::string>().empty();
  return !v.empty();
}

namespace {

const json& operands(const json& arg, EvalContext& ctx, const std::string& op, size_t min_n, size_t max_n) {
  if (!arg.is_array() || arg.size() < min_n || arg.size() > max_n)
    ctx.template_error("\"" + op + "\" takes a list of " + std::to_string(min_n) +
                       (max_n == min_n ? "" : (max_n > 99 ? " or more" : ".." + std::to_string(max_n))) + " operands");
  return arg;
}

json number_of(const json& v, EvalContext& ctx, const std::string& op) {
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  if (!v.is_number()) ctx.model_error("\"" + op + "\" needs numbers, got " + v.dump());
  return v;
}

// The shared arithmetic core (core/arith.h): the same integer/float and division rules as the graph language.
json arith(const std::string& op, const json& a, const json& b, EvalContext& ctx) {
  auto num = [](const json& v) {
    return v.is_number_integer() ? arith::Number::of_int(v.get<int64_t>()) : arith::Number::of_float(v.get<double>());
  };
  const arith::Op o = op == "add"   ? arith::Op::Add
                      : op == "sub" ? arith::Op::Sub
                      : op == "mul" ? arith::Op::Mul
                      : op == "min" ? arith::Op::Min
                      : op == "max" ? arith::Op::Max
                                    : arith::Op::Div;
  try {
    const arith::Number r = arith::apply(o, num(a), num(b));
    return r.is_float ? json(r.f) : json(r.i);
  } catch (const arith::Error& e) {
    ctx.model_error("\"" + op + "\": " + e.what() + " (" + a.dump() + ", " + b.dump() + ")");
  }
}

bool compare(const std::string& op, const json& a, const json& b) {
  if (op == "eq") return a == b;
  if (op == "ne") return a != b;
  if (op == "lt") return a < b;
  if (op == "le") return a <= b;
  if (op == "gt") return a > b;
  return a >= b;
}

const std::string& literal_string(const json& v, EvalContext& ctx, const std::string& op) {
  if (!v.is_string()) ctx.template_error("\"" + op + "\" takes a string literal");
  return v.get_ref<const std::string&>();
}

int64_t to_index(const json& v, EvalContext& ctx, const std::string& op) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0)
    ctx.model_error("\"" + op + "\" needs a non-negative integer, got " + v.dump());
  return v.get<int64_t>();
}

}  // namespace

json eval(const json& e, EvalContext& ctx) {
  if (e.is_null() || e.is_boolean() || e.is_number()) return e;
  if (e.is_string()) {
    auto it = ctx.values.find(e.get<std::string>());
    if (it == ctx.values.end())
      ctx.template_error("unknown name \"" + e.get<std::string>() + "\" (names resolve in declaration order)");
    return it->second;
  }
  if (e.is_array()) {
    json out = json::array();
    for (const auto& x : e) out.push_back(eval(x, ctx));
    return out;
  }
  if (!e.is_object() || e.size() != 1) ctx.template_error("an expression object has exactly one operator key: " + e.dump());
  const std::string op = e.begin().key();
  const json& arg = e.begin().value();

  if (op == "lit") return arg;
  if (op == "add" || op == "mul" || op == "min" || op == "max" || op == "sub" || op == "div") {
    bool binary = op == "sub" || op == "div";
    const json& xs = operands(arg, ctx, op, 2, binary ? 2 : 1000);
    json acc = number_of(eval(xs[0], ctx), ctx, op);
    for (size_t i = 1; i < xs.size(); ++i) acc = arith(op, acc, number_of(eval(xs[i], ctx), ctx, op), ctx);
    return acc;
  }
  if (op == "eq" || op == "ne" || op == "lt" || op == "le" || op == "gt" || op == "ge") {
    const json& xs = operands(arg, ctx, op, 2, 2);
    return compare(op, eval(xs[0], ctx), eval(xs[1], ctx));
  }
  if (op == "and" || op == "or") {
    const json& xs = operands(arg, ctx, op, 1, 1000);
    for (const auto& x : xs) {
      bool t = truthy(eval(x, ctx));
      if (op == "and" && !t) return false;
      if (op == "or" && t) return true;
    }
    return op == "and";
  }
  if (op == "not") return !truthy(eval(arg, ctx));
  if (op == "if") {
    const json& xs = operands(arg, ctx, op, 3, 3);
    return truthy(eval(xs[0], ctx)) ? eval(xs[1], ctx) : eval(xs[2], ctx);
  }
  if (op == "coalesce") {
    for (const auto& x : operands(arg, ctx, op, 1, 1000)) {
      json v = eval(x, ctx);
      if (!v.is_null()) return v;
    }
    return nullptr;
  }
  if (op == "len") {
    json v = eval(arg, ctx);
    if (v.is_null()) return nullptr;
    if (!v.is_array() && !v.is_string()) ctx.model_error("\"len\" of a non-array value " + v.dump());
    return v.size();
  }
  if (op == "first") {
    json v = eval(arg, ctx);
    if (v.is_array()) return v.empty() ? json(nullptr) : v[0];
    return v;
  }
  if (op == "index") {
    const json& xs = operands(arg, ctx, op, 2, 2);
    json a = eval(xs[0], ctx);
    int64_t i = to_index(eval(xs[1], ctx), ctx, op);
    if (!a.is_array() || static_cast<size_t>(i) >= a.size())
      ctx.model_error("index " + std::to_string(i) + " out of range of " + a.dump());
    return a[static_cast<size_t>(i)];
  }
  if (op == "union") {
    std::set<int64_t> s;
    for (const auto& x : operands(arg, ctx, op, 1, 1000)) {
      json v = eval(x, ctx);
      if (v.is_null()) continue;
      if (!v.is_array()) v = json::array({v});
      for (const auto& y : v) {
        if (!y.is_number_integer()) ctx.model_error("\"union\" of a non-integer " + y.dump());
        s.insert(y.get<int64_t>());
      }
    }
    json out = json::array();
    for (auto v : s) out.push_back(v);
    return out;
  }
  if (op == "tensor_exists") return ctx.gguf.find_tensor(literal_string(arg, ctx, op)) != nullptr;
  if (op == "tensor_ne") {
    if (!arg.is_object() || !arg.contains("tensor") || !arg.contains("dim") || !arg["dim"].is_number_unsigned())
      ctx.template_error("\"tensor_ne\" takes {\"tensor\": name, \"dim\": d}");
    const std::string& name = literal_string(arg["tensor"], ctx, op);
    const auto* t = ctx.gguf.find_tensor(name);
    if (t == nullptr) ctx.model_error("missing tensor \"" + name + "\"");
    size_t d = arg["dim"].get<size_t>();
    return d < t->ne.size() ? t->ne[d] : int64_t{1};
  }
  if (op == "tensor_indices") {
    if (!arg.is_object() || !arg.contains("pattern") || !arg.contains("count"))
      ctx.template_error("\"tensor_indices\" takes {\"pattern\": \"...%d...\", \"count\": e}");
    const std::string& pat = literal_string(arg["pattern"], ctx, op);
    size_t p = pat.find("%d");
    if (p == std::string::npos) ctx.template_error("\"tensor_indices\" pattern has no %d");
    int64_t n = to_index(eval(arg["count"], ctx), ctx, op);
    json out = json::array();
    for (int64_t i = 0; i < n; ++i)
      if (ctx.gguf.find_tensor(pat.substr(0, p) + std::to_string(i) + pat.substr(p + 2)) != nullptr) out.push_back(i);
    return out;
  }
  if (op == "gguf_len") {
    const gguf::Value* v = ctx.gguf.find(ctx.key(literal_string(arg, ctx, op)));
    if (v == nullptr) return nullptr;
    if (v->type != gguf::ValueType::ARRAY) ctx.model_error("key \"" + ctx.key(arg.get<std::string>()) + "\" is not an array");
    return v->arr.size();
  }
  if (op == "vocab_ids") {
    if (!arg.is_object() || !arg.contains("key") || !arg.contains("texts") || !arg["texts"].is_array())
      ctx.template_error("\"vocab_ids\" takes {\"key\": k, \"texts\": [...]}");
    const std::string key = ctx.key(literal_string(arg["key"], ctx, op));
    auto cached = ctx.vocab_cache.find(key);
    if (cached == ctx.vocab_cache.end()) {
      std::unordered_map<std::string, int64_t> m;
      const gguf::Value* v = ctx.gguf.find(key);
      if (v != nullptr) {
        if (v->type != gguf::ValueType::ARRAY || v->elem_type != gguf::ValueType::STRING)
          ctx.model_error("key \"" + key + "\" is not a string array");
        for (size_t i = 0; i < v->arr.size(); ++i) m[v->arr[i].s] = static_cast<int64_t>(i);
      }
      cached = ctx.vocab_cache.emplace(key, std::move(m)).first;
    }
    std::set<int64_t> ids;
    for (const auto& t : arg["texts"]) {
      auto it = cached->second.find(literal_string(t, ctx, op));
      if (it != cached->second.end()) ids.insert(it->second);
    }
    json out = json::array();
    for (auto i : ids) out.push_back(i);
    return out;
  }
  ctx.template_error("unknown operator \"" + op + "\"");
}

}  // namespace ck::manifest
