#include "dump/reader.h"

#include <sys/stat.h>
#include <zstd.h>

#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/half.h"
#include "core/mapped_file.h"

namespace ck {

using json = nlohmann::json;

static bool is_regular(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Integer field in [lo, hi]; rejects floats (1.0), strings, booleans.
static int64_t get_int(const json& obj, const char* key, int64_t lo, int64_t hi, const std::string& path,
                       const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) fail(path, where + "missing \"" + key + "\"");
  if (!it->is_number_integer()) fail(path, where + "\"" + key + "\" is not an integer");
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(hi))
    fail(path, where + "\"" + key + "\" out of range");
  int64_t v = it->get<int64_t>();
  if (v < lo || v > hi) fail(path, where + "\"" + key + "\" = " + std::to_string(v) + " out of range");
  return v;
}

static std::string get_string(const json& obj, const char* key, const std::string& path, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) fail(path, where + "missing \"" + key + "\"");
  if (!it->is_string()) fail(path, where + "\"" + key + "\" is not a string");
  return it->get<std::string>();
}

static std::vector<int64_t> get_dims(const json& obj, const char* key, const std::string& path,
                                     const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) fail(path, where + "missing \"" + key + "\"");
  if (!it->is_array() || it->empty() || it->size() > kDumpMaxDims)
    fail(path, where + "\"" + key + "\" must be an array of 1..4 integers");
  std::vector<int64_t> dims;
  for (const json& d : *it) {
    if (!d.is_number_integer() || (d.is_number_unsigned() && d.get<uint64_t>() >= uint64_t(kDumpMaxNe)) ||
        d.get<int64_t>() < 0 || d.get<int64_t>() >= kDumpMaxNe)
      fail(path, where + "\"" + key + "\" entries must be integers in [0, 2^40)");
    dims.push_back(d.get<int64_t>());
  }
  return dims;
}

DumpReader::DumpReader(std::string dir) : dir_(std::move(dir)) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  struct stat st {};
  if (::stat(dir_.c_str(), &st) != 0) fail(dir_, "no such dump directory");
  if (!S_ISDIR(st.st_mode)) fail(dir_, "not a directory (a ck.dump is a directory with index.json)");
  const std::string ipath = dir_ + "/" + kDumpIndex;
  if (!is_regular(ipath)) fail(ipath, "missing (not a ck.dump directory?)");

  MappedFile file(ipath);
  if (file.size() > kDumpMaxIndexBytes) fail(ipath, "larger than 256 MiB");
  json index;
  try {
    index = json::parse(file.data(), file.data() + file.size());
  } catch (const json::exception& e) {
    fail(ipath, std::string("invalid JSON: ") + e.what());
  }
  if (!index.is_object()) fail(ipath, "top level is not a JSON object");
  std::string format = get_string(index, "format", ipath, "");
  if (format != kDumpFormat) fail(ipath, "format is \"" + format + "\", expected \"ck.dump\"");
  auto vit = index.find("version");
  if (vit == index.end() || !vit->is_number_integer()) fail(ipath, "missing or non-integer \"version\"");
  if (*vit != kDumpVersion)
    fail(ipath, "unsupported ck.dump version " + vit->dump() + " (this reader knows version 1)");
  producer_ = get_string(index, "producer", ipath, "");
  if (producer_.empty()) fail(ipath, "empty \"producer\"");
  auto rit = index.find("records");
  if (rit == index.end() || !rit->is_array()) fail(ipath, "missing or non-array \"records\"");
  if (rit->size() > kDumpMaxRecords) fail(ipath, "more than 1000000 records");

  int64_t prev_order = -1;
  for (size_t i = 0; i < rit->size(); ++i) {
    const json& j = (*rit)[i];
    std::string where = "record " + std::to_string(i) + ": ";
    if (!j.is_object()) fail(ipath, where + "not an object");
    DumpRecord r;
    r.order = get_int(j, "order", 0, kDumpMaxOrder - 1, ipath, where);
    r.name = get_string(j, "name", ipath, where);
    where = "record " + std::to_string(i) + " (order " + std::to_string(r.order) + ", \"" + r.name + "\"): ";
    if (std::string p = dump_check_name(r.name); !p.empty()) fail(ipath, where + p);
    if (r.order <= prev_order)
      fail(ipath, where + "order not strictly increasing (previous " + std::to_string(prev_order) + ")");
    prev_order = r.order;
    r.phase = get_string(j, "phase", ipath, where);
    if (std::string p = dump_check_phase(r.phase); !p.empty()) fail(ipath, where + p);
    std::string dt = get_string(j, "dtype", ipath, where);
    auto dtype = dump_dtype_from_name(dt);
    if (!dtype) fail(ipath, where + "dtype \"" + dt + "\" is not f32, f16 or i32");
    r.dtype = *dtype;
    r.ne = get_dims(j, "ne", ipath, where);
    r.shape = get_dims(j, "shape", ipath, where);
    if (std::vector<int64_t>(r.ne.rbegin(), r.ne.rend()) != r.shape)
      fail(ipath, where + "shape " + dump_shape_string(r.shape) + " is not ne " + dump_shape_string(r.ne) +
                      " reversed");
    r.file = get_string(j, "file", ipath, where);
    std::string expect_file = dump_file_name(r.order, r.name);
    if (r.file != expect_file) fail(ipath, where + "file \"" + r.file + "\", expected \"" + expect_file + "\"");
    r.nbytes = static_cast<uint64_t>(get_int(j, "nbytes", 0, int64_t(kDumpMaxNbytes), ipath, where));
    uint64_t expect = dump_dtype_size(r.dtype);
    for (int64_t d : r.ne) {
      expect = d == 0 ? 0 : expect * static_cast<uint64_t>(d);
      if (expect > kDumpMaxNbytes) fail(ipath, where + "tensor larger than 16 GiB");
    }
    if (expect != r.nbytes)
      fail(ipath, where + "nbytes " + std::to_string(r.nbytes) + " != product(ne) x " +
                      std::to_string(dump_dtype_size(r.dtype)) + " = " + std::to_string(expect));
    if (!by_key_.emplace(std::make_pair(r.phase, r.name), records_.size()).second)
      fail(ipath, where + "duplicate (phase, name) \"" + r.key() + "\"");
    if (!is_regular(path_of(r))) fail(path_of(r), "missing data file (listed in index.json)");
    records_.push_back(std::move(r));
  }
}

