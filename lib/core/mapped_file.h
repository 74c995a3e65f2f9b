// MappedFile — a whole file mapped read-only (never copied). Weights are used in place from it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace ck {

class MappedFile {
 public:
  MappedFile() = default;
  // Maps `path` read-only; throws ck::Error naming the file on failure. An empty file maps to an empty span.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  void release();
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Reads a whole stream/file into memory (for stdin and small inputs such as JSON manifests).
std::string read_text_file(const std::string& path);  // "-" reads stdin

}  // namespace ck
