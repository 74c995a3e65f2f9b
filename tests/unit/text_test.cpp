// lib/text: the Qwen2 byte-level BPE tokenizer against llama.cpp b10256.
// The golden corpus (tests/fixtures/tokenizer/, made by tests/parity/tokenizer/regen.sh with the oracle) is
// replayed here without the oracle: the vocabulary is rebuilt exactly as ck-synth writes it into the text
// GGUF (lib/synth, from $CK_DEPS_DIR/qwen3-tokenizer/tokenizer.json) and must have the manifest's digest.
// A missing tokenizer.json is a FAILURE (run `make deps`), never a skip.
#include <gtest/gtest.h>
#include <zstd.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/mapped_file.h"
#include "core/sha256.h"
#include "gguf/gguf.h"
#include "synth/chat_template.h"
#include "synth/preset.h"
#include "synth/qwen3vl.h"
#include "synth/vocab.h"
#include "text/byte_encoding.h"
#include "text/pretokenize.h"
#include "text/tokenizer.h"
#include "text/unicode.h"
#include "text/vocab.h"

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

const std::string kFixtureDir = std::string(CK_SOURCE_DIR) + "/tests/fixtures/tokenizer";
const std::string kTokenizerJson = std::string(CK_DEPS_DIR) + "/qwen3-tokenizer/tokenizer.json";

json manifest() {
  static const json m = json::parse(ck::read_text_file(kFixtureDir + "/manifest.json"));
  return m;
}

std::string zstd_file(const std::string& path) {
  const ck::MappedFile f(path);
  const unsigned long long n = ZSTD_getFrameContentSize(f.data(), f.size());
  if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN) throw ck::Error(path + ": not a sized zstd frame");
  std::string out(n, '\0');
  const size_t r = ZSTD_decompress(out.data(), n, f.data(), f.size());
  if (ZSTD_isError(r) || r != n) throw ck::Error(path + ": zstd: " + ZSTD_getErrorName(r));
  return out;
}

struct Record {
  std::string text;
  bool valid_utf8 = true;
  bool error = false;  // llama.cpp threw
  std::vector<int32_t> ids, ids_plain;
};

std::string unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

const std::vector<Record>& corpus() {
  static const std::vector<Record> recs = [] {
    const json m = manifest();
    const std::string jsonl = zstd_file(kFixtureDir + "/" + m["corpus"]["file"].get<std::string>());
    EXPECT_EQ(ck::sha256_hex({reinterpret_cast<const uint8_t*>(jsonl.data()), jsonl.size()}),
              m["corpus"]["jsonl_sha256"].get<std::string>());
    std::vector<Record> out;
    std::istringstream in(jsonl);
    std::string line;
    while (std::getline(in, line)) {
      const json j = json::parse(line);
      Record r;
      if (j.contains("text")) {
        r.text = j["text"].get<std::string>();
      } else {
        r.text = unhex(j["hex"].get<std::string>());
        r.valid_utf8 = false;
      }
      r.error = j["ids"].is_null();
      if (!r.error) r.ids = j["ids"].get<std::vector<int32_t>>();
      r.ids_plain = j.contains("ids_plain") ? j["ids_plain"].get<std::vector<int32_t>>() : r.ids;
      out.push_back(std::move(r));
    }
    return out;
  }();
  return recs;
}

// The vocabulary exactly as ck-synth's tiny text GGUF carries it: synth's text_kvs written to a GGUF (no
// tensors) and read back through the GGUF loader.
const ck::text::Vocab& qwen_vocab() {
  static const ck::text::Vocab v = [] {
    if (!fs::exists(kTokenizerJson))
      throw ck::Error(kTokenizerJson + ": missing -- the tokenizer golden test needs the Qwen3 tokenizer.json (run `make deps`)");
    const ck::synth::Preset& p = ck::synth::preset("tiny");
    const ck::synth::Vocab sv = ck::synth::load_qwen_vocab(kTokenizerJson, p.n_vocab);
    ck::gguf::Writer w;
    for (auto& kv : ck::synth::text_kvs(p, ck::DType::F16, 0, sv, ck::synth::qwen3vl_chat_template()))
      if (kv.key.rfind("tokenizer.", 0) == 0 || kv.key.rfind("general.", 0) == 0) w.set(kv.key, kv.value);
    const fs::path path = fs::path(::testing::TempDir()) / ("ck_text_vocab_" + std::to_string(::getpid()) + ".gguf");
    w.write(path.string());
    ck::text::Vocab out = ck::text::vocab_from_gguf_file(path.string());
    fs::remove(path);
    return out;
  }();
  return v;
}

const ck::text::Tokenizer& qwen() {
  static const ck::text::Tokenizer t(qwen_vocab());
  return t;
}

std::string ids_str(const std::vector<int32_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + std::to_string(v[i]);
  return s + "]";
}