const DumpRecord* DumpReader::find(std::string_view phase, std::string_view name) const {
  auto it = by_key_.find({std::string(phase), std::string(name)});
  return it == by_key_.end() ? nullptr : &records_[it->second];
}

void zstd_read_exact_into(const std::string& path, void* dst, uint64_t nbytes) {
  MappedFile file(path);
  if (file.size() == 0) fail(path, "empty file (expected zstd data)");
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!dctx) fail(path, "out of memory (zstd)");
  ZSTD_inBuffer in{file.data(), file.size(), 0};
  ZSTD_outBuffer ob{dst, static_cast<size_t>(nbytes), 0};
  size_t ret = 1;
  // Fill dst; stop when the input is used up or dst is full (then more output is checked for below).
  while (in.pos < in.size && ob.pos < ob.size) {
    ret = ZSTD_decompressStream(dctx.get(), &ob, &in);
    if (ZSTD_isError(ret)) fail(path, std::string("corrupt zstd data: ") + ZSTD_getErrorName(ret));
  }
  // Whatever is left (input bytes or output buffered in the decoder) must decode to nothing: one spare
  // byte of output space proves "more than nbytes", and an unfinished frame means a truncated file.
  uint8_t spare = 0;
  ZSTD_outBuffer extra{&spare, 1, 0};
  while (ret != 0 || in.pos < in.size) {
    const size_t in_before = in.pos;
    ret = ZSTD_decompressStream(dctx.get(), &extra, &in);
    if (ZSTD_isError(ret)) fail(path, std::string("corrupt zstd data: ") + ZSTD_getErrorName(ret));
    if (extra.pos > 0) fail(path, "decompresses to more than " + std::to_string(nbytes) + " bytes (nbytes)");
    if (ret != 0 && in.pos == in.size && in.pos == in_before) break;  // no progress possible: truncated
  }
  if (ret != 0) fail(path, "truncated zstd data (frame not complete)");
  if (ob.pos != nbytes)
    fail(path, "decompresses to " + std::to_string(ob.pos) + " bytes, index says nbytes " + std::to_string(nbytes));
}

std::vector<uint8_t> zstd_read_exact(const std::string& path, uint64_t nbytes) {
  std::vector<uint8_t> out(static_cast<size_t>(nbytes));
  zstd_read_exact_into(path, out.data(), nbytes);
  return out;
}

std::vector<uint8_t> DumpReader::read(const DumpRecord& r) const { return zstd_read_exact(path_of(r), r.nbytes); }

std::vector<float> DumpReader::read_f32(const DumpRecord& r) const {
  size_t n = static_cast<size_t>(r.elements());
  std::vector<float> out(n);
  if (r.dtype == DumpDType::F32) {
    zstd_read_exact_into(path_of(r), out.data(), r.nbytes);  // no intermediate byte copy
  } else if (r.dtype == DumpDType::F16) {
    std::vector<uint8_t> raw = read(r);
    for (size_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, raw.data() + 2 * i, 2);
      out[i] = fp16_to_fp32(h);
    }
  } else {
    fail(path_of(r), "is i32, not a float tensor");
  }
  return out;
}

}  // namespace ck
