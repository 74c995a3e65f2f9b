// The bump file layout (docs/formats/bump.md): constants and the fixed-size header/footer records.
// Everything is little-endian; integers are read/written field by field (no struct punning), so the
// layout below is the spec, not the compiler's idea of struct packing.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace ck::bump {

inline constexpr char kMagic[8] = {'C', 'K', 'B', 'U', 'M', 'P', 'W', 'T'};
inline constexpr char kFooterMagic[8] = {'C', 'K', 'B', 'U', 'M', 'P', 'N', 'D'};
inline constexpr uint32_t kVersion = 1;
inline constexpr uint64_t kHeaderSize = 128;
inline constexpr uint64_t kFooterSize = 64;
inline constexpr uint32_t kTensorAlignment = 64;  // every tensor starts on a 64-byte (cache line) boundary
inline constexpr uint32_t kDataAlignment = 4096;  // the data region starts on a page boundary
inline constexpr uint32_t kMaxDims = 4;           // GGML_MAX_DIMS
inline constexpr uint32_t kMaxNameLen = 4096;     // sanity bound for reading; ggml itself allows 63
inline constexpr const char* kMetaFormat = "ck.bump.meta";
inline constexpr uint32_t kMetaVersion = 1;

struct Header {
  uint32_t version = kVersion;
  uint32_t header_size = kHeaderSize;
  uint32_t tensor_alignment = kTensorAlignment;
  uint32_t data_alignment = kDataAlignment;
  uint64_t n_tensors = 0;
  uint64_t table_offset = 0;
  uint64_t table_size = 0;
  uint64_t meta_offset = 0;
  uint64_t meta_size = 0;
  uint64_t data_offset = 0;
  uint64_t data_size = 0;
  uint64_t file_size = 0;
};

struct Footer {
  uint64_t content_size = 0;        // bytes covered by the hash = offset of the footer
  std::array<uint8_t, 32> sha256{};  // sha256 of bytes [0, content_size)
};

// One tensor-table entry; offset is absolute (from the start of the file).
struct TensorEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> ne;  // 1..4 dims, ggml order (ne[0] fastest)
  uint64_t offset = 0;
  uint64_t nbytes = 0;
};

std::vector<uint8_t> encode_header(const Header& h);
std::vector<uint8_t> encode_footer(const Footer& f);
std::vector<uint8_t> encode_table(const std::vector<TensorEntry>& entries);
// Size in bytes of one encoded table entry.
uint64_t table_entry_size(const TensorEntry& e);

// ggml_nbytes of a contiguous tensor, with overflow and block-size checks; nullopt-free: throws
// ck::Error("<where>: ...") on a shape that has no valid byte size.
uint64_t tensor_nbytes(const std::string& where, const std::string& name, DType t, const std::vector<int64_t>& ne);

inline uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

std::string hex(const uint8_t* bytes, size_t n);

}  // namespace ck::bump
