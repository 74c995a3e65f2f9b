// Running the stage tools (ck-convert, ck-lower, ck-layout, ck-encode, ck-decode) as subprocesses from the
// directory ck-bridge itself lives in. A first version: the tools are the tested public interface; a later
// version can call the libraries directly without changing the report.
#pragma once
#include <string>
#include <vector>

namespace ck::bridge_tool {

struct StageResult {
  int exit_code = 0;
  std::string err;  // the tool's stderr
  double ms = 0;    // wall time of the process
};

// Directory holding this executable (tools are looked up there).
std::string self_bin_dir();

// Runs `bin_dir/tool args...`; stdout goes to `stdout_path` ("" = /dev/null). Never throws for a tool failure.
StageResult run_stage(const std::string& bin_dir, const std::string& tool, const std::vector<std::string>& args,
                      const std::string& stdout_path);

// Throws ck::Error "<tool> failed: <its last error line>" when r failed. Exit code of ck-bridge stays 2.
void check_stage(const std::string& tool, const StageResult& r);

}  // namespace ck::bridge_tool
