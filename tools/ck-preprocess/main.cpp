// ck-preprocess: image -> normalized f32 tensor + JSON summary, exactly as llama.cpp's mtmd feeds its vision
// encoder (docs/formats/preprocess.md). A thin CLI over lib/image, for bisecting preprocess parity:
//   ck-preprocess img.png --contract weights_manifest.json -o pixels.f32        (planar [3][H][W])
//   ck-preprocess img.png --layout hwc -o pre.f32   # same bytes as the oracle's ref_encode --preproc-out
// The summary JSON goes to stdout (or --summary FILE); pixels are raw little-endian float32, no header.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/mapped_file.h"
#include "core/output_file.h"
#include "image/contract.h"
#include "image/decode.h"
#include "image/preprocess.h"

namespace {

using json = nlohmann::ordered_json;

// --contract accepts a bare contract object or a weights manifest holding one under "preprocess".
ck::image::PreprocessContract load_contract(const std::string& path) {
  json j;
  try {
    j = json::parse(ck::read_text_file(path));
  } catch (const json::exception& e) {
    ck::fail(path, std::string("invalid JSON: ") + e.what());
  }
  if (j.is_object() && j.contains("preprocess")) return ck::image::contract_from_json(j["preprocess"], path + ": preprocess");
  return ck::image::contract_from_json(j, path);
}

int body(int argc, char** argv) {
  CLI::App app{"ck-preprocess: decode an image (stb_image 2.30) and run the preprocess contract (mtmd-exact)"};
  std::string image, out, summary_path, u8_out, contract_path, layout = "planar";
  int min_tokens_override = -1, max_tokens_override = -1;
  bool allow_over = false;
  ck::image::PreprocessContract c;
  std::vector<float> mean, stdv;
  app.add_option("image", image, "input image (PNG, JPEG, BMP, GIF, TGA, PSD, HDR, PIC, PNM); - = stdin")->required();
  app.add_option("-o,--output", out, "write the normalized pixels (raw f32) here");
  app.add_option("--layout", layout, "pixel layout of -o: planar ([3][H][W], clip inp_raw) or hwc ([H][W][3])")
      ->check(CLI::IsMember({"planar", "hwc"}));
  app.add_option("--u8-out", u8_out, "also write the resized+padded RGB8 image (before normalization) as binary PPM");
  app.add_option("--summary", summary_path, "write the summary JSON here instead of stdout");
  app.add_option("--contract", contract_path, "preprocess contract JSON, or a weights manifest with a \"preprocess\" section");
  app.add_option("--patch-size", c.patch_size, "without --contract: patch size")->capture_default_str();
  app.add_option("--merge", c.n_merge, "without --contract: spatial merge (n_merge)")->capture_default_str();
  app.add_option("--mean", mean, "without --contract: image_mean (3 values)")->expected(3);
  app.add_option("--std", stdv, "without --contract: image_std (3 values)")->expected(3);
  app.add_option("--min-tokens", c.image_min_tokens, "without --contract: model min tokens")->capture_default_str();
  app.add_option("--max-tokens", c.image_max_tokens, "without --contract: model max tokens")->capture_default_str();
  app.add_option("--image-min-tokens", min_tokens_override, "user override of min tokens (llama.cpp --image-min-tokens)");
  app.add_option("--image-max-tokens", max_tokens_override, "user override of max tokens (llama.cpp --image-max-tokens)");
  app.add_flag("--allow-over-max-tokens", allow_over,
               "process images whose target exceeds max_tokens (llama.cpp does; ck's encoder refuses them)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : ck::kExitBadInput;
  }

  std::string where = "ck-preprocess options";
  if (!contract_path.empty()) {
    c = load_contract(contract_path);
    where = contract_path;
  } else {
    if (!mean.empty()) c.image_mean = {mean[0], mean[1], mean[2]};
    if (!stdv.empty()) c.image_std = {stdv[0], stdv[1], stdv[2]};
  }
  ck::image::set_token_overrides(c, min_tokens_override, max_tokens_override, where);

  const ck::image::RgbImage img = ck::image::decode_image_file(image);
  const std::string name = image == "-" ? "<stdin>" : image;

  if (!u8_out.empty()) {
    const ck::image::PadResize pr = ck::image::preprocess_u8(img, c, name, allow_over);
    ck::OutputFile f(u8_out);
    const std::string header = "P6\n" + std::to_string(pr.image.width) + " " + std::to_string(pr.image.height) + "\n255\n";
    f.write(header.data(), header.size());
    f.write(pr.image.rgb.data(), pr.image.rgb.size());
    f.commit();
  }

  ck::image::Preprocessed p = ck::image::preprocess(img, c, name, allow_over);
  if (!out.empty()) {
    std::vector<float> hwc;
    const std::vector<float>* data = &p.pixels;
    if (layout == "hwc") {
      // planar -> interleaved (the oracle's --preproc-out layout)
      const size_t plane = static_cast<size_t>(p.width) * p.height;
      hwc.resize(plane * 3);
      for (size_t i = 0; i < plane; ++i)
        for (size_t ch = 0; ch < 3; ++ch) hwc[i * 3 + ch] = p.pixels[ch * plane + i];
      data = &hwc;
    }
    ck::OutputFile f(out);
    f.write(data->data(), data->size() * sizeof(float));
    f.commit();
    p.summary["output"] = {{"path", out}, {"layout", layout}, {"bytes", data->size() * sizeof(float)}};
  }
  ck::write_text_file(summary_path.empty() ? "-" : summary_path, p.summary.dump(2) + "\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return ck::run_tool("ck-preprocess", body, argc, argv); }
