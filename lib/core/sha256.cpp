#include "core/sha256.h"

#include <openssl/evp.h>

#include "core/error.h"
#include "core/mapped_file.h"

namespace ck {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  if (impl_->ctx == nullptr || EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr) != 1)
    throw Error("sha256: cannot initialise OpenSSL digest");
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::update(const void* data, size_t n) {
  if (n > 0 && EVP_DigestUpdate(impl_->ctx, data, n) != 1) throw Error("sha256: update failed");
}

std::string Sha256::hex_digest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx, md, &len) != 1) throw Error("sha256: final failed");
  static const char* hexd = "0123456789abcdef";
  std::string s;
  s.reserve(2 * len);
  for (unsigned i = 0; i < len; ++i) {
    s.push_back(hexd[md[i] >> 4]);
    s.push_back(hexd[md[i] & 15]);
  }
  return s;
}

std::string sha256_hex(std::span<const uint8_t> bytes) {
  Sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.hex_digest();
}

std::string sha256_file_hex(const std::string& path) {
  MappedFile f(path);
  return sha256_hex(f.bytes());
}

}  // namespace ck
