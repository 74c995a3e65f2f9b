// lib/image: stb_image 2.30 decode + the preprocess contract, bit-exact against llama.cpp's mtmd.
// Golden cases (tests/fixtures/image/manifest.json) hold the oracle's normalized pixels (ref_encode
// --preproc-out, HWC f32, zstd) for small inputs: PNG palette/16-bit RGBA, grey JPEG, BMP, user token
// overrides, non-trivial mean/std, a truncated baseline JPEG (decoded), a truncated progressive JPEG and a
// JPEG without scan data (stb returns uninitialized buffers: ck zero-fills them), a truncated PNG (rejected). The rest pins the arithmetic of each stage on hand-checked values.
#include <gtest/gtest.h>
#include <zstd.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/mapped_file.h"
#include "core/sha256.h"
#include "image/contract.h"
#include "image/decode.h"
#include "image/preprocess.h"
#include "image/resize.h"
#include "image/smart_resize.h"

namespace {

using json = nlohmann::ordered_json;
using namespace ck::image;

const std::string kFixtures = std::string(CK_SOURCE_DIR) + "/tests/fixtures/image/";

std::vector<float> read_f32_zst(const std::string& path) {
  ck::MappedFile f(path);
  const unsigned long long n = ZSTD_getFrameContentSize(f.data(), f.size());
  if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN || n % 4 != 0) ck::fail(path, "bad zstd frame");
  std::vector<float> out(n / 4);
  const size_t got = ZSTD_decompress(out.data(), n, f.data(), f.size());
  if (ZSTD_isError(got) || got != n) ck::fail(path, "zstd decompression failed");
  return out;
}

std::vector<float> planar_to_hwc(const std::vector<float>& p, int w, int h) {
  const size_t plane = static_cast<size_t>(w) * h;
  std::vector<float> out(plane * 3);
  for (size_t i = 0; i < plane; ++i)
    for (size_t c = 0; c < 3; ++c) out[i * 3 + c] = p[c * plane + i];
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ck::Error& e) {
    return e.what();
  }
  return "";
}

PreprocessContract qwen_contract() { return PreprocessContract{}; }

RgbImage solid(int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  RgbImage img;
  img.width = w;
  img.height = h;
  img.rgb.resize(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < img.rgb.size(); i += 3) {
    img.rgb[i] = r;
    img.rgb[i + 1] = g;
    img.rgb[i + 2] = b;
  }
  return img;
}

// ---- golden parity against the oracle -------------------------------------------------------------------

TEST(ImageGolden, MatchesOracleBitExact) {
  const json m = json::parse(ck::read_text_file(kFixtures + "manifest.json"));
  ASSERT_EQ(m["format"], "ck.image_fixtures");
  ASSERT_EQ(m["version"], 1);
  ASSERT_GE(m["cases"].size(), 8u);
  for (const auto& c : m["cases"]) {
    const std::string name = c["name"];
    SCOPED_TRACE(name);
    const std::string input = kFixtures + c["input"].get<std::string>();
    ASSERT_EQ(ck::sha256_file_hex(input), c["input_sha256"].get<std::string>()) << "fixture input changed";
    PreprocessContract k = contract_from_json(m["contracts"][c["contract"].get<std::string>()], "manifest");
    set_token_overrides(k, c.value("image_min_tokens", -1), c.value("image_max_tokens", -1), "manifest");

    if (c.contains("error")) {
      const std::string err = error_of([&] { decode_image_file(input); });
      EXPECT_NE(err.find(c["error"].get<std::string>()), std::string::npos) << err;
      EXPECT_EQ(err.rfind(input, 0), 0u) << "error must start with the file name: " << err;
      continue;
    }
    const Preprocessed p = preprocess(decode_image_file(input), k, input);
    ASSERT_EQ(p.width, c["width"].get<int>());
    ASSERT_EQ(p.height, c["height"].get<int>());
    EXPECT_EQ(p.n_tokens(), c["n_tokens"].get<int>());
    EXPECT_EQ(p.nx * k.align(), p.width);

    const std::vector<float> ref = read_f32_zst(kFixtures + c["golden"].get<std::string>());
    const std::vector<float> got = planar_to_hwc(p.pixels, p.width, p.height);
    ASSERT_EQ(ref.size(), got.size());
    EXPECT_EQ(ck::sha256_hex({reinterpret_cast<const uint8_t*>(ref.data()), ref.size() * 4}),
              c["golden_sha256"].get<std::string>());
    double max_abs = 0;
    size_t n_diff = 0, first = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      if (std::memcmp(&ref[i], &got[i], 4) != 0) {
        if (n_diff++ == 0) first = i;
        max_abs = std::max(max_abs, std::fabs(static_cast<double>(ref[i]) - got[i]));
      }
    }
    EXPECT_EQ(n_diff, 0u) << "max_abs " << max_abs << ", first differing element " << first << " (HWC)";
  }
}

