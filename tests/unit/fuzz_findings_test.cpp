// Reader hardening found by the fuzzers and the JSON-reader audit of issue #21 (tests/fuzz, docs/RELIABILITY.md):
// every malformed input is a ck::Error with one line naming the file and what is wrong -- never a raw nlohmann
// type_error / out_of_range (no file name, not the tools' "error:" line) and never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <boost/beast/core/detail/base64.hpp>
#include <nlohmann/json.hpp>

#include "bridge/prefix.h"
#include "bump/reader.h"
#include "core/error.h"
#include "decode/chat.h"
#include "graph/ir1.h"
#include "graph/json_io.h"
#include "image/decode.h"
#include "pipeline/plan_cache.h"
#include "serve/protocol.h"

namespace {

// The message of the ck::Error `f` throws; fails the test if it throws anything else or nothing.
template <class F>
std::string ck_error(F&& f) {
  try {
    f();
  } catch (const ck::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a ck::Error: " << e.what();
    return {};
  }
  ADD_FAILURE() << "accepted";
  return {};
}

// A ck.prefix image (docs/formats/prefix.md) of a 2x1 grid, n_embd 2, no deepstack, whose JSON document is
// `json` verbatim.
std::vector<uint8_t> prefix_with_json(const std::string& json) {
  ck::bridge::PrefixInfo info;
  info.rows = 2;
  info.row_width = 2;
  info.n_embd = 2;
  info.grid_nx = 2;
  info.grid_ny = 1;
  std::string head = ck::bridge::prefix_header_bytes(info);
  const uint64_t data_off = (128 + json.size() + 63) / 64 * 64;
  head.resize(128);
  const uint64_t json_size = json.size();
  std::memcpy(head.data() + 56, &json_size, 8);
  std::memcpy(head.data() + 64, &data_off, 8);
  head += json;
  head.resize(data_off, '\0');
  head.append(2 * 2 * 4, '\0');
  return {head.begin(), head.end()};
}

const std::string kBridge = R"("bridge":{"rows":2,"row_width":2,"n_embd":2,"n_deepstack":0,"frames":1,"grid":[2,1]})";

std::string parse_prefix_error(const std::string& json) {
  const auto bytes = prefix_with_json(json);
  return ck_error([&] { ck::bridge::parse_prefix(bytes, "p.prefix"); });
}

}  // namespace

TEST(FuzzFindings, PrefixJsonOfTheRightShapeIsAccepted) {
  const auto bytes = prefix_with_json(R"({"format":"ck.prefix","version":2,)" + kBridge + "}");
  EXPECT_EQ(ck::bridge::parse_prefix(bytes, "p.prefix").grid_nx, 2u);
}

// nlohmann's value("format", "") threw type_error.302 on a number, value("rows", 0) on a string.
TEST(FuzzFindings, PrefixJsonFieldsOfAnotherTypeAreOneLineErrors) {
  const std::string want = "p.prefix: prefix JSON is not format ck.prefix version 2";
  EXPECT_EQ(parse_prefix_error(R"({"format":1,"version":2,)" + kBridge + "}"), want);
  EXPECT_EQ(parse_prefix_error(R"({"format":"ck.prefix","version":"2",)" + kBridge + "}"), want);
  EXPECT_EQ(parse_prefix_error(R"({"format":"ck.prefix","version":[2],)" + kBridge + "}"), want);
  EXPECT_EQ(parse_prefix_error(R"([1,2])"), want);
  const std::string bridge = "p.prefix: prefix JSON bridge section disagrees with the binary header";
  EXPECT_EQ(parse_prefix_error(R"({"format":"ck.prefix","version":2,"bridge":{"rows":"2","row_width":2,)"
                               R"("n_embd":2,"n_deepstack":0,"frames":1,"grid":[2,1]}})"),
            bridge);
  EXPECT_EQ(parse_prefix_error(R"({"format":"ck.prefix","version":2,"bridge":{"rows":2,"row_width":2,)"
                               R"("n_embd":null,"n_deepstack":0,"frames":1,"grid":[2,1]}})"),
            bridge);
  EXPECT_EQ(parse_prefix_error(R"({"format":"ck.prefix","version":2,"bridge":[]})"), bridge);
  EXPECT_EQ(parse_prefix_error(R"({"format":"ck.prefix","version":2,"bridge":{"rows":2,"row_width":2,)"
                               R"("n_embd":2,"n_deepstack":0,"frames":"1","grid":[2,1]}})"),
            bridge);
  // the grid must agree with the header too (docs/formats/prefix.md)
  EXPECT_EQ(parse_prefix_error(R"({"format":"ck.prefix","version":2,"bridge":{"rows":2,"row_width":2,)"
                               R"("n_embd":2,"n_deepstack":0,"frames":1,"grid":[1,2]}})"),
            bridge);
}

