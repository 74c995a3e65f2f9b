// plan_cache — where compiled plans live and how a GGUF finds its plan without hashing it every run.
//
// A plan directory (pipeline/compile.h) is named by a key over the GGUF's sha256 and whatever else changes the
// plan (templates, the code that compiles, the mode): ROOT/<key[:32]>/. Hashing a 2B F16 GGUF takes seconds, so
// each source file's sha256 is remembered with the file's identity, ROOT/sources/<sha256(absolute path)[:32]>.json:
//   {"format": "ck.plan_cache_source", "version": 1, "path", "device", "inode", "size", "mtime_ns", "sha256"}
// A hit needs all of (device, inode, size, mtime_ns) to match the file as it is now (make's rule, plus the inode so
// a replaced file of the same size and time is noticed); anything else is a miss: the file is hashed and the record
// rewritten (atomically; a record that is unreadable or of another version counts as a miss).
#pragma once
#include <string>

namespace ck::pipeline {

struct FileHash {
  std::string sha256;
  bool cached = false;  // true: taken from the record, the file was not read
};

class PlanCache {
 public:
  explicit PlanCache(std::string root);  // the directory is created on first use
  const std::string& root() const { return root_; }
  // sha256 of a file's bytes, through the source record. Throws ck::Error("<path>: ...") if it cannot be read.
  FileHash file_sha256(const std::string& path);
  // ROOT/<first 32 hex digits of key>
  std::string plan_dir(const std::string& key) const;

 private:
  std::string root_;
};

// sha256 over every template file of `dir` (name + bytes, sorted by name): part of every plan key, so any template
// change invalidates the cache. Throws ck::Error when the directory is missing or empty.
std::string templates_sha256(const std::string& dir);

// ${XDG_CACHE_HOME:-$HOME/.cache}/ck; throws ck::Error when neither is set.
std::string default_cache_root();

}  // namespace ck::pipeline
