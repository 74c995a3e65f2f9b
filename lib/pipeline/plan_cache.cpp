#include "pipeline/plan_cache.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/output_file.h"
#include "core/sha256.h"

namespace ck::pipeline {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {
constexpr const char* kSourceFormat = "ck.plan_cache_source";
constexpr int kSourceVersion = 1;

std::string sha256_str(const std::string& s) {
  return sha256_hex({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}
}  // namespace

PlanCache::PlanCache(std::string root) : root_(std::move(root)) {}

std::string PlanCache::plan_dir(const std::string& key) const { return root_ + "/" + key.substr(0, 32); }

FileHash PlanCache::file_sha256(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(path, "cannot stat");
  std::error_code ec;
  const std::string abs = fs::absolute(path, ec).lexically_normal().string();
  const std::string rec_path = root_ + "/sources/" + sha256_str(abs).substr(0, 32) + ".json";
  const int64_t mtime_ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  const json id = {{"device", uint64_t(st.st_dev)}, {"inode", uint64_t(st.st_ino)}, {"size", int64_t(st.st_size)},
                   {"mtime_ns", mtime_ns}};
  {
    std::ifstream f(rec_path);
    if (f) {
      std::stringstream ss;
      ss << f.rdbuf();
      const json rec = json::parse(ss.str(), nullptr, false);
      // typed (value() threw nlohmann's type_error on a member of another type): a bad record is a miss
      auto str = [&](const char* k) {
        return rec.is_object() && rec.contains(k) && rec[k].is_string() ? rec[k].get<std::string>() : std::string();
      };
      if (rec.is_object() && str("format") == kSourceFormat && rec.contains("version") &&
          rec["version"] == kSourceVersion && str("path") == abs) {
        bool same = true;
        for (const auto& [k, v] : id.items()) same = same && rec.contains(k) && rec[k] == v;
        const std::string sha = str("sha256");
        if (same && sha.size() == 64) return {sha, true};
      }
    }
  }
  FileHash h{sha256_file_hex(path), false};
  json rec = {{"format", kSourceFormat}, {"version", kSourceVersion}, {"path", abs}};
  for (const auto& [k, v] : id.items()) rec[k] = v;
  rec["sha256"] = h.sha256;
  fs::create_directories(root_ + "/sources", ec);
  if (!ec) {
    try {
      write_text_file(rec_path, rec.dump(2) + "\n");
    } catch (const Error&) {
      // a read-only cache still works, it only hashes every time
    }
  }
  return h;
}

std::string default_cache_root() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/ck";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/ck";
  throw Error("no cache directory: set XDG_CACHE_HOME or HOME, or pass --cache-dir / --no-cache");
}

std::string templates_sha256(const std::string& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file()) files.push_back(e.path());
  if (ec || files.empty()) fail(dir, "templates directory is missing or empty");
  std::sort(files.begin(), files.end());
  std::string acc;
  for (const auto& f : files) acc += f.filename().string() + " " + sha256_file_hex(f.string()) + "\n";
  return sha256_hex({reinterpret_cast<const uint8_t*>(acc.data()), acc.size()});
}

}  // namespace ck::pipeline
