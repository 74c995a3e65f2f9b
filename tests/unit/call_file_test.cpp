// lib/plan/call_file: the one call.json reader (docs/formats/call.md). The runtime and ck-decode's model info
// both read through it; these tests check what it accepts and that no malformed document escapes as anything
// but a one-line ck::Error naming the file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "plan/call_file.h"

namespace fs = std::filesystem;
using ck::plan::json;

namespace {

// A small valid plan: one free symbol, one derived, an input, one call with a weight and a scalar.
json valid_call() {
  return json::parse(R"({
    "format": "ck.call", "version": 1, "template": "t", "arch": "a", "mode": "strict",
    "weights": {"file": "../w.bump", "source": {"bump": {"content_sha256": "ab"}}},
    "arena": {"bytes": 4096, "alignment": 64},
    "symbols": [{"name": "n_tokens", "max": 8},
                {"name": "n_half", "max": 4, "def": {"of": "n_tokens", "div": 2}}],
    "inputs": [{"tensor": "inp", "buffer": "arena", "byte_offset": 0, "dtype": "f32", "shape": ["n_tokens", 16],
                "role": "embeddings", "role_params": {}}],
    "outputs": [{"tensor": "out", "buffer": "arena", "byte_offset": 1024, "dtype": "f32", "shape": ["n_tokens", 16]}],
    "named_views": [],
    "calls": [{"index": 0, "id": "op0", "op": "mul_mat", "kernel": "mul_mat.f32.f32.strict", "layer": 0,
               "args": [{"arg": "w", "buffer": "weights", "weight": "w0", "byte_offset": 0, "nbytes": 1024,
                         "dtype": "f32", "shape": [16, 16]},
                        {"arg": "in0", "buffer": "arena", "tensor": "inp", "byte_offset": 0, "dtype": "f32",
                         "shape": ["n_tokens", 16]},
                        {"arg": "out", "buffer": "arena", "tensor": "out", "byte_offset": 1024, "dtype": "f32",
                         "shape": ["n_tokens", 16]},
                        {"arg": "n", "symbol": "n_half"}, {"arg": "eps", "value": 1e-6}]}]
  })");
}

fs::path write_plan(const std::string& text) {
  // One directory per test: ctest runs the tests of this file as parallel processes.
  const fs::path d = fs::path(testing::TempDir()) /
                     (std::string("ck_call_file_") + testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::create_directories(d);
  std::ofstream(d / "call.json") << text;
  return d;
}

// "" when the document reads, else the error; any other exception fails the test.
std::string read_error(const json& doc) {
  const fs::path d = write_plan(doc.dump());
  try {
    ck::plan::read_call_file(d.string());
  } catch (const ck::Error& e) {
    const std::string w = e.what();
    EXPECT_EQ(w.find('\n'), std::string::npos) << w;
    EXPECT_NE(w.find("call.json"), std::string::npos) << w;
    return w;
  }
  return "";
}

// Every JSON pointer of `j` (objects and arrays included).
void pointers(const json& j, const json::json_pointer& at, std::vector<json::json_pointer>& out) {
  out.push_back(at);
  if (j.is_object())
    for (const auto& [k, v] : j.items()) pointers(v, at / k, out);
  else if (j.is_array())
    for (size_t i = 0; i < j.size(); ++i) pointers(j[i], at / i, out);
}

}  // namespace

TEST(CallFile, ReadsAValidPlan) {
  const fs::path d = write_plan(valid_call().dump());
  const auto f = ck::plan::read_call_file(d.string());
  EXPECT_EQ(f.path, (d / "call.json").string());
  EXPECT_EQ(f.template_name, "t");
  EXPECT_EQ(f.arena_bytes, 4096u);
  ASSERT_EQ(f.symbols.size(), 2u);
  EXPECT_TRUE(f.symbols[0].free());
  ASSERT_EQ(f.symbols[1].of.size(), 1u);
  EXPECT_EQ(f.symbols[1].of[0], 0);
  EXPECT_EQ(f.symbols[1].div, 2);
  EXPECT_EQ(f.symbol_max("n_half"), 4);
  EXPECT_EQ(f.symbol_max("absent"), 0);
  // The bump is recorded relative to call.json's directory.
  EXPECT_EQ(fs::path(f.weights_path).lexically_normal(), (d.parent_path() / "w.bump").lexically_normal());
  EXPECT_EQ(f.weights_sha256, "ab");
  ASSERT_NE(f.input_by_role("embeddings"), nullptr);
  EXPECT_EQ(f.input_by_role("embeddings")->t.shape.back().value, 16);
  EXPECT_EQ(f.input_by_role("embeddings")->t.shape.front().sym, 0);
  ASSERT_EQ(f.calls.size(), 1u);
  const auto& c = f.calls[0];
  EXPECT_EQ(c.kernel, "mul_mat.f32.f32.strict");
  ASSERT_EQ(c.weights.size(), 1u);
  EXPECT_EQ(c.weights[0].nbytes, 1024u);
  ASSERT_EQ(c.ins.size(), 1u);
  EXPECT_EQ(c.out.byte_offset, 1024u);
  ASSERT_EQ(c.scalars.size(), 2u);
  EXPECT_EQ(c.scalars[0].sym, 1);
  EXPECT_EQ(c.scalars[1].value.get<double>(), 1e-6);
}

TEST(CallFile, RejectsWithOneLineNamingTheFile) {
  json d = valid_call();
  d["version"] = 2;
  EXPECT_NE(read_error(d).find("unsupported ck.call version"), std::string::npos);
  d = valid_call();
  d["format"] = "ck.layout";
  EXPECT_NE(read_error(d).find("not a ck.call document"), std::string::npos);
  d = valid_call();
  d["calls"][0]["args"][1]["shape"][0] = "no_such_symbol";
  EXPECT_NE(read_error(d).find("unknown symbol 'no_such_symbol'"), std::string::npos);
  d = valid_call();
  d["outputs"][0]["byte_offset"] = 4000;  // 8 x 16 floats from 4000 do not fit 4096 bytes
  EXPECT_NE(read_error(d).find("outside the arena"), std::string::npos);
  d = valid_call();
  d["outputs"][0]["shape"] = json::array({int64_t(1) << 40, int64_t(1) << 40});  // would wrap a 64-bit product
  EXPECT_NE(read_error(d).find("outside the arena"), std::string::npos);
  d = valid_call();
  d["symbols"][1]["def"]["div"] = 0;
  EXPECT_NE(read_error(d).find("mul/div must be positive"), std::string::npos);
  d = valid_call();
  d["calls"][0]["args"].erase(2);
  EXPECT_NE(read_error(d).find("no 'out' argument"), std::string::npos);
}

// Structure-aware sweep: every value of a valid plan replaced by each wrong-typed value must either read or be a
// ck::Error (read_error fails the test on anything else, e.g. a nlohmann type_error escaping).
TEST(CallFile, NoMalformedValueEscapesAsAnotherException) {
  const json base = valid_call();
  std::vector<json::json_pointer> ptrs;
  pointers(base, json::json_pointer(), ptrs);
  const json replacements[] = {json("x"), json(-1), json(1.5), json::array(), json::object(), json(nullptr), json(true)};
  size_t rejected = 0;
  for (const auto& p : ptrs) {
    if (p.empty()) continue;
    for (const auto& r : replacements) {
      json d = base;
      d[p] = r;
      if (!read_error(d).empty()) ++rejected;
    }
  }
  EXPECT_GT(rejected, ptrs.size());  // most replacements are errors, none escaped
}
