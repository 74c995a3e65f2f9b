// GGUF v3 writer. Byte layout as ggml/src/gguf.cpp gguf_write_out: header, KV pairs, tensor infos, zero
// padding to the alignment, then each tensor's data followed by zero padding to the alignment. Unlike
// gguf_write_out, n_dims is written as given (not trimmed of trailing 1s), so a round trip keeps the shape.
#include <cstring>

#include "core/error.h"
#include "core/output_file.h"
#include "gguf/gguf.h"
#include "gguf/wire.h"

namespace ck::gguf {

namespace {

constexpr const char* kWho = "gguf writer";

class Bytes {
 public:
  template <typename T>
  void put(T v) {
    const size_t n = b_.size();
    b_.resize(n + sizeof(T));
    std::memcpy(b_.data() + n, &v, sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    b_.insert(b_.end(), s.begin(), s.end());
  }
  void pad(uint64_t align) { b_.resize(wire::pad_to(b_.size(), align), 0); }
  std::vector<uint8_t>& vec() { return b_; }

 private:
  std::vector<uint8_t> b_;
};

// The value's payload, without its type tag (an array's elements carry no tags either).
void put_payload(Bytes& b, const Value& v, uint32_t depth, const std::string& key) {
  switch (v.type) {
    case ValueType::UINT8: b.put(static_cast<uint8_t>(v.u)); break;
    case ValueType::UINT16: b.put(static_cast<uint16_t>(v.u)); break;
    case ValueType::UINT32: b.put(static_cast<uint32_t>(v.u)); break;
    case ValueType::UINT64: b.put(static_cast<uint64_t>(v.u)); break;
    case ValueType::INT8: b.put(static_cast<int8_t>(v.i)); break;
    case ValueType::INT16: b.put(static_cast<int16_t>(v.i)); break;
    case ValueType::INT32: b.put(static_cast<int32_t>(v.i)); break;
    case ValueType::INT64: b.put(static_cast<int64_t>(v.i)); break;
    case ValueType::FLOAT32: b.put(static_cast<float>(v.f)); break;
    case ValueType::FLOAT64: b.put(static_cast<double>(v.f)); break;
    case ValueType::BOOL: b.put(static_cast<uint8_t>(v.u != 0 ? 1 : 0)); break;
    case ValueType::STRING: b.put_string(v.s); break;
    case ValueType::ARRAY:
      if (depth + 1 > wire::kMaxArrayDepth)
        throw Error(std::string(kWho) + ": key '" + key + "': arrays nested deeper than " +
                    std::to_string(wire::kMaxArrayDepth));
      if (!wire::known_type(static_cast<uint32_t>(v.elem_type)))
        throw Error(std::string(kWho) + ": key '" + key + "': unknown array element type");
      b.put(static_cast<uint32_t>(v.elem_type));
      b.put(static_cast<uint64_t>(v.arr.size()));
      for (const Value& e : v.arr) {
        if (e.type != v.elem_type)
          throw Error(std::string(kWho) + ": key '" + key + "': array of " + value_type_name(v.elem_type) +
                      " holds a " + value_type_name(e.type));
        put_payload(b, e, depth + 1, key);
      }
      break;
    default:
      throw Error(std::string(kWho) + ": key '" + key + "': unknown value type " +
                  std::to_string(static_cast<uint32_t>(v.type)));
  }
}

bool power_of_two(uint64_t a) { return a != 0 && (a & (a - 1)) == 0; }

}  // namespace

void Writer::set(const std::string& key, Value v) {
  if (key.empty()) throw Error(std::string(kWho) + ": empty key");
  if (key == wire::kAlignmentKey) {
    if (v.type != ValueType::UINT32 || !power_of_two(v.u))
      throw Error(std::string(kWho) + ": general.alignment must be a u32 nonzero power of two");
    alignment_ = static_cast<uint32_t>(v.u);
    // Offsets depend on the alignment: lay the tensors out again.
    data_size_ = 0;
    for (auto& t : tensors_) {
      t.offset = data_size_;
      data_size_ += wire::pad_to(t.nbytes, alignment_);
    }
  }
  for (auto& kv : kvs_)
    if (kv.key == key) {
      kv.value = std::move(v);
      return;
    }
  kvs_.push_back({key, std::move(v)});
}

void Writer::set_alignment(uint32_t a) {
  if (!power_of_two(a)) throw Error(std::string(kWho) + ": alignment " + std::to_string(a) + " is not a power of two");
  bool present = false;
  for (const auto& kv : kvs_) present = present || kv.key == wire::kAlignmentKey;
  if (present || a != wire::kDefaultAlignment) {
    set(wire::kAlignmentKey, Value::u32(a));
  } else {
    alignment_ = a;  // == default: nothing to record, and the layout is already for 32
  }
}

void Writer::add_tensor(const std::string& name, DType type, std::vector<int64_t> ne, Fill fill) {
  const std::string ctx = std::string(kWho) + ": tensor '" + name + "'";
  if (name.size() > wire::kMaxNameBytes)
    throw Error(ctx + ": name longer than " + std::to_string(wire::kMaxNameBytes) + " bytes (GGML_MAX_NAME)");
  for (const auto& t : tensors_)
    if (t.name == name) throw Error(ctx + ": duplicate tensor name");
  if (ne.empty() || ne.size() > wire::kMaxDims) throw Error(ctx + ": needs 1 to 4 dimensions");
  const auto& tr = traits(type);
  uint64_t n_el = 1;
  for (int64_t d : ne) {
    if (d < 0) throw Error(ctx + ": negative dimension");
    if (__builtin_mul_overflow(n_el, static_cast<uint64_t>(d), &n_el) ||
        n_el > static_cast<uint64_t>(INT64_MAX))
      throw Error(ctx + ": element count overflows int64");
  }
  if (ne[0] % tr.block_size != 0)
    throw Error(ctx + ": ne[0] = " + std::to_string(ne[0]) + " is not a multiple of the " + tr.name +
                " block size " + std::to_string(tr.block_size));
  uint64_t nbytes = static_cast<uint64_t>(ne[0]) / tr.block_size * tr.type_size;
  for (size_t d = 1; d < ne.size(); ++d)
    if (__builtin_mul_overflow(nbytes, static_cast<uint64_t>(ne[d]), &nbytes))
      throw Error(ctx + ": byte size overflows uint64");
  tensors_.push_back({name, type, std::move(ne), nbytes, data_size_, std::move(fill)});
  data_size_ += wire::pad_to(nbytes, alignment_);
}

void Writer::add_tensor(const std::string& name, DType type, std::vector<int64_t> ne, std::vector<uint8_t> bytes) {
  auto shared = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  const size_t have = shared->size();
  add_tensor(name, type, std::move(ne), [shared](std::span<uint8_t> out) {
    if (!out.empty()) std::memcpy(out.data(), shared->data(), out.size());
  });
  if (tensors_.back().nbytes != have) {
    const uint64_t want = tensors_.back().nbytes;
    data_size_ -= wire::pad_to(want, alignment_);
    tensors_.pop_back();
    throw Error(std::string(kWho) + ": tensor '" + name + "': " + std::to_string(have) + " bytes given, shape and " +
                "dtype need " + std::to_string(want));
  }
}

std::vector<uint8_t> Writer::header_bytes() const {
  Bytes b;
  for (uint8_t m : wire::kMagic) b.put(m);
  b.put<uint32_t>(wire::kVersionWritten);
  b.put<uint64_t>(tensors_.size());
  b.put<uint64_t>(kvs_.size());
  for (const auto& kv : kvs_) {
    b.put_string(kv.key);
    b.put(static_cast<uint32_t>(kv.value.type));
    put_payload(b, kv.value, 0, kv.key);
  }
  for (const auto& t : tensors_) {
    b.put_string(t.name);
    b.put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) b.put<int64_t>(d);
    b.put<uint32_t>(static_cast<uint32_t>(t.type));
    b.put<uint64_t>(t.offset);
  }
  b.pad(alignment_);
  return std::move(b.vec());
}

void Writer::write(const std::string& path) const {
  const std::vector<uint8_t> header = header_bytes();  // validates the metadata before the file is created
  OutputFile out(path);
  out.write(header.data(), header.size());
  const uint64_t data_offset = header.size();
  std::vector<uint8_t> buf;
  for (const auto& t : tensors_) {
    if (out.position() != data_offset + t.offset) fail(path, "internal: tensor '" + t.name + "' is misplaced");
    buf.assign(t.nbytes, 0);
    if (t.fill) t.fill(std::span<uint8_t>(buf.data(), buf.size()));
    out.write(buf.data(), buf.size());
    out.write_zeros(wire::pad_to(t.nbytes, alignment_) - t.nbytes);
  }
  out.commit();
}

}  // namespace ck::gguf
