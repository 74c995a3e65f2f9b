// ck-convert: GGUF -> bump weights file + weights_manifest.json (docs/formats/bump.md,
// docs/formats/weights_manifest.md).
//   ck-convert MODEL.gguf -o OUT.bump [--manifest FILE] [--templates DIR]   manifest on stdout by default
//   ck-convert --check X.bump                                             exit 0 ok, 1 hash mismatch, 2 bad file
#include <CLI/CLI.hpp>
#include <cstdio>

#include "bump/reader.h"
#include "core/error.h"
#include "pipeline/steps.h"

namespace {

int body(int argc, char** argv) {
  CLI::App app{"ck-convert: GGUF -> bump weights + weights_manifest.json (manifest on stdout)"};
  std::string input, output, manifest_path, templates, check_path;
  app.add_option("input", input, "GGUF model file");
  app.add_option("-o,--output", output, "bump file to write (a file; '-' is refused: the bump is binary)");
  app.add_option("--manifest", manifest_path, "write weights_manifest.json to FILE instead of stdout");
  app.add_option("--templates", templates, "templates directory (default: $CK_TEMPLATES, else the source tree's)");
  app.add_option("--check", check_path, "verify a bump's structure and sha256: exit 0 ok, 1 mismatch, 2 malformed");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : ck::kExitBadInput;
  }

  if (!check_path.empty()) {
    if (!input.empty() || !output.empty() || !manifest_path.empty())
      throw ck::Error("--check takes only the bump file to check");
    auto r = ck::bump::check(check_path);
    if (r.status == ck::kExitOk) std::printf("%s\n", r.message.c_str());
    else std::fprintf(stderr, "ck-convert: %s: %s\n", r.status == ck::kExitMismatch ? "mismatch" : "error", r.message.c_str());
    return r.status;
  }
  if (input.empty()) throw ck::Error("no input GGUF given (usage: ck-convert MODEL.gguf -o OUT.bump)");
  if (input == "-") throw ck::Error("<stdin>: reading a GGUF from stdin is not supported (it is mmapped); give a file");
  if (output.empty()) throw ck::Error("no output given: -o OUT.bump is required");
  if (output == "-") throw ck::Error("refusing to write the binary bump to stdout (-o -); give a file name");
  if (manifest_path == "-") manifest_path.clear();

  const auto r = ck::pipeline::convert_gguf(input, output, manifest_path.empty() ? "-" : manifest_path,
                                            templates.empty() ? ck::pipeline::default_templates_dir() : templates);
  std::fprintf(stderr, "ck-convert: %s -> %s (%zu tensors, %llu bytes, template %s)\n", input.c_str(), output.c_str(),
               r.n_tensors, static_cast<unsigned long long>(r.bump_bytes), r.template_file.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return ck::run_tool("ck-convert", body, argc, argv); }
