// On-disk constants of GGUF shared by the reader and the writer (ggml/docs/gguf.md, ggml/src/gguf.cpp).
// Internal to lib/gguf.
#pragma once
#include <cstdint>
#include <optional>

#include "gguf/gguf.h"

namespace ck::gguf::wire {

inline constexpr uint8_t kMagic[4] = {'G', 'G', 'U', 'F'};
inline constexpr uint32_t kVersionWritten = 3;
inline constexpr uint32_t kDefaultAlignment = 32;       // GGUF_DEFAULT_ALIGNMENT
inline constexpr uint32_t kMaxDims = 4;                 // GGML_MAX_DIMS
inline constexpr uint64_t kMaxNameBytes = 63;           // GGML_MAX_NAME (64) minus the terminating NUL
inline constexpr uint32_t kMaxArrayDepth = 16;          // ck's limit on nested arrays (ggml allows none)
inline constexpr const char* kAlignmentKey = "general.alignment";

// Bytes of one value of a fixed-size type (gguf.cpp GGUF_TYPE_SIZE); nullopt for STRING/ARRAY/unknown.
inline std::optional<uint64_t> fixed_size(uint32_t t) {
  switch (static_cast<ValueType>(t)) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::BOOL: return 1;
    case ValueType::UINT16: case ValueType::INT16: return 2;
    case ValueType::UINT32: case ValueType::INT32: case ValueType::FLOAT32: return 4;
    case ValueType::UINT64: case ValueType::INT64: case ValueType::FLOAT64: return 8;
    default: return std::nullopt;
  }
}

inline bool known_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::FLOAT64); }

// The fewest bytes one encoded value of type `t` can occupy: what a count read from the file is checked
// against before anything is allocated (a string is at least its u64 length, a nested array at least its
// u32 element type + u64 count).
inline uint64_t min_encoded_size(uint32_t t) {
  if (auto s = fixed_size(t)) return *s;
  if (t == static_cast<uint32_t>(ValueType::STRING)) return 8;
  return 12;
}

inline uint64_t pad_to(uint64_t x, uint64_t align) { return (x + align - 1) / align * align; }

}  // namespace ck::gguf::wire
