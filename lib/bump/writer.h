// Bump writer: GGUF -> bump, streaming. Tensors are copied one chunk at a time from the mmapped GGUF
// into an OutputFile while the content is hashed; pages of the source that have been copied are
// released (MADV_DONTNEED), so peak RSS stays at a few chunk sizes whatever the model size.
#pragma once
#include <string>
#include <vector>

#include "bump/format.h"
#include "core/output_file.h"
#include "gguf/gguf.h"

namespace ck::bump {

struct WriteResult {
  Header header;
  std::vector<TensorEntry> tensors;  // in bump (= GGUF table) order, absolute offsets
  std::string content_sha256;        // recorded in the footer: sha256 of every byte before the footer
  std::string file_sha256;           // sha256 of the whole file (what sha256sum prints)
  std::string source_sha256;         // sha256 of the whole GGUF file
  uint64_t source_size = 0;
};

// Writes the bump of `src` into `out` (the caller commits `out`). `source_name` (a file name, no
// directories) is recorded in the metadata JSON. The GGUF's own sha256 is computed on a second thread
// over a separate mapping while the copy runs.
WriteResult write_bump(const gguf::Reader& src, const std::string& source_name, OutputFile& out);

// sha256 of a whole file, streamed through mmap in chunks whose pages are released after hashing.
std::string sha256_file_streaming(const std::string& path);

}  // namespace ck::bump
