// lib/bump: round trip from a GGUF (every tensor byte-identical, alignment of the data region and of
// every tensor), metadata carried losslessly, sha256 tamper detection, truncation, determinism.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "bump/metadata.h"
#include "bump/reader.h"
#include "bump/writer.h"
#include "core/error.h"
#include "core/output_file.h"
#include "core/sha256.h"
#include "gguf/gguf.h"

namespace {

namespace fs = std::filesystem;
using ck::DType;
using ck::gguf::Value;

std::string tmp(const std::string& name) {
  return (fs::temp_directory_path() / ("ck_bump_" + std::to_string(::getpid()) + "_" + name)).string();
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const std::string& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(s.data(), static_cast<std::streamsize>(s.size()));
}

struct TensorSpec {
  std::string name;
  DType type;
  std::vector<int64_t> ne;
  size_t nbytes;
};

const std::vector<TensorSpec> kTensors = {
    {"a.f32", DType::F32, {5, 3}, 60},
    {"b.f16", DType::F16, {7}, 14},
    {"c.q8_0", DType::Q8_0, {64, 2}, 2 * 2 * 34},
    {"d.q4_k", DType::Q4_K, {256, 1, 2}, 2 * 144},
    {"e.bf16", DType::BF16, {3, 1, 1, 2}, 12},
};

// A small GGUF with several dtypes and KV types; alignment 32 (GGUF default) so bump re-aligns.
std::string make_gguf(const std::string& name) {
  ck::gguf::Writer w;
  w.set("general.architecture", Value::str("testarch"));
  w.set("general.name", Value::str("bump test"));
  w.set("testarch.block_count", Value::u32(2));
  w.set("testarch.eps", Value::f32(1e-6f));
  w.set("testarch.flag", Value::boolean(true));
  w.set("testarch.big", Value::u64(1ull << 40));
  w.set("testarch.neg", Value::i32(-7));
  w.set("testarch.mean", Value::f32_array({0.5f, 0.25f, 0.1f}));
  w.set("tokenizer.ggml.tokens", Value::str_array({"a", "b", "<|im_end|>", "\xc4\xa0the"}));
  w.set("bad.utf8", Value::str(std::string("\xff\xfe", 2)));
  w.set("nested", Value::array(ck::gguf::ValueType::ARRAY,
                               {Value::i32_array({1, 2}), Value::i32_array({})}));
  uint32_t seed = 1;
  for (const auto& t : kTensors) w.add_tensor(t.name, t.type, t.ne, random_bytes(t.nbytes, seed++));
  std::string p = tmp(name);
  w.write(p);
  return p;
}

ck::bump::WriteResult convert(const ck::gguf::Reader& g, const std::string& out_path) {
  ck::OutputFile out(out_path);
  auto r = ck::bump::write_bump(g, "model.gguf", out);
  out.commit();
  return r;
}

class BumpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gguf_path = make_gguf("model.gguf");
    bump_path = tmp("model.bump");
  }
  void TearDown() override {
    std::remove(gguf_path.c_str());
    std::remove(bump_path.c_str());
  }
  std::string gguf_path, bump_path;
};