// ck-decode compares preprocess.source.{width,height} between images (lib/pipeline): value() on a string
// there threw type_error.306 from the decoder, long after the prefix was "validated".
TEST(FuzzFindings, PrefixPreprocessSourceIsChecked) {
  const std::string head = R"({"format":"ck.prefix","version":2,)" + kBridge;
  EXPECT_EQ(parse_prefix_error(head + R"(,"preprocess":"x"})"),
            "p.prefix: prefix JSON \"preprocess\" is not an object");
  EXPECT_EQ(parse_prefix_error(head + R"(,"preprocess":{"source":"x"}})"),
            "p.prefix: prefix JSON \"preprocess.source\" is not {\"width\": integer, \"height\": integer}");
  EXPECT_EQ(parse_prefix_error(head + R"(,"preprocess":{"source":{"width":"1","height":2}}})"),
            "p.prefix: prefix JSON \"preprocess.source\" is not {\"width\": integer, \"height\": integer}");
  const auto ok = prefix_with_json(head + R"(,"preprocess":{"source":{"width":640,"height":480}}})");
  EXPECT_NO_THROW(ck::bridge::parse_prefix(ok, "p.prefix"));
}

// ir1 (lib/graph): get<uint64_t>() on 1e308 was undefined behaviour (UBSan, found by ck_fuzz_ir1:
// tests/fuzz/regressions/ir1/float-offset-1e308.json); -1 wrapped to 2^64-1; a number as "option" threw
// type_error.302 from value().
TEST(FuzzFindings, Ir1NumbersAreCheckedIntegersInRange) {
  const auto base = ck::graph::read_json(std::string(CK_SOURCE_DIR) + "/tests/fuzz/corpus/ir1/toy_mlp.json");
  EXPECT_NO_THROW(ck::graph::ir1_from_json(base, "a.ir1.json"));
  auto err = [&](auto&& edit) {
    auto j = base;
    edit(j);
    return ck_error([&] { ck::graph::ir1_from_json(j, "a.ir1.json"); });
  };
  EXPECT_EQ(err([](auto& j) { j["weights"][0]["offset"] = 1e308; }), "a.ir1.json: key 'offset' is not an integer");
  EXPECT_EQ(err([](auto& j) { j["weights"][0]["nbytes"] = -1; }), "a.ir1.json: key 'nbytes' is out of range (-1)");
  EXPECT_EQ(err([](auto& j) { j["weights"][0]["shape"] = {16, 0.5}; }), "a.ir1.json: key 'shape' is not an integer");
  EXPECT_EQ(err([](auto& j) { j["ops"][0]["layer"] = 1ull << 40; }),
            "a.ir1.json: op '" + base["ops"][0]["id"].get<std::string>() +
                "': key 'layer' is out of range (1099511627776)");
  EXPECT_EQ(err([](auto& j) { j["symbols"][0]["option"] = 7; }), "a.ir1.json: key 'option' is not a string");
  EXPECT_EQ(err([](auto& j) { j["symbols"][0]["max"] = "32"; }), "a.ir1.json: key 'max' is not an integer");
  // a path the typed reads do not cover still ends as a ck::Error naming the file
  EXPECT_EQ(err([](auto& j) { j["symbols"] = {7}; }).rfind("a.ir1.json: ", 0), 0u);
}

// Image errors name what is wrong (issue #21 item 5): stb_image says "outofdata" or nothing at all on a
// truncated file; the message said "cannot decode image (stb_image 2.30: )".
namespace {

std::vector<uint8_t> fixture_prefix(const char* name, size_t n) {
  std::ifstream in(std::string(CK_SOURCE_DIR) + "/tests/fixtures/image/" + name, std::ios::binary);
  std::vector<uint8_t> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_GT(b.size(), 0u) << name;
  if (n < b.size()) b.resize(n);
  return b;
}

// The message without stb's own reason, which is checked to be non-empty.
std::string image_error(const std::vector<uint8_t>& b) {
  const std::string m = ck_error([&] { ck::image::decode_image(b, "x.img"); });
  const auto at = m.rfind(" (stb_image 2.30: ");
  EXPECT_NE(at, std::string::npos) << m;
  if (at == std::string::npos) return m;
  EXPECT_GT(m.size(), at + 19) << "empty stb reason: " << m;
  EXPECT_NE(m.substr(at), " (stb_image 2.30: )") << m;
  return m.substr(0, at);
}

}  // namespace