// ---- smart resize (calc_size_preserved_ratio), hand-checked in float -------------------------------------

struct SizeCase {
  int w, h, min_tok, max_tok, tw, th;
  const char* branch;
};

TEST(ImageSmartResize, KnownTargets) {
  const SizeCase cases[] = {
      {1000, 750, 8, 4096, 992, 736, "round"},        // digest §B.4 example
      {600, 400, 8, 4096, 608, 416, "round"},
      {64, 64, 8, 4096, 96, 96, "min_pixels"},        // 4096 px < 8192: beta = sqrt(2)
      {1, 1, 8, 4096, 96, 96, "min_pixels"},
      {3, 7, 8, 4096, 64, 160, "min_pixels"},
      {40, 1, 8, 4096, 576, 32, "min_pixels"},
      {17, 2000, 8, 4096, 32, 2016, "round"},         // round(17/32) = 1: no max(32,.) clamp needed
      {4000, 50, 8, 4096, 4000, 64, "round"},
      {2049, 2047, 8, 4096, 2048, 2048, "round"},     // exactly 4096 tokens: not > max
      {3000, 2200, 8, 4096, 2368, 1728, "max_pixels"},
      {451, 300, 1024, 4096, 1280, 864, "min_pixels"},  // --image-min-tokens 1024
      {600, 400, 8, 64, 288, 192, "max_pixels"},        // --image-max-tokens 64
      {4000, 50, 8, 64, 2272, 32, "max_pixels"},        // clamp to 32 rows: 71 tokens > 64
      {3, 7, 100, 100, 224, 512, "min_pixels"},         // ceil overshoots: 112 tokens
  };
  for (const auto& s : cases) {
    SCOPED_TRACE(std::to_string(s.w) + "x" + std::to_string(s.h));
    const TargetSize t = smart_resize(s.w, s.h, 32, s.min_tok * 1024, s.max_tok * 1024);
    EXPECT_EQ(t.width, s.tw);
    EXPECT_EQ(t.height, s.th);
    EXPECT_STREQ(branch_name(t.branch), s.branch);
  }
}

TEST(ImageSmartResize, RoundsHalfAwayFromZeroInFloat) {
  // 80 / 32 = 2.5 -> std::round -> 3 -> 96; 208 / 32 = 6.5 -> 7 -> 224 (banker's rounding: 64, 192).
  const TargetSize t = smart_resize(80, 208, 32, 8192, 4194304);
  EXPECT_EQ(t.width, 96);
  EXPECT_EQ(t.height, 224);
}

// ---- resize with padding (img_tool::resize PAD_CEIL) and bilinear ----------------------------------------

TEST(ImageResize, PadCeilCentresContent) {
  const PadResize r = resize_with_pad_ceil(solid(1000, 750, 200, 100, 50), 992, 736, {0, 0, 0});
  EXPECT_FALSE(r.copied);
  EXPECT_EQ(r.resized_width, 982);  // ceil(1000 * 736/750) in float
  EXPECT_EQ(r.resized_height, 736);
  EXPECT_EQ(r.offset_x, 5);         // (992 - 982) / 2
  EXPECT_EQ(r.offset_y, 0);
  EXPECT_EQ(r.image.at(4, 10, 0), 0);     // black bar
  EXPECT_EQ(r.image.at(5, 10, 0), 200);   // content
  EXPECT_EQ(r.image.at(986, 10, 1), 100);
  EXPECT_EQ(r.image.at(987, 10, 2), 0);   // right bar: 992 - 5 - 982 = 5 columns
}

