// lib/gguf reader on malformed input: a corpus generated here (truncations at every header byte, hand-made
// bad headers, random byte flips). Every case must throw ck::Error with one line "<path>: <problem>" and
// never crash (run under ASan/UBSan: cmake -DCK_SANITIZE=address,undefined).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "gguf/gguf.h"

namespace fs = std::filesystem;
using ck::DType;
using ck::gguf::Reader;
using ck::gguf::Value;
using ck::gguf::ValueType;
using ck::gguf::Writer;

namespace {

class MalformedTmp {
 public:
  MalformedTmp() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("ck_ggufbad_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~MalformedTmp() { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::vector<uint8_t>& bytes) const {
    const std::string p = (dir_ / name).string();
    // Unlink, not truncate: ext4 flushes a file truncated and rewritten on close (auto_da_alloc), which
    // made the hundreds of cases below IO-bound.
    fs::remove(p);
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p;
  }

 private:
  fs::path dir_;
};

// Little-endian byte builder for hand-made headers.
struct Raw {
  std::vector<uint8_t> b;
  Raw& bytes(const void* p, size_t n) {
    b.insert(b.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n);
    return *this;
  }
  Raw& u32(uint32_t v) { return bytes(&v, 4); }
  Raw& u64(uint64_t v) { return bytes(&v, 8); }
  Raw& i64(int64_t v) { return bytes(&v, 8); }
  Raw& u8(uint8_t v) { return bytes(&v, 1); }
  Raw& str(const std::string& s) { return u64(s.size()).bytes(s.data(), s.size()); }
  Raw& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return bytes("GGUF", 4).u32(version).u64(n_tensors).u64(n_kv);
  }
  Raw& kv_u32(const std::string& k, uint32_t v) { return str(k).u32(4).u32(v); }
  Raw& tensor(const std::string& name, std::vector<int64_t> ne, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(ne.size()));
    for (int64_t d : ne) i64(d);
    return u32(type).u64(offset);
  }
  Raw& pad(size_t a = 32) {
    b.resize((b.size() + a - 1) / a * a, 0);
    return *this;
  }
  Raw& zeros(size_t n) {
    b.resize(b.size() + n, 0);
    return *this;
  }
};

