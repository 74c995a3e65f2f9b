// ck-diff A B — compares two activation dumps (docs/formats/dump.md) or two raw little-endian f32 files,
// tensor by tensor, and names the first divergence in graph order.
// Exit: 0 equal within tolerance, 1 different, 2 bad input (one line on stderr).
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/error.h"
#include "dump/diff.h"

static int body(int argc, char** argv) {
  CLI::App app{"ck-diff: compare two activation dumps (ck.dump directories) or two raw f32 files"};
  std::string a, b;
  ck::DiffOptions opt;
  bool json = false, quiet = false;
  app.add_option("A", a, "dump directory or raw f32 file (reference order: graph order of A)")->required();
  app.add_option("B", b, "dump directory or raw f32 file")->required();
  app.add_option("--tol", opt.tol, "max |a-b| per element; 0 (default) = bitwise equality");
  app.add_flag("--json", json, "machine-readable report (ck.diff JSON) on stdout");
  app.add_option("--filter", opt.filter, "only tensors whose \"phase/name\" contains SUBSTR");
  app.add_flag("--quiet", quiet, "print only the first divergence and the verdict");
  app.add_flag("--allow-missing", opt.allow_missing, "tensors present on one side only do not fail");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    throw ck::Error(std::string(e.what()) + " (see ck-diff --help)");
  }
  if (!(opt.tol >= 0) || std::isinf(opt.tol)) throw ck::Error("--tol must be a finite number >= 0");

  ck::DiffReport report = ck::diff_paths(a, b, opt);
  std::string out = json ? ck::diff_report_json(report).dump(2) + "\n" : ck::diff_report_text(report, quiet);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return report.ok ? ck::kExitOk : ck::kExitMismatch;
}

int main(int argc, char** argv) { return ck::run_tool("ck-diff", body, argc, argv); }