TEST_F(BumpTest, RoundTripEveryTensorByteIdenticalAndAligned) {
  ck::gguf::Reader g(gguf_path);
  auto res = convert(g, bump_path);
  ck::bump::Reader r(bump_path);
  EXPECT_EQ(r.header().data_offset % 4096, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(r.tensors().empty() ? nullptr : r.tensors()[0].data) % 64, 0u);
  ASSERT_EQ(r.tensors().size(), kTensors.size());
  for (size_t i = 0; i < kTensors.size(); ++i) {
    const auto& gt = g.tensors()[i];
    const auto& bt = r.get(kTensors[i].name);
    EXPECT_EQ(bt.name, gt.name);
    EXPECT_EQ(bt.dtype, gt.type);
    EXPECT_EQ(bt.ne, gt.ne);
    EXPECT_EQ(bt.nbytes, kTensors[i].nbytes);
    EXPECT_EQ(bt.offset % 64, 0u) << bt.name;
    EXPECT_GE(bt.offset, r.header().data_offset);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(bt.data) % 64, 0u) << bt.name;
    EXPECT_EQ(std::memcmp(bt.data, gt.data, bt.nbytes), 0) << bt.name;
    EXPECT_EQ(res.tensors[i].offset, bt.offset);
  }
  EXPECT_EQ(r.find("nope"), nullptr);
  EXPECT_THROW(r.get("nope"), ck::Error);
  // Hashes: footer = content hash; file hash = sha256sum; source hash = the GGUF's.
  EXPECT_EQ(r.recorded_sha256(), res.content_sha256);
  EXPECT_EQ(r.compute_sha256(), res.content_sha256);
  EXPECT_NO_THROW(r.verify());
  EXPECT_EQ(ck::sha256_file_hex(bump_path), res.file_sha256);
  EXPECT_EQ(ck::sha256_file_hex(gguf_path), res.source_sha256);
  EXPECT_EQ(res.header.file_size, fs::file_size(bump_path));
  EXPECT_EQ(ck::bump::check(bump_path).status, ck::kExitOk);
}

TEST_F(BumpTest, MetadataCarriesEveryKvLosslessly) {
  ck::gguf::Reader g(gguf_path);
  convert(g, bump_path);
  ck::bump::Reader r(bump_path);
  const auto& m = r.metadata();
  EXPECT_EQ(m["format"], "ck.bump.meta");
  EXPECT_EQ(m["version"], 1);
  EXPECT_EQ(m["source"]["file"], "model.gguf");
  const auto& kv = r.kv();
  ASSERT_EQ(kv.size(), g.kvs().size());
  EXPECT_EQ(kv["general.architecture"]["type"], "string");
  EXPECT_EQ(kv["general.architecture"]["value"], "testarch");
  EXPECT_EQ(kv["testarch.block_count"]["type"], "u32");
  EXPECT_EQ(kv["testarch.block_count"]["value"], 2);
  EXPECT_EQ(kv["testarch.big"]["value"].get<uint64_t>(), 1ull << 40);
  EXPECT_EQ(kv["testarch.neg"]["value"], -7);
  EXPECT_EQ(kv["testarch.flag"]["value"], true);
  EXPECT_EQ(kv["testarch.eps"]["value"].get<double>(), 1e-6);  // shortest decimal of the float
  EXPECT_EQ(static_cast<float>(kv["testarch.eps"]["value"].get<double>()), 1e-6f);
  EXPECT_EQ(kv["testarch.mean"]["elem_type"], "f32");
  EXPECT_EQ(kv["testarch.mean"]["value"][2].get<double>(), 0.1);
  EXPECT_EQ(kv["tokenizer.ggml.tokens"]["value"][3], "\xc4\xa0the");
  EXPECT_EQ(kv["bad.utf8"]["value"]["hex"], "fffe");
  EXPECT_EQ(kv["nested"]["elem_type"], "array");
  EXPECT_EQ(kv["nested"]["value"][0]["value"][1], 2);
  EXPECT_NE(r.metadata_text().find("\"kv\""), std::string_view::npos);
}

TEST(BumpJson, Float32ShortestDecimal) {
  EXPECT_EQ(ck::bump::json_float32(1e-6f).dump(), "1e-06");
  EXPECT_EQ(ck::bump::json_float32(5000000.0f).dump(), "5000000.0");
  EXPECT_EQ(ck::bump::json_float32(0.1f).dump(), "0.1");
  EXPECT_EQ(ck::bump::json_float32(std::numeric_limits<float>::infinity()).dump(), "\"inf\"");
}

TEST_F(BumpTest, Deterministic) {
  ck::gguf::Reader g(gguf_path);
  std::string second = tmp("model2.bump");
  auto a = convert(g, bump_path);
  auto b = convert(g, second);
  EXPECT_EQ(slurp(bump_path), slurp(second));
  EXPECT_EQ(a.file_sha256, b.file_sha256);
  std::remove(second.c_str());
}

