// Template expressions and the ir1 reader's validation.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "graph/expr.h"
#include "graph/ir1.h"

using namespace ck;

static std::optional<graph::Number> names(const std::string& n) {
  if (n == "n_embd") return graph::Number::of_int(64);
  if (n == "eps") return graph::Number::of_float(1e-6);
  return std::nullopt;
}

TEST(Expr, Arithmetic) {
  EXPECT_EQ(graph::eval_int("3*n_embd", names, "t"), 192);
  EXPECT_EQ(graph::eval_int("(1+2)*n_embd/4 - 1", names, "t"), 47);
  EXPECT_EQ(graph::eval_int("-2+5", names, "t"), 3);
  EXPECT_EQ(graph::eval_int("isqrt(2304)", names, "t"), 48);
  auto r = graph::eval_expr("rsqrt(n_embd)", names, "t");
  EXPECT_TRUE(r.is_float);
  EXPECT_EQ(r.f, double(1.0f / std::sqrt(64.0f)));
  EXPECT_TRUE(graph::eval_expr("eps*2", names, "t").is_float);
}

TEST(Expr, Errors) {
  EXPECT_THROW(graph::eval_int("n_emb", names, "t"), ck::Error);
  EXPECT_THROW(graph::eval_int("n_embd/3", names, "t"), ck::Error);  // not exact
  EXPECT_THROW(graph::eval_int("(1", names, "t"), ck::Error);
  EXPECT_THROW(graph::eval_int("1 2", names, "t"), ck::Error);
  EXPECT_THROW(graph::eval_int("foo(1)", names, "t"), ck::Error);
  try {
    graph::eval_int("x+1", names, "tmpl.json");
  } catch (const ck::Error& e) {
    EXPECT_STREQ(e.what(), "tmpl.json: unknown config key 'x'");
  }
}

TEST(Ir1, ReaderValidates) {
  graph::json j = {{"format", "ck.ir1"}, {"version", 2}, {"arch", "a"}, {"template", "t"}, {"mode", "strict"},
                   {"symbols", graph::json::array()}, {"weights", graph::json::array()},
                   {"tensors", {{{"id", "x"}, {"kind", "input"}, {"dtype", "f32"}, {"shape", {4}}, {"role", "r"}}}},
                   {"ops", {{{"id", "o"}, {"op", "gelu"}, {"kernel", "gelu.f32.strict"}, {"section", "body"},
                             {"layer", 0}, {"in", {"x"}}, {"weights", graph::json::object()}, {"out", "y"}}}},
                   {"outputs", {"x"}}};
  EXPECT_THROW(graph::ir1_from_json(j, "t"), ck::Error);  // op writes unknown tensor y
  j["ops"][0]["out"] = "x";
  EXPECT_NO_THROW(graph::ir1_from_json(j, "t"));
  j["version"] = 1;  // version 1's bump path was relative to ck-lower's cwd: not read any more
  EXPECT_THROW(graph::ir1_from_json(j, "t"), ck::Error);
  j["version"] = 2;
  j["tensors"][0]["shape"] = {"nsym"};
  EXPECT_THROW(graph::ir1_from_json(j, "t"), ck::Error);  // unknown symbol
}
