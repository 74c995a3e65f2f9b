#include "bump/writer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <exception>
#include <thread>

#include "bump/metadata.h"
#include "bump/stream_hash.h"
#include "core/error.h"
#include "core/sha256.h"

namespace ck::bump {

namespace {

constexpr uint64_t kChunk = 4u << 20;  // bytes copied/hashed per step

uint64_t page_size() {
  static const uint64_t p = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  return p;
}

// Drops the pages of [base + from, base + to) from this process's page tables (they stay in the page
// cache; touching them again just refaults). Keeps RSS bounded while streaming through a big mapping.
void release_pages(const uint8_t* base, uint64_t from, uint64_t to) {
  const uint64_t ps = page_size();
  from = from / ps * ps;
  to = to / ps * ps;
  if (to > from) ::madvise(const_cast<uint8_t*>(base) + from, to - from, MADV_DONTNEED);
}

class HashingSink {
 public:
  explicit HashingSink(OutputFile& out) : out_(out) {}
  void write(const void* p, size_t n) {
    hash_.update(p, n);
    out_.write(p, n);
  }
  void zeros(uint64_t n) {
    static const std::vector<uint8_t> z(1 << 16, 0);
    while (n > 0) {
      size_t k = n < z.size() ? static_cast<size_t>(n) : z.size();
      write(z.data(), k);
      n -= k;
    }
  }
  uint64_t position() const { return out_.position(); }
  ForkableSha256& hash() { return hash_; }

 private:
  OutputFile& out_;
  ForkableSha256 hash_;
};

}  // namespace

std::string sha256_file_streaming(const std::string& path) {
  // read() into one buffer rather than mmap: one syscall per chunk instead of a page fault per few pages,
  // and the bytes never count towards RSS beyond the buffer.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<uint8_t> buf(kChunk);
  Sha256 h;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      fail(path, std::string("read error: ") + std::strerror(e));
    }
    if (n == 0) break;
    h.update(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return h.hex_digest();
}

WriteResult write_bump(const gguf::Reader& src, const std::string& source_name, OutputFile& out) {
  const std::string& where = src.path();
  WriteResult r;

  // The GGUF's own hash runs on a second thread (own mapping) while the copy below runs.
  std::string source_sha;
  std::exception_ptr source_err;
  std::thread source_hasher([&] {
    try {
      source_sha = sha256_file_streaming(src.path());
    } catch (...) {
      source_err = std::current_exception();
    }
  });
  struct Joiner {
    std::thread& t;
    ~Joiner() {
      if (t.joinable()) t.join();
    }
  } joiner{source_hasher};

  // Tensor table: GGUF order, names/dtypes/shapes as in the GGUF, offsets laid out below.
  for (const auto& t : src.tensors()) {
    TensorEntry e;
    e.name = t.name;
    e.dtype = t.type;
    e.ne = t.ne;
    e.nbytes = tensor_nbytes(where, t.name, t.type, t.ne);
    if (e.nbytes != t.nbytes)
      fail(where, "tensor \"" + t.name + "\": size " + std::to_string(t.nbytes) + " disagrees with its shape (" +
                      std::to_string(e.nbytes) + " bytes)");
    r.tensors.push_back(std::move(e));
  }

  json meta = json::object();
  meta["format"] = kMetaFormat;
  meta["version"] = kMetaVersion;
  meta["source"] = {{"file", source_name}, {"gguf_version", src.version()}, {"alignment", src.alignment()},
                    {"n_kv", src.kvs().size()}, {"n_tensors", src.tensors().size()}};
  meta["kv"] = kvs_to_json(src.kvs());
  const std::string meta_text = meta.dump();

  Header& h = r.header;
  h.n_tensors = r.tensors.size();
  h.table_offset = kHeaderSize;
  for (const auto& e : r.tensors) h.table_size += table_entry_size(e);
  h.meta_offset = h.table_offset + h.table_size;
  h.meta_size = meta_text.size();
  h.data_offset = align_up(h.meta_offset + h.meta_size, kDataAlignment);
  uint64_t cur = h.data_offset;
  for (auto& e : r.tensors) {
    cur = align_up(cur, kTensorAlignment);
    e.offset = cur;
    cur += e.nbytes;
  }
  const uint64_t data_end = align_up(cur, kTensorAlignment);
  h.data_size = data_end - h.data_offset;
  h.file_size = data_end + kFooterSize;

  HashingSink sink(out);
  auto header = encode_header(h);
  sink.write(header.data(), header.size());
  auto table = encode_table(r.tensors);
  sink.write(table.data(), table.size());
  sink.write(meta_text.data(), meta_text.size());
  sink.zeros(h.data_offset - sink.position());

  const uint8_t* base = src.file().data();
  if (src.file().size() > 0)  // read-ahead hint: the tensors are read once, front to back
    ::madvise(const_cast<uint8_t*>(base), src.file().size(), MADV_SEQUENTIAL);
  for (size_t i = 0; i < r.tensors.size(); ++i) {
    const auto& e = r.tensors[i];
    sink.zeros(e.offset - sink.position());
    const uint8_t* p = src.tensors()[i].data;
    const uint64_t src_off = static_cast<uint64_t>(p - base);
    for (uint64_t done = 0; done < e.nbytes; done += kChunk) {
      uint64_t n = std::min<uint64_t>(kChunk, e.nbytes - done);
      sink.write(p + done, n);
      release_pages(base, src_off + done, src_off + done + n);
    }
  }
  sink.zeros(data_end - sink.position());
  if (sink.position() != h.file_size - kFooterSize) fail(out.path(), "internal: bump layout size mismatch");

  Footer f;
  f.content_size = sink.position();
  f.sha256 = sink.hash().peek();
  auto footer = encode_footer(f);
  sink.write(footer.data(), footer.size());
  auto whole = sink.hash().peek();
  r.content_sha256 = hex(f.sha256.data(), 32);
  r.file_sha256 = hex(whole.data(), 32);

  source_hasher.join();
  if (source_err) std::rethrow_exception(source_err);
  r.source_sha256 = source_sha;
  r.source_size = src.file().size();
  return r;
}

}  // namespace ck::bump
