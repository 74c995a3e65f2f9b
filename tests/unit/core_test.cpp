// lib/core: fp16/bf16 conversions against known bit patterns (RNE ties, subnormals, inf/NaN) and against
// the F16C instructions ggml's x86 build uses; the dtype table against ggml.c type_traits; OutputFile
// atomicity; SHA-256 test vectors; MappedFile and error formatting.
#include <gtest/gtest.h>
#include <immintrin.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>

#include "core/dtype.h"
#include "core/error.h"
#include "core/half.h"
#include "core/mapped_file.h"
#include "core/output_file.h"
#include "core/sha256.h"

namespace fs = std::filesystem;

namespace {

float f_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
bool fp16_is_nan(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0; }
bool bf16_is_nan(uint16_t h) { return (h & 0x7F80) == 0x7F80 && (h & 0x007F) != 0; }

__attribute__((target("f16c"))) uint16_t f16c_from_fp32(float f) { return _cvtss_sh(f, 0); }
__attribute__((target("f16c"))) float f16c_to_fp32(uint16_t h) { return _cvtsh_ss(h); }

class CoreTmp {
 public:
  CoreTmp() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / ("ck_core_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~CoreTmp() { fs::remove_all(dir_); }
  std::string file(const std::string& n) const { return (dir_ / n).string(); }
  std::vector<std::string> listing() const {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(dir_)) v.push_back(e.path().filename().string());
    std::sort(v.begin(), v.end());
    return v;
  }

