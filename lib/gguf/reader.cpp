// GGUF reader. Mirrors the checks of ggml/src/gguf.cpp gguf_init_from_file_impl (plus a few of its own, see
// docs/formats/gguf_notes.md): every count, length, dimension and offset read from the file is checked
// against the bytes that remain before it is used, so a bogus value can neither read out of bounds nor
// make us allocate more than the file could possibly describe.
#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "gguf/gguf.h"
#include "gguf/wire.h"

namespace ck::gguf {

namespace {

// Metadata values (KV pairs plus array elements) one file may hold. Each parsed value costs ~90 bytes of
// memory, far more than its 1..8 bytes on disk, so the byte checks alone would still let a file of tiny
// values ask for tens of GB. Real tokenizers hold < 1M values; ggml's own cap is 2^30 per array.
constexpr uint64_t kMaxValues = uint64_t{1} << 24;

// Names and keys come from the file: escape anything that could break the one-line error format.
std::string printable(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (size_t k = 0; k < s.size(); ++k) {
    if (out.size() >= 96) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[k]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string quoted(const std::string& s) { return "'" + printable(s) + "'"; }

std::string u(uint64_t v) { return std::to_string(v); }

// Bounds-checked little-endian cursor over the mapped file.
class Cursor {
 public:
  Cursor(const std::string& path, const uint8_t* base, uint64_t size) : path_(path), base_(base), size_(size) {}

  uint64_t pos() const { return pos_; }
  uint64_t size() const { return size_; }
  uint64_t remaining() const { return size_ - pos_; }
  [[noreturn]] void error(const std::string& what) const { fail(path_, what); }

  template <typename T>
  T read(const std::string& what) {
    if (remaining() < sizeof(T))
      error("truncated: " + what + " (" + u(sizeof(T)) + " bytes) at offset " + u(pos_) + " exceeds file size " +
            u(size_));
    T v;
    std::memcpy(&v, base_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const std::string& what) {
    const uint64_t at = pos_;
    if (remaining() < 8)  // checked here so the hot path builds no message string
      error("truncated: " + what + " length (8 bytes) at offset " + u(pos_) + " exceeds file size " + u(size_));
    const auto n = read<uint64_t>(what);
    if (n > remaining())
      error("truncated: string length " + u(n) + " at offset " + u(at) + " exceeds file size " + u(size_) + " (" +
            what + ")");
    std::string s(reinterpret_cast<const char*>(base_ + pos_), n);
    pos_ += n;
    return s;
  }

 private:
  const std::string& path_;
  const uint8_t* base_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

class Parser {
 public:
  Parser(Cursor& c) : c_(c) {}

  // One value of `type` (already read); `depth` counts enclosing arrays.
  Value value(uint32_t type, uint32_t depth, const std::string& ctx) {
    count_values(1, ctx);
    Value v;
    v.type = static_cast<ValueType>(type);
    switch (v.type) {
      case ValueType::UINT8: v.u = c_.read<uint8_t>(ctx); break;
      case ValueType::UINT16: v.u = c_.read<uint16_t>(ctx); break;
      case ValueType::UINT32: v.u = c_.read<uint32_t>(ctx); break;
      case ValueType::UINT64: v.u = c_.read<uint64_t>(ctx); break;
      case ValueType::INT8: v.i = c_.read<int8_t>(ctx); break;
      case ValueType::INT16: v.i = c_.read<int16_t>(ctx); break;
      case ValueType::INT32: v.i = c_.read<int32_t>(ctx); break;
      case ValueType::INT64: v.i = c_.read<int64_t>(ctx); break;
      case ValueType::FLOAT32: v.f = c_.read<float>(ctx); break;
      case ValueType::FLOAT64: v.f = c_.read<double>(ctx); break;
      case ValueType::BOOL: v.u = c_.read<uint8_t>(ctx) != 0 ? 1 : 0; break;  // gguf_reader::read(bool&)
      case ValueType::STRING: v.s = c_.read_string(ctx); break;
      case ValueType::ARRAY: array(v, depth, ctx); break;
      default: c_.error("internal: value type " + u(type));
    }
    return v;
  }

  uint32_t value_type(const std::string& what, const std::string& ctx) {
    const uint64_t at = c_.pos();
    const auto t = c_.read<uint32_t>(what + " of " + ctx);
    if (!wire::known_type(t))
      c_.error("unknown " + what + " " + u(t) + " at offset " + u(at) + " (" + ctx + ")");
    return t;
  }

 private:
  void array(Value& v, uint32_t depth, const std::string& ctx) {
    if (depth + 1 > wire::kMaxArrayDepth)
      c_.error("arrays nested deeper than " + u(wire::kMaxArrayDepth) + " at offset " + u(c_.pos()) + " (" + ctx +
               ")");
    const uint32_t et = value_type("array element type", ctx);
    v.elem_type = static_cast<ValueType>(et);
    const uint64_t at = c_.pos();
    const auto n = c_.read<uint64_t>("array length of " + ctx);
    // Before reserving anything: could the rest of the file hold n elements at all?
    const uint64_t min_size = wire::min_encoded_size(et);
    if (n > c_.remaining() / min_size)
      c_.error("truncated: array length " + u(n) + " at offset " + u(at) + " needs at least " + u(min_size) +
               " bytes per " + value_type_name(v.elem_type) + " element but only " + u(c_.remaining()) +
               " bytes remain of file size " + u(c_.size()) + " (" + ctx + ")");
    count_values(n, ctx);
    values_ -= n;  // counted again, one by one, below
    v.arr.reserve(n);
    for (uint64_t k = 0; k < n; ++k) {
      if (et == static_cast<uint32_t>(ValueType::ARRAY)) {
        v.arr.push_back(value(et, depth + 1, ctx));
      } else {
        v.arr.push_back(value(et, depth, ctx));
      }
    }
  }

  void count_values(uint64_t n, const std::string& ctx) {
    if (n > kMaxValues - values_)
      c_.error("metadata holds more than " + u(kMaxValues) + " values, ck's limit (at offset " + u(c_.pos()) + ", " +
               ctx + ")");
    values_ += n;
  }

  Cursor& c_;
  uint64_t values_ = 0;
};

bool checked_mul(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_mul_overflow(a, b, out); }

std::string shape_str(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t k = 0; k < ne.size(); ++k) s += (k ? ", " : "") + std::to_string(ne[k]);
  return s + "]";
}

}  // namespace

uint64_t TensorInfo::n_elements() const {
  uint64_t n = 1;
  for (int64_t d : ne) n *= static_cast<uint64_t>(d);
  return n;
}

Reader::Reader(const std::string& path) : file_(path) {
  const std::string& p = file_.path();
  Cursor c(p, file_.data(), file_.size());

  // Magic first (on whatever bytes exist), so a non-GGUF file is called that rather than "truncated".
  {
    const size_t n = std::min<size_t>(4, file_.size());
    if (n > 0 && std::memcmp(file_.data(), wire::kMagic, n) != 0) {
      std::string got;
      for (size_t k = 0; k < n; ++k) {
        const char ch = static_cast<char>(file_.data()[k]);
        got += (ch >= 0x20 && ch < 0x7f) ? ch : '?';
      }
      c.error("bad magic '" + got + "' (expected 'GGUF'): not a GGUF file");
    }
    if (file_.size() < 24)
      c.error("truncated: file size " + u(file_.size()) + " is smaller than the 24-byte GGUF header");
    c.read<uint32_t>("magic");
  }

  // Version (gguf_init_from_reader): 0 is invalid, a zero low half means the other endianness, v1 used
  // 32-bit counts and is gone from ggml, and anything newer than 3 is unknown.
  version_ = c.read<uint32_t>("version");
  if (version_ == 0) c.error("bad GGUF version 0 at offset 4");
  if ((version_ & 0xFFFFu) == 0)
    c.error("GGUF version " + u(version_) + " at offset 4 looks byte-swapped: big-endian files are not supported");
  if (version_ == 1) c.error("GGUF version 1 is not supported (only versions 2 and 3; re-convert the model)");
  if (version_ > 3) c.error("GGUF version " + u(version_) + " is not supported (only versions 2 and 3)");

  // Counts (int64 in ggml; negative means huge here). Each KV needs >= 13 bytes (key length, type, one
  // byte of value), each tensor info >= 24 (name length, n_dims, type, offset).
  const auto n_tensors = c.read<uint64_t>("tensor count");
  const auto n_kv = c.read<uint64_t>("key-value count");
  constexpr uint64_t kMinKv = 8 + 4 + 1, kMinTensor = 8 + 4 + 4 + 8;
  if (n_tensors > c.remaining() / kMinTensor)
    c.error("truncated: tensor count " + u(n_tensors) + " at offset 8 needs at least " + u(kMinTensor) +
            " bytes per tensor but only " + u(c.remaining()) + " bytes remain of file size " + u(c.size()));
  if (n_kv > c.remaining() / kMinKv)
    c.error("truncated: key-value count " + u(n_kv) + " at offset 16 needs at least " + u(kMinKv) +
            " bytes per key but only " + u(c.remaining()) + " bytes remain of file size " + u(c.size()));
  if (n_tensors * kMinTensor + n_kv * kMinKv > c.remaining())
    c.error("truncated: " + u(n_tensors) + " tensors and " + u(n_kv) + " keys cannot fit in the " +
            u(c.remaining()) + " bytes after the header (file size " + u(c.size()) + ")");

  // Key-value pairs.
  Parser parser(c);
  kvs_.reserve(std::min<uint64_t>(n_kv, 4096));
  kv_index_.reserve(std::min<uint64_t>(n_kv, 4096));
  for (uint64_t k = 0; k < n_kv; ++k) {
    const uint64_t at = c.pos();
    KeyValue kv;
    kv.key = c.read_string("key #" + u(k));
    if (kv.key.empty()) c.error("key #" + u(k) + " at offset " + u(at) + " is empty");
    if (!kv_index_.emplace(kv.key, kvs_.size()).second)
      c.error("duplicate key " + quoted(kv.key) + " at offset " + u(at));
    const std::string ctx = "key " + quoted(kv.key);
    kv.value = parser.value(parser.value_type("value type", ctx), 0, ctx);
    kvs_.push_back(std::move(kv));
  }

  // general.alignment: u32, nonzero power of two (gguf_init_from_reader).
  if (const Value* a = find(wire::kAlignmentKey)) {
    if (a->type != ValueType::UINT32)
      c.error(std::string("key 'general.alignment' must be of type u32 but is ") + value_type_name(a->type));
    if (a->u == 0 || (a->u & (a->u - 1)) != 0)
      c.error("general.alignment " + u(a->u) + " is not a nonzero power of two");
    alignment_ = a->u;
  } else {
    alignment_ = wire::kDefaultAlignment;
  }

  // Tensor infos.
  tensors_.reserve(std::min<uint64_t>(n_tensors, 65536));
  tensor_index_.reserve(std::min<uint64_t>(n_tensors, 65536));
  for (uint64_t k = 0; k < n_tensors; ++k) {
    const uint64_t at = c.pos();
    TensorInfo t;
    t.name = c.read_string("name of tensor #" + u(k));
    const std::string ctx = "tensor " + quoted(t.name);
    if (t.name.size() > wire::kMaxNameBytes)
      c.error(ctx + " at offset " + u(at) + ": name is " + u(t.name.size()) + " bytes, longer than ggml's limit of " +
              u(wire::kMaxNameBytes) + " (GGML_MAX_NAME)");
    if (!tensor_index_.emplace(t.name, tensors_.size()).second)
      c.error("duplicate tensor name " + quoted(t.name) + " at offset " + u(at));

    const uint64_t dims_at = c.pos();
    const auto n_dims = c.read<uint32_t>("n_dims of " + ctx);
    if (n_dims > wire::kMaxDims)
      c.error(ctx + ": n_dims " + u(n_dims) + " at offset " + u(dims_at) + " exceeds " + u(wire::kMaxDims) +
              " (GGML_MAX_DIMS)");
    t.ne.reserve(n_dims);
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t ne_at = c.pos();
      const auto ne = c.read<int64_t>("ne[" + u(d) + "] of " + ctx);
      if (ne < 0)
        c.error(ctx + ": ne[" + u(d) + "] = " + std::to_string(ne) + " at offset " + u(ne_at) + " is negative");
      t.ne.push_back(ne);
    }
    // Element count must be representable as int64 (ggml checks INT64_MAX/ne[j] <= prefix product).
    uint64_t n_el = 1;
    for (int64_t ne : t.ne)
      if (!checked_mul(n_el, static_cast<uint64_t>(ne), &n_el) ||
          n_el > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        c.error(ctx + ": element count of shape " + shape_str(t.ne) + " overflows int64");

    const uint64_t type_at = c.pos();
    const auto type_id = c.read<uint32_t>("dtype of " + ctx);
    const auto tr = dtype_traits(type_id);
    if (!tr) c.error(ctx + ": unknown dtype id " + u(type_id) + " at offset " + u(type_at));
    t.type = tr->type;
    const int64_t ne0 = t.ne.empty() ? 1 : t.ne[0];
    if (ne0 % tr->block_size != 0)
      c.error(ctx + ": row of " + std::to_string(ne0) + " elements is not a multiple of the " + tr->name +
              " block size " + u(tr->block_size));
    // ggml_nbytes for a contiguous tensor: (ne0 / block) * type_size * ne1 * ne2 * ne3.
    uint64_t nbytes = static_cast<uint64_t>(ne0) / tr->block_size * tr->type_size;
    for (size_t d = 1; d < t.ne.size(); ++d)
      if (!checked_mul(nbytes, static_cast<uint64_t>(t.ne[d]), &nbytes))
        c.error(ctx + ": byte size of shape " + shape_str(t.ne) + " overflows uint64");
    if (n_el == 0) nbytes = 0;
    t.nbytes = nbytes;

    const uint64_t off_at = c.pos();
    t.offset = c.read<uint64_t>("data offset of " + ctx);
    if (t.offset % alignment_ != 0)
      c.error(ctx + ": data offset " + u(t.offset) + " at offset " + u(off_at) + " is not a multiple of the alignment " +
              u(alignment_));
    tensors_.push_back(std::move(t));
  }

  // The data region starts at the end of the tensor infos padded to the alignment (ggml seeks there only
  // when there are tensors).
  const uint64_t header_end = c.pos();
  data_offset_ = n_tensors > 0 ? wire::pad_to(header_end, alignment_) : header_end;
  if (data_offset_ > file_.size())
    c.error("truncated: data region starts at offset " + u(data_offset_) + " (header end " + u(header_end) +
            " padded to " + u(alignment_) + ") but file size is " + u(file_.size()));
  const uint64_t data_size = file_.size() - data_offset_;

  for (auto& t : tensors_) {
    if (t.offset > data_size || t.nbytes > data_size - t.offset)
      c.error("tensor " + quoted(t.name) + ": data at file offset " + u(data_offset_) + " + " + u(t.offset) + ", " +
              u(t.nbytes) + " bytes, extends past end of file (size " + u(file_.size()) + ")");
    t.data = file_.data() + data_offset_ + t.offset;
  }

  // No two tensors may share bytes (ggml additionally demands the exact packed order; see gguf_notes.md).
  std::vector<size_t> order(tensors_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return tensors_[a].offset != tensors_[b].offset ? tensors_[a].offset < tensors_[b].offset : a < b;
  });
  const TensorInfo* prev = nullptr;
  for (size_t k : order) {
    const TensorInfo& t = tensors_[k];
    if (t.nbytes == 0) continue;
    if (prev != nullptr && prev->offset + prev->nbytes > t.offset)
      c.error("tensors " + quoted(prev->name) + " [" + u(prev->offset) + ", " + u(prev->offset + prev->nbytes) +
              ") and " + quoted(t.name) + " [" + u(t.offset) + ", " + u(t.offset + t.nbytes) +
              ") overlap in the data region");
    prev = &t;
  }
}

const Value* Reader::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].value;
}

const TensorInfo* Reader::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {
[[noreturn]] void wrong_type(const std::string& path, const std::string& key, const Value& v, const char* want) {
  fail(path, "key " + quoted(key) + " has type " + value_type_name(v.type) + ", expected " + want);
}
}  // namespace

std::optional<std::string> Reader::get_string_opt(const std::string& key) const {
  const Value* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->type != ValueType::STRING) wrong_type(path(), key, *v, "string");
  return v->s;
}