std::string show(const std::string& s) {
  std::string o;
  char b[8];
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      o += static_cast<char>(c);
    } else {
      std::snprintf(b, sizeof b, "\\x%02X", c);
      o += b;
    }
  }
  return o;
}

std::vector<uint32_t> cpts(std::string_view s) { return ck::text::cpts_from_utf8(s); }

}  // namespace

// ---------------------------------------------------------------- tables and building blocks (no vocab)

TEST(TextUnicode, FlagsAndTolowerMatchOracleDump) {
  // The same bytes as ref_tokenize --flags-out: u16 flags of every code point, then u32 tolower.
  ck::Sha256 h;
  for (uint32_t c = 0; c < ck::text::kMaxCodepoints; ++c) {
    const uint16_t f = ck::text::cpt_flags(c);
    h.update(&f, sizeof f);
  }
  for (uint32_t c = 0; c < ck::text::kMaxCodepoints; ++c) {
    const uint32_t l = ck::text::cpt_tolower(c);
    h.update(&l, sizeof l);
  }
  EXPECT_EQ(h.hex_digest(), manifest()["unicode"]["sha256"].get<std::string>());
  EXPECT_EQ(ck::text::cpt_flags(0x110000), ck::text::kUndefined);
  EXPECT_TRUE(ck::text::cpt_flags('a') & ck::text::kLetter);
  EXPECT_TRUE(ck::text::cpt_flags(0x3000) & ck::text::kWhitespace);
  EXPECT_EQ(ck::text::cpt_tolower('S'), static_cast<uint32_t>('s'));
  EXPECT_EQ(ck::text::cpt_tolower(0x212A), static_cast<uint32_t>('k'));  // KELVIN SIGN
}

TEST(TextUnicode, Utf8DecodingIsLlamaCpps) {
  using V = std::vector<uint32_t>;
  EXPECT_EQ(cpts("a\xC3\xA9"), (V{'a', 0xE9}));
  EXPECT_EQ(cpts("\xC0\x80"), (V{0}));                 // overlong accepted
  EXPECT_EQ(cpts("\xED\xA0\x80"), (V{0xD800}));        // surrogate accepted
  EXPECT_EQ(cpts("\xC3"), (V{0xFFFD}));                // truncated
  EXPECT_EQ(cpts("\xE2\x82("), (V{0xFFFD, 0xFFFD, '('}));  // bad sequence: U+FFFD per byte, then resync
  EXPECT_EQ(cpts("\x80\xFF"), (V{0xFFFD, 0xFFFD}));
  EXPECT_EQ(cpts("\xF5\x80\x80\x80"), (V{0x140000}));  // decoded; rejected later
  std::string s;
  EXPECT_FALSE(ck::text::cpt_to_utf8(0x110000, s));
  EXPECT_THROW(ck::text::pretokenize_qwen2("ok \xF5\x80\x80\x80"), ck::Error);
}

TEST(TextByteEncoding, Gpt2TableRoundTrips) {
  EXPECT_EQ(ck::text::byte_to_utf8(' '), "\xC4\xA0");   // Ġ
  EXPECT_EQ(ck::text::byte_to_utf8('\n'), "\xC4\x8A");  // Ċ
  EXPECT_EQ(ck::text::byte_to_utf8('A'), "A");
  EXPECT_EQ(ck::text::byte_to_utf8(0xAD), "\xC5\x83");  // the last remapped byte -> U+0143
  for (int b = 0; b < 256; ++b) {
    const auto c = cpts(ck::text::byte_to_utf8(static_cast<uint8_t>(b)));
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(ck::text::cpt_to_byte(c[0]), std::optional<uint8_t>(static_cast<uint8_t>(b)));
  }
  EXPECT_FALSE(ck::text::cpt_to_byte(0x20).has_value());
  EXPECT_FALSE(ck::text::cpt_to_byte(0x144).has_value());
}

