// ck::gguf::Value: construction, numeric access and equality of GGUF metadata values.
#include <cstring>
#include <limits>

#include "core/error.h"
#include "gguf/gguf.h"

namespace ck::gguf {

const char* value_type_name(ValueType t) {
  // gguf.cpp GGUF_TYPE_NAME, spelled out a little more for error messages.
  switch (t) {
    case ValueType::UINT8: return "u8";
    case ValueType::INT8: return "i8";
    case ValueType::UINT16: return "u16";
    case ValueType::INT16: return "i16";
    case ValueType::UINT32: return "u32";
    case ValueType::INT32: return "i32";
    case ValueType::FLOAT32: return "f32";
    case ValueType::BOOL: return "bool";
    case ValueType::STRING: return "string";
    case ValueType::ARRAY: return "array";
    case ValueType::UINT64: return "u64";
    case ValueType::INT64: return "i64";
    case ValueType::FLOAT64: return "f64";
  }
  return "unknown";
}

namespace {
Value unsigned_value(ValueType t, uint64_t v) {
  Value x;
  x.type = t;
  x.u = v;
  return x;
}
Value signed_value(ValueType t, int64_t v) {
  Value x;
  x.type = t;
  x.i = v;
  return x;
}
Value float_value(ValueType t, double v) {
  Value x;
  x.type = t;
  x.f = v;
  return x;
}
}  // namespace

Value Value::u8(uint8_t v) { return unsigned_value(ValueType::UINT8, v); }
Value Value::u16(uint16_t v) { return unsigned_value(ValueType::UINT16, v); }
Value Value::u32(uint32_t v) { return unsigned_value(ValueType::UINT32, v); }
Value Value::u64(uint64_t v) { return unsigned_value(ValueType::UINT64, v); }
Value Value::boolean(bool v) { return unsigned_value(ValueType::BOOL, v ? 1 : 0); }
Value Value::i8(int8_t v) { return signed_value(ValueType::INT8, v); }
Value Value::i16(int16_t v) { return signed_value(ValueType::INT16, v); }
Value Value::i32(int32_t v) { return signed_value(ValueType::INT32, v); }
Value Value::i64(int64_t v) { return signed_value(ValueType::INT64, v); }
Value Value::f32(float v) { return float_value(ValueType::FLOAT32, v); }
Value Value::f64(double v) { return float_value(ValueType::FLOAT64, v); }

Value Value::str(std::string v) {
  Value x;
  x.type = ValueType::STRING;
  x.s = std::move(v);
  return x;
}

Value Value::array(ValueType elem, std::vector<Value> elems) {
  for (size_t k = 0; k < elems.size(); ++k)
    if (elems[k].type != elem)
      throw Error(std::string("gguf: array of ") + value_type_name(elem) + " has an element " + std::to_string(k) +
                  " of type " + value_type_name(elems[k].type));
  Value x;
  x.type = ValueType::ARRAY;
  x.elem_type = elem;
  x.arr = std::move(elems);
  return x;
}

Value Value::str_array(const std::vector<std::string>& v) {
  std::vector<Value> e;
  e.reserve(v.size());
  for (const auto& s : v) e.push_back(str(s));
  return array(ValueType::STRING, std::move(e));
}

Value Value::i32_array(const std::vector<int32_t>& v) {
  std::vector<Value> e;
  e.reserve(v.size());
  for (int32_t k : v) e.push_back(i32(k));
  return array(ValueType::INT32, std::move(e));
}

Value Value::f32_array(const std::vector<float>& v) {
  std::vector<Value> e;
  e.reserve(v.size());
  for (float k : v) e.push_back(f32(k));
  return array(ValueType::FLOAT32, std::move(e));
}

bool Value::is_integer() const {
  switch (type) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::UINT16: case ValueType::INT16:
    case ValueType::UINT32: case ValueType::INT32: case ValueType::UINT64: case ValueType::INT64:
      return true;
    default:
      return false;
  }
}

namespace {
bool is_unsigned(ValueType t) {
  return t == ValueType::UINT8 || t == ValueType::UINT16 || t == ValueType::UINT32 || t == ValueType::UINT64;
}
}  // namespace

int64_t Value::as_int() const {
  if (!is_integer()) throw Error(std::string("gguf: value of type ") + value_type_name(type) + " is not an integer");
  if (is_unsigned(type)) {
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw Error("gguf: u64 value " + std::to_string(u) + " does not fit in int64");
    return static_cast<int64_t>(u);
  }
  return i;
}

double Value::as_double() const {
  if (is_float()) return f;
  if (is_integer()) return is_unsigned(type) ? static_cast<double>(u) : static_cast<double>(i);
  throw Error(std::string("gguf: value of type ") + value_type_name(type) + " is not a number");
}

bool Value::operator==(const Value& o) const {
  if (type != o.type) return false;
  switch (type) {
    case ValueType::FLOAT32:
    case ValueType::FLOAT64:
      // Bitwise, so NaN payloads and -0.0 compare as stored (a round trip must preserve them).
      return std::memcmp(&f, &o.f, sizeof f) == 0;
    case ValueType::STRING:
      return s == o.s;
    case ValueType::ARRAY:
      return elem_type == o.elem_type && arr == o.arr;
    default:
      return is_unsigned(type) || type == ValueType::BOOL ? u == o.u : i == o.i;
  }
}

}  // namespace ck::gguf
