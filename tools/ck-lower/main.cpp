// ck-lower [MANIFEST|-] [-o ir1.json] — template + weights manifest -> ir1 (docs/formats/ir1.md).
// The template is chosen from templates/index.json by the manifest's arch unless --template is given.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "core/output_file.h"
#include "graph/json_io.h"
#include "lower/lower.h"
#include "registry/catalogue.h"
#include "pipeline/steps.h"
#include "runtime/kernel_table.h"

static int body(int argc, char** argv) {
  CLI::App app{"ck-lower: weights manifest + template -> ir1.json"};
  std::string manifest = "-", out = "-", tmpl, tdir, mode = "strict";
  bool list = false;
  app.add_option("MANIFEST", manifest, "weights manifest (ck.weights_manifest JSON), - = stdin");
  app.add_option("-o,--output", out, "output ir1.json (default stdout)");
  app.add_option("--template", tmpl, "template file (default: by arch from the templates index)");
  app.add_option("--templates", tdir, "templates directory (default $CK_TEMPLATES, else the source tree's)");
  // Only the modes this build can run (every kernel the mode may select is bound): fast appears by itself
  // once the fast kernels are bound (lib/runtime/kernel_table.h).
  const auto modes = ck::runtime::available_mode_names();
  app.add_option("--mode", mode, "numerics mode (strict = bit-exact with llama.cpp)")->check(CLI::IsMember(modes));
  app.add_flag("--list-kernels", list, "print the kernel catalogue (ck.kernels JSON) and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    throw ck::Error(std::string(e.what()) + " (see ck-lower --help)");
  }
  if (list) {
    ck::write_text_file(out, ck::registry::catalogue_json().dump(2) + "\n");
    return 0;
  }
  auto m = ck::registry::mode_from_name(mode);
  if (!m) throw ck::Error("--mode: unknown mode '" + mode + "'");
  if (tdir.empty()) tdir = ck::pipeline::default_templates_dir();

  auto ir = ck::pipeline::lower_manifest(ck::graph::read_json(manifest), manifest, out, tdir, tmpl, *m);
  ck::write_text_file(out, ck::graph::ir1_to_json(ir).dump(1) + "\n");
  std::fprintf(stderr, "ck-lower: %s: %zu ops, %zu tensors, %zu weights, mode %s\n", ir.template_name.c_str(),
               ir.ops.size(), ir.tensors.size(), ir.weights.size(), ir.mode.c_str());
  return 0;
}

int main(int argc, char** argv) { return ck::run_tool("ck-lower", body, argc, argv); }
