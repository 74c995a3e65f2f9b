#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bridge/prefix.h"
#include "core/error.h"

namespace {

ck::bridge::PrefixInfo small_info() {
  ck::bridge::PrefixInfo info;
  info.rows = 6;
  info.n_embd = 4;
  info.n_deepstack = 2;
  info.row_width = 12;
  info.grid_nx = 3;
  info.grid_ny = 2;
  info.meta["model"]["mmproj_sha256"] = std::string(64, 'a');
  return info;
}

std::vector<float> ramp(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(i) * 0.5f - 3.0f;
  return v;
}

std::string tmp_path(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string("ck_prefix_") + std::to_string(getpid()) + name))
      .string();
}

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const std::string& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

}  // namespace

TEST(BridgePrefix, FileRoundTripIsExactAndAligned) {
  auto info = small_info();
  auto rows = ramp(72);
  const auto path = tmp_path("rt.bin");
  ck::bridge::write_prefix_file(path, info, rows);
  auto p = ck::bridge::Prefix::open(path);
  EXPECT_EQ(p.info().rows, 6u);
  EXPECT_EQ(p.info().row_width, 12u);
  EXPECT_EQ(p.info().grid_nx, 3u);
  EXPECT_EQ(p.info().meta["format"], "ck.prefix");
  EXPECT_EQ(p.info().meta["model"]["mmproj_sha256"], std::string(64, 'a'));
  ASSERT_EQ(p.rows().size(), 72u);
  EXPECT_EQ(std::memcmp(p.rows().data(), rows.data(), 72 * 4), 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p.rows().data()) % 64, 0u);
  EXPECT_EQ(p.row(5)[11], rows[71]);
  std::filesystem::remove(path);
}

TEST(BridgePrefix, SharedMemoryRoundTrip) {
  auto info = small_info();
  auto rows = ramp(72);
  const std::string name = "ck_prefix_test_" + std::to_string(getpid());
  ck::bridge::write_prefix_shm(name, info, rows);
  {
    auto p = ck::bridge::Prefix::open("shm:" + name);
    EXPECT_EQ(std::memcmp(p.rows().data(), rows.data(), 72 * 4), 0);
  }
  EXPECT_TRUE(ck::bridge::remove_prefix_shm(name));
  EXPECT_THROW(ck::bridge::Prefix::open("shm:" + name), ck::Error);
}

TEST(BridgePrefix, WriterRejectsInconsistentInfo) {
  auto info = small_info();
  info.row_width = 13;
  EXPECT_THROW(ck::bridge::write_prefix_file(tmp_path("bad.bin"), info, ramp(78)), ck::Error);
  EXPECT_FALSE(std::filesystem::exists(tmp_path("bad.bin")));
}

TEST(BridgePrefix, CorruptHeadersAreOneLineErrors) {
  auto info = small_info();
  const auto path = tmp_path("c.bin");
  ck::bridge::write_prefix_file(path, info, ramp(72));
  const std::string good = slurp(path);
  struct Case {
    size_t off;
    std::string bytes;
    const char* expect;
  };
  auto u32 = [](uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); };
  auto u64 = [](uint64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); };
  uint64_t data_off = 0;
  std::memcpy(&data_off, good.data() + 64, 8);
  const std::vector<Case> cases = {
      {0, "XKPREFIX", "bad magic"},
      {8, u32(3), "unsupported prefix version 3"},
      {80, u32(0), "0 frames"},
      {16, u64(0), "0 rows"},
      {24, u64(11), "row_width"},
      {40, u32(2), "grid"},
      {64, u64(data_off + 8), "64-byte aligned"},
      {72, u64(4), "data_size"},
      {56, u64(1ull << 40), "JSON region"},
  };
  for (const auto& c : cases) {
    std::string bad = good;
    bad.replace(c.off, c.bytes.size(), c.bytes);
    spit(path, bad);
    try {
      ck::bridge::Prefix::open(path);
      ADD_FAILURE() << "accepted corruption at " << c.off;
    } catch (const ck::Error& e) {
      std::string msg = e.what();
      EXPECT_EQ(msg.rfind(path, 0), 0u) << msg;
      EXPECT_NE(msg.find(c.expect), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos);
    }
  }
  for (size_t cut : {size_t{0}, size_t{7}, size_t{127}, good.size() - 1}) {
    spit(path, good.substr(0, cut));
    EXPECT_THROW(ck::bridge::Prefix::open(path), ck::Error) << cut;
  }
  spit(path, good + "x");
  EXPECT_THROW(ck::bridge::Prefix::open(path), ck::Error);
  std::filesystem::remove(path);
}
