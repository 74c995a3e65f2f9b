#include "lower/shape_rules.h"

#include "core/error.h"

namespace ck::lower {

using graph::Dim;
using graph::Shape;

bool same_dim(const Dim& a, const Dim& b) { return a.symbolic() || b.symbolic() ? a.sym == b.sym : a.value == b.value; }

bool same_shape(const Shape& a, const Shape& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!same_dim(a[i], b[i])) return false;
  return true;
}

static std::string str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += ',';
    r += s[i].symbolic() ? s[i].sym : std::to_string(s[i].value);
  }
  return r + "]";
}
static std::string str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += ',';
    r += std::to_string(s[i]);
  }
  return r + "]";
}
static int64_t numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}
// Element count of a shape when constant, else -1.
static int64_t const_numel(const Shape& s) {
  int64_t n = 1;
  for (const auto& d : s) {
    if (d.symbolic()) return -1;
    n *= d.value;
  }
  return n;
}

Shape infer_shape(const std::string& op, const std::vector<const graph::Tensor*>& ins,
                  const std::vector<const graph::Weight*>& ws, const std::optional<Shape>& ex,
                  const std::string& model_path, const std::string& where, const nlohmann::ordered_json* params) {
  auto mismatch = [&](const std::string& what) { fail(model_path, "shape mismatch: " + where + ": " + what); };
  auto need_in = [&](size_t n) {
    if (ins.size() < n) fail(where, "op '" + op + "' needs " + std::to_string(n) + " input(s)");
  };
  std::optional<Shape> rule;
  if (op == "mul_mat") {
    need_in(1);
    if (ws.empty()) fail(where, "mul_mat needs a weight");
    const Shape& a = ins[0]->shape;
    const auto& w = ws[0]->shape;
    if (w.size() != 2) mismatch("weight '" + ws[0]->name + "' is not 2-D");
    if (a.back().symbolic() || a.back().value != w[1])
      mismatch("input " + str(a) + " does not match weight '" + ws[0]->name + "' " + str(w));
    Shape s(a.begin(), a.end() - 1);
    s.push_back({w[0], ""});
    rule = s;
  } else if (op == "conv2d_mm" || op == "im2col") {
    need_in(1);
    if (ws.empty()) fail(where, op + " needs the convolution weight");
    const auto& w = ws[0]->shape;
    std::vector<int64_t> k(w.begin() + 1, w.end());
    if (op == "conv2d_mm") {
      const Shape& a = ins[0]->shape;
      if (a.size() != 2 || a[1].symbolic() || a[1].value != numel(k))
        mismatch("patch columns " + str(a) + " do not match kernel '" + ws[0]->name + "' " + str(w));
      rule = Shape{{w[0], ""}, a[0]};  // channel-major [C, n_patches], as ggml_conv_2d's mul_mat writes it
    } else if (ex && (ex->size() != 2 || ex->back().symbolic() || ex->back().value != numel(k))) {
      mismatch("im2col columns " + str(*ex) + " do not match kernel '" + ws[0]->name + "' " + str(w));
    }
  } else if (op == "add" || op == "mul") {
    need_in(1);
    const Shape& a = ins[0]->shape;
    if (!ws.empty()) {
      if (a.back().symbolic() || numel(ws[0]->shape) != a.back().value)
        mismatch("weight '" + ws[0]->name + "' " + str(ws[0]->shape) + " does not broadcast over " + str(a));
    } else {
      need_in(2);
      if (!same_shape(a, ins[1]->shape)) mismatch(str(a) + " vs " + str(ins[1]->shape));
    }
    rule = a;
  } else if (op == "norm" || op == "rms_norm" || op == "gelu" || op == "rope_multi" || op == "merge_order") {
    need_in(1);
    rule = ins[0]->shape;
  } else if (op == "swiglu") {
    need_in(2);
    if (!same_shape(ins[0]->shape, ins[1]->shape)) mismatch(str(ins[0]->shape) + " vs " + str(ins[1]->shape));
    rule = ins[0]->shape;
  } else if (op == "get_rows") {
    need_in(1);
    if (!ws.empty()) {
      if (ws[0]->shape.size() != 2) mismatch("table '" + ws[0]->name + "' is not 2-D");
      rule = Shape{ins[0]->shape[0], {ws[0]->shape[1], ""}};
    } else {
      need_in(2);
      Shape s = ins[0]->shape;
      s[0] = ins[1]->shape[0];
      rule = s;
    }
  } else if (op == "mul_mat_id") {
    // ggml_mul_mat_id(experts {K, M, E}, x {K, ne11, T}, ids {n_used, T}) -> {M, n_used, T}; row-major here:
    // x [T, ne11, K] (ne11 = n_used: slot j reads row j) or [T, K] (ne11 = 1: every slot reads the token's row),
    // ids [T, n_used], experts [E, M, K] -> [T, n_used, M].
    need_in(2);
    if (ws.empty()) fail(where, "mul_mat_id needs the expert weights");
    const Shape& a = ins[0]->shape;
    const Shape& ids = ins[1]->shape;
    const auto& w = ws[0]->shape;
    if (w.size() != 3) mismatch("experts '" + ws[0]->name + "' are not 3-D");
    if ((a.size() != 2 && a.size() != 3) || a.back().symbolic() || a.back().value != w[2])
      mismatch("input " + str(a) + " does not match experts '" + ws[0]->name + "' " + str(w));
    if (ids.size() != 2 || !same_dim(ids[0], a[0])) mismatch("expert ids " + str(ids) + " vs input " + str(a));
    if (a.size() == 3 && !same_dim(a[1], ids[1]))
      mismatch("input " + str(a) + " must have n_used rows per token (ids " + str(ids) + ")");
    rule = Shape{a[0], ids[1], {w[1], ""}};
  } else if (op == "argsort_top_k") {  // the first k of a descending argsort of each row: [..., n] -> [..., k]
    need_in(1);
    if (!params || !params->contains("k") || !(*params)["k"].is_number_integer()) fail(where, "argsort_top_k needs an integer param k");
    const int64_t k = (*params)["k"].get<int64_t>();
    Shape s = ins[0]->shape;
    if (s.back().symbolic() || k <= 0 || k > s.back().value) mismatch("k = " + std::to_string(k) + " for rows " + str(s));
    s.back() = {k, ""};
    rule = s;
  } else if (op == "soft_max") {
    need_in(1);
    rule = ins[0]->shape;
  } else if (op == "moe_weights") {  // probs [T, E], selected [T, k] -> [T, k]
    need_in(2);
    if (ins[0]->shape.size() != 2 || ins[1]->shape.size() != 2 || !same_dim(ins[0]->shape[0], ins[1]->shape[0]))
      mismatch("probabilities " + str(ins[0]->shape) + " vs selection " + str(ins[1]->shape));
    rule = ins[1]->shape;
  } else if (op == "moe_sum") {  // experts [T, k, n], weights [T, k] -> [T, n]
    need_in(2);
    const Shape& e = ins[0]->shape;
    const Shape& w = ins[1]->shape;
    if (e.size() != 3 || w.size() != 2 || !same_dim(e[0], w[0]) || !same_dim(e[1], w[1]))
      mismatch("experts " + str(e) + " vs weights " + str(w));
    rule = Shape{e[0], e[2]};
  } else if (op == "concat") {
    need_in(1);
    Shape s = ins[0]->shape;
    int64_t last = 0;
    for (const auto* t : ins) {
      if (t->shape.size() != s.size() || t->shape.back().symbolic()) mismatch("concat of " + str(t->shape));
      for (size_t i = 0; i + 1 < s.size(); ++i)
        if (!same_dim(s[i], t->shape[i])) mismatch("concat of " + str(s) + " and " + str(t->shape));
      last += t->shape.back().value;
    }
    s.back() = {last, ""};
    rule = s;
  } else if (op == "flash_attn_ext") {
    need_in(3);
    const Shape& q = ins[0]->shape;  // [T, H, d]
    if (q.size() != 3 || q[1].symbolic() || q[2].symbolic()) mismatch("q must be [tokens, heads, head_dim], is " + str(q));
    rule = Shape{q[0], {q[1].value * q[2].value, ""}};
  } else if (op == "cpy" || op == "transpose" || op == "pad" || op == "interpolate_pos" || op == "set_rows") {
    // Layout-defined outputs: the template states the shape; element counts must agree where computable.
    if (ex && !ins.empty() && op != "pad" && op != "interpolate_pos" && op != "set_rows") {
      int64_t a = const_numel(ins[0]->shape), b = const_numel(*ex);
      if (a >= 0 && b >= 0 && a != b) mismatch(str(ins[0]->shape) + " cannot become " + str(*ex));
    }
  }
  if (ex) {
    if (rule && !same_shape(*rule, *ex)) mismatch("template says " + str(*ex) + ", the op gives " + str(*rule));
    return *ex;
  }
  if (op == "set_rows") return ins.empty() ? Shape{} : ins[0]->shape;
  if (!rule) fail(where, "op '" + op + "' needs an explicit \"shape\"");
  return *rule;
}

}  // namespace ck::lower
