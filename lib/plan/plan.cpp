#include "plan/plan.h"

#include <algorithm>
#include <set>

#include "core/error.h"
#include "plan/call_file.h"
#include "plan/pack.h"
#include "registry/catalogue.h"

namespace ck::plan {

using graph::json;
using graph::Tensor;

void apply_bounds(graph::Ir1& ir, const std::map<std::string, int64_t>& bounds) {
  std::set<std::string> used;
  std::map<std::string, int64_t> max;
  for (auto& s : ir.symbols) {
    for (const auto& [k, v] : bounds)
      if (k == s.option || k == s.name) {
        if (v <= 0) fail("--bound " + k, "must be positive");
        s.max = v;
        used.insert(k);
      }
    max[s.name] = s.max;
  }
  for (const auto& [k, v] : bounds)
    if (!used.count(k)) fail("--bound " + k, "no symbol or option of that name in this graph");
  // Derived symbols ({"of":a,"mul":m,"div":d}) follow their base, in declaration order.
  for (auto& s : ir.symbols) {
    if (s.def.is_object() && s.def.contains("of") && !bounds.count(s.name) && !bounds.count(s.option)) {
      int64_t base = max.at(s.def["of"].get<std::string>());
      s.max = base * s.def.value("mul", int64_t(1)) / s.def.value("div", int64_t(1));
    }
    max[s.name] = s.max;
  }
  for (auto& t : ir.tensors)
    for (auto& d : t.shape)
      if (d.symbolic()) d.value = max.at(d.sym);
}

namespace {

struct Ctx {
  const graph::Ir1& ir;
  std::map<std::string, const Tensor*> by_id;
  // tensor id -> (base tensor id, byte offset within the base)
  std::pair<std::string, int64_t> base_of(const std::string& id) const {
    const Tensor* t = by_id.at(id);
    int64_t off = 0;
    int guard = 0;
    while (t->kind == "view") {
      off += t->view_offset;
      t = by_id.at(t->view_of);
      if (++guard > 64) fail(t->id, "view chain too deep (cycle?)");
    }
    return {t->id, off};
  }
};

json arg_json(const Ctx& c, const std::string& arg, const std::string& id, const std::map<std::string, uint64_t>& off) {
  const Tensor* t = c.by_id.at(id);
  auto [base, voff] = c.base_of(id);
  json a{{"arg", arg}, {"tensor", id}, {"buffer", "arena"}, {"byte_offset", off.at(base) + uint64_t(voff)},
         {"dtype", t->dtype}, {"shape", graph::shape_to_json(t->shape)}};
  if (!t->view_strides.empty()) a["strides"] = t->view_strides;
  return a;
}

}  // namespace

Result plan(graph::Ir1 ir, const Options& opt) {
  apply_bounds(ir, opt.bounds);
  Ctx c{ir, {}};
  for (const auto& t : ir.tensors) c.by_id[t.id] = &t;
  const int n_ops = int(ir.ops.size());
  const int last_op = std::max(0, n_ops - 1);

  // 1. Live ranges of base buffers over op indices.
  std::map<std::string, std::pair<int, int>> live;  // base id -> [first, last]
  auto touch = [&](const std::string& id, int i) {
    auto base = c.base_of(id).first;
    auto it = live.find(base);
    if (it == live.end()) live[base] = {i, i};
    else it->second = {std::min(it->second.first, i), std::max(it->second.second, i)};
  };
  for (int i = 0; i < n_ops; ++i) {
    for (const auto& x : ir.ops[size_t(i)].in) touch(x, i);
    touch(ir.ops[size_t(i)].out, i);
  }
  std::set<std::string> outputs;
  for (const auto& o : ir.outputs) {
    auto b = c.base_of(o).first;
    outputs.insert(b);
    touch(o, last_op);
  }
  for (const auto& t : ir.tensors) {
    if (t.kind == "input") touch(t.id, 0);            // written by the runtime before op 0
    if (t.kind == "state") { touch(t.id, 0); touch(t.id, last_op); }  // persists across runs
  }

  // 2. In-place: the output joins input 0's buffer when the kernel allows it, input 0 is a plain activation
  //    whose buffer is not read after this op, and both have the same worst-case size and dtype.
  std::map<std::string, std::string> group;  // base id -> group representative
  for (const auto& [b, r] : live) group[b] = b;
  std::map<std::string, std::pair<int, int>> glive = live;  // representative -> live range of the group
  std::map<std::string, std::string> inplace_of;            // tensor id -> tensor it reuses
  if (opt.inplace) {
    for (int i = 0; i < n_ops; ++i) {
      const auto& op = ir.ops[size_t(i)];
      const auto* k = registry::find_kernel_id(op.kernel);
      if (!k || !k->inplace_safe || op.in.empty()) continue;
      const Tensor* in0 = c.by_id.at(op.in[0]);
      const Tensor* out = c.by_id.at(op.out);
      if (in0->kind != "activation" || out->kind != "activation") continue;
      if (outputs.count(in0->id) || live.at(out->id).first != i) continue;
      if (graph::worst_case_bytes(*in0) != graph::worst_case_bytes(*out) || in0->dtype != out->dtype) continue;
      const std::string g = group.at(in0->id);
      if (glive.at(g).second != i) continue;  // someone reads input 0's memory later
      group[out->id] = g;
      glive[g].second = std::max(glive[g].second, live.at(out->id).second);
      glive.erase(out->id);
      inplace_of[out->id] = in0->id;
    }
  }

  // 3. Pack the groups (in first-use order for a stable numbering).
  std::vector<std::string> reps;
  for (const auto& [g, r] : glive) reps.push_back(g);
  std::stable_sort(reps.begin(), reps.end(), [&](const auto& a, const auto& b) {
    if (glive[a].first != glive[b].first) return glive[a].first < glive[b].first;
    return a < b;
  });
  std::vector<Interval> iv;
  for (const auto& g : reps) iv.push_back({graph::worst_case_bytes(*c.by_id.at(g)), glive[g].first, glive[g].second});
  Packing pk = pack(iv, opt.alignment);
  // Naive sum counts every base tensor as its own buffer (no liveness, no in-place).
  uint64_t naive = 0;
  for (const auto& [b, r] : live) naive += align_up(std::max<uint64_t>(graph::worst_case_bytes(*c.by_id.at(b)), 1), opt.alignment);
  std::map<std::string, uint64_t> off;  // base id -> arena offset
  std::map<std::string, uint64_t> rep_off;
  for (size_t i = 0; i < reps.size(); ++i) rep_off[reps[i]] = pk.offsets[i];
  for (const auto& [b, g] : group) off[b] = rep_off.at(g);

  // 4. layout.json
  json syms = json::array();
  for (const auto& s : ir.symbols) {
    json o{{"name", s.name}, {"max", s.max}, {"def", s.def}};
    if (!s.option.empty()) o["option"] = s.option;
    syms.push_back(o);
  }
  json bufs = json::array();
  for (size_t i = 0; i < reps.size(); ++i) {
    const auto& g = reps[i];
    json members = json::array();
    for (const auto& [b, gg] : group)
      if (gg == g) members.push_back(b);
    std::vector<std::string> ms = members.get<std::vector<std::string>>();
    std::stable_sort(ms.begin(), ms.end(), [&](const auto& a, const auto& b) {
      return live.at(a).first != live.at(b).first ? live.at(a).first < live.at(b).first : a < b;
    });
    json tens = json::array();
    for (const auto& m : ms) {
      const Tensor* t = c.by_id.at(m);
      json o{{"id", m}, {"kind", t->kind}, {"dtype", t->dtype}, {"shape", graph::shape_to_json(t->shape)},
             {"bytes", graph::worst_case_bytes(*t)}, {"live", {live.at(m).first, live.at(m).second}}};
      if (inplace_of.count(m)) o["inplace_of"] = inplace_of.at(m);
      tens.push_back(o);
    }
    bufs.push_back({{"buffer", i}, {"offset", pk.offsets[i]}, {"bytes", align_up(std::max<uint64_t>(iv[i].bytes, 1), opt.alignment)},
                    {"live", {iv[i].first, iv[i].last}}, {"tensors", tens}});
  }
  json layout;
  layout["format"] = "ck.layout";
  layout["version"] = 1;
  layout["template"] = ir.template_name;
  layout["mode"] = ir.mode;
  layout["alignment"] = opt.alignment;
  layout["symbols"] = syms;
  layout["arena_bytes"] = pk.arena;
  layout["peak_bytes"] = pk.peak;
  layout["naive_bytes"] = naive;
  layout["n_ops"] = n_ops;
  layout["buffers"] = bufs;

  // 5. call.json
  json calls = json::array();
  for (int i = 0; i < n_ops; ++i) {
    const auto& op = ir.ops[size_t(i)];
    json args = json::array();
    for (size_t k = 0; k < op.in.size(); ++k) args.push_back(arg_json(c, "in" + std::to_string(k), op.in[k], off));
    args.push_back(arg_json(c, "out", op.out, off));
    for (const auto& w : op.weights) {
      const graph::Weight* wt = nullptr;
      for (const auto& x : ir.weights)
        if (x.name == w.name) wt = &x;
      if (!wt) fail(op.id, "unknown weight " + w.name);
      args.push_back({{"arg", w.role}, {"weight", wt->name}, {"buffer", "weights"}, {"byte_offset", wt->offset},
                      {"nbytes", wt->nbytes}, {"dtype", wt->dtype}, {"shape", wt->shape}});
    }
    for (const auto& [k, v] : op.params.items()) {
      if (v.is_object() && v.contains("symbol")) args.push_back({{"arg", k}, {"symbol", v["symbol"]}});
      else args.push_back({{"arg", k}, {"value", v}});
    }
    json cj{{"index", i}, {"id", op.id}, {"op", op.op}, {"kernel", op.kernel}, {"layer", op.layer}};
    cj["name"] = op.name ? json(*op.name) : json(nullptr);
    if (!op.when_input.empty()) cj["when_input"] = op.when_input;
    cj["args"] = args;
    calls.push_back(cj);
  }
  auto tensor_ref = [&](const Tensor& t) {
    auto [base, voff] = c.base_of(t.id);
    json o{{"tensor", t.id}, {"byte_offset", off.at(base) + uint64_t(voff)}, {"dtype", t.dtype},
           {"shape", graph::shape_to_json(t.shape)}};
    if (!t.view_strides.empty()) o["strides"] = t.view_strides;
    return o;
  };
  json inputs = json::array(), state = json::array(), outs = json::array(), views = json::array();
  for (const auto& t : ir.tensors) {
    if (!live.count(c.base_of(t.id).first)) continue;
    if (t.kind == "input") {
      json o = tensor_ref(t);
      o["role"] = t.role;
      if (!t.role_params.is_null()) o["role_params"] = t.role_params;
      inputs.push_back(o);
    } else if (t.kind == "state") {
      state.push_back(tensor_ref(t));
    } else if (t.kind == "view" && t.name) {
      json o = tensor_ref(t);
      o["name"] = *t.name;
      views.push_back(o);
    }
  }
  for (const auto& o : ir.outputs) outs.push_back(tensor_ref(*c.by_id.at(o)));
  json call;
  call["format"] = kCallFormat;
  call["version"] = kCallVersion;
  call["template"] = ir.template_name;
  call["arch"] = ir.arch;
  call["mode"] = ir.mode;
  call["weights"] = {{"file", opt.weights_file}, {"source", ir.source}};
  call["arena"] = {{"bytes", pk.arena}, {"alignment", opt.alignment}};
  call["symbols"] = syms;
  call["inputs"] = inputs;
  call["state"] = state;
  call["outputs"] = outs;
  call["named_views"] = views;
  call["calls"] = calls;
  call["contracts"] = ir.contracts;

  Result r;
  r.layout = std::move(layout);
  r.call = std::move(call);
  r.arena = pk.arena;
  r.peak = pk.peak;
  r.naive = naive;
  return r;
}

}  // namespace ck::plan
