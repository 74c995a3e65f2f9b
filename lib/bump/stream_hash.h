// Incremental sha256 whose state can be forked: the bump writer needs both the content hash
// (everything before the footer, recorded in the footer) and the whole-file hash (content + footer)
// from one pass over the bytes. OpenSSL EVP_MD_CTX_copy_ex gives the fork.
#pragma once
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/error.h"

namespace ck::bump {

class ForkableSha256 {
 public:
  ForkableSha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1)
      throw Error("sha256: cannot initialise OpenSSL digest");
  }
  ~ForkableSha256() { EVP_MD_CTX_free(ctx_); }
  ForkableSha256(const ForkableSha256&) = delete;
  ForkableSha256& operator=(const ForkableSha256&) = delete;

  void update(const void* p, size_t n) {
    if (n > 0 && EVP_DigestUpdate(ctx_, p, n) != 1) throw Error("sha256: update failed");
  }
  // Digest of everything so far, without finishing this state.
  std::array<uint8_t, 32> peek() const {
    EVP_MD_CTX* c = EVP_MD_CTX_new();
    std::array<uint8_t, 32> md{};
    unsigned len = 0;
    bool ok = c != nullptr && EVP_MD_CTX_copy_ex(c, ctx_) == 1 && EVP_DigestFinal_ex(c, md.data(), &len) == 1 &&
              len == 32;
    EVP_MD_CTX_free(c);
    if (!ok) throw Error("sha256: digest failed");
    return md;
  }

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace ck::bump
