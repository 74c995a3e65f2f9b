#include "dump/format.h"

#include <cstdio>

namespace ck {

const char* dump_dtype_name(DumpDType t) {
  switch (t) {
    case DumpDType::F32: return "f32";
    case DumpDType::F16: return "f16";
    case DumpDType::I32: return "i32";
  }
  return "?";
}

size_t dump_dtype_size(DumpDType t) { return t == DumpDType::F16 ? 2 : 4; }

std::optional<DumpDType> dump_dtype_from_name(std::string_view name) {
  if (name == "f32") return DumpDType::F32;
  if (name == "f16") return DumpDType::F16;
  if (name == "i32") return DumpDType::I32;
  return std::nullopt;
}

uint64_t DumpRecord::elements() const {
  uint64_t n = 1;
  for (int64_t d : ne) n *= static_cast<uint64_t>(d);
  return n;
}

static bool keep_in_file_name(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

std::string dump_sanitize(std::string_view name) {
  std::string out(name);
  for (char& c : out)
    if (!keep_in_file_name(static_cast<unsigned char>(c))) c = '_';
  return out;
}

std::string dump_file_name(int64_t order, std::string_view name) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%05lld_", static_cast<long long>(order));
  std::string out(buf);
  out += dump_sanitize(name);
  out += ".zst";
  return out;
}

static std::vector<int64_t> drop_leading_ones(const std::vector<int64_t>& s) {
  size_t i = 0;
  while (i < s.size() && s[i] == 1) ++i;
  return {s.begin() + static_cast<std::ptrdiff_t>(i), s.end()};
}

bool dump_shapes_equivalent(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  return drop_leading_ones(a) == drop_leading_ones(b);
}

std::string dump_shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::vector<int64_t> dump_unflatten(uint64_t flat, const std::vector<int64_t>& shape) {
  std::vector<int64_t> idx(shape.size(), 0);
  for (size_t i = shape.size(); i-- > 0;) {
    uint64_t d = shape[i] > 0 ? static_cast<uint64_t>(shape[i]) : 1;
    idx[i] = static_cast<int64_t>(flat % d);
    flat /= d;
  }
  return idx;
}

std::string dump_check_name(std::string_view name) {
  if (name.empty()) return "empty name";
  if (name.size() > kDumpMaxName) return "name longer than " + std::to_string(kDumpMaxName) + " bytes";
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return "name contains a control byte";
  return "";
}

std::string dump_check_phase(std::string_view phase) {
  if (phase.empty()) return "empty phase";
  if (phase.size() > kDumpMaxPhase) return "phase longer than " + std::to_string(kDumpMaxPhase) + " bytes";
  for (unsigned char c : phase)
    if (!keep_in_file_name(c) && c != '_') return "phase may only contain [A-Za-z0-9_.-]";
  return "";
}

}  // namespace ck
