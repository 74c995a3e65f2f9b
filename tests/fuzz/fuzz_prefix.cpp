// Prefix reader (lib/bridge, docs/formats/prefix.md): the bytes as a file (mmap) and as a POSIX shared-memory
// object (the shm: source of ck-encode | ck-decode), then every row of an accepted prefix.
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "bridge/prefix.h"
#include "fuzz_common.h"

namespace {

void read_all(const std::string& source) {
  ck::fuzz::guarded([&] {
    auto p = ck::bridge::Prefix::open(source);
    const auto& info = p.info();
    if (p.rows().size() != info.rows * info.row_width) __builtin_trap();
    const float sink = p.row(0)[0] + p.row(info.rows - 1)[info.row_width - 1];
    ck::fuzz::keep(sink);
  });
}

}  // namespace

CK_FUZZ_TARGET(prefix) {
  static ck::fuzz::MemFile file("fuzz.prefix");
  read_all(file.set(data, size));

  // The same bytes in shared memory.
  static const std::string shm = "/ck-fuzz-prefix-" + std::to_string(getpid());
  int fd = shm_open(shm.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
  if (fd < 0) return 0;
  bool ok = ftruncate(fd, static_cast<off_t>(size)) == 0;
  for (size_t done = 0; ok && done < size;) {
    ssize_t n = pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    ok = n > 0;
    done += ok ? static_cast<size_t>(n) : 0;
  }
  close(fd);
  if (ok) read_all("shm:" + shm.substr(1));
  shm_unlink(shm.c_str());
  return 0;
}
