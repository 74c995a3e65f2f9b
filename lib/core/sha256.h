// SHA-256 (OpenSSL libcrypto, which uses SHA-NI/AVX2 where present), incremental and one-shot; hex output.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace ck {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  std::string hex_digest();  // finalizes; lower-case, 64 chars

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string sha256_hex(std::span<const uint8_t> bytes);
std::string sha256_file_hex(const std::string& path);  // streams the file through mmap

}  // namespace ck
