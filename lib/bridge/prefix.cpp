#include "bridge/prefix.h"

#include <unistd.h>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cstring>
#include <iostream>
#include <iterator>
#include <limits>

#include "core/error.h"
#include "core/mapped_file.h"
#include "core/output_file.h"

namespace ck::bridge {

namespace bip = boost::interprocess;

namespace {

constexpr char kMagic[8] = {'C', 'K', 'P', 'R', 'E', 'F', 'I', 'X'};

template <typename T>
void put(std::string& s, size_t off, T v) {
  std::memcpy(s.data() + off, &v, sizeof(T));
}
template <typename T>
T get(std::span<const uint8_t> b, size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

uint64_t align64(uint64_t x) { return (x + 63) & ~uint64_t{63}; }

nlohmann::ordered_json document(const PrefixInfo& info) {
  nlohmann::ordered_json doc;
  doc["format"] = "ck.prefix";
  doc["version"] = kPrefixVersion;
  for (auto it = info.meta.begin(); it != info.meta.end(); ++it)
    if (it.key() != "format" && it.key() != "version") doc[it.key()] = it.value();
  auto& b = doc["bridge"];
  b["rows"] = info.rows;
  b["row_width"] = info.row_width;
  b["n_embd"] = info.n_embd;
  b["n_deepstack"] = info.n_deepstack;
  b["grid"] = {info.grid_nx, info.grid_ny};
  b["frames"] = info.frames;
  return doc;
}

void check_info(const PrefixInfo& info, size_t n_floats) {
  if (info.rows == 0) throw Error("prefix: no rows");
  if (info.row_width != uint64_t{info.n_embd} * (1 + uint64_t{info.n_deepstack}))
    throw Error("prefix: row_width " + std::to_string(info.row_width) + " != n_embd*(1+n_deepstack)");
  if (uint64_t{info.grid_nx} * info.grid_ny != info.rows) throw Error("prefix: grid nx*ny != rows");
  if (n_floats != info.rows * info.row_width) throw Error("prefix: data size does not match rows*row_width");
  if (info.frames == 0) throw Error("prefix: frames must be >= 1");
}

}  // namespace

std::string prefix_header_bytes(const PrefixInfo& info) {
  const std::string json = document(info).dump();
  const uint64_t data_offset = align64(kPrefixHeaderSize + json.size());
  std::string s(data_offset, '\0');
  std::memcpy(s.data(), kMagic, 8);
  put<uint32_t>(s, 8, kPrefixVersion);
  put<uint32_t>(s, 12, kPrefixHeaderSize);
  put<uint64_t>(s, 16, info.rows);
  put<uint64_t>(s, 24, info.row_width);
  put<uint32_t>(s, 32, info.n_embd);
  put<uint32_t>(s, 36, info.n_deepstack);
  put<uint32_t>(s, 40, info.grid_nx);
  put<uint32_t>(s, 44, info.grid_ny);
  put<uint64_t>(s, 48, kPrefixHeaderSize);
  put<uint64_t>(s, 56, json.size());
  put<uint64_t>(s, 64, data_offset);
  put<uint64_t>(s, 72, info.rows * info.row_width * 4);
  put<uint32_t>(s, 80, info.frames);
  std::memcpy(s.data() + kPrefixHeaderSize, json.data(), json.size());
  return s;
}

void write_prefix_file(const std::string& path, const PrefixInfo& info, std::span<const float> rows) {
  check_info(info, rows.size());
  const std::string head = prefix_header_bytes(info);
  OutputFile out(path);
  out.write(head.data(), head.size());
  out.write(rows.data(), rows.size_bytes());
  out.commit();
}

void write_prefix_stdout(const PrefixInfo& info, std::span<const float> rows) {
  check_info(info, rows.size());
  const std::string head = prefix_header_bytes(info);
  if (std::fwrite(head.data(), 1, head.size(), stdout) != head.size() ||
      std::fwrite(rows.data(), 1, rows.size_bytes(), stdout) != rows.size_bytes() || std::fflush(stdout) != 0)
    throw Error("<stdout>: write failed");
}

void write_prefix_shm(const std::string& name, const PrefixInfo& info, std::span<const float> rows) {
  check_info(info, rows.size());
  const std::string head = prefix_header_bytes(info);
  try {
    bip::shared_memory_object::remove(name.c_str());
    bip::shared_memory_object shm(bip::create_only, name.c_str(), bip::read_write);
    try {
      shm.truncate(static_cast<bip::offset_t>(head.size() + rows.size_bytes()));
      bip::mapped_region region(shm, bip::read_write);
      auto* p = static_cast<uint8_t*>(region.get_address());
      std::memcpy(p, head.data(), head.size());
      std::memcpy(p + head.size(), rows.data(), rows.size_bytes());
    } catch (...) {
      bip::shared_memory_object::remove(name.c_str());
      throw;
    }
  } catch (const bip::interprocess_exception& e) {
    throw Error("shm:" + name + ": " + e.what());
  }
}

bool remove_prefix_shm(const std::string& name) { return bip::shared_memory_object::remove(name.c_str()); }

PrefixInfo parse_prefix(std::span<const uint8_t> b, const std::string& src) {
  if (b.size() < kPrefixHeaderSize)
    fail(src, "not a ck prefix: " + std::to_string(b.size()) + " bytes is shorter than the 128-byte header");
  if (std::memcmp(b.data(), kMagic, 8) != 0) fail(src, "not a ck prefix: bad magic");
  const auto version = get<uint32_t>(b, 8);
  if (version != 1 && version != kPrefixVersion)
    fail(src, "unsupported prefix version " + std::to_string(version) + " (this ck reads versions 1 and 2)");
  if (get<uint32_t>(b, 12) != kPrefixHeaderSize) fail(src, "bad header_size");
  PrefixInfo info;
  info.rows = get<uint64_t>(b, 16);
  info.row_width = get<uint64_t>(b, 24);
  info.n_embd = get<uint32_t>(b, 32);
  info.n_deepstack = get<uint32_t>(b, 36);
  info.grid_nx = get<uint32_t>(b, 40);
  info.grid_ny = get<uint32_t>(b, 44);
  info.frames = version >= 2 ? get<uint32_t>(b, 80) : 1;
  if (info.frames == 0) fail(src, "prefix has 0 frames");
  const auto json_off = get<uint64_t>(b, 48), json_size = get<uint64_t>(b, 56);
  const auto data_off = get<uint64_t>(b, 64), data_size = get<uint64_t>(b, 72);
  if (info.rows == 0) fail(src, "prefix has 0 rows");
  if (info.n_embd == 0) fail(src, "prefix has n_embd 0");
  if (info.row_width != uint64_t{info.n_embd} * (1 + uint64_t{info.n_deepstack}))
    fail(src, "row_width " + std::to_string(info.row_width) + " != n_embd " + std::to_string(info.n_embd) +
                  " * (1 + n_deepstack " + std::to_string(info.n_deepstack) + ")");
  if (uint64_t{info.grid_nx} * info.grid_ny != info.rows)
    fail(src, "grid " + std::to_string(info.grid_nx) + "x" + std::to_string(info.grid_ny) + " does not match " +
                  std::to_string(info.rows) + " rows");
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  if (info.row_width > kMax / 4 / info.rows || data_size != info.rows * info.row_width * 4)
    fail(src, "data_size " + std::to_string(data_size) + " != rows*row_width*4");
  if (json_off != kPrefixHeaderSize || json_size > b.size() || json_off + json_size > data_off)
    fail(src, "JSON region out of bounds");
  if (data_off % 64 != 0) fail(src, "data_offset " + std::to_string(data_off) + " is not 64-byte aligned");
  if (data_off > b.size() || b.size() - data_off != data_size)
    fail(src, "truncated or oversized: file has " + std::to_string(b.size()) + " bytes, header says " +
                  std::to_string(data_off) + " + " + std::to_string(data_size));
  try {
    info.meta = nlohmann::ordered_json::parse(b.begin() + static_cast<ptrdiff_t>(json_off),
                                              b.begin() + static_cast<ptrdiff_t>(json_off + json_size));
  } catch (const nlohmann::json::exception& e) {
    fail(src, std::string("bad prefix JSON: ") + e.what());
  }
  // Typed checks only: nlohmann's value()/get() throw type_error on a key of another type, which is not
  // ck::Error and carries no file name.
  const auto& m = info.meta;
  const auto is_uint = [](const nlohmann::ordered_json& o, const char* k, uint64_t v) {
    return o.contains(k) && o[k].is_number_unsigned() && o[k].get<uint64_t>() == v;
  };
  if (!m.is_object() || !m.contains("format") || !m["format"].is_string() || m["format"] != "ck.prefix" ||
      !is_uint(m, "version", version))
    fail(src, "prefix JSON is not format ck.prefix version " + std::to_string(version));
  const auto& br = m.contains("bridge") ? m["bridge"] : nlohmann::ordered_json();
  if (!br.is_object() || !is_uint(br, "rows", info.rows) || !is_uint(br, "row_width", info.row_width) ||
      !is_uint(br, "n_embd", info.n_embd) || !is_uint(br, "n_deepstack", info.n_deepstack) ||
      (version >= 2 && !is_uint(br, "frames", info.frames)) || !br.contains("grid") ||
      br["grid"] != nlohmann::ordered_json::array({info.grid_nx, info.grid_ny}))
    fail(src, "prefix JSON bridge section disagrees with the binary header");
  // preprocess.source.{width,height}: ck-decode compares them between images (lib/pipeline decoder).
  if (m.contains("preprocess")) {
    const auto& pp = m["preprocess"];
    if (!pp.is_object()) fail(src, "prefix JSON \"preprocess\" is not an object");
    if (pp.contains("source") &&
        (!pp["source"].is_object() || !pp["source"].contains("width") || !pp["source"]["width"].is_number_integer() ||
         !pp["source"].contains("height") || !pp["source"]["height"].is_number_integer()))
      fail(src, "prefix JSON \"preprocess.source\" is not {\"width\": integer, \"height\": integer}");
  }
  return info;
}

struct Prefix::Storage {
  MappedFile file;
  std::string bytes;  // stdin copy
  bip::shared_memory_object shm;
  bip::mapped_region region;
};

Prefix Prefix::open(const std::string& source) {
  Prefix p;
  p.source_ = source;
  p.storage_ = std::make_shared<Storage>();
  std::span<const uint8_t> bytes;
  if (source.rfind("shm:", 0) == 0) {
    const std::string name = source.substr(4);
    try {
      p.storage_->shm = bip::shared_memory_object(bip::open_only, name.c_str(), bip::read_only);
      p.storage_->region = bip::mapped_region(p.storage_->shm, bip::read_only);
    } catch (const bip::interprocess_exception& e) {
      fail(source, std::string("cannot open shared memory: ") + e.what());
    }
    bytes = {static_cast<const uint8_t*>(p.storage_->region.get_address()), p.storage_->region.get_size()};
  } else if (source == "-") {
    p.storage_->bytes.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    bytes = {reinterpret_cast<const uint8_t*>(p.storage_->bytes.data()), p.storage_->bytes.size()};
  } else {
    p.storage_->file = MappedFile(source);
    bytes = p.storage_->file.bytes();
  }
  p.info_ = parse_prefix(bytes, source == "-" ? "<stdin>" : source);
  const uint64_t data_off = bytes.size() - p.info_.rows * p.info_.row_width * 4;
  if (source == "-" && (reinterpret_cast<uintptr_t>(bytes.data() + data_off) % alignof(float)) != 0)
    fail("<stdin>", "internal: unaligned stdin buffer");
  p.rows_ = {reinterpret_cast<const float*>(bytes.data() + data_off), p.info_.rows * p.info_.row_width};
  return p;
}

}  // namespace ck::bridge