std::string Reader::get_string(const std::string& key) const {
  auto v = get_string_opt(key);
  if (!v) fail(path(), "missing key " + quoted(key));
  return *v;
}

std::optional<int64_t> Reader::get_int_opt(const std::string& key) const {
  const Value* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_integer()) wrong_type(path(), key, *v, "an integer");
  if (v->type == ValueType::UINT64 && v->u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    fail(path(), "key " + quoted(key) + ": u64 value " + u(v->u) + " does not fit in int64");
  return v->as_int();
}

int64_t Reader::get_int(const std::string& key) const {
  auto v = get_int_opt(key);
  if (!v) fail(path(), "missing key " + quoted(key));
  return *v;
}

std::optional<double> Reader::get_float_opt(const std::string& key) const {
  const Value* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_float() && !v->is_integer()) wrong_type(path(), key, *v, "a number");
  return v->as_double();
}

double Reader::get_float(const std::string& key) const {
  auto v = get_float_opt(key);
  if (!v) fail(path(), "missing key " + quoted(key));
  return *v;
}

std::optional<bool> Reader::get_bool_opt(const std::string& key) const {
  const Value* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->type != ValueType::BOOL) wrong_type(path(), key, *v, "bool");
  return v->u != 0;
}

}  // namespace ck::gguf
