#include "stages.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

extern char** environ;

namespace ck::bridge_tool {

std::string self_bin_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("ck-bridge: cannot locate its own executable (/proc/self/exe)");
  return exe.parent_path().string();
}

StageResult run_stage(const std::string& bin_dir, const std::string& tool, const std::vector<std::string>& args,
                      const std::string& stdout_path) {
  const std::string exe = bin_dir + "/" + tool;
  if (access(exe.c_str(), X_OK) != 0) throw Error(exe + ": stage tool not found next to ck-bridge");
  std::string err_path = (std::filesystem::temp_directory_path() / "ck-bridge-err.XXXXXX").string();
  std::vector<char> buf(err_path.begin(), err_path.end());
  buf.push_back('\0');
  const int err_fd = mkstemp(buf.data());
  if (err_fd < 0) throw Error("ck-bridge: cannot create a temporary file in $TMPDIR");
  err_path = buf.data();

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, stdout_path.empty() ? "/dev/null" : stdout_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  StageResult r;
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(err_fd);
  if (rc != 0) {
    unlink(err_path.c_str());
    throw Error(exe + ": cannot start");
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  r.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  std::ifstream f(err_path);
  std::stringstream ss;
  ss << f.rdbuf();
  r.err = ss.str();
  unlink(err_path.c_str());
  return r;
}

void check_stage(const std::string& tool, const StageResult& r) {
  if (r.exit_code == 0) return;
  // The tool's own one-line error ("tool: error: file: problem") is the most useful thing to show.
  std::string last;
  std::istringstream in(r.err);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) last = line;
  throw Error(tool + " failed (exit " + std::to_string(r.exit_code) + ")" + (last.empty() ? "" : ": " + last));
}

}  // namespace ck::bridge_tool
