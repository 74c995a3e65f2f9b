#include "bump/metadata.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "bump/format.h"

namespace ck::bump {

namespace {

json nonfinite(double f) {
  if (std::isnan(f)) return "nan";
  return f > 0 ? "inf" : "-inf";
}

json scalar_to_json(const gguf::Value& v) {
  using T = gguf::ValueType;
  switch (v.type) {
    case T::UINT8: case T::UINT16: case T::UINT32: case T::UINT64:
      return v.u;
    case T::INT8: case T::INT16: case T::INT32: case T::INT64:
      return v.i;
    case T::BOOL:
      return v.u != 0;
    case T::FLOAT32:
      return json_float32(static_cast<float>(v.f));
    case T::FLOAT64:
      return std::isfinite(v.f) ? json(v.f) : nonfinite(v.f);
    case T::STRING:
      if (is_valid_utf8(v.s)) return v.s;
      return json{{"hex", hex(reinterpret_cast<const uint8_t*>(v.s.data()), v.s.size())}};
    case T::ARRAY:
      break;
  }
  return value_to_json(v);
}

}  // namespace

json json_float32(float f) {
  if (!std::isfinite(f)) return nonfinite(f);
  // Shortest "%.{p}g" that reads back as the same float, stored as the double nearest to that decimal,
  // so nlohmann's shortest-double printing shows the same short decimal.
  char buf[64];
  for (int p = 1; p <= 9; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, static_cast<double>(f));
    if (std::strtof(buf, nullptr) == f) {
      double d = std::strtod(buf, nullptr);
      if (static_cast<float>(d) == f) return d;
      break;
    }
  }
  return static_cast<double>(f);  // exact fallback (never reached for IEEE floats in practice)
}

json value_to_json(const gguf::Value& v) {
  json out = json::object();
  out["type"] = gguf::value_type_name(v.type);
  if (v.type != gguf::ValueType::ARRAY) {
    out["value"] = scalar_to_json(v);
    return out;
  }
  out["elem_type"] = gguf::value_type_name(v.elem_type);
  json arr = json::array();
  for (const auto& e : v.arr) arr.push_back(e.type == gguf::ValueType::ARRAY ? value_to_json(e) : scalar_to_json(e));
  out["value"] = std::move(arr);
  return out;
}

json kvs_to_json(const std::vector<gguf::KeyValue>& kvs) {
  json out = json::object();
  for (const auto& kv : kvs) out[kv.key] = value_to_json(kv.value);
  return out;
}

bool is_valid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned c = p[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and out-of-range code points are invalid (nlohmann rejects them too).
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

}  // namespace ck::bump
