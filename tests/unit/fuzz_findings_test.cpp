// Reader hardening found by the fuzzers and the JSON-reader audit of issue #21 (tests/fuzz, docs/RELIABILITY.md):
// every malformed input is a ck::Error with one line naming the file and what is wrong -- never a raw nlohmann
// type_error / out_of_range (no file name, not the tools' "error:" line) and never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bridge/prefix.h"
#include "core/error.h"
#include "graph/ir1.h"
#include "graph/json_io.h"

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

const std::string kBridge = R"("bridge":{"rows":2,"row_width":2,"n_embd":2,"n_deepstack":0,"grid":[2,1]})";

std::string parse_prefix_error(const std::string& json) {
  const auto bytes = prefix_with_json(json);
  return ck_error([&] { ck::bridge::parse_prefix(bytes, "p.prefix"); });
}

}  // namespace

TEST(FuzzFindings, PrefixJsonOfTheRightShapeIsAccepted) {
  const auto bytes = prefix_with_json(R"({"format":"ck.prefix","version":1,)" + kBridge + "}");
  EXPECT_EQ(ck::bridge::parse_prefix(bytes, "p.prefix").grid_nx, 2u);
}

// nlohmann's value("format", "") threw type_error.302 on a number, value("rows", 0) on a string.
TEST(FuzzFindings, PrefixJsonFieldsOfAnotherTypeAreOneLineErrors) {
  const std::string want = "p.prefix: prefix JSON is not format ck.prefix version 1";
  EXPECT_EQ(parse_prefix_error(R"({"format":1,"version":1,)" + kBridge + "}"), want);
  EXPECT_EQ(parse_prefix_error(R"({"format":"ck.prefix","version":"1",)" + kBridge + "}"), want);
  EXPECT_EQ(parse_prefix_error(R"({"format":"ck.prefix","version":[1],)" + kBridge + "}"), want);
  EXPECT_EQ(parse_prefix_error(R"([1,2])"), want);
  const std::string bridge = "p.prefix: prefix JSON bridge section disagrees with the binary header";
  EXPECT_EQ(parse_prefix_error(R"({"format":"ck.prefix","version":1,"bridge":{"rows":"2","row_width":2,)"
                               R"("n_embd":2,"n_deepstack":0,"grid":[2,1]}})"),
            bridge);
  EXPECT_EQ(parse_prefix_error(R"({"format":"ck.prefix","version":1,"bridge":{"rows":2,"row_width":2,)"
                               R"("n_embd":null,"n_deepstack":0,"grid":[2,1]}})"),
            bridge);
  EXPECT_EQ(parse_prefix_error(R"({"format":"ck.prefix","version":1,"bridge":[]})"), bridge);
  // the grid must agree with the header too (docs/formats/prefix.md)
  EXPECT_EQ(parse_prefix_error(R"({"format":"ck.prefix","version":1,"bridge":{"rows":2,"row_width":2,)"
                               R"("n_embd":2,"n_deepstack":0,"grid":[1,2]}})"),
            bridge);
}

// ck-decode compares preprocess.source.{width,height} between images (lib/pipeline): value() on a string
// there threw type_error.306 from the decoder, long after the prefix was "validated".
TEST(FuzzFindings, PrefixPreprocessSourceIsChecked) {
  const std::string head = R"({"format":"ck.prefix","version":1,)" + kBridge;
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
            "a.ir1.json: op '" + base["ops"][0]["id"].get<std::string>() + "': key 'layer' is out of range (1099511627776)");
  EXPECT_EQ(err([](auto& j) { j["symbols"][0]["option"] = 7; }), "a.ir1.json: key 'option' is not a string");
  EXPECT_EQ(err([](auto& j) { j["symbols"][0]["max"] = "32"; }), "a.ir1.json: key 'max' is not an integer");
  // a path the typed reads do not cover still ends as a ck::Error naming the file
  EXPECT_EQ(err([](auto& j) { j["symbols"] = {7}; }).rfind("a.ir1.json: ", 0), 0u);
}
