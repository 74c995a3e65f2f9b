#include "core/paths.h"

#include <filesystem>

#include "core/error.h"

namespace fs = std::filesystem;

namespace ck {

std::string path_from_artifact(const std::string& recorded, const std::string& artifact) {
  const fs::path r = recorded;
  if (artifact == "-" || r.is_absolute()) return recorded;
  return (fs::path(artifact).parent_path() / r).string();
}

std::string path_for_artifact(const std::string& path, const std::string& artifact) {
  if (artifact == "-") return path;
  // fs::relative goes through weakly_canonical, so symlinked directories on either side give a path the
  // kernel resolves to the same file (a lexical difference would not).
  std::error_code ec;
  const fs::path base = fs::absolute(fs::path(artifact)).parent_path();
  const fs::path rel = fs::relative(fs::absolute(path), base, ec);
  if (ec || rel.empty()) fail(path, "cannot express this path relative to " + base.string());
  return rel.string();
}

}  // namespace ck
