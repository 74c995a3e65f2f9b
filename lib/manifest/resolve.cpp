#include "manifest/resolve.h"

#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "bump/metadata.h"
#include "core/error.h"
#include "manifest/expr.h"

namespace ck::manifest {

namespace {

const std::set<std::string> kSpecFields = {"gguf", "type", "required", "default", "default_expr", "value",
                                           "min_len", "array_len", "broadcast_len", "enum", "below",
                                           "check", "emit", "summary", "doc"};

std::string gguf_type_name(const gguf::Value& v) {
  if (v.type == gguf::ValueType::ARRAY) return std::string(gguf::value_type_name(v.elem_type)) + "[]";
  return gguf::value_type_name(v.type);
}

bool type_matches(const std::string& want, const gguf::Value& v) {
  if (want == "array") return v.type == gguf::ValueType::ARRAY;
  return want == gguf_type_name(v);
}

std::vector<std::string> type_list(const json& spec, EvalContext& ctx) {
  std::vector<std::string> out;
  if (!spec.contains("type")) return out;
  const json& t = spec["type"];
  if (t.is_string()) out.push_back(t.get<std::string>());
  else if (t.is_array()) {
    for (const auto& x : t) {
      if (!x.is_string()) ctx.template_error("\"type\" must be a string or a list of strings");
      out.push_back(x.get<std::string>());
    }
  } else {
    ctx.template_error("\"type\" must be a string or a list of strings");
  }
  return out;
}

// A scalar-typed value in its declared type: f32 rounds to float (so the JSON shows the float's
// shortest decimal), integer types are range-checked.
json cast_to(const std::string& type, const json& v, EvalContext& ctx) {
  if (v.is_null() || v.is_array() || v.is_object()) return v;
  if (type == "f32" || type == "f64") {
    if (!v.is_number()) ctx.model_error("value " + v.dump() + " is not a number (" + type + ")");
    double d = v.get<double>();
    return type == "f32" ? bump::json_float32(static_cast<float>(d)) : json(d);
  }
  static const std::map<std::string, std::pair<double, double>> ranges = {
      {"u8", {0, 255}}, {"i8", {-128, 127}}, {"u16", {0, 65535}}, {"i16", {-32768, 32767}},
      {"u32", {0, 4294967295.0}}, {"i32", {-2147483648.0, 2147483647.0}},
      {"u64", {0, 1.8446744073709552e19}}, {"i64", {-9.2233720368547758e18, 9.2233720368547758e18}}};
  auto r = ranges.find(type);
  if (r != ranges.end()) {
    if (!v.is_number_integer()) ctx.model_error("value " + v.dump() + " is not an integer (" + type + ")");
    double d = v.get<double>();
    if (d < r->second.first || d > r->second.second) ctx.model_error("value " + v.dump() + " out of range for " + type);
  }
  if (type == "bool" && !v.is_boolean()) ctx.model_error("value " + v.dump() + " is not a bool");
  if (type == "string" && !v.is_string()) ctx.model_error("value " + v.dump() + " is not a string");
  return v;
}

int64_t eval_count(const json& spec_field, EvalContext& ctx, const char* what) {
  json n = eval(spec_field, ctx);
  if (!n.is_number_integer() || n.get<int64_t>() < 0)
    ctx.model_error(std::string("\"") + what + "\" evaluates to " + n.dump() + ", not a count");
  return n.get<int64_t>();
}

json resolve_param(const json& spec, EvalContext& ctx) {
  if (!spec.is_object()) ctx.template_error("a parameter spec must be an object");
  for (auto it = spec.begin(); it != spec.end(); ++it)
    if (!kSpecFields.count(it.key())) ctx.template_error("unknown field \"" + it.key() + "\"");
  if (spec.contains("gguf") == spec.contains("value"))
    ctx.template_error("exactly one of \"gguf\" (a GGUF key) or \"value\" (an expression) is required");
  const std::vector<std::string> types = type_list(spec, ctx);
  const bool required = spec.value("required", false);

  json v;
  if (spec.contains("value")) {
    v = eval(spec["value"], ctx);
    if (required && v.is_null()) ctx.model_error("required value is missing");
  } else {
    if (!spec["gguf"].is_string()) ctx.template_error("\"gguf\" must be a key string");
    const std::string key = ctx.key(spec["gguf"].get<std::string>());
    // Default first: llama-vocab disables a default special-token id that is outside the vocab.
    json def = nullptr;
    if (spec.contains("default") && spec.contains("default_expr"))
      ctx.template_error("give \"default\" or \"default_expr\", not both");
    if (spec.contains("default")) def = spec["default"];
    if (spec.contains("default_expr")) def = eval(spec["default_expr"], ctx);
    json below = spec.contains("below") ? eval(spec["below"], ctx) : json(nullptr);
    if (!below.is_null() && def.is_number() && def >= below) def = nullptr;

    const gguf::Value* gv = ctx.gguf.find(key);
    if (gv == nullptr) {
      if (required) ctx.model_error("missing required key " + key);
      v = def;
    } else {
      if (!types.empty()) {
        bool ok = false;
        for (const auto& t : types) ok = ok || type_matches(t, *gv);
        if (!ok) {
          std::string want;
          for (const auto& t : types) want += (want.empty() ? "" : " or ") + t;
          ctx.model_error("key " + key + " has type " + gguf_type_name(*gv) + ", expected " + want);
        }
      }
      const bool is_arr = gv->type == gguf::ValueType::ARRAY;
      if (is_arr && spec.contains("array_len")) {
        int64_t n = eval_count(spec["array_len"], ctx, "array_len");
        if (gv->arr.size() != static_cast<size_t>(n))
          ctx.model_error("key " + key + " has " + std::to_string(gv->arr.size()) + " elements, expected " +
                          std::to_string(n));
      }
      if (spec.contains("min_len")) {
        int64_t n = eval_count(spec["min_len"], ctx, "min_len");
        size_t have = is_arr ? gv->arr.size() : 1;
        if (!is_arr || have < static_cast<size_t>(n))
          ctx.model_error("key " + key + " must be an array of at least " + std::to_string(n) + " elements, got " +
                          (is_arr ? std::to_string(have) : "a scalar"));
      }
      if (spec.value("summary", "") == "len") {
        if (!is_arr) ctx.model_error("key " + key + " is not an array");
        v = gv->arr.size();
      } else if (spec.contains("summary")) {
        ctx.template_error("\"summary\" supports only \"len\"");
      } else {
        for (const auto& e : gv->arr)
          if (e.type == gguf::ValueType::ARRAY) ctx.model_error("key " + key + " is a nested array");
        v = bump::value_to_json(*gv)["value"];
      }
      if (!below.is_null() && v.is_number() && v >= below) v = def;  // llama-vocab: "bad special token"
    }
    if (v.is_number() || v.is_boolean() || v.is_string()) {
      if (spec.contains("broadcast_len")) {
        int64_t n = eval_count(spec["broadcast_len"], ctx, "broadcast_len");
        v = json::array();
        json x = gv != nullptr ? bump::value_to_json(*gv)["value"] : def;
        for (int64_t i = 0; i < n; ++i) v.push_back(x);
      }
    }
  }
  // Scalar declared types are applied to derived values and defaults too (e.g. f32 rounding).
  if (types.size() == 1 && types[0].find("[]") == std::string::npos && types[0] != "array")
    v = cast_to(types[0], v, ctx);
  if (spec.contains("enum")) {
    if (!spec["enum"].is_array()) ctx.template_error("\"enum\" must be a list");
    bool ok = false;
    for (const auto& x : spec["enum"]) ok = ok || x == v;
    if (!ok) ctx.model_error("value " + v.dump() + " is not supported (allowed: " + spec["enum"].dump() + ")");
  }
  return v;
}

void run_checks(const json& spec, EvalContext& ctx) {
  if (!spec.contains("check")) return;
  json checks = spec["check"].is_array() ? spec["check"] : json::array({spec["check"]});
  for (const auto& c : checks) {
    if (!c.is_object() || !c.contains("expr") || !c.contains("message") || !c["message"].is_string())
      ctx.template_error("a check is {\"expr\": e, \"message\": \"...\"}");
    if (!truthy(eval(c["expr"], ctx))) ctx.model_error("check failed: " + c["message"].get<std::string>());
  }
}

}  // namespace

json resolve_contract(const TemplateRef& tmpl, const gguf::Reader& gguf) {
  EvalContext ctx{gguf, "", tmpl.path, "", {}, {}};
  if (const gguf::Value* a = gguf.find("general.architecture"); a != nullptr && a->type == gguf::ValueType::STRING)
    ctx.arch = a->s;
  json out = json::object();
  for (const char* section : kContractSections) {
    if (!tmpl.doc.contains(section)) continue;
    const json& sec = tmpl.doc[section];
    if (!sec.is_object()) fail(tmpl.path, std::string(section) + ": must be an object of parameter specs");
    json res = json::object();
    for (auto it = sec.begin(); it != sec.end(); ++it) {
      if (it.key().rfind("_", 0) == 0) continue;  // "_doc" and other comments
      ctx.where = std::string(section) + "." + it.key();
      json v = resolve_param(it.value(), ctx);
      // Every value is reachable as "section.name"; the bare "name" means its first definition.
      ctx.values[ctx.where] = v;
      ctx.values.emplace(it.key(), v);
      run_checks(it.value(), ctx);
      if (it.value().value("emit", true)) res[it.key()] = std::move(v);
    }
    out[section] = std::move(res);
  }
  return out;
}

}  // namespace ck::manifest