 private:
  fs::path dir_;
};

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(CoreHalf, Fp32ToFp16KnownBits) {
  struct Case {
    float f;
    uint16_t h;
    const char* what;
  };
  const float two_m24 = std::ldexp(1.0f, -24), two_m25 = std::ldexp(1.0f, -25);
  const Case cases[] = {
      {1.0f, 0x3C00, "one"},
      {-2.0f, 0xC000, "minus two"},
      {0.0f, 0x0000, "zero"},
      {-0.0f, 0x8000, "negative zero keeps its sign"},
      {65504.0f, 0x7BFF, "largest finite"},
      {65519.0f, 0x7BFF, "below the midpoint to inf"},
      {65520.0f, 0x7C00, "midpoint 65504..65536 rounds to even = inf"},
      {1e6f, 0x7C00, "overflow to inf"},
      {1.0f + std::ldexp(1.0f, -11), 0x3C00, "tie between 0x3C00 and 0x3C01 -> even 0x3C00"},
      {1.0f + 3 * std::ldexp(1.0f, -11), 0x3C02, "tie between 0x3C01 and 0x3C02 -> even 0x3C02"},
      {f_from_bits(bits_of(1.0f + std::ldexp(1.0f, -11)) + 1), 0x3C01, "just above a tie rounds up"},
      {std::ldexp(1.0f, -14), 0x0400, "smallest normal"},
      {std::ldexp(1.0f, -14) - two_m25, 0x0400, "tie 0x03FF/0x0400 -> even 0x0400"},
      {two_m24, 0x0001, "smallest subnormal"},
      {1023 * two_m24, 0x03FF, "largest subnormal"},
      {two_m25, 0x0000, "tie 0/0x0001 -> even 0"},
      {3 * two_m25, 0x0002, "tie 0x0001/0x0002 -> even 0x0002"},
      {1.25f * two_m24, 0x0001, "below a subnormal tie"},
      {-two_m25, 0x8000, "negative tie to signed zero"},
      {std::ldexp(1.0f, -30), 0x0000, "underflow"},
      {std::numeric_limits<float>::infinity(), 0x7C00, "+inf"},
      {-std::numeric_limits<float>::infinity(), 0xFC00, "-inf"},
  };
  for (const auto& c : cases) EXPECT_EQ(ck::fp32_to_fp16(c.f), c.h) << c.what;
  EXPECT_TRUE(fp16_is_nan(ck::fp32_to_fp16(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(fp16_is_nan(ck::fp32_to_fp16(f_from_bits(0x7F800001u))));  // signalling, low payload
  EXPECT_TRUE(fp16_is_nan(ck::fp32_to_fp16(f_from_bits(0xFFC00000u))));
  EXPECT_EQ(ck::fp32_to_fp16(f_from_bits(0xFFC00000u)) & 0x8000, 0x8000);
}

TEST(CoreHalf, Fp16ToFp32KnownBitsAndExhaustiveRoundTrip) {
  EXPECT_EQ(ck::fp16_to_fp32(0x3C00), 1.0f);
  EXPECT_EQ(ck::fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(ck::fp16_to_fp32(0x8001), -std::ldexp(1.0f, -24));
  EXPECT_EQ(ck::fp16_to_fp32(0x03FF), 1023 * std::ldexp(1.0f, -24));
  EXPECT_EQ(ck::fp16_to_fp32(0x0400), std::ldexp(1.0f, -14));
  EXPECT_EQ(ck::fp16_to_fp32(0x7BFF), 65504.0f);
  EXPECT_EQ(ck::fp16_to_fp32(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(ck::fp16_to_fp32(0xFC00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(ck::fp16_to_fp32(0x7E00)));
  EXPECT_TRUE(std::isnan(ck::fp16_to_fp32(0x7C01)));
  EXPECT_EQ(bits_of(ck::fp16_to_fp32(0x8000)), 0x80000000u);
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = ck::fp16_to_fp32(static_cast<uint16_t>(h));
    if (fp16_is_nan(static_cast<uint16_t>(h))) {
      ASSERT_TRUE(std::isnan(f)) << h;
      ASSERT_TRUE(fp16_is_nan(ck::fp32_to_fp16(f))) << h;
    } else {
      ASSERT_EQ(ck::fp32_to_fp16(f), h) << "fp16 -> fp32 -> fp16 must be the identity, h=" << h;
    }
  }
}

// ggml's portable x86 build converts with F16C (_cvtss_sh(x, 0) / _cvtsh_ss). ck's bit-twiddling versions must
// give the same bits on every non-NaN input. (NaN payloads differ: F16C keeps the top payload bits, the
// portable code gives 0x7E00 | sign; only NaN-ness is required here.)
TEST(CoreHalf, MatchesF16CInstructions) {
  if (!__builtin_cpu_supports("f16c")) GTEST_SKIP() << "CPU without F16C";
  for (uint32_t h = 0; h < 65536; ++h) {
    const float a = ck::fp16_to_fp32(static_cast<uint16_t>(h)), b = f16c_to_fp32(static_cast<uint16_t>(h));
    if (std::isnan(b)) {
      ASSERT_TRUE(std::isnan(a)) << h;
    } else {
      ASSERT_EQ(bits_of(a), bits_of(b)) << h;
    }
  }
  auto check = [](uint32_t u) {
    const float f = f_from_bits(u);
    const uint16_t want = f16c_from_fp32(f), got = ck::fp32_to_fp16(f);
    if (std::isnan(f)) return got == ((want & 0x8000) | 0x7E00);  // ggml_compute_fp32_to_fp16's NaN
    return got == want;
  };
  // A stride through all 2^32 patterns, plus every fp16 midpoint and its neighbours (where RNE decides).
  for (uint64_t u = 0; u < (1ull << 32); u += 4099) ASSERT_TRUE(check(static_cast<uint32_t>(u))) << u;
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    const uint32_t lo = bits_of(ck::fp16_to_fp32(static_cast<uint16_t>(h)));
    const uint32_t hi = bits_of(ck::fp16_to_fp32(static_cast<uint16_t>(h + 1)));
    const uint32_t mid = bits_of((f_from_bits(lo) + f_from_bits(hi)) / 2);  // exact in fp32
    for (uint32_t u : {lo, mid - 1, mid, mid + 1, hi - 1})
      for (uint32_t s : {0u, 0x80000000u}) ASSERT_TRUE(check(u | s)) << std::hex << (u | s);
  }
}

TEST(CoreHalf, Bf16KnownBits) {
  EXPECT_EQ(ck::fp32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(ck::fp32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(ck::fp32_to_bf16(f_from_bits(0x3F808000u)), 0x3F80) << "tie -> even";
  EXPECT_EQ(ck::fp32_to_bf16(f_from_bits(0x3F818000u)), 0x3F82) << "tie -> even (up)";
  EXPECT_EQ(ck::fp32_to_bf16(f_from_bits(0x3F808001u)), 0x3F81) << "above tie";
  EXPECT_EQ(ck::fp32_to_bf16(f_from_bits(0x3F807FFFu)), 0x3F80) << "below tie";
  EXPECT_EQ(ck::fp32_to_bf16(f_from_bits(0x7F7FFFFFu)), 0x7F80) << "FLT_MAX rounds to inf (ggml)";
  EXPECT_EQ(ck::fp32_to_bf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(ck::fp32_to_bf16(-std::numeric_limits<float>::infinity()), 0xFF80);
  // ggml_compute_fp32_to_bf16: NaN -> (bits >> 16) | 64, a quiet NaN even when rounding would make it inf.
  EXPECT_EQ(ck::fp32_to_bf16(f_from_bits(0x7F800001u)), 0x7FC0);
  EXPECT_EQ(ck::fp32_to_bf16(f_from_bits(0xFF800001u)), 0xFFC0);
  EXPECT_EQ(ck::fp32_to_bf16(f_from_bits(0x7FC00000u)), 0x7FC0);
  EXPECT_EQ(ck::fp32_to_bf16(f_from_bits(0x7FFFFFFFu)), 0x7FFF);
  // Subnormals are rounded, not flushed.
  EXPECT_EQ(ck::fp32_to_bf16(f_from_bits(0x00008000u)), 0x0000) << "subnormal tie -> even 0";
  EXPECT_EQ(ck::fp32_to_bf16(f_from_bits(0x00018000u)), 0x0002) << "subnormal tie -> even 2";
  EXPECT_EQ(ck::fp32_to_bf16(f_from_bits(0x80008001u)), 0x8001);
  EXPECT_EQ(ck::bf16_to_fp32(0x3F80), 1.0f);
  EXPECT_EQ(bits_of(ck::bf16_to_fp32(0x0001)), 0x00010000u);
  for (uint32_t h = 0; h < 65536; ++h) {
    const auto hh = static_cast<uint16_t>(h);
    const uint16_t back = ck::fp32_to_bf16(ck::bf16_to_fp32(hh));
    if (bf16_is_nan(hh)) {
      ASSERT_EQ(back, hh | 0x40) << h;
    } else {
      ASSERT_EQ(back, hh) << h;
    }
  }
}

// ggml.c type_traits (blck_size, type_size) for the ids ck knows; everything else must be unknown.
TEST(CoreDtype, TableMatchesGgmlTypeTraits) {
  struct Row {
    uint32_t id;
    const char* name;
    uint32_t blck, size;
  };
  const Row ggml[] = {{0, "f32", 1, 4},      {1, "f16", 1, 2},      {2, "q4_0", 32, 18},   {3, "q4_1", 32, 20},
                      {6, "q5_0", 32, 22},   {7, "q5_1", 32, 24},   {8, "q8_0", 32, 34},   {9, "q8_1", 32, 36},
                      {10, "q2_K", 256, 84}, {11, "q3_K", 256, 110}, {12, "q4_K", 256, 144}, {13, "q5_K", 256, 176},
                      {14, "q6_K", 256, 210}, {15, "q8_K", 256, 292}, {24, "i8", 1, 1},      {25, "i16", 1, 2},
                      {26, "i32", 1, 4},     {27, "i64", 1, 8},     {28, "f64", 1, 8},     {30, "bf16", 1, 2}};
  size_t known = 0;
  for (uint32_t id = 0; id < 256; ++id) {
    const auto t = ck::dtype_traits(id);
    const Row* row = nullptr;
    for (const auto& r : ggml)
      if (r.id == id) row = &r;
    if (row == nullptr) {
      EXPECT_FALSE(t.has_value()) << "id " << id << " is not in ck's table";
      continue;
    }
    ++known;
    ASSERT_TRUE(t.has_value()) << id;
    EXPECT_EQ(static_cast<uint32_t>(t->type), id);
    EXPECT_STREQ(t->name, row->name);
    EXPECT_EQ(t->block_size, row->blck) << row->name;
    EXPECT_EQ(t->type_size, row->size) << row->name;
    EXPECT_EQ(t->quantized, row->blck > 1) << row->name;
    EXPECT_EQ(ck::dtype_from_name(row->name), t->type);
    EXPECT_STREQ(ck::dtype_name(t->type), row->name);
  }
  EXPECT_EQ(known, std::size(ggml));
  EXPECT_EQ(ck::dtype_from_name("Q4_K"), ck::DType::Q4_K);
  EXPECT_EQ(ck::dtype_from_name("BF16"), ck::DType::BF16);
  EXPECT_EQ(ck::dtype_from_name("iq2_xxs"), std::nullopt);
  EXPECT_EQ(ck::dtype_from_name(""), std::nullopt);
  EXPECT_EQ(ck::row_bytes(ck::DType::Q8_0, 64), std::optional<uint64_t>(68));
  EXPECT_EQ(ck::row_bytes(ck::DType::Q6_K, 512), std::optional<uint64_t>(420));
  EXPECT_EQ(ck::row_bytes(ck::DType::F16, 3), std::optional<uint64_t>(6));
  EXPECT_EQ(ck::row_bytes(ck::DType::Q4_K, 100), std::nullopt);
}

TEST(CoreOutputFile, NothingLeftBehindWithoutCommit) {
  CoreTmp tmp;
  const std::string p = tmp.file("out.bin");
  {
    ck::OutputFile f(p);
    f.write("abc", 3);
    f.write_zeros(100000);
    EXPECT_EQ(f.position(), 100003u);
    EXPECT_EQ(tmp.listing().size(), 1u);  // the temp file exists meanwhile, under another name
    EXPECT_FALSE(fs::exists(p));
  }
  EXPECT_TRUE(tmp.listing().empty());

  // An exception mid-write: same.
  try {
    ck::OutputFile f(p);
    f.write("partial", 7);
    throw ck::Error("boom");
  } catch (const ck::Error&) {
  }
  EXPECT_TRUE(tmp.listing().empty());

  // An existing output survives a failed rewrite untouched.
  ck::write_text_file(p, "old");
  {
    ck::OutputFile f(p);
    f.write("new content", 11);
  }
  EXPECT_EQ(slurp(p), "old");
  EXPECT_EQ(tmp.listing(), std::vector<std::string>{"out.bin"});

  // Commit replaces it and leaves only the output.
  {
    ck::OutputFile f(p);
    f.write("new", 3);
    f.write_zeros(2);
    f.commit();
  }
  EXPECT_EQ(slurp(p), std::string("new\0\0", 5));
  EXPECT_EQ(tmp.listing(), std::vector<std::string>{"out.bin"});
}

TEST(CoreOutputFile, UncreatableIsAnError) {
  CoreTmp tmp;
  const std::string p = tmp.file("no/such/dir/out.bin");
  try {
    ck::OutputFile f(p);
    ADD_FAILURE();
  } catch (const ck::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(p + ": ", 0), 0u) << e.what();
  }
}

TEST(CoreSha256, KnownVectors) {
  auto hex = [](const std::string& s) {
    return ck::sha256_hex({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  };
  EXPECT_EQ(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  ck::Sha256 inc;
  inc.update("a", 1);
  inc.update("", 0);
  inc.update("bc", 2);
  EXPECT_EQ(inc.hex_digest(), hex("abc"));

  CoreTmp tmp;
  const std::string p = tmp.file("abc.txt");
  ck::write_text_file(p, "abc");
  EXPECT_EQ(ck::sha256_file_hex(p), hex("abc"));
  const std::string e = tmp.file("empty.txt");
  ck::write_text_file(e, "");
  EXPECT_EQ(ck::sha256_file_hex(e), hex(""));
}

TEST(CoreMappedFile, MapsAndReportsErrors) {
  CoreTmp tmp;
  const std::string p = tmp.file("m.bin");
  ck::write_text_file(p, "hello");
  ck::MappedFile m(p);
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(std::memcmp(m.data(), "hello", 5), 0);
  ck::MappedFile moved(std::move(m));
  EXPECT_EQ(moved.size(), 5u);
  EXPECT_EQ(m.data(), nullptr);

  const std::string e = tmp.file("empty.bin");
  ck::write_text_file(e, "");
  EXPECT_EQ(ck::MappedFile(e).size(), 0u);

  const std::string missing = tmp.file("missing.bin");
  try {
    ck::MappedFile x(missing);
    ADD_FAILURE();
  } catch (const ck::Error& err) {
    EXPECT_EQ(std::string(err.what()).rfind(missing + ": cannot open", 0), 0u) << err.what();
  }
  try {
    ck::MappedFile x(tmp.file(""));
    ADD_FAILURE();
  } catch (const ck::Error& err) {
    EXPECT_NE(std::string(err.what()).find("not a regular file"), std::string::npos) << err.what();
  }
}

TEST(CoreError, OneLineFileAndProblem) {
  try {
    ck::fail("model.gguf", "truncated at offset 12");
  } catch (const ck::Error& e) {
    EXPECT_STREQ(e.what(), "model.gguf: truncated at offset 12");
  }
  auto body = [](int, char**) -> int { ck::fail("x.json", "bad"); };
  testing::internal::CaptureStderr();
  const int rc = ck::run_tool("ck-test", body, 0, nullptr);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, ck::kExitBadInput);
  EXPECT_EQ(err, "ck-test: error: x.json: bad\n");
}