TEST_F(BumpTest, FlippedDataByteIsAMismatch) {
  ck::gguf::Reader g(gguf_path);
  convert(g, bump_path);
  uint64_t off;
  {
    ck::bump::Reader r(bump_path);
    off = r.get("c.q8_0").offset + 5;
  }
  std::string s = slurp(bump_path);
  s[off] ^= 0x01;
  spit(bump_path, s);
  auto c = ck::bump::check(bump_path);
  EXPECT_EQ(c.status, ck::kExitMismatch);
  EXPECT_NE(c.message.find("sha256 mismatch"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find(bump_path), std::string::npos);
  ck::bump::Reader r(bump_path);  // structure is still fine
  EXPECT_THROW(r.verify(), ck::Error);
}

TEST_F(BumpTest, TamperedFooterHashIsAMismatch) {
  ck::gguf::Reader g(gguf_path);
  convert(g, bump_path);
  std::string s = slurp(bump_path);
  s[s.size() - 64 + 16] ^= 0x80;  // first byte of the recorded sha256
  spit(bump_path, s);
  EXPECT_EQ(ck::bump::check(bump_path).status, ck::kExitMismatch);
}

TEST_F(BumpTest, TruncatedOrForeignFilesAreMalformed) {
  ck::gguf::Reader g(gguf_path);
  convert(g, bump_path);
  const std::string good = slurp(bump_path);
  for (size_t cut : {size_t{0}, size_t{10}, size_t{150}, good.size() / 2, good.size() - 1}) {
    spit(bump_path, good.substr(0, cut));
    auto c = ck::bump::check(bump_path);
    EXPECT_EQ(c.status, ck::kExitBadInput) << "cut at " << cut << ": " << c.message;
    EXPECT_NE(c.message.find(bump_path), std::string::npos);
    EXPECT_THROW(ck::bump::Reader{bump_path}, ck::Error);
  }
  std::string bad = good;
  bad[0] = 'X';
  spit(bump_path, bad);
  EXPECT_EQ(ck::bump::check(bump_path).status, ck::kExitBadInput);
  bad = good;
  bad[8] = 2;  // version 2
  spit(bump_path, bad);
  auto c = ck::bump::check(bump_path);
  EXPECT_EQ(c.status, ck::kExitBadInput);
  EXPECT_NE(c.message.find("unsupported bump version 2"), std::string::npos) << c.message;
  EXPECT_EQ(ck::bump::check(gguf_path).status, ck::kExitBadInput);  // a GGUF is not a bump
  EXPECT_EQ(ck::bump::check(tmp("missing.bump")).status, ck::kExitBadInput);
}

TEST_F(BumpTest, CorruptTableDetectedByReader) {
  // Structural validation alone (the runtime's open): a tensor offset moved off its 64-byte alignment.
  ck::gguf::Reader g(gguf_path);
  convert(g, bump_path);
  std::string s = slurp(bump_path);
  // First entry: u32 len, name, u32 dtype, u32 n_dims, 4 x i64 ne, u64 offset.
  size_t name_len = kTensors[0].name.size();
  size_t off_pos = 128 + 4 + name_len + 8 + 32;
  uint64_t off;
  std::memcpy(&off, s.data() + off_pos, 8);
  off += 8;
  std::memcpy(s.data() + off_pos, &off, 8);
  spit(bump_path, s);
  try {
    ck::bump::Reader r(bump_path);
    FAIL() << "expected an error";
  } catch (const ck::Error& e) {
    EXPECT_NE(std::string(e.what()).find("aligned"), std::string::npos) << e.what();
  }
}

TEST(BumpEmpty, GgufWithoutTensors) {
  ck::gguf::Writer w;
  w.set("general.architecture", Value::str("x"));
  std::string g = tmp("empty.gguf"), b = tmp("empty.bump");
  w.write(g);
  {
    ck::gguf::Reader r(g);
    ck::OutputFile out(b);
    ck::bump::write_bump(r, "empty.gguf", out);
    out.commit();
  }
  ck::bump::Reader r(b);
  EXPECT_TRUE(r.tensors().empty());
  EXPECT_EQ(r.header().data_size, 0u);
  EXPECT_EQ(ck::bump::check(b).status, ck::kExitOk);
  std::remove(g.c_str());
  std::remove(b.c_str());
}

}  // namespace
