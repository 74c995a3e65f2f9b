// ggml tensor types: the numbering of ggml.h `enum ggml_type` (stored in GGUF and bump files) and the
// block geometry of each (ggml.c `type_traits`: blck_size, type_size). Unknown ids are reported, never guessed.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ck {

enum class DType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, BF16 = 30,
};

struct DTypeTraits {
  DType type;
  const char* name;     // ggml's type name: "f32", "q8_0", "q4_K", ...
  uint32_t block_size;  // elements per block
  uint32_t type_size;   // bytes per block
  bool quantized;
};

// Traits of a known type id, or nullopt for ids ck does not know (e.g. IQ types).
std::optional<DTypeTraits> dtype_traits(uint32_t id);
const DTypeTraits& traits(DType t);
const char* dtype_name(DType t);
// Parses "f32", "F16", "q8_0", "Q4_K", "bf16"... (case-insensitive); nullopt if unknown.
std::optional<DType> dtype_from_name(std::string_view name);
// Bytes of a row of `n` elements; nullopt if n is not a multiple of the block size.
std::optional<uint64_t> row_bytes(DType t, uint64_t n);

}  // namespace ck
