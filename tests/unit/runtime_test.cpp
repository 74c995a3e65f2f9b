// lib/runtime: input roles (clip.cpp's vision positions), bound views, plan loading errors. The end-to-end
// parity of the executor against the oracle is tests/cli/ck-encode.bats (golden fixtures).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "pipeline/inputs.h"
#include "runtime/kernel_table.h"
#include "runtime/program.h"

namespace fs = std::filesystem;
using ck::runtime::View;

TEST(RuntimePositions, MergeWindowOrderAsClip) {
  // 4 x 2 patches, merge 2: windows (0,0) then (2,0); inside each dy, dx.
  const auto p = ck::pipeline::vision_positions(4, 2, 2);
  const int n = 8;
  ASSERT_EQ(p.size(), size_t(4 * n));
  const int y[] = {0, 0, 1, 1, 0, 0, 1, 1};
  const int x[] = {0, 1, 0, 1, 2, 3, 2, 3};
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(p[size_t(i)], y[i]) << i;
    EXPECT_EQ(p[size_t(n + i)], x[i]) << i;
    EXPECT_EQ(p[size_t(2 * n + i)], y[i]) << i;
    EXPECT_EQ(p[size_t(3 * n + i)], x[i]) << i;
  }
}

TEST(RuntimeView, ContiguityAndRows) {
  View v;
  v.dtype = ck::DType::F32;
  v.shape = {6, 4, 16};
  v.strides = {4 * 64, 64, 4};
  EXPECT_TRUE(v.contiguous());
  EXPECT_TRUE(v.uniform_rows());
  EXPECT_EQ(v.rows(), 24);
  EXPECT_EQ(v.row_stride(), 64);
  // Q column view of a [6][192] qkv: 4 heads x 16 floats (256 B) per token, then a 768 B jump to the next
  // token -> neither contiguous nor one constant row stride (rope gathers it first).
  v.strides = {768, 64, 4};
  EXPECT_FALSE(v.contiguous());
  EXPECT_FALSE(v.uniform_rows());
  // A 2-D view with a row pitch wider than the row: uniform, not contiguous.
  View w;
  w.dtype = ck::DType::F32;
  w.shape = {5, 64};
  w.strides = {768, 4};
  EXPECT_FALSE(w.contiguous());
  EXPECT_TRUE(w.uniform_rows());
  EXPECT_EQ(w.row_stride(), 768);
}

TEST(RuntimeBindings, EncoderKernelsAreBound) {
  for (const char* id : {"im2col.f32.f32.strict", "conv2d_mm.f32.f16.strict", "conv2d_mm.f16.f16.strict",
                         "interpolate_pos.f32.strict", "merge_order.f32.strict", "transpose.f32.strict",
                         "add.f32.strict", "add.f32.f32.strict", "mul.f32.f32.strict", "norm.f32.strict",
                         "mul_mat.f32.f32.strict", "mul_mat.f16.f32.strict", "mul_mat.bf16.f32.strict",
                         "mul_mat.q8_0.f32.strict", "rope_multi.f32.strict", "cpy.f32.strict",
                         "flash_attn_ext.f32.strict", "gelu.f32.strict", "concat.f32.strict"})
    EXPECT_NE(ck::runtime::find_binding(id), nullptr) << id;
  EXPECT_EQ(ck::runtime::find_binding("no.such.kernel"), nullptr);
}

namespace {
std::string load_error(const std::string& text) {
  const fs::path d = fs::path(testing::TempDir()) / "ck_runtime_test_plan";
  fs::create_directories(d);
  std::ofstream(d / "call.json") << text;
  try {
    ck::runtime::Program::load(d.string());
  } catch (const ck::Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(RuntimeProgram, RejectsMalformedPlans) {
  EXPECT_NE(load_error("{").find("invalid JSON"), std::string::npos);
  EXPECT_NE(load_error(R"({"format":"ck.layout","version":1})").find("not a ck.call document"), std::string::npos);
  EXPECT_NE(load_error(R"({"format":"ck.call","version":2})").find("unsupported ck.call version"), std::string::npos);
  const std::string no_bump =
      load_error(R"({"format":"ck.call","version":1,"symbols":[],"arena":{"bytes":64,"alignment":64},)"
                 R"("weights":{"file":"../none.bump"},"calls":[]})");
  EXPECT_NE(no_bump.find("none.bump"), std::string::npos) << no_bump;
  try {
    ck::runtime::Program::load((fs::path(testing::TempDir()) / "no_such_dir").string());
    FAIL() << "no error";
  } catch (const ck::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos);
  }
}