TEST(FuzzFindings, TruncatedImagesSayWhereTheyEnd) {
  EXPECT_EQ(image_error(fixture_prefix("trunc_64x64.png", SIZE_MAX)),
            "x.img: cannot decode image: truncated PNG: chunk IDAT at byte 151 needs 9463 bytes, the file ends 5717 "
            "bytes after it starts");
  EXPECT_EQ(image_error(fixture_prefix("rgb_40x30.png", 40)),
            "x.img: cannot decode image: truncated PNG: the file ends at byte 40 inside the chunk header at byte 33");
  EXPECT_EQ(image_error(fixture_prefix("rgb_40x30.png", 33)),
            "x.img: cannot decode image: truncated PNG: the file ends after 33 bytes without an IEND chunk");
  EXPECT_EQ(image_error(fixture_prefix("gray_61x45.jpg", 100)),
            "x.img: cannot decode image: truncated JPEG: 100 bytes and no end-of-image marker (FF D9)");
  EXPECT_EQ(image_error(fixture_prefix("rgb_120x90.bmp", 20)),
            "x.img: cannot decode image: truncated BMP: the pixel data starts at byte 54, the file has 20");
  const std::string gif("GIF89a\x02\x00\x02\x00\x80\x00\x00", 13);
  EXPECT_EQ(image_error({gif.begin(), gif.end()}),
            "x.img: cannot decode image: truncated GIF: 13 bytes and no trailer (3B) at the end");
  // stb decodes JPEG and BMP files cut after their headers (zero-filled, as llama.cpp does): no error there.
  // not truncated: stb's reason as before
  const std::string junk = "not an image at all";
  EXPECT_EQ(image_error({junk.begin(), junk.end()}), "x.img: cannot decode image");
}

// ck-serve (lib/serve): Beast's base64 decode() writes 1 or 2 bytes past decoded_size() when the input is not a
// multiple of 4 characters; the length check came after the decode (tests/fuzz/regressions/serve/).
TEST(FuzzFindings, ServeBase64LengthIsCheckedBeforeDecoding) {
  for (size_t n : {41, 42, 43, 4097, 4098, 4099}) {
    const std::string body = R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":)"
                             R"("data:image/png;base64,)" + std::string(n, 'A') + R"("}}]}]})";
    const auto r = ck::serve::parse_chat_request(body, "application/json");
    const auto* e = std::get_if<ck::serve::RequestError>(&r);
    ASSERT_NE(e, nullptr) << n;
    EXPECT_EQ(e->message, "image data URI: invalid base64") << n;
    EXPECT_EQ(e->status, 400);
  }
}

// bump (lib/bump): the metadata JSON's "format" of another type threw type_error.302 from value() when the
// reader opened the file (before any sha256 check): tests/fuzz/regressions/bump/meta-format-number.bump.
TEST(FuzzFindings, BumpMetadataFormatOfAnotherType) {
  const std::string p = std::string(CK_SOURCE_DIR) + "/tests/fuzz/regressions/bump/meta-format-number.bump";
  EXPECT_EQ(ck_error([&] { ck::bump::Reader r(p); }), p + ": metadata JSON: format is not \"ck.bump.meta\"");
}

