#include "bump/format.h"

#include <cstring>
#include <limits>

#include "core/error.h"

namespace ck::bump {

namespace {
template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  // Little-endian by construction (x86-64 / aarch64 hosts; big-endian hosts are not supported by ck).
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.insert(out.end(), b, b + sizeof(T));
}
void put_bytes(std::vector<uint8_t>& out, const char (&m)[8]) {
  for (char c : m) out.push_back(static_cast<uint8_t>(c));
}
}  // namespace

std::vector<uint8_t> encode_header(const Header& h) {
  std::vector<uint8_t> out;
  out.reserve(kHeaderSize);
  put_bytes(out, kMagic);
  put<uint32_t>(out, h.version);
  put<uint32_t>(out, h.header_size);
  put<uint32_t>(out, h.tensor_alignment);
  put<uint32_t>(out, h.data_alignment);
  put<uint64_t>(out, h.n_tensors);
  put<uint64_t>(out, h.table_offset);
  put<uint64_t>(out, h.table_size);
  put<uint64_t>(out, h.meta_offset);
  put<uint64_t>(out, h.meta_size);
  put<uint64_t>(out, h.data_offset);
  put<uint64_t>(out, h.data_size);
  put<uint64_t>(out, h.file_size);
  out.resize(kHeaderSize, 0);  // reserved bytes 88..127 are zero
  return out;
}

std::vector<uint8_t> encode_footer(const Footer& f) {
  std::vector<uint8_t> out;
  out.reserve(kFooterSize);
  put_bytes(out, kFooterMagic);
  put<uint64_t>(out, f.content_size);
  out.insert(out.end(), f.sha256.begin(), f.sha256.end());
  out.resize(kFooterSize, 0);  // reserved bytes 48..63 are zero
  return out;
}

uint64_t table_entry_size(const TensorEntry& e) { return 4 + e.name.size() + 4 + 4 + 8 * kMaxDims + 8 + 8; }

std::vector<uint8_t> encode_table(const std::vector<TensorEntry>& entries) {
  std::vector<uint8_t> out;
  for (const auto& e : entries) {
    put<uint32_t>(out, static_cast<uint32_t>(e.name.size()));
    out.insert(out.end(), e.name.begin(), e.name.end());
    put<uint32_t>(out, static_cast<uint32_t>(e.dtype));
    put<uint32_t>(out, static_cast<uint32_t>(e.ne.size()));
    for (uint32_t d = 0; d < kMaxDims; ++d) put<int64_t>(out, d < e.ne.size() ? e.ne[d] : 1);
    put<uint64_t>(out, e.offset);
    put<uint64_t>(out, e.nbytes);
  }
  return out;
}

uint64_t tensor_nbytes(const std::string& where, const std::string& name, DType t, const std::vector<int64_t>& ne) {
  const auto& tr = traits(t);
  if (ne.empty() || ne.size() > kMaxDims)
    fail(where, "tensor \"" + name + "\": " + std::to_string(ne.size()) + " dims (1.." + std::to_string(kMaxDims) + ")");
  for (auto n : ne)
    if (n < 0) fail(where, "tensor \"" + name + "\": negative dimension " + std::to_string(n));
  if (static_cast<uint64_t>(ne[0]) % tr.block_size != 0)
    fail(where, "tensor \"" + name + "\": ne[0] = " + std::to_string(ne[0]) + " is not a multiple of the " +
                    tr.name + " block size " + std::to_string(tr.block_size));
  // ggml_nbytes: (ne0 / blck) * type_size * ne1 * ne2 * ne3, overflow-checked.
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t bytes = static_cast<uint64_t>(ne[0]) / tr.block_size * tr.type_size;
  for (size_t d = 1; d < ne.size(); ++d) {
    uint64_t n = static_cast<uint64_t>(ne[d]);
    if (n != 0 && bytes > kMax / n) fail(where, "tensor \"" + name + "\": byte size overflows 64 bits");
    bytes *= n;
  }
  return bytes;
}

std::string hex(const uint8_t* bytes, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    s.push_back(d[bytes[i] >> 4]);
    s.push_back(d[bytes[i] & 15]);
  }
  return s;
}

}  // namespace ck::bump
