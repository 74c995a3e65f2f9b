#include "bump/reader.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <unordered_set>

#include "core/error.h"
#include "core/sha256.h"

namespace ck::bump {

namespace {

std::string u(uint64_t v) { return std::to_string(v); }

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

bool pow2(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

// Header + footer: enough to locate and hash the content. Throws ck::Error on anything wrong.
void read_frame(const MappedFile& f, Header& h, Footer& ft) {
  const std::string& p = f.path();
  const uint64_t size = f.size();
  if (size < kHeaderSize + kFooterSize)
    fail(p, "not a bump file: " + u(size) + " bytes, smaller than header + footer (" + u(kHeaderSize + kFooterSize) +
                ")");
  const uint8_t* b = f.data();
  if (std::memcmp(b, kMagic, 8) != 0) fail(p, "not a bump file (bad magic at offset 0)");
  h.version = load<uint32_t>(b + 8);
  if (h.version != kVersion)
    fail(p, "unsupported bump version " + u(h.version) + " (this ck reads version " + u(kVersion) + ")");
  h.header_size = load<uint32_t>(b + 12);
  h.tensor_alignment = load<uint32_t>(b + 16);
  h.data_alignment = load<uint32_t>(b + 20);
  h.n_tensors = load<uint64_t>(b + 24);
  h.table_offset = load<uint64_t>(b + 32);
  h.table_size = load<uint64_t>(b + 40);
  h.meta_offset = load<uint64_t>(b + 48);
  h.meta_size = load<uint64_t>(b + 56);
  h.data_offset = load<uint64_t>(b + 64);
  h.data_size = load<uint64_t>(b + 72);
  h.file_size = load<uint64_t>(b + 80);
  if (h.file_size != size)
    fail(p, "truncated or padded: header says " + u(h.file_size) + " bytes, file has " + u(size));
  const uint8_t* fb = b + size - kFooterSize;
  if (std::memcmp(fb, kFooterMagic, 8) != 0)
    fail(p, "bad footer magic at offset " + u(size - kFooterSize) + " (truncated or corrupt)");
  ft.content_size = load<uint64_t>(fb + 8);
  std::memcpy(ft.sha256.data(), fb + 16, 32);
  if (ft.content_size != size - kFooterSize)
    fail(p, "footer content size " + u(ft.content_size) + " != file size - footer (" + u(size - kFooterSize) + ")");
}

std::string hash_range(const MappedFile& f, uint64_t n) {
  constexpr uint64_t kChunk = 4u << 20;
  const uint64_t ps = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  Sha256 h;
  for (uint64_t pos = 0; pos < n; pos += kChunk) {
    uint64_t k = std::min(kChunk, n - pos);
    h.update(f.data() + pos, k);
    uint64_t from = pos / ps * ps, to = (pos + k) / ps * ps;
    if (to > from) ::madvise(const_cast<uint8_t*>(f.data()) + from, to - from, MADV_DONTNEED);
  }
  return h.hex_digest();
}

}  // namespace

Reader::Reader(const std::string& path) : file_(path) {
  read_frame(file_, header_, footer_);
  const Header& h = header_;
  const uint64_t size = file_.size();
  const uint8_t* b = file_.data();

  if (h.header_size != kHeaderSize) fail(path, "header size " + u(h.header_size) + " != " + u(kHeaderSize));
  if (!pow2(h.tensor_alignment) || h.tensor_alignment < kTensorAlignment)
    fail(path, "tensor alignment " + u(h.tensor_alignment) + " is not a power of two >= " + u(kTensorAlignment));
  if (!pow2(h.data_alignment) || h.data_alignment < kDataAlignment)
    fail(path, "data alignment " + u(h.data_alignment) + " is not a power of two >= " + u(kDataAlignment));
  // Regions in order: header | table | metadata | pad | data | footer, each bounded by the next.
  const uint64_t content = size - kFooterSize;
  if (h.table_offset != kHeaderSize) fail(path, "tensor table at offset " + u(h.table_offset) + ", expected 128");
  if (h.table_size > content - h.table_offset)
    fail(path, "tensor table [" + u(h.table_offset) + " +" + u(h.table_size) + ") runs past the content end " +
                   u(content));
  if (h.meta_offset != h.table_offset + h.table_size)
    fail(path, "metadata offset " + u(h.meta_offset) + " does not follow the tensor table (" +
                   u(h.table_offset + h.table_size) + ")");
  if (h.meta_size > content - h.meta_offset) fail(path, "metadata runs past the content end");
  if (h.data_offset % h.data_alignment != 0)
    fail(path, "data region offset " + u(h.data_offset) + " is not a multiple of " + u(h.data_alignment));
  if (h.data_offset < h.meta_offset + h.meta_size || h.data_offset > content)
    fail(path, "data region offset " + u(h.data_offset) + " overlaps the metadata or runs past the content end");
  if (h.data_size != content - h.data_offset)
    fail(path, "data region size " + u(h.data_size) + " != " + u(content - h.data_offset) +
                   " (data offset to footer)");
  if (reinterpret_cast<uintptr_t>(b) % h.data_alignment != 0) fail(path, "internal: mapping is not page aligned");

  // Tensor table. Minimum entry size bounds n_tensors before anything is allocated.
  const uint64_t min_entry = table_entry_size(TensorEntry{}) + 1;
  if (h.n_tensors > h.table_size / min_entry)
    fail(path, "tensor count " + u(h.n_tensors) + " cannot fit in a " + u(h.table_size) + "-byte table");
  uint64_t pos = h.table_offset;
  const uint64_t table_end = h.table_offset + h.table_size;
  uint64_t prev_end = h.data_offset;
  tensors_.reserve(h.n_tensors);
  for (uint64_t i = 0; i < h.n_tensors; ++i) {
    const std::string ctx = "tensor #" + u(i) + " at offset " + u(pos);
    if (table_end - pos < 4) fail(path, ctx + ": truncated table entry");
    uint32_t name_len = load<uint32_t>(b + pos);
    if (name_len == 0 || name_len > kMaxNameLen) fail(path, ctx + ": bad name length " + u(name_len));
    if (table_end - pos < 4 + static_cast<uint64_t>(name_len) + 8 + 8 * kMaxDims + 16)
      fail(path, ctx + ": truncated table entry");
    Tensor t;
    t.name.assign(reinterpret_cast<const char*>(b + pos + 4), name_len);
    pos += 4 + name_len;
    uint32_t dtype = load<uint32_t>(b + pos);
    uint32_t n_dims = load<uint32_t>(b + pos + 4);
    pos += 8;
    auto tr = dtype_traits(dtype);
    if (!tr) fail(path, "tensor \"" + t.name + "\": unknown dtype id " + u(dtype));
    t.dtype = tr->type;
    if (n_dims < 1 || n_dims > kMaxDims) fail(path, "tensor \"" + t.name + "\": bad n_dims " + u(n_dims));
    for (uint32_t d = 0; d < kMaxDims; ++d) {
      int64_t ne = load<int64_t>(b + pos + 8 * d);
      if (d < n_dims) t.ne.push_back(ne);
      else if (ne != 1) fail(path, "tensor \"" + t.name + "\": unused ne[" + u(d) + "] = " + std::to_string(ne) + " != 1");
    }
    pos += 8 * kMaxDims;
    t.offset = load<uint64_t>(b + pos);
    t.nbytes = load<uint64_t>(b + pos + 8);
    pos += 16;
    const uint64_t expect = tensor_nbytes(path, t.name, t.dtype, t.ne);
    if (t.nbytes != expect)
      fail(path, "tensor \"" + t.name + "\": nbytes " + u(t.nbytes) + " != " + u(expect) + " for its dtype and shape");
    if (t.offset % h.tensor_alignment != 0)
      fail(path, "tensor \"" + t.name + "\": offset " + u(t.offset) + " is not " + u(h.tensor_alignment) +
                     "-byte aligned");
    if (t.offset < prev_end || t.offset > content || t.nbytes > content - t.offset)
      fail(path, "tensor \"" + t.name + "\": data [" + u(t.offset) + ", +" + u(t.nbytes) +
                     ") is outside the data region or overlaps the previous tensor");
    prev_end = t.offset + t.nbytes;
    t.data = b + t.offset;
    if (!by_name_.emplace(t.name, tensors_.size()).second) fail(path, "duplicate tensor name \"" + t.name + "\"");
    tensors_.push_back(std::move(t));
  }
  if (pos != table_end) fail(path, "tensor table has " + u(table_end - pos) + " trailing bytes");

  meta_text_ = std::string_view(reinterpret_cast<const char*>(b + h.meta_offset), h.meta_size);
  try {
    meta_ = nlohmann::ordered_json::parse(meta_text_);
  } catch (const std::exception& e) {
    fail(path, std::string("metadata JSON is malformed: ") + e.what());
  }
  // typed: value("format", "") threw nlohmann's type_error on a number (tests/fuzz/regressions/bump/)
  if (!meta_.is_object() || !meta_.contains("format") || !meta_["format"].is_string() ||
      meta_["format"] != kMetaFormat)
    fail(path, std::string("metadata JSON: format is not \"") + kMetaFormat + "\"");
  if (!meta_.contains("version") || !meta_["version"].is_number_unsigned() || meta_["version"] != kMetaVersion)
    fail(path, "metadata JSON: unsupported version (this ck reads " + u(kMetaVersion) + ")");
  if (!meta_.contains("kv") || !meta_["kv"].is_object()) fail(path, "metadata JSON: missing \"kv\" object");
}

const Tensor* Reader::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

const Tensor& Reader::get(std::string_view name) const {
  const Tensor* t = find(name);
  if (t == nullptr) fail(path(), "no tensor named \"" + std::string(name) + "\"");
  return *t;
}

std::string Reader::recorded_sha256() const { return hex(footer_.sha256.data(), 32); }

std::string Reader::compute_sha256() const { return hash_range(file_, footer_.content_size); }

void Reader::verify() const {
  std::string got = compute_sha256(), want = recorded_sha256();
  if (got != want) fail(path(), "content sha256 mismatch: footer records " + want + ", content hashes to " + got);
}

CheckResult check(const std::string& path) {
  try {
    std::string got, want;
    {
      MappedFile f(path);
      Header h;
      Footer ft;
      read_frame(f, h, ft);
      want = hex(ft.sha256.data(), 32);
      got = hash_range(f, ft.content_size);
    }
    if (got != want)
      return {kExitMismatch, path + ": content sha256 mismatch: footer records " + want + ", content hashes to " + got +
                                 " (file modified or corrupt)"};
    Reader r(path);
    return {kExitOk, path + ": ok: bump v" + u(r.header().version) + ", " + u(r.tensors().size()) + " tensors, " +
                         u(r.header().file_size) + " bytes, content sha256 " + got};
  } catch (const Error& e) {
    return {kExitBadInput, e.what()};
  }
}

}  // namespace ck::bump