TEST(TextPretokenize, Qwen2SplitterCases) {
  auto words = [](const std::string& s) {
    std::vector<std::string> out;
    const auto c = cpts(s);
    size_t at = 0;
    for (size_t n : ck::text::split_qwen2(c)) {
      std::string w;
      for (size_t i = at; i < at + n; ++i) ck::text::cpt_to_utf8(c[i], w);
      out.push_back(w);
      at += n;
    }
    return out;
  };
  using W = std::vector<std::string>;
  EXPECT_EQ(words("Hello world"), (W{"Hello", " world"}));
  EXPECT_EQ(words("I'LL don't"), (W{"I", "'LL", " don", "'t"}));
  EXPECT_EQ(words("12345"), (W{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(words("a  b"), (W{"a", " ", " b"}));
  EXPECT_EQ(words("x   "), (W{"x", "   "}));
  EXPECT_EQ(words("...\n\nx"), (W{"...\n\n", "x"}));
  EXPECT_EQ(words(" \n \n y"), (W{" \n \n", " y"}));
  EXPECT_EQ(words("\tfoo"), (W{"\tfoo"}));
  EXPECT_EQ(words("你好，世界"), (W{"你好", "，世界"}));
  EXPECT_TRUE(words("").empty());
}

TEST(TextVocab, RejectsWhatItDoesNotImplement) {
  ck::text::Vocab v;
  v.source = "x.gguf";
  v.model = "gpt2";
  v.pre = "llama3";
  v.tokens = {"a", "b"};
  try {
    ck::text::Tokenizer t(v);
    FAIL() << "llama3 pre-tokenizer accepted";
  } catch (const ck::Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.gguf: tokenizer.ggml.pre 'llama3'"), std::string::npos) << e.what();
  }
  v.pre = "qwen2";
  v.model = "llama";
  EXPECT_THROW(ck::text::Tokenizer{v}, ck::Error);
  v.model = "gpt2";
  v.types = {1};
  EXPECT_THROW(ck::text::Tokenizer{v}, ck::Error);  // fewer types than tokens
  v.types = {1, 1};
  v.tokens = {"a", "a"};
  EXPECT_THROW(ck::text::Tokenizer{v}, ck::Error);  // duplicates (llama.cpp aborts)
}

TEST(TextVocab, SmallHandMadeVocab) {
  // merges by lowest rank; a merged symbol without a token falls back to its single-byte tokens
  ck::text::Vocab v;
  v.model = "gpt2";
  v.pre = "qwen2";
  v.tokens = {"a", "b", "c", "ab", "bc", "<|x|>", "\xC4\xA0"};  // Ġ = ' '
  v.types = {1, 1, 1, 1, 1, 3, 1};
  v.merges = {"a b", "ab c", "b c"};
  const ck::text::Tokenizer t(v);
  using I = std::vector<int32_t>;
  EXPECT_EQ(t.tokenize("abc"), (I{0, 1, 2}));  // a+b (rank 0), ab+c (rank 1) = "abc": no token -> its bytes
  EXPECT_EQ(t.tokenize("bc"), (I{4}));
  EXPECT_EQ(t.tokenize("ab"), (I{3}));
  EXPECT_EQ(t.tokenize("a<|x|>b"), (I{0, 5, 1}));
  EXPECT_EQ(t.tokenize("a<|x|>b", true, false), (I{0, 1}));  // '<', '|', 'x' have no tokens: dropped
  EXPECT_EQ(t.tokenize(" a"), (I{6, 0}));
  EXPECT_EQ(t.token_to_piece(6), " ");
  EXPECT_EQ(t.token_to_piece(5), "<|x|>");
  EXPECT_EQ(t.token_to_piece(5, false), "");
  EXPECT_EQ(t.bos(), 11 < 7 ? 11 : ck::text::kTokenNull);  // gpt2 default 11 is out of range -> disabled
  EXPECT_THROW(t.token_to_piece(7), ck::Error);
}

// ---------------------------------------------------------------- golden corpus (real Qwen3 vocab)

TEST(TextGolden, VocabularyIsTheFixturesOne) {
  ASSERT_TRUE(fs::exists(kTokenizerJson)) << kTokenizerJson << " is missing: run `make deps` (this test must not skip)";
  const json m = manifest();
  EXPECT_EQ(ck::text::vocab_digest(qwen_vocab()), m["vocab"]["vocab_digest"].get<std::string>());
  EXPECT_EQ(ck::sha256_file_hex(kTokenizerJson), m["vocab"]["tokenizer_json_sha256"].get<std::string>());
  const auto& t = qwen();
  EXPECT_EQ(static_cast<int64_t>(t.n_tokens()), m["vocab"]["n_tokens"].get<int64_t>());
  EXPECT_EQ(t.bos(), m["vocab"]["bos"].get<int32_t>());
  EXPECT_EQ(t.eos(), m["vocab"]["eos"].get<int32_t>());
  EXPECT_EQ(t.eot(), m["vocab"]["eot"].get<int32_t>());
  EXPECT_EQ(t.add_bos(), m["vocab"]["add_bos"].get<bool>());
  EXPECT_EQ(t.add_eos(), m["vocab"]["add_eos"].get<bool>());
  const std::set<int32_t> eog = m["vocab"]["eog"].get<std::set<int32_t>>();
  EXPECT_EQ(t.eog_ids(), eog);
}

TEST(TextGolden, EveryCorpusStringTokenizesLikeLlamaCpp) {
  ASSERT_TRUE(fs::exists(kTokenizerJson)) << kTokenizerJson << " is missing: run `make deps` (this test must not skip)";
  const auto& t = qwen();
  const auto& recs = corpus();
  ASSERT_EQ(static_cast<int64_t>(recs.size()), manifest()["corpus"]["records"].get<int64_t>());
  size_t mismatches = 0, n_ids = 0;
  std::string first;
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < recs.size(); ++i) {
    const Record& r = recs[i];
    for (int mode = 0; mode < 2; ++mode) {
      const bool special = mode == 0;
      const std::vector<int32_t>& want = special ? r.ids : r.ids_plain;
      std::vector<int32_t> got;
      bool threw = false;
      try {
        got = t.tokenize(r.text, special, special);
      } catch (const ck::Error&) {
        threw = true;
      }
      n_ids += got.size();
      if (threw != r.error || (!threw && got != want)) {
        if (mismatches++ == 0)
          first = "record " + std::to_string(i) + (special ? " (parse_special)" : " (plain)") + " \"" + show(r.text) +
                  "\"\n  llama.cpp: " + (r.error ? std::string("exception") : ids_str(want)) +
                  "\n  ck:        " + (threw ? std::string("exception") : ids_str(got));
      }
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ tokenizer ] %zu strings x 2 modes, %zu ids in %.3f s; %zu mismatches\n", recs.size(), n_ids, s,
              mismatches);
  EXPECT_EQ(mismatches, 0u) << "first mismatch: " << first;
}

TEST(TextGolden, PiecesOfEveryTokenLikeLlamaCpp) {
  ASSERT_TRUE(fs::exists(kTokenizerJson)) << kTokenizerJson << " is missing: run `make deps` (this test must not skip)";
  const auto& t = qwen();
  ck::Sha256 h;
  for (int special = 1; special >= 0; --special) {
    for (int32_t id = 0; id < static_cast<int32_t>(t.n_tokens()); ++id) {
      const std::string& p = t.token_to_piece(id, special != 0);
      const uint32_t n = static_cast<uint32_t>(p.size());
      h.update(&n, sizeof n);
      h.update(p.data(), p.size());
    }
  }
  EXPECT_EQ(h.hex_digest(), manifest()["pieces"]["sha256"].get<std::string>());
  EXPECT_EQ(t.token_to_piece(151644), "<|im_start|>");
  EXPECT_EQ(t.token_to_piece(151644, false), "");
  EXPECT_EQ(t.token_to_piece(128247), "</s>");  // a normal BPE token that llama.cpp makes CONTROL (EOG list)
  EXPECT_EQ(t.token_to_piece(151935), "");      // [PAD151935]: UNUSED renders as nothing
  EXPECT_EQ(t.token_to_piece(198), "\n");
}

TEST(TextGolden, DetokenizeRoundTripsValidUtf8) {
  ASSERT_TRUE(fs::exists(kTokenizerJson)) << kTokenizerJson << " is missing: run `make deps` (this test must not skip)";
  const auto& t = qwen();
  size_t checked = 0, failures = 0;
  std::string first;
  for (const Record& r : corpus()) {
    if (!r.valid_utf8 || r.error) continue;
    for (int mode = 0; mode < 2; ++mode) {
      const bool special = mode == 0;
      const std::string back = t.detokenize(special ? r.ids : r.ids_plain, true);
      ++checked;
      if (back != r.text && failures++ == 0) first = "\"" + show(r.text) + "\" -> \"" + show(back) + "\"";
    }
  }
  EXPECT_EQ(failures, 0u) << first;
  EXPECT_GT(checked, 6000u);
  // invalid UTF-8 comes back as U+FFFD per bad byte, like llama.cpp
  EXPECT_EQ(t.detokenize(t.tokenize("a\xFF" "b")), "a\xEF\xBF\xBD" "b");
  // streaming: the concatenation of single-token pieces is the text, even when a piece splits a character
  const std::vector<int32_t> ids = t.tokenize("😀👨‍👩‍👧‍👦 ok");
  std::string streamed;
  for (int32_t id : ids) streamed += t.token_to_piece(id);
  EXPECT_EQ(streamed, "😀👨‍👩‍👧‍👦 ok");
}

TEST(TextGolden, KnownPromptIds) {
  ASSERT_TRUE(fs::exists(kTokenizerJson)) << kTokenizerJson << " is missing: run `make deps` (this test must not skip)";
  const auto& t = qwen();
  using I = std::vector<int32_t>;
  // research digest B.2: the text chunks of a Qwen3-VL image prompt
  EXPECT_EQ(t.tokenize("<|im_start|>user\n<|vision_start|>", false, true), (I{151644, 872, 198, 151652}));
  EXPECT_EQ(t.tokenize("<|vision_end|>Describe this image.<|im_end|>\n<|im_start|>assistant\n", false, true),
            (I{151653, 74785, 419, 2168, 13, 151645, 198, 151644, 77091, 198}));
  EXPECT_EQ(t.tokenize("").size(), 0u);
}
