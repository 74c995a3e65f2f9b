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
                  const std::string& model_path, const std::string& where) {
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
