// ck-synth — writes a synthetic Qwen3-VL (mmproj, text) GGUF pair with seeded random weights and the exact
// tensor names / shapes / dtypes / metadata of llama.cpp's converter (docs/SYNTH.md).
//   ck-synth --preset tiny|small|2b|4b|8b|32b|30b-a3b|235b-a22b|tiny-moe|small-moe --mmproj-type T --text-type T -o DIR [--seed N]
//            [--only mmproj|text] [--layers N] [--vision-layers N] [--chat-template instruct|thinking]
//   ck-synth --describe FILE [--against FILE]   structure of a GGUF as JSON / its differences to another
// Exit: 0 ok, 1 structures differ (--against), 2 bad input (one line on stderr).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "synth/structure.h"
#include "synth/synth.h"

namespace {

ck::DType parse_type(const std::string& flag, const std::string& s) {
  const auto t = ck::dtype_from_name(s);
  if (!t || !ck::synth::is_weight_type(*t))
    throw ck::Error(flag + ": unknown type '" + s + "' (use f32, f16, bf16 or q8_0)");
  return *t;
}

// --tokenizer, else $CK_DEPS_DIR/qwen3-tokenizer/tokenizer.json, else this build's deps dir.
std::string default_tokenizer() {
  const char* env = std::getenv("CK_DEPS_DIR");
  const std::string deps = env && *env ? env : CK_SYNTH_DEFAULT_DEPS_DIR;
  return deps + "/qwen3-tokenizer/tokenizer.json";
}

void print(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

static int body(int argc, char** argv) {
  CLI::App app{"ck-synth: write a synthetic Qwen3-VL (mmproj, text) GGUF pair with seeded random weights"};
  std::string preset = "tiny", mmproj_type = "f32", text_type = "f16", out_dir, only = "both", tokenizer;
  std::string describe, against;
  uint64_t seed = 0;
  int threads = 0, layers = 0, vision_layers = 0;
  std::string opt_chat_template = "instruct";
  bool quiet = false;
  app.add_option("--preset", preset, "tiny | small | 2b | 4b | 8b | 32b | 30b-a3b | 235b-a22b (the Qwen3-VL checkpoints' dimensions; the MoE two: qwen3vlmoe) | tiny-moe | small-moe (test-size qwen3vlmoe)")->capture_default_str();
  app.add_option("--mmproj-type", mmproj_type, "f32 | f16 | bf16 | q8_0")->capture_default_str();
  app.add_option("--text-type", text_type, "f32 | f16 | bf16 | q8_0")->capture_default_str();
  app.add_option("-o,--out-dir", out_dir, "output directory (created if missing)");
  app.add_option("--seed", seed, "random seed")->capture_default_str();
  app.add_option("--only", only, "both | mmproj | text")->capture_default_str();
  app.add_option("--tokenizer", tokenizer,
                 "Qwen3 tokenizer.json (default: $CK_DEPS_DIR/qwen3-tokenizer/tokenizer.json)");
  app.add_option("--threads", threads, "threads (default: physical cores; output does not depend on it)");
  app.add_option("--layers", layers, "text decoder layers (cut the preset's depth; widths unchanged)");
  app.add_option("--chat-template", opt_chat_template,
                 "tokenizer.chat_template of the text file: instruct (Qwen3-VL-*-Instruct) | thinking (-Thinking)")
      ->capture_default_str();
  app.add_option("--vision-layers", vision_layers,
                 "vision encoder layers (cut the preset's depth; deepstack taps past it are dropped)");
  app.add_flag("-q,--quiet", quiet, "no summary on stdout");
  app.add_option("--describe", describe, "print the structure (ck.synth-structure JSON) of a GGUF and exit");
  app.add_option("--against", against, "with --describe: list differences to this GGUF or structure JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, exit 2 (CLI11's own message is one line too; the usage hint goes nowhere).
    std::fprintf(stderr, "ck-synth: error: %s\n", e.what());
    return ck::kExitBadInput;
  }

  if (!describe.empty()) {
    const auto s = ck::synth::load_structure(describe);
    if (against.empty()) {
      print(s.dump(1) + "\n");
      return ck::kExitOk;
    }
    const auto diffs = ck::synth::diff_structure(ck::synth::load_structure(against), s);
    std::string out;
    for (const auto& d : diffs) out += d + "\n";
    out += diffs.empty() ? "same structure\n" : std::to_string(diffs.size()) + " difference(s)\n";
    print(out);
    return diffs.empty() ? ck::kExitOk : ck::kExitMismatch;
  }
  if (!against.empty()) throw ck::Error("--against needs --describe");

  ck::synth::Options opt;
  ck::synth::preset(preset);  // validates the name first
  opt.preset = preset;
  opt.mmproj_type = parse_type("--mmproj-type", mmproj_type);
  opt.text_type = parse_type("--text-type", text_type);
  if (only != "both" && only != "mmproj" && only != "text")
    throw ck::Error("--only: unknown value '" + only + "' (use both, mmproj or text)");
  opt.write_mmproj = only != "text";
  opt.write_text = only != "mmproj";
  if (out_dir.empty()) throw ck::Error("-o DIR is required");
  opt.out_dir = out_dir;
  opt.seed = seed;
  if (threads < 0) throw ck::Error("--threads must be >= 0");
  opt.threads = threads;
  opt.layers = layers;
  opt.vision_layers = vision_layers;
  opt.chat_template = opt_chat_template;
  opt.tokenizer = tokenizer.empty() && opt.write_text ? default_tokenizer() : tokenizer;

  for (const auto& w : ck::synth::generate(opt))
    if (!quiet)
      std::printf("wrote %s (%zu tensors, %.1f MiB, %.2f s)\n", w.path.c_str(), w.n_tensors,
                  static_cast<double>(w.bytes) / (1024.0 * 1024.0), w.seconds);
  return ck::kExitOk;
}

int main(int argc, char** argv) { return ck::run_tool("ck-synth", body, argc, argv); }
