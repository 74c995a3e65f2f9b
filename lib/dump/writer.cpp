#include "dump/writer.h"

#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <system_error>

#include "core/error.h"
#include "core/output_file.h"

namespace ck {

namespace fs = std::filesystem;

// An existing DIR may be replaced only if it is clearly a dump (or an empty directory): never someone's data.
static bool replaceable(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  return fs::exists(fs::path(dir) / kDumpIndex, ec) || fs::is_empty(dir, ec);
}

DumpWriter::DumpWriter(std::string dir, std::string producer, DumpWriterOptions options)
    : dir_(std::move(dir)), producer_(std::move(producer)), options_(options) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
  if (dir_.empty()) fail("<dump>", "empty output directory name");
  if (producer_.empty()) fail(dir_, "empty producer name");
  tmp_ = dir_ + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  if (fs::exists(dir_, ec)) {
    if (!options_.overwrite) fail(dir_, "already exists (overwrite not requested)");
    if (!replaceable(dir_)) fail(dir_, "exists and is not a ck.dump directory; not replacing it");
  }
  fs::remove_all(tmp_, ec);  // a stale temp dir of an earlier process with our pid
  if (!fs::create_directory(tmp_, ec)) fail(tmp_, "cannot create directory: " + ec.message());
}

DumpWriter::~DumpWriter() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
}

void DumpWriter::set_phase(std::string phase) {
  std::string problem = dump_check_phase(phase);
  if (!problem.empty()) fail(dir_, "phase '" + phase + "': " + problem);
  phase_ = std::move(phase);
}

static void write_all(const std::string& path, const void* data, size_t n) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) fail(path, std::string("cannot create: ") + std::strerror(errno));
  bool ok = n == 0 || std::fwrite(data, 1, n, f) == n;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) fail(path, std::string("write failed: ") + std::strerror(errno));
}

const DumpRecord& DumpWriter::add(std::string_view name, DumpDType dtype, std::span<const int64_t> ne,
                                  const void* data, size_t nbytes) {
  if (committed_) fail(dir_, "add() after commit()");
  if (phase_.empty()) fail(dir_, "add() before set_phase()");
  DumpRecord r;
  r.order = next_order_;
  int& seen = seen_[{phase_, std::string(name)}];
  r.name = std::string(name) + (seen > 0 ? "__" + std::to_string(seen) : "");
  std::string problem = dump_check_name(r.name);
  if (!problem.empty()) fail(dir_, "tensor '" + r.name + "': " + problem);
  r.phase = phase_;
  r.dtype = dtype;
  if (ne.empty() || ne.size() > kDumpMaxDims) fail(dir_, "tensor '" + r.name + "': ne must have 1..4 entries");
  for (int64_t d : ne)
    if (d < 0 || d >= kDumpMaxNe) fail(dir_, "tensor '" + r.name + "': ne entry out of range");
  r.ne.assign(ne.begin(), ne.end());
  r.shape.assign(ne.rbegin(), ne.rend());
  // product(ne) * size with an overflow guard: every ne < 2^40, so stop as soon as the limit is passed.
  uint64_t expect = dump_dtype_size(dtype);
  for (int64_t d : ne) {
    expect = d == 0 ? 0 : expect * static_cast<uint64_t>(d);
    if (expect > kDumpMaxNbytes) fail(dir_, "tensor '" + r.name + "': larger than 16 GiB");
  }
  if (expect != nbytes)
    fail(dir_, "tensor '" + r.name + "': " + std::to_string(nbytes) + " bytes given, shape needs " +
                   std::to_string(expect));
  r.nbytes = nbytes;
  r.file = dump_file_name(r.order, r.name);

  std::vector<uint8_t> packed(ZSTD_compressBound(nbytes));
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  if (!cctx) fail(dir_, "out of memory (zstd)");
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, options_.zstd_level);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
  size_t n = ZSTD_compress2(cctx.get(), packed.data(), packed.size(), data, nbytes);
  if (ZSTD_isError(n)) fail(dir_ + "/" + r.file, std::string("zstd: ") + ZSTD_getErrorName(n));
  write_all(tmp_ + "/" + r.file, packed.data(), n);

  ++seen;
  ++next_order_;
  records_.push_back(std::move(r));
  return records_.back();
}

void DumpWriter::commit() {
  if (committed_) return;
  nlohmann::ordered_json index;
  index["format"] = kDumpFormat;
  index["version"] = kDumpVersion;
  index["producer"] = producer_;
  index["records"] = nlohmann::ordered_json::array();
  for (const DumpRecord& r : records_) {
    nlohmann::ordered_json j;
    j["order"] = r.order;
    j["name"] = r.name;
    j["phase"] = r.phase;
    j["dtype"] = dump_dtype_name(r.dtype);
    j["ne"] = r.ne;
    j["shape"] = r.shape;
    j["file"] = r.file;
    j["nbytes"] = r.nbytes;
    index["records"].push_back(std::move(j));
  }
  // One record per line: readable and diffable without a JSON viewer.
  std::string text = "{\n";
  text += "  \"format\": " + index["format"].dump() + ",\n";
  text += "  \"version\": " + index["version"].dump() + ",\n";
  text += "  \"producer\": " + index["producer"].dump() + ",\n";
  text += "  \"records\": [";
  for (size_t i = 0; i < index["records"].size(); ++i)
    text += std::string(i ? "," : "") + "\n    " + index["records"][i].dump();
  text += records_.empty() ? "]\n}\n" : "\n  ]\n}\n";
  write_text_file(tmp_ + "/" + kDumpIndex, text);

  std::error_code ec;
  std::string old;
  if (fs::exists(dir_, ec)) {
    if (!options_.overwrite || !replaceable(dir_)) fail(dir_, "appeared while writing; not replacing it");
    old = dir_ + ".old." + std::to_string(::getpid());
    fs::remove_all(old, ec);
    fs::rename(dir_, old, ec);
    if (ec) fail(dir_, "cannot move the previous dump aside: " + ec.message());
  }
  fs::rename(tmp_, dir_, ec);
  if (ec) fail(dir_, "cannot rename " + tmp_ + " into place: " + ec.message());
  committed_ = true;
  if (!old.empty()) fs::remove_all(old, ec);
}

}  // namespace ck