TEST(ImageResize, SameSizeIsACopy) {
  RgbImage img = solid(64, 32, 1, 2, 3);
  img.rgb[7] = 99;
  const PadResize r = resize_with_pad_ceil(img, 64, 32, {0, 0, 0});
  EXPECT_TRUE(r.copied);
  EXPECT_EQ(r.image.rgb, img.rgb);
}

TEST(ImageResize, BilinearTruncatesAndAlignsCorners) {
  RgbImage src;
  src.width = 2;
  src.height = 1;
  src.rgb = {0, 0, 0, 255, 255, 255};
  const RgbImage d = resize_bilinear(src, 3, 1);
  // x_ratio = (2-1)/(3-1) = 0.5: samples 0, 0.5, 1 -> 0, 127.5 (truncated to 127), 255.
  EXPECT_EQ(d.at(0, 0, 0), 0);
  EXPECT_EQ(d.at(1, 0, 0), 127);
  EXPECT_EQ(d.at(2, 0, 0), 255);
  const RgbImage one = resize_bilinear(solid(1, 1, 9, 8, 7), 5, 4);  // ratio 0/(n-1) = 0
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 5; ++x) EXPECT_EQ(one.at(x, y, 2), 7);
}

// ---- normalization and layout -----------------------------------------------------------------------------

TEST(ImageNormalize, TwoDivisionsPlanarLayout) {
  RgbImage img;
  img.width = 32;
  img.height = 32;
  img.rgb.resize(32 * 32 * 3);
  for (size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<uint8_t>(i * 7);
  PreprocessContract k = qwen_contract();
  k.image_min_tokens = 1;  // keep 32x32 as is
  const Preprocessed p = preprocess(img, k, "mem");
  ASSERT_EQ(p.width, 32);
  const size_t plane = 32 * 32;
  for (size_t px = 0; px < plane; ++px) {
    for (size_t c = 0; c < 3; ++c) {
      const float u = static_cast<float>(img.rgb[px * 3 + c]);
      const volatile float v = u / 255.0f;  // volatile: keep the two roundings separate
      const float want = (v - 0.5f) / 0.5f;
      ASSERT_EQ(std::memcmp(&p.pixels[c * plane + px], &want, 4), 0) << px << " " << c;
    }
  }
  EXPECT_EQ(p.pixels[0], -1.0f);
  EXPECT_EQ(p.summary["grid"]["nx"], 1);
  EXPECT_EQ(p.summary["shape"], json({3, 32, 32}));
}

// ---- decode errors and limits -----------------------------------------------------------------------------

TEST(ImageDecode, ErrorsNameTheInput) {
  const std::vector<uint8_t> empty;
  EXPECT_EQ(error_of([&] { decode_image(empty, "a.png"); }), "a.png: empty file, not an image");
  const std::vector<uint8_t> junk = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!'};
  EXPECT_EQ(error_of([&] { decode_image(junk, "b.png"); }), "b.png: cannot decode image (stb_image 2.30: unknown image type)");
  const std::string wav("RIFF\x24\x00\x00\x00WAVEfmt ", 16);
  const std::string e = error_of([&] { decode_image({reinterpret_cast<const uint8_t*>(wav.data()), wav.size()}, "c.wav"); });
  EXPECT_NE(e.find("c.wav: has an audio signature"), std::string::npos) << e;
  EXPECT_NE(error_of([] { decode_image_file(kFixtures + "does-not-exist.png"); }).find("does-not-exist.png: cannot open"),
            std::string::npos);
}

TEST(ImageDecode, HugeDimensionsRefusedBeforeDecoding) {
  const std::string ppm = "P6\n30000 30000\n255\n";  // header only: 9e8 pixels
  const std::string e = error_of([&] { decode_image({reinterpret_cast<const uint8_t*>(ppm.data()), ppm.size()}, "big.ppm"); });
  EXPECT_NE(e.find("big.ppm: image 30000x30000 is beyond the preprocess contract"), std::string::npos) << e;
}

TEST(ImageDecode, PpmRoundTrip) {
  const std::string ppm = std::string("P6\n2 1\n255\n") + std::string("\x01\x02\x03\xfd\xfe\xff", 6);
  const RgbImage img = decode_image({reinterpret_cast<const uint8_t*>(ppm.data()), ppm.size()}, "x.ppm");
  EXPECT_EQ(img.width, 2);
  EXPECT_EQ(img.height, 1);
  EXPECT_EQ(img.rgb, (std::vector<uint8_t>{1, 2, 3, 253, 254, 255}));
}

TEST(ImagePreprocess, BeyondMaxTokensRefusedUnlessAllowed) {
  PreprocessContract k = qwen_contract();
  set_token_overrides(k, -1, 64, "opts");
  const RgbImage wide = solid(4000, 50, 10, 10, 10);
  const std::string e = error_of([&] { preprocess(wide, k, "wide.png"); });
  EXPECT_NE(e.find("wide.png: image 4000x50 preprocesses to 2272x32 (71 tokens), beyond the contract's max_tokens 64"),
            std::string::npos) << e;
  const Preprocessed p = preprocess(wide, k, "wide.png", /*allow_over_max_tokens=*/true);
  EXPECT_EQ(p.n_tokens(), 71);
  EXPECT_EQ(p.summary["over_max_tokens"], true);
  EXPECT_NE(error_of([&] { preprocess(RgbImage{}, k, "zero.png"); }).find("zero.png: image has zero size"), std::string::npos);
}

// ---- contract JSON ---------------------------------------------------------------------------------------

TEST(ImageContract, RoundTripAndManifestNames) {
  const PreprocessContract k = qwen_contract();
  const json j = contract_to_json(k);
  EXPECT_EQ(j["format"], "ck.preprocess");
  EXPECT_EQ(j["image_max_pixels"], 4194304);
  const PreprocessContract back = contract_from_json(j, "j");
  EXPECT_EQ(contract_to_json(back), j);
  // The manifest's section, with comments and derived keys.
  const json man = json::parse(R"({"_doc": "x", "image_mean": [0.48145466, 0.4578275, 0.40821073],
      "image_std": [0.26862954, 0.26130258, 0.27577711], "patch_size": 14, "n_merge": 2, "align": 28,
      "image_min_tokens": 4, "image_max_tokens": 16384, "image_min_pixels": 3136, "image_max_pixels": 12845056,
      "resize_algo": "bilinear", "resize_pad": "pad_ceil", "pad_color": [0, 0, 0], "pixel_divisor": 255.0})");
  const PreprocessContract c = contract_from_json(man, "m.json: preprocess");
  EXPECT_EQ(c.align(), 28);
  EXPECT_EQ(c.image_mean[0], 0.48145466f);
  EXPECT_EQ(c.max_pixels(), 16384 * 784);
}

