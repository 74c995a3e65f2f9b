#include "synth/structure.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "core/error.h"
#include "core/mapped_file.h"
#include "core/sha256.h"

namespace ck::synth {

using nlohmann::ordered_json;
using gguf::Value;
using gguf::ValueType;

namespace {

constexpr size_t kInlineArray = 16;    // arrays up to this length are listed, longer ones hashed
constexpr size_t kInlineString = 128;  // strings up to this length are listed, longer ones hashed

// The GGUF payload bytes of a scalar or string (little-endian, strings as u64 length + bytes).
void payload(Sha256& h, const Value& v) {
  auto put = [&](auto x) { h.update(&x, sizeof x); };
  switch (v.type) {
    case ValueType::UINT8: put(static_cast<uint8_t>(v.u)); break;
    case ValueType::UINT16: put(static_cast<uint16_t>(v.u)); break;
    case ValueType::UINT32: put(static_cast<uint32_t>(v.u)); break;
    case ValueType::UINT64: put(static_cast<uint64_t>(v.u)); break;
    case ValueType::BOOL: put(static_cast<uint8_t>(v.u != 0)); break;
    case ValueType::INT8: put(static_cast<int8_t>(v.i)); break;
    case ValueType::INT16: put(static_cast<int16_t>(v.i)); break;
    case ValueType::INT32: put(static_cast<int32_t>(v.i)); break;
    case ValueType::INT64: put(static_cast<int64_t>(v.i)); break;
    case ValueType::FLOAT32: put(static_cast<float>(v.f)); break;
    case ValueType::FLOAT64: put(static_cast<double>(v.f)); break;
    case ValueType::STRING:
      put(static_cast<uint64_t>(v.s.size()));
      h.update(v.s.data(), v.s.size());
      break;
    case ValueType::ARRAY:
      put(static_cast<uint32_t>(v.elem_type));
      put(static_cast<uint64_t>(v.arr.size()));
      for (const auto& e : v.arr) payload(h, e);
      break;
  }
}

ordered_json scalar_json(const Value& v) {
  switch (v.type) {
    case ValueType::UINT8: case ValueType::UINT16: case ValueType::UINT32: case ValueType::UINT64: return v.u;
    case ValueType::INT8: case ValueType::INT16: case ValueType::INT32: case ValueType::INT64: return v.i;
    case ValueType::BOOL: return v.u != 0;
    case ValueType::FLOAT32: case ValueType::FLOAT64: return v.f;
    case ValueType::STRING: return v.s;
    case ValueType::ARRAY: break;
  }
  return nullptr;
}

ordered_json value_json(const Value& v) {
  ordered_json j;
  j["type"] = gguf::value_type_name(v.type);
  if (v.type == ValueType::ARRAY) {
    j["elem"] = gguf::value_type_name(v.elem_type);
    j["n"] = v.arr.size();
    bool small = v.arr.size() <= kInlineArray && v.elem_type != ValueType::ARRAY;
    for (const auto& e : v.arr) small = small && (e.type != ValueType::STRING || e.s.size() <= kInlineString);
    if (small) {
      ordered_json a = ordered_json::array();
      for (const auto& e : v.arr) a.push_back(scalar_json(e));
      j["value"] = std::move(a);
    } else {
      Sha256 h;
      payload(h, v);
      j["sha256"] = h.hex_digest();
    }
  } else if (v.type == ValueType::STRING && v.s.size() > kInlineString) {
    j["len"] = v.s.size();
    Sha256 h;
    payload(h, v);
    j["sha256"] = h.hex_digest();
  } else {
    j["value"] = scalar_json(v);
  }
  return j;
}

bool is_gguf(const std::string& path) {
  MappedFile f(path);
  return f.size() >= 4 && std::memcmp(f.data(), "GGUF", 4) == 0;
}

}  // namespace

ordered_json describe(const gguf::Reader& r) {
  ordered_json j;
  j["format"] = kStructureFormat;
  j["version"] = kStructureVersion;
  j["gguf_version"] = r.version();
  j["alignment"] = r.alignment();
  ordered_json kv = ordered_json::array();
  for (const auto& e : r.kvs()) {
    ordered_json k;
    k["key"] = e.key;
    const ordered_json v = value_json(e.value);
    for (const auto& [name, val] : v.items()) k[name] = val;
    kv.push_back(std::move(k));
  }
  j["kv"] = std::move(kv);
  ordered_json ts = ordered_json::array();
  for (const auto& t : r.tensors())
    ts.push_back({{"name", t.name}, {"type", dtype_name(t.type)}, {"ne", t.ne}, {"offset", t.offset}});
  j["tensors"] = std::move(ts);
  return j;
}

ordered_json load_structure(const std::string& path) {
  if (is_gguf(path)) return describe(gguf::Reader(path));
  ordered_json j;
  try {
    j = ordered_json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail(path, std::string("neither a GGUF file nor JSON: ") + e.what());
  }
  if (!j.is_object() || j.value("format", "") != kStructureFormat) fail(path, std::string("not a ") + kStructureFormat + " file");
  if (j.value("version", 0) != kStructureVersion)
    fail(path, "unsupported " + std::string(kStructureFormat) + " version " + j.value("version", ordered_json()).dump());
  if (!j.contains("kv") || !j["kv"].is_array() || !j.contains("tensors") || !j["tensors"].is_array())
    fail(path, "missing kv or tensors array");
  return j;
}

std::vector<std::string> diff_structure(const ordered_json& expected, const ordered_json& actual,
                                        const std::vector<std::string>& ignore_values) {
  std::vector<std::string> d;
  for (const char* k : {"gguf_version", "alignment"})
    if (expected.value(k, ordered_json()) != actual.value(k, ordered_json()))
      d.push_back(std::string(k) + ": " + expected.value(k, ordered_json()).dump() + " vs " +
                  actual.value(k, ordered_json()).dump());
  // Named lists (kv by key, tensors by name): missing, extra, order, then field by field.
  auto compare_list = [&](const char* list, const char* id, auto&& compare_entry) {
    std::map<std::string, const ordered_json*> e_map, a_map;
    std::vector<std::string> e_order, a_order;
    for (const auto& x : expected.at(list)) {
      e_order.push_back(x.at(id).get<std::string>());
      e_map[e_order.back()] = &x;
    }
    for (const auto& x : actual.at(list)) {
      a_order.push_back(x.at(id).get<std::string>());
      a_map[a_order.back()] = &x;
    }
    for (const auto& n : e_order)
      if (!a_map.count(n)) d.push_back(std::string(list) + " " + n + ": missing");
    for (const auto& n : a_order)
      if (!e_map.count(n)) d.push_back(std::string(list) + " " + n + ": unexpected");
    std::vector<std::string> e_common, a_common;
    for (const auto& n : e_order)
      if (a_map.count(n)) e_common.push_back(n);
    for (const auto& n : a_order)
      if (e_map.count(n)) a_common.push_back(n);
    if (e_common != a_common) d.push_back(std::string(list) + ": different order");
    for (const auto& n : e_common) compare_entry(n, *e_map[n], *a_map[n]);
  };
  compare_list("kv", "key", [&](const std::string& key, const ordered_json& e, const ordered_json& a) {
    const bool types_only = std::find(ignore_values.begin(), ignore_values.end(), key) != ignore_values.end();
    for (const char* f : {"type", "elem", "n", "len", "value", "sha256"}) {
      if (types_only && std::strcmp(f, "type") != 0 && std::strcmp(f, "elem") != 0) continue;
      const ordered_json ev = e.value(f, ordered_json()), av = a.value(f, ordered_json());
      if (ev != av) {
        std::string es = ev.dump(), as = av.dump();
        if (es.size() > 80) es = es.substr(0, 77) + "...";
        if (as.size() > 80) as = as.substr(0, 77) + "...";
        d.push_back("kv " + key + ": " + f + " " + es + " vs " + as);
      }
    }
  });
  // Offsets follow from the sizes before them: after the first type/shape difference they would all differ,
  // so they are compared only up to there.
  bool sizes_diverged = false;
  compare_list("tensors", "name", [&](const std::string& name, const ordered_json& e, const ordered_json& a) {
    for (const char* f : {"type", "ne", "offset"}) {
      if (sizes_diverged && std::strcmp(f, "offset") == 0) continue;
      if (e.value(f, ordered_json()) != a.value(f, ordered_json()))
        d.push_back("tensors " + name + ": " + f + " " + e.value(f, ordered_json()).dump() + " vs " +
                    a.value(f, ordered_json()).dump());
    }
    if (e.value("type", ordered_json()) != a.value("type", ordered_json()) ||
        e.value("ne", ordered_json()) != a.value("ne", ordered_json()))
      sizes_diverged = true;
  });
  return d;
}

}  // namespace ck::synth
