// OutputFile — writes go to "<path>.tmp.<pid>" in the same directory and become `path` only on
// commit() (fsync + rename). Destroyed without commit (error, exception), the temp file is removed, so a
// failed run never leaves a partial output behind.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ck {

class OutputFile {
 public:
  explicit OutputFile(const std::string& path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(const void* data, size_t n);
  void write_zeros(size_t n);
  uint64_t position() const { return pos_; }
  void commit();  // flush, fsync, rename over `path`
  const std::string& path() const { return path_; }

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  uint64_t pos_ = 0;
  bool committed_ = false;
};

// Writes `text` to `path` atomically ("-" = stdout).
void write_text_file(const std::string& path, const std::string& text);

}  // namespace ck