TEST(ImageContract, RejectsWhatCkCannotReproduce) {
  const json base = contract_to_json(qwen_contract());
  auto with = [&](const char* key, const json& v) {
    json j = base;
    j[key] = v;
    return error_of([&] { contract_from_json(j, "m.json: preprocess"); });
  };
  EXPECT_NE(with("resize_pad", "pad_nearest").find("m.json: preprocess: unsupported \"resize_pad\""), std::string::npos);
  EXPECT_NE(with("resize_algo", "bicubic").find("unsupported \"resize_algo\""), std::string::npos);
  EXPECT_NE(with("version", 2).find("unsupported preprocess contract version 2"), std::string::npos);
  EXPECT_NE(with("crop", true).find("unknown preprocess contract key \"crop\""), std::string::npos);
  EXPECT_NE(with("image_max_pixels", 1).find("\"image_max_pixels\" is 1, inconsistent"), std::string::npos);
  EXPECT_NE(with("image_std", json({0.5, 0.0, 0.5})).find("must be non-zero"), std::string::npos);
  EXPECT_NE(with("image_mean", json({0.5, 0.5})).find("array of 3 numbers"), std::string::npos);
  PreprocessContract k = qwen_contract();
  EXPECT_NE(error_of([&] { set_token_overrides(k, 200, 100, "opts"); }).find("opts: max tokens 100 is less than min tokens 200"),
            std::string::npos);
  EXPECT_NE(error_of([&] { set_token_overrides(k, -1, 3000000, "opts"); }).find("overflows"), std::string::npos);
}

}  // namespace