// chat contract (lib/decode ChatContract::from_json, read by ck-decode's ModelInfo from call.json contracts.chat):
// members of another type threw type_error.302 from value() / get<int32_t>(), a 1e308 stop id was an unchecked
// double -> int32 conversion, a 2^40 id wrapped (read while writing ck_fuzz_call).
TEST(FuzzFindings, ChatContractMembersAreTyped) {
  using ck::decode::ChatContract;
  const nlohmann::ordered_json ok = {{"image_begin", "<b>"}, {"image_end", "<e>"}, {"bos_id", 1},
                                     {"add_bos", true}, {"stop_ids", {2, 3}}};
  const auto c = ChatContract::from_json(ok, "c.json");
  EXPECT_EQ(c.image_begin, "<b>");
  EXPECT_TRUE(c.add_bos);
  EXPECT_EQ(c.stop_ids, (std::vector<int32_t>{2, 3}));
  auto err = [&](const char* key, nlohmann::ordered_json v) {
    auto j = ok;
    j[key] = std::move(v);
    return ck_error([&] { ChatContract::from_json(j, "c.json"); });
  };
  EXPECT_EQ(err("image_begin", 1), "c.json: chat.image_begin is not a string");
  EXPECT_EQ(err("image_end", nullptr), "c.json: chat.image_end is not a string");
  EXPECT_EQ(err("add_bos", "yes"), "c.json: chat.add_bos is not a boolean");
  EXPECT_EQ(err("stop_ids", 5), "c.json: chat.stop_ids is not an array");
  EXPECT_EQ(err("stop_ids", {1, "2"}), "c.json: chat.stop_ids is not a 32-bit integer");
  EXPECT_EQ(err("stop_ids", {1e308}), "c.json: chat.stop_ids is not a 32-bit integer");
  EXPECT_EQ(err("bos_id", int64_t(1) << 40), "c.json: chat.bos_id is not a 32-bit integer");
  EXPECT_EQ(err("bos_id", uint64_t(1) << 63), "c.json: chat.bos_id is not a 32-bit integer");
  EXPECT_EQ(ChatContract::from_json(nlohmann::ordered_json::object(), "c.json").stop_ids.size(), 0u);
}

// plan cache source records (lib/pipeline PlanCache, ROOT/sources/*.json): a member of another type threw
// type_error.302 from value() instead of counting as a miss (read in the code).
TEST(FuzzFindings, PlanCacheRecordOfAnotherTypeIsAMiss) {
  namespace fs = std::filesystem;
  const fs::path d = fs::path(testing::TempDir()) / "ck_fuzz_findings_plan_cache";
  fs::remove_all(d);
  fs::create_directories(d);
  const fs::path f = d / "model.gguf";
  std::ofstream(f, std::ios::binary) << "abc";
  ck::pipeline::PlanCache cache((d / "cache").string());
  const std::string sha = cache.file_sha256(f.string()).sha256;
  EXPECT_TRUE(cache.file_sha256(f.string()).cached);
  for (const char* rec : {R"({"format":1})", R"({"format":"ck.plan_cache_source","version":"1"})",
                          R"({"format":"ck.plan_cache_source","version":1,"path":2})", "[1]"}) {
    for (const auto& e : fs::directory_iterator(d / "cache" / "sources"))
      std::ofstream(e.path(), std::ios::binary | std::ios::trunc) << rec;
    ck::pipeline::FileHash h;
    EXPECT_NO_THROW(h = cache.file_sha256(f.string())) << rec;
    EXPECT_FALSE(h.cached) << rec;
    EXPECT_EQ(h.sha256, sha) << rec;
  }
}

// ck-serve's image limit (ParseOptions::max_image_pixels) was checked on PNG headers only: a JPEG or GIF of a
// few hundred bytes declaring gigabytes of pixels went to the decoder (seen while bounding the image target).
TEST(FuzzFindings, ServePixelLimitHoldsForEveryFormat) {
  std::ifstream f(std::string(CK_SOURCE_DIR) + "/tests/fuzz/corpus/image/gray_61x45.jpg", std::ios::binary);
  const std::string jpg{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  ASSERT_FALSE(jpg.empty());
  std::string b64(boost::beast::detail::base64::encoded_size(jpg.size()), '\0');
  b64.resize(boost::beast::detail::base64::encode(b64.data(), jpg.data(), jpg.size()));
  const std::string body = R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":)"
                           R"("data:image/jpeg;base64,)" + b64 + R"("}}]}]})";
  ck::serve::ParseOptions opt;
  const auto ok = ck::serve::parse_chat_request(body, "application/json", opt);
  ASSERT_NE(std::get_if<ck::serve::ChatRequest>(&ok), nullptr);
  opt.max_image_pixels = 61 * 45 - 1;
  const auto r = ck::serve::parse_chat_request(body, "application/json", opt);
  const auto* e = std::get_if<ck::serve::RequestError>(&r);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->status, 400);
  EXPECT_NE(e->message.find("image 61x45 is larger than the limit of 2744 pixels"), std::string::npos) << e->message;
}
