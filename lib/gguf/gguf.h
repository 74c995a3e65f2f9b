// GGUF reader and writer (versions 2 and 3), the container of llama.cpp models.
// Spec: ggml/docs/gguf.md; reference implementation ggml/src/gguf.cpp (gguf_init_from_file_impl).
//
// Reader: the file is mmapped read-only and never copied; every count, string length, array length,
// tensor dimension, offset and size is validated against the file size before it is used. Malformed input
// throws ck::Error with one line "<path>: <problem>" (offset of the problem where it helps).
// Writer: the same format (v3), deterministic byte output; used by tests and ck-synth.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"

namespace ck::gguf {

// gguf_type, numbering as in gguf.h.
enum class ValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* value_type_name(ValueType t);

// A metadata value. Scalars keep their exact type; integers are held in `u`/`i`, floats in `f`
// (FLOAT32 values are exactly representable in double, so no information is lost).
struct Value {
  ValueType type = ValueType::UINT8;
  ValueType elem_type = ValueType::UINT8;  // for ARRAY: the element type (ARRAY itself for nested arrays)
  uint64_t u = 0;                          // UINT8..UINT64, BOOL (0/1)
  int64_t i = 0;                           // INT8..INT64
  double f = 0;                            // FLOAT32, FLOAT64
  std::string s;                           // STRING
  std::vector<Value> arr;                  // ARRAY elements

  // Constructors for the writer and tests.
  static Value u8(uint8_t v), i8(int8_t v), u16(uint16_t v), i16(int16_t v), u32(uint32_t v), i32(int32_t v),
      u64(uint64_t v), i64(int64_t v), f32(float v), f64(double v), boolean(bool v), str(std::string v);
  static Value array(ValueType elem, std::vector<Value> elems);
  static Value str_array(const std::vector<std::string>& v);
  static Value i32_array(const std::vector<int32_t>& v);
  static Value f32_array(const std::vector<float>& v);

  bool is_integer() const;
  bool is_float() const { return type == ValueType::FLOAT32 || type == ValueType::FLOAT64; }
  // Numeric value as int64 / double (throws ck::Error for non-numeric values).
  int64_t as_int() const;
  double as_double() const;
  bool operator==(const Value& o) const;
};

struct KeyValue {
  std::string key;
  Value value;
};

struct TensorInfo {
  std::string name;
  DType type = DType::F32;
  std::vector<int64_t> ne;     // ggml order, ne[0] fastest; dims as stored (ggml writes 1..4; 0 = scalar)
  uint64_t offset = 0;         // relative to the start of the data region
  uint64_t nbytes = 0;         // ggml_nbytes for a contiguous tensor
  const uint8_t* data = nullptr;  // points into the mapped file (reader only)
  uint64_t n_elements() const;
};

class Reader {
 public:
  // Opens, maps and validates the whole file. Throws ck::Error("<path>: <problem>").
  explicit Reader(const std::string& path);

  const std::string& path() const { return file_.path(); }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute file offset of the data region
  const MappedFile& file() const { return file_; }

  const std::vector<KeyValue>& kvs() const { return kvs_; }
  const Value* find(const std::string& key) const;
  // Typed getters: throw ck::Error naming file and key when the key is missing (no default) or has
  // an incompatible type. Integer getters accept any integer type whose value fits.
  std::string get_string(const std::string& key) const;
  std::optional<std::string> get_string_opt(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  std::optional<int64_t> get_int_opt(const std::string& key) const;
  double get_float(const std::string& key) const;  // FLOAT32/FLOAT64 (or integer)
  std::optional<double> get_float_opt(const std::string& key) const;
  std::optional<bool> get_bool_opt(const std::string& key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(const std::string& name) const;

 private:
  MappedFile file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<KeyValue> kvs_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, size_t> kv_index_;      // key -> index in kvs_
  std::unordered_map<std::string, size_t> tensor_index_;  // name -> index in tensors_
};

// Writes a GGUF v3 file. KV pairs and tensors keep insertion order; the output is a pure function of
// what was added (deterministic). Tensor data is produced by a callback at write time so multi-GB
// models are streamed, one tensor buffer at a time. The file is written atomically (temp + rename).
class Writer {
 public:
  using Fill = std::function<void(std::span<uint8_t> out)>;

  void set(const std::string& key, Value v);  // replaces an existing key in place
  void add_tensor(const std::string& name, DType type, std::vector<int64_t> ne, Fill fill);
  void add_tensor(const std::string& name, DType type, std::vector<int64_t> ne, std::vector<uint8_t> bytes);
  void set_alignment(uint32_t a);  // also written as general.alignment when != 32
  void write(const std::string& path) const;

  // Raw building blocks for tests that craft malformed files.
  std::vector<uint8_t> header_bytes() const;  // magic..tensor infos, padded to alignment

 private:
  struct PendingTensor {
    std::string name;
    DType type;
    std::vector<int64_t> ne;
    uint64_t nbytes;
    uint64_t offset;
    Fill fill;
  };
  std::vector<KeyValue> kvs_;
  std::vector<PendingTensor> tensors_;
  uint64_t data_size_ = 0;
  uint32_t alignment_ = 32;
};

}  // namespace ck::gguf
