// lib/gguf: writer -> reader round trips (every KV type, every dtype of core/dtype.h), the exact bytes of a
// tiny file, getters, writer errors, and opening a large sparse model with tokenizer-sized arrays.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/error.h"
#include "core/sha256.h"
#include "gguf/gguf.h"

namespace fs = std::filesystem;
using ck::DType;
using ck::gguf::Reader;
using ck::gguf::Value;
using ck::gguf::ValueType;
using ck::gguf::Writer;

namespace {

// A fresh directory per test, removed afterwards.
class GgufTmp {
 public:
  GgufTmp() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("ck_gguf_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~GgufTmp() { fs::remove_all(dir_); }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
};

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One KV of every scalar type at its extremes, plus strings and arrays of every shape the format allows.
std::vector<std::pair<std::string, Value>> every_kv() {
  std::vector<std::pair<std::string, Value>> kv;
  kv.emplace_back("u8.max", Value::u8(255));
  kv.emplace_back("i8.min", Value::i8(-128));
  kv.emplace_back("u16.max", Value::u16(65535));
  kv.emplace_back("i16.min", Value::i16(-32768));
  kv.emplace_back("u32.max", Value::u32(0xFFFFFFFFu));
  kv.emplace_back("i32.min", Value::i32(std::numeric_limits<int32_t>::min()));
  kv.emplace_back("u64.max", Value::u64(std::numeric_limits<uint64_t>::max()));
  kv.emplace_back("i64.min", Value::i64(std::numeric_limits<int64_t>::min()));
  kv.emplace_back("f32.pi", Value::f32(3.14159274f));
  kv.emplace_back("f32.negzero", Value::f32(-0.0f));
  kv.emplace_back("f32.inf", Value::f32(-std::numeric_limits<float>::infinity()));
  kv.emplace_back("f32.nan", Value::f32(std::numeric_limits<float>::quiet_NaN()));
  kv.emplace_back("f32.denorm", Value::f32(std::numeric_limits<float>::denorm_min()));
  kv.emplace_back("f64.e", Value::f64(2.718281828459045));
  kv.emplace_back("f64.max", Value::f64(std::numeric_limits<double>::max()));
  kv.emplace_back("bool.true", Value::boolean(true));
  kv.emplace_back("bool.false", Value::boolean(false));
  kv.emplace_back("str.empty", Value::str(""));
  kv.emplace_back("str.utf8", Value::str("Qwen3-VL \xc4\xa0 \xe2\x96\x81 \xf0\x9f\x98\x80"));
  kv.emplace_back("str.nul", Value::str(std::string("a\0b", 3)));
  kv.emplace_back("arr.u8", Value::array(ValueType::UINT8, {Value::u8(0), Value::u8(255)}));
  kv.emplace_back("arr.i8", Value::array(ValueType::INT8, {Value::i8(-1), Value::i8(127)}));
  kv.emplace_back("arr.u16", Value::array(ValueType::UINT16, {Value::u16(1), Value::u16(65535)}));
  kv.emplace_back("arr.i16", Value::array(ValueType::INT16, {Value::i16(-2), Value::i16(32767)}));
  kv.emplace_back("arr.u32", Value::array(ValueType::UINT32, {Value::u32(7)}));
  kv.emplace_back("arr.i32", Value::i32_array({-1, 0, 1, std::numeric_limits<int32_t>::max()}));
  kv.emplace_back("arr.u64", Value::array(ValueType::UINT64, {Value::u64(1ull << 63)}));
  kv.emplace_back("arr.i64", Value::array(ValueType::INT64, {Value::i64(-(1ll << 62))}));
  kv.emplace_back("arr.f32", Value::f32_array({0.5f, -1e-30f, 1e30f}));
  kv.emplace_back("arr.f64", Value::array(ValueType::FLOAT64, {Value::f64(1e-300), Value::f64(-0.0)}));
  kv.emplace_back("arr.bool", Value::array(ValueType::BOOL, {Value::boolean(true), Value::boolean(false)}));
  kv.emplace_back("arr.str", Value::str_array({"", "a", "\xc4\xa0hello", std::string(1000, 'x')}));
  for (uint32_t t = 0; t <= 12; ++t)
    kv.emplace_back("arr.empty." + std::string(ck::gguf::value_type_name(static_cast<ValueType>(t))),
                    Value::array(static_cast<ValueType>(t), {}));
  // Nested arrays: array of string arrays, array of empty arrays, three levels deep.
  kv.emplace_back("arr.nested.str",
                  Value::array(ValueType::ARRAY, {Value::str_array({"x", ""}), Value::str_array({}),
                                                  Value::str_array({"y"})}));
  kv.emplace_back("arr.nested.empty", Value::array(ValueType::ARRAY, {Value::array(ValueType::INT64, {}),
                                                                      Value::array(ValueType::BOOL, {})}));
  kv.emplace_back("arr.nested.deep",
                  Value::array(ValueType::ARRAY,
                               {Value::array(ValueType::ARRAY, {Value::i32_array({1, 2}), Value::i32_array({})}),
                                Value::array(ValueType::ARRAY, {})}));
  return kv;
}

}  // namespace

TEST(GgufRoundTrip, EveryKvType) {
  GgufTmp tmp;
  Writer w;
  const auto kv = every_kv();
  for (const auto& [k, v] : kv) w.set(k, v);
  const std::string path = tmp.file("kv.gguf");
  w.write(path);

  Reader r(path);
  EXPECT_EQ(r.version(), 3u);
  EXPECT_EQ(r.alignment(), 32u);
  EXPECT_TRUE(r.tensors().empty());
  ASSERT_EQ(r.kvs().size(), kv.size());
  for (size_t i = 0; i < kv.size(); ++i) {
    EXPECT_EQ(r.kvs()[i].key, kv[i].first) << "insertion order";
    EXPECT_TRUE(r.kvs()[i].value == kv[i].second) << kv[i].first;
    ASSERT_NE(r.find(kv[i].first), nullptr);
  }
  EXPECT_EQ(r.find("no.such.key"), nullptr);
  EXPECT_TRUE(std::isnan(r.find("f32.nan")->f));
  EXPECT_TRUE(std::signbit(r.find("f32.negzero")->f));
  EXPECT_EQ(r.find("str.nul")->s.size(), 3u);
  EXPECT_EQ(r.find("arr.nested.deep")->arr[0].arr[0].arr[1].i, 2);
  EXPECT_EQ(r.find("arr.nested.deep")->arr[0].elem_type, ValueType::ARRAY);
  EXPECT_EQ(r.find("arr.empty.string")->elem_type, ValueType::STRING);
}

TEST(GgufRoundTrip, EveryDtypeAndRank) {
  GgufTmp tmp;
  Writer w;
  w.set("general.architecture", Value::str("test"));
  struct Expect {
    std::string name;
    DType type;
    std::vector<int64_t> ne;
    uint64_t nbytes;
    uint8_t seed;
  };
  std::vector<Expect> expect;
  uint8_t seed = 1;
  for (uint32_t id = 0; id < 64; ++id) {
    const auto tr = ck::dtype_traits(id);
    if (!tr) continue;
    const int64_t b = tr->block_size;
    const std::vector<std::vector<int64_t>> shapes = {{b * 3}, {b * 2, 3}, {b, 2, 3}, {b * 2, 1, 3, 2}};
    for (const auto& ne : shapes) {
      Expect e{std::string(tr->name) + ".r" + std::to_string(ne.size()), tr->type, ne, 0, seed++};
      uint64_t rows = 1;
      for (size_t d = 1; d < ne.size(); ++d) rows *= ne[d];
      e.nbytes = static_cast<uint64_t>(ne[0]) / tr->block_size * tr->type_size * rows;
      const uint8_t s = e.seed;
      w.add_tensor(e.name, e.type, e.ne, [s](std::span<uint8_t> out) {
        for (size_t k = 0; k < out.size(); ++k) out[k] = static_cast<uint8_t>(k * 31 + s);
      });
      expect.push_back(e);
    }
  }
  // A zero-element tensor and one passed as bytes.
  w.add_tensor("empty", DType::F32, {0, 4}, std::vector<uint8_t>{});
  w.add_tensor("bytes", DType::I8, {5}, std::vector<uint8_t>{1, 2, 3, 4, 5});

  const std::string path = tmp.file("t.gguf");
  w.write(path);
  Reader r(path);
  ASSERT_EQ(r.tensors().size(), expect.size() + 2);
  EXPECT_EQ(r.data_offset() % 32, 0u);
  uint64_t expected_offset = 0;
  for (size_t i = 0; i < expect.size(); ++i) {
    const auto& t = r.tensors()[i];
    const auto& e = expect[i];
    SCOPED_TRACE(e.name);
    EXPECT_EQ(t.name, e.name);
    EXPECT_EQ(t.type, e.type);
    EXPECT_EQ(t.ne, e.ne);
    EXPECT_EQ(t.nbytes, e.nbytes);
    // ggml's packing: each tensor right after the previous one, padded to the alignment.
    EXPECT_EQ(t.offset, expected_offset);
    expected_offset += (e.nbytes + 31) / 32 * 32;
    ASSERT_EQ(t.data, r.file().data() + r.data_offset() + t.offset);
    bool same = true;
    for (uint64_t k = 0; k < t.nbytes && same; ++k) same = t.data[k] == static_cast<uint8_t>(k * 31 + e.seed);
    EXPECT_TRUE(same);
    EXPECT_EQ(r.find_tensor(e.name), &t);
  }
  const auto* empty = r.find_tensor("empty");
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->nbytes, 0u);
  EXPECT_EQ(empty->n_elements(), 0u);
  const auto* bytes = r.find_tensor("bytes");
  ASSERT_NE(bytes, nullptr);
  EXPECT_EQ(std::vector<uint8_t>(bytes->data, bytes->data + 5), (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(r.find_tensor("nope"), nullptr);
  // Padding after the last tensor, as gguf_write_out does; the padding is zeros.
  EXPECT_EQ(r.file().size() % 32, 0u);
  EXPECT_EQ(r.file().data()[r.file().size() - 1], 0);

  // Deterministic: the same additions give the same bytes.
  const std::string path2 = tmp.file("t2.gguf");
  w.write(path2);
  EXPECT_EQ(ck::sha256_file_hex(path), ck::sha256_file_hex(path2));
}

TEST(GgufWriter, ExactBytesOfTinyFile) {
  // Hand-assembled from ggml/docs/gguf.md: an independent check of the wire format.
  Writer w;
  w.set("a", Value::u32(1));
  w.add_tensor("t", DType::F16, {2}, std::vector<uint8_t>{0x00, 0x3c, 0x00, 0xc0});
  std::vector<uint8_t> want = {'G', 'G', 'U', 'F', 3, 0, 0, 0,  // magic, version
                               1, 0, 0, 0, 0, 0, 0, 0,          // n_tensors
                               1, 0, 0, 0, 0, 0, 0, 0,          // n_kv
                               1, 0, 0, 0, 0, 0, 0, 0, 'a',     // key
                               4, 0, 0, 0, 1, 0, 0, 0,          // type u32, value
                               1, 0, 0, 0, 0, 0, 0, 0, 't',     // tensor name
                               1, 0, 0, 0,                      // n_dims
                               2, 0, 0, 0, 0, 0, 0, 0,          // ne[0]
                               1, 0, 0, 0,                      // type f16
                               0, 0, 0, 0, 0, 0, 0, 0};         // offset
  want.resize(96, 0);                                           // pad to 32
  EXPECT_EQ(w.header_bytes(), want);

  GgufTmp tmp;
  const std::string path = tmp.file("tiny.gguf");
  w.write(path);
  auto file = read_bytes(path);
  ASSERT_EQ(file.size(), 128u);
  EXPECT_TRUE(std::equal(want.begin(), want.end(), file.begin()));
  EXPECT_EQ(file[96], 0x00);
  EXPECT_EQ(file[97], 0x3c);
  EXPECT_EQ(file[99], 0xc0);
  for (size_t k = 100; k < 128; ++k) EXPECT_EQ(file[k], 0) << k;
}

TEST(GgufReader, Version2IsRead) {
  GgufTmp tmp;
  Writer w;
  w.set("k", Value::str("v"));
  w.add_tensor("t", DType::F32, {8}, [](std::span<uint8_t> o) { std::memset(o.data(), 7, o.size()); });
  const std::string path = tmp.file("v2.gguf");
  w.write(path);
  auto bytes = read_bytes(path);
  bytes[4] = 2;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  Reader r(path);
  EXPECT_EQ(r.version(), 2u);
  EXPECT_EQ(r.get_string("k"), "v");
  EXPECT_EQ(r.tensors()[0].data[31], 7);
}

TEST(GgufWriter, AlignmentIsRecordedAndUsed) {
  GgufTmp tmp;
  Writer w;
  w.set("x", Value::u8(1));
  w.add_tensor("a", DType::F32, {3}, std::vector<uint8_t>(12, 1));
  w.add_tensor("b", DType::F32, {3}, std::vector<uint8_t>(12, 2));
  w.set_alignment(256);  // after the tensors: the layout follows
  const std::string path = tmp.file("al.gguf");
  w.write(path);
  Reader r(path);
  EXPECT_EQ(r.alignment(), 256u);
  EXPECT_EQ(r.get_int("general.alignment"), 256);
  EXPECT_EQ(r.kvs().back().key, "general.alignment");
  EXPECT_EQ(r.data_offset() % 256, 0u);
  EXPECT_EQ(r.tensors()[1].offset, 256u);
  EXPECT_EQ(r.tensors()[1].data[0], 2);

  Writer d;  // the default is not written
  d.set_alignment(32);
  EXPECT_EQ(d.header_bytes().size(), 32u);
  EXPECT_THROW(d.set_alignment(48), ck::Error);
  EXPECT_THROW(d.set("general.alignment", Value::u64(64)), ck::Error);
}

TEST(GgufWriter, SetReplacesInPlace) {
  GgufTmp tmp;
  Writer w;
  w.set("a", Value::u8(1));
  w.set("b", Value::u8(2));
  w.set("a", Value::str("again"));
  const std::string path = tmp.file("s.gguf");
  w.write(path);
  Reader r(path);
  ASSERT_EQ(r.kvs().size(), 2u);
  EXPECT_EQ(r.kvs()[0].key, "a");
  EXPECT_EQ(r.kvs()[0].value.s, "again");
}

TEST(GgufWriter, RejectsBadTensors) {
  Writer w;
  w.add_tensor("t", DType::Q8_0, {64}, nullptr);
  EXPECT_THROW(w.add_tensor("t", DType::F32, {1}, nullptr), ck::Error);              // duplicate
  EXPECT_THROW(w.add_tensor("u", DType::Q8_0, {33}, nullptr), ck::Error);            // not whole blocks
  EXPECT_THROW(w.add_tensor("v", DType::F32, {1, 1, 1, 1, 1}, nullptr), ck::Error);  // 5 dims
  EXPECT_THROW(w.add_tensor("w", DType::F32, {-1}, nullptr), ck::Error);
  EXPECT_THROW(w.add_tensor(std::string(64, 'n'), DType::F32, {1}, nullptr), ck::Error);
  EXPECT_THROW(w.add_tensor("x", DType::F32, {2}, std::vector<uint8_t>(7)), ck::Error);  // wrong byte count
  EXPECT_THROW(w.set("", Value::u8(0)), ck::Error);
  w.add_tensor("y", DType::F32, {2}, std::vector<uint8_t>(8));  // state still consistent after the errors
  EXPECT_EQ(w.header_bytes().size() % 32, 0u);
  EXPECT_THROW(Value::array(ValueType::INT32, {Value::u8(1)}), ck::Error);
}

TEST(GgufWriter, FailedFillLeavesNothingBehind) {
  GgufTmp tmp;
  Writer w;
  w.add_tensor("a", DType::F32, {4}, [](std::span<uint8_t>) {});
  w.add_tensor("b", DType::F32, {4}, [](std::span<uint8_t>) { throw ck::Error("fill failed"); });
  const std::string path = tmp.file("partial.gguf");
  EXPECT_THROW(w.write(path), ck::Error);
  EXPECT_TRUE(fs::is_empty(tmp.dir()));
}

TEST(GgufReader, TypedGetters) {
  GgufTmp tmp;
  Writer w;
  w.set("s", Value::str("text"));
  w.set("u32", Value::u32(4000000000u));
  w.set("i8", Value::i8(-5));
  w.set("u64big", Value::u64(std::numeric_limits<uint64_t>::max()));
  w.set("f32", Value::f32(0.25f));
  w.set("b", Value::boolean(true));
  const std::string path = tmp.file("get.gguf");
  w.write(path);
  Reader r(path);
  EXPECT_EQ(r.get_string("s"), "text");
  EXPECT_EQ(r.get_int("u32"), 4000000000);
  EXPECT_EQ(r.get_int("i8"), -5);
  EXPECT_EQ(r.get_float("f32"), 0.25);
  EXPECT_EQ(r.get_float("i8"), -5.0);
  EXPECT_EQ(r.get_bool_opt("b"), std::optional<bool>(true));
  EXPECT_EQ(r.get_int_opt("missing"), std::nullopt);
  EXPECT_EQ(r.get_string_opt("missing"), std::nullopt);
  EXPECT_EQ(r.get_float_opt("missing"), std::nullopt);
  EXPECT_EQ(r.get_bool_opt("missing"), std::nullopt);
  auto expect_error = [&](auto fn, const std::string& needle) {
    try {
      fn();
      ADD_FAILURE() << "no error for " << needle;
    } catch (const ck::Error& e) {
      const std::string m = e.what();
      EXPECT_EQ(m.rfind(path + ": ", 0), 0u) << m;
      EXPECT_NE(m.find(needle), std::string::npos) << m;
    }
  };
  expect_error([&] { r.get_string("missing"); }, "missing key 'missing'");
  expect_error([&] { r.get_int("missing"); }, "missing key");
  expect_error([&] { r.get_float("missing"); }, "missing key");
  expect_error([&] { r.get_string("u32"); }, "has type u32, expected string");
  expect_error([&] { r.get_int("s"); }, "expected an integer");
  expect_error([&] { r.get_int("f32"); }, "expected an integer");
  expect_error([&] { r.get_int("u64big"); }, "does not fit in int64");
  expect_error([&] { r.get_float("s"); }, "expected a number");
  expect_error([&] { r.get_bool_opt("i8"); }, "expected bool");
}

// Opening must touch only the header: a 3 GB model (sparse file) with tokenizer-sized arrays opens fast.
TEST(GgufReader, LargeSparseModelWithTokenizerArrays) {
  GgufTmp tmp;
  Writer w;
  constexpr int kVocab = 151936;
  std::vector<std::string> tokens, merges;
  std::vector<int32_t> types;
  tokens.reserve(kVocab);
  merges.reserve(kVocab);
  for (int k = 0; k < kVocab; ++k) {
    tokens.push_back("tok_" + std::to_string(k));
    merges.push_back("\xc4\xa0t" + std::to_string(k) + " x" + std::to_string(k % 97));
    types.push_back(k % 5);
  }
  w.set("tokenizer.ggml.tokens", Value::str_array(tokens));
  w.set("tokenizer.ggml.token_type", Value::i32_array(types));
  w.set("tokenizer.ggml.merges", Value::str_array(merges));
  w.add_tensor("token_embd.weight", DType::F16, {2048, kVocab}, nullptr);  // 622 MB
  w.add_tensor("big.weight", DType::F32, {4096, 147456}, nullptr);       // 2.4 GB
  const auto header = w.header_bytes();
  const std::string path = tmp.file("big.gguf");
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(header.data()), static_cast<std::streamsize>(header.size()));
  }
  const uint64_t total = header.size() + 2048ull * kVocab * 2 + 4096ull * 147456 * 4;
  fs::resize_file(path, total);  // sparse: no data blocks written

  const auto t0 = std::chrono::steady_clock::now();
  Reader r(path);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ info ] opened %.2f GB GGUF with 3 x %d-entry arrays in %.1f ms\n", total / 1e9, kVocab, ms);
  ASSERT_EQ(r.find("tokenizer.ggml.tokens")->arr.size(), static_cast<size_t>(kVocab));
  EXPECT_EQ(r.find("tokenizer.ggml.tokens")->arr[kVocab - 1].s, "tok_151935");
  EXPECT_EQ(r.find("tokenizer.ggml.token_type")->arr[7].i, 2);
  EXPECT_EQ(r.tensors()[1].offset + r.tensors()[1].nbytes + r.data_offset(), total);
}