// The reader must reject `path` with ck::Error "<path>: ..." on one line, mentioning `needle`.
void expect_rejected(const std::string& path, const std::string& needle) {
  SCOPED_TRACE(needle);
  try {
    Reader r(path);
    ADD_FAILURE() << "accepted a malformed file (expected: " << needle << ")";
  } catch (const ck::Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind(path + ": ", 0), 0u) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_NE(m.find(needle), std::string::npos) << m;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

// A valid file exercising every part of the header: scalars, strings, nested arrays, three tensors. The
// last tensor's size is a multiple of 32, so the file ends exactly at the end of its data.
std::vector<uint8_t> valid_file(const MalformedTmp& tmp) {
  Writer w;
  w.set("general.architecture", Value::str("llama"));
  w.set("general.alignment", Value::u32(32));
  w.set("u8", Value::u8(3));
  w.set("f64", Value::f64(1.5));
  w.set("tok", Value::str_array({"a", "bc", ""}));
  w.set("nested", Value::array(ValueType::ARRAY, {Value::i32_array({1, 2}), Value::i32_array({})}));
  w.add_tensor("a", DType::F32, {5}, std::vector<uint8_t>(20, 1));
  w.add_tensor("b", DType::Q8_0, {32, 2}, std::vector<uint8_t>(68, 2));
  w.add_tensor("c", DType::F16, {16, 2}, std::vector<uint8_t>(64, 3));
  const std::string p = tmp.write("valid.gguf", {});
  w.write(p);
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(GgufMalformed, ValidBaseFileOpens) {
  MalformedTmp tmp;
  const auto bytes = valid_file(tmp);
  Reader r(tmp.write("ok.gguf", bytes));
  ASSERT_EQ(r.tensors().size(), 3u);
  EXPECT_EQ(r.data_offset() + r.tensors()[2].offset + r.tensors()[2].nbytes, bytes.size());
}

TEST(GgufMalformed, TruncationAtEveryHeaderByteAndInData) {
  MalformedTmp tmp;
  const auto full = valid_file(tmp);
  const uint64_t data_offset = Reader(tmp.write("full.gguf", full)).data_offset();
  size_t n_cases = 0;
  for (size_t cut = 0; cut < full.size(); cut += (cut < data_offset + 8 ? 1 : 5)) {
    const std::vector<uint8_t> part(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
    const std::string p = tmp.write("cut.gguf", part);
    // Below 4 bytes the file is a prefix of the magic; everything else is some form of "truncated" or,
    // for the last tensors, data past the end of the file.
    expect_rejected(p, cut < data_offset ? "truncated" : "extends past end of file");
    ++n_cases;
  }
  EXPECT_GT(n_cases, data_offset);
}

TEST(GgufMalformed, BadMagic) {
  MalformedTmp tmp;
  auto bytes = valid_file(tmp);
  std::memcpy(bytes.data(), "GGML", 4);
  expect_rejected(tmp.write("magic.gguf", bytes), "bad magic 'GGML'");
  expect_rejected(tmp.write("short.gguf", {'G', 'X'}), "bad magic");
  expect_rejected(tmp.write("empty.gguf", {}), "truncated");
  expect_rejected(tmp.write("json.gguf", {'{', '"', 'a', '"', ':', '1', '}'}), "not a GGUF file");
}

TEST(GgufMalformed, Versions) {
  MalformedTmp tmp;
  const auto base = valid_file(tmp);
  auto with_version = [&](uint32_t v) {
    auto b = base;
    std::memcpy(b.data() + 4, &v, 4);
    return tmp.write("v" + std::to_string(v) + ".gguf", b);
  };
  expect_rejected(with_version(1), "GGUF version 1 is not supported");
  expect_rejected(with_version(4), "GGUF version 4 is not supported");
  expect_rejected(with_version(0), "bad GGUF version 0");
  expect_rejected(with_version(0x03000000u), "big-endian");
}

TEST(GgufMalformed, HugeCounts) {
  MalformedTmp tmp;
  expect_rejected(tmp.write("nt.gguf", Raw().header(~0ull, 0).zeros(64).b), "tensor count 18446744073709551615");
  expect_rejected(tmp.write("nkv.gguf", Raw().header(0, ~0ull).zeros(64).b), "key-value count 18446744073709551615");
  expect_rejected(tmp.write("nkv2.gguf", Raw().header(0, 1ull << 40).zeros(64).b), "key-value count");
  // Each fits alone, not both together.
  expect_rejected(tmp.write("both.gguf", Raw().header(2, 2).zeros(60).b), "cannot fit");
  // A plausible count whose KVs are not there.
  expect_rejected(tmp.write("nkv3.gguf", Raw().header(0, 3).kv_u32("a", 1).u64(30).zeros(14).b),
                  "truncated: string length 30");
}

TEST(GgufMalformed, StringLengthPastEof) {
  MalformedTmp tmp;
  const std::string p = tmp.write("str.gguf", Raw().header(0, 1).u64(4294967295ull).zeros(40).b);
  expect_rejected(p, "truncated: string length 4294967295 at offset 24 exceeds file size 72");
  expect_rejected(tmp.write("val.gguf", Raw().header(0, 1).str("k").u32(8).u64(~0ull).b), "string length");
  expect_rejected(tmp.write("tname.gguf", Raw().header(1, 0).u64(1ull << 62).zeros(40).b), "string length");
}

TEST(GgufMalformed, ArrayLengthHuge) {
  MalformedTmp tmp;
  expect_rejected(tmp.write("a8.gguf", Raw().header(0, 1).str("k").u32(9).u32(0).u64(1ull << 40).zeros(64).b),
                  "truncated: array length 1099511627776");
  expect_rejected(tmp.write("as.gguf", Raw().header(0, 1).str("k").u32(9).u32(8).u64(~0ull).zeros(64).b),
                  "array length");
  // Nested: the outer array is plausible, an inner one is not.
  expect_rejected(
      tmp.write("an.gguf", Raw().header(0, 1).str("k").u32(9).u32(9).u64(1).u32(5).u64(1ull << 50).zeros(16).b),
      "array length 1125899906842624");
  // Enough bytes for the count of u32 elements, but the last element is cut.
  expect_rejected(tmp.write("ac.gguf", Raw().header(0, 1).str("k").u32(9).u32(4).u64(3).u32(1).u32(2).u8(0).b),
                  "truncated");
}

TEST(GgufMalformed, BadValueTypes) {
  MalformedTmp tmp;
  expect_rejected(tmp.write("t13.gguf", Raw().header(0, 1).str("k").u32(13).zeros(16).b), "unknown value type 13");
  expect_rejected(tmp.write("e99.gguf", Raw().header(0, 1).str("k").u32(9).u32(99).u64(0).b),
                  "unknown array element type 99");
  expect_rejected(tmp.write("ek.gguf", Raw().header(0, 1).str("").u32(4).u32(1).b), "is empty");
  // Arrays nested deeper than 16 levels.
  Raw deep;
  deep.header(0, 1).str("k").u32(9);
  for (int k = 0; k < 20; ++k) deep.u32(9).u64(1);
  deep.u32(0).u64(0);
  expect_rejected(tmp.write("deep.gguf", deep.b), "nested deeper than 16");
}

TEST(GgufMalformed, DuplicateKeysAndNames) {
  MalformedTmp tmp;
  expect_rejected(tmp.write("dk.gguf", Raw().header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2).b), "duplicate key 'a.b'");
  // Control characters in a name from the file are escaped: the message stays on one line.
  expect_rejected(tmp.write("dkn.gguf", Raw().header(0, 2).kv_u32("x\ny", 1).kv_u32("x\ny", 2).b),
                  "duplicate key 'x\\x0ay'");
  const auto dt = Raw().header(2, 0).tensor("w", {4}, 0, 0).tensor("w", {4}, 0, 32).pad().zeros(64).b;
  expect_rejected(tmp.write("dt.gguf", dt), "duplicate tensor name 'w'");
}

TEST(GgufMalformed, TensorShapes) {
  MalformedTmp tmp;
  expect_rejected(tmp.write("d5.gguf", Raw().header(1, 0).tensor("t", {1, 1, 1, 1, 1}, 0, 0).pad().zeros(32).b),
                  "tensor 't': n_dims 5");
  expect_rejected(tmp.write("neg.gguf", Raw().header(1, 0).tensor("t", {4, -3}, 0, 0).pad().zeros(32).b),
                  "tensor 't': ne[1] = -3");
  expect_rejected(
      tmp.write("ovf.gguf", Raw().header(1, 0).tensor("t", {1ll << 32, 1ll << 32}, 0, 0).pad().zeros(32).b),
      "overflows int64");
  expect_rejected(
      tmp.write("ovfb.gguf", Raw().header(1, 0).tensor("t", {1ll << 40, 1ll << 22}, 0, 0).pad().zeros(32).b),
      "overflows");
  expect_rejected(tmp.write("blk.gguf", Raw().header(1, 0).tensor("t", {33}, 8, 0).pad().zeros(64).b),
                  "not a multiple of the q8_0 block size 32");
  expect_rejected(tmp.write("long.gguf", Raw().header(1, 0).tensor(std::string(64, 'n'), {1}, 0, 0).pad().zeros(32).b),
                  "GGML_MAX_NAME");
}

TEST(GgufMalformed, UnknownDtype) {
  MalformedTmp tmp;
  expect_rejected(tmp.write("dt99.gguf", Raw().header(1, 0).tensor("blk.0.w", {4}, 99, 0).pad().zeros(32).b),
                  "tensor 'blk.0.w': unknown dtype id 99");
  // A ggml type ck has no traits for (IQ2_XXS = 16) is refused the same way, never guessed.
  expect_rejected(tmp.write("dt16.gguf", Raw().header(1, 0).tensor("t", {256}, 16, 0).pad().zeros(128).b),
                  "unknown dtype id 16");
}

TEST(GgufMalformed, TensorDataPlacement) {
  MalformedTmp tmp;
  // Offset past the end of the file.
  expect_rejected(tmp.write("off.gguf", Raw().header(1, 0).tensor("t", {4}, 0, 1ull << 40).pad().zeros(32).b),
                  "tensor 't': data at file offset");
  expect_rejected(tmp.write("offmax.gguf", Raw().header(1, 0).tensor("t", {4}, 0, ~0ull << 5).pad().zeros(32).b),
                  "extends past end of file");
  // Size past the end: 1 GiB of f32 in a tiny file.
  expect_rejected(tmp.write("size.gguf", Raw().header(1, 0).tensor("t", {1 << 28}, 0, 0).pad().zeros(32).b),
                  "extends past end of file");
  // Misaligned offset.
  expect_rejected(tmp.write("mis.gguf", Raw().header(1, 0).tensor("t", {4}, 0, 16).pad().zeros(64).b),
                  "data offset 16 at offset");
  // Overlap: b starts inside a.
  const auto ov = Raw().header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {8}, 0, 32).pad().zeros(128).b;
  expect_rejected(tmp.write("ov.gguf", ov), "tensors 'a' [0, 64) and 'b' [32, 64) overlap");
  // Same offset, listed in the other order.
  const auto ov2 = Raw().header(2, 0).tensor("a", {8}, 0, 64).tensor("b", {8}, 0, 64).pad().zeros(128).b;
  expect_rejected(tmp.write("ov2.gguf", ov2), "overlap");
  // Header ends without the padding to the data region.
  expect_rejected(tmp.write("nopad.gguf", Raw().header(1, 0).tensor("t", {0}, 0, 0).b), "data region starts");
}

TEST(GgufMalformed, Alignment) {
  MalformedTmp tmp;
  auto with_align = [&](const std::string& name, Raw kv) {
    Raw r;
    r.header(1, 1).bytes(kv.b.data(), kv.b.size()).tensor("t", {4}, 0, 0).pad(64).zeros(64);
    return tmp.write(name, r.b);
  };
  expect_rejected(with_align("a0.gguf", Raw().kv_u32("general.alignment", 0)), "not a nonzero power of two");
  expect_rejected(with_align("a48.gguf", Raw().kv_u32("general.alignment", 48)), "general.alignment 48");
  expect_rejected(with_align("a64.gguf", Raw().str("general.alignment").u32(10).u64(64)), "must be of type u32");
  expect_rejected(with_align("abig.gguf", Raw().kv_u32("general.alignment", 1u << 31)), "data region starts");
  // A valid non-default alignment is honoured: offset 32 is misaligned for 64.
  Raw ok;
  ok.header(1, 1).kv_u32("general.alignment", 64).tensor("t", {4}, 0, 32).pad(64).zeros(128);
  expect_rejected(tmp.write("a64mis.gguf", ok.b), "not a multiple of the alignment 64");
}

TEST(GgufMalformed, ValidEdgeCasesAreAccepted) {
  MalformedTmp tmp;
  // ggml accepts n_dims 0 (a scalar), zero-size tensors at any aligned offset, tensors in any order with gaps.
  const auto b = Raw()
                     .header(3, 0)
                     .tensor("s", {}, 0, 64)
                     .tensor("z", {0, 5}, 0, 96)  // zero bytes, right at the end of the file
                     .tensor("v", {8}, 0, 0)
                     .pad()
                     .zeros(96)
                     .b;
  Reader r(tmp.write("edge.gguf", b));
  ASSERT_EQ(r.tensors().size(), 3u);
  EXPECT_EQ(r.tensors()[0].n_elements(), 1u);
  EXPECT_EQ(r.tensors()[0].nbytes, 4u);
  EXPECT_EQ(r.tensors()[1].nbytes, 0u);
  // No tensors: the data region is the end of the header (nothing to pad to).
  const auto nt = Raw().header(0, 1).kv_u32("a", 1).b;
  Reader r2(tmp.write("nt.gguf", nt));
  EXPECT_EQ(r2.data_offset(), nt.size());
}

// Random corruption of a valid file: whatever happens, it is a clean accept or a ck::Error, never a crash.
TEST(GgufMalformed, RandomByteFlipsNeverCrash) {
  MalformedTmp tmp;
  const auto base = valid_file(tmp);
  const size_t header = Reader(tmp.write("base.gguf", base)).data_offset();
  std::mt19937_64 rng(12345);
  int rejected = 0;
  for (int it = 0; it < 2000; ++it) {
    auto b = base;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      const size_t at = rng() % header;
      switch (rng() % 3) {
        case 0: b[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        case 1: b[at] = 0xff; break;
        default: b[at] = static_cast<uint8_t>(rng()); break;
      }
    }
    const std::string p = tmp.write("flip.gguf", b);
    try {
      Reader r(p);
      for (const auto& t : r.tensors())
        ASSERT_LE(t.data + t.nbytes, r.file().data() + r.file().size()) << "tensor escapes the mapping";
    } catch (const ck::Error& e) {
      const std::string m = e.what();
      ASSERT_EQ(m.rfind(p + ": ", 0), 0u) << m;
      ASSERT_EQ(m.find('\n'), std::string::npos) << m;
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 700);
}
