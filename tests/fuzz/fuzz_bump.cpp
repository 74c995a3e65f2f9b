// Bump reader (lib/bump): structural validation on open, every tensor's bytes, the metadata accessors, the
// sha256 footer (verify) and `ck-convert --check` (bump::check), on the same bytes.
#include "bump/reader.h"
#include "fuzz_common.h"
#include "text/vocab.h"

CK_FUZZ_TARGET(bump) {
  static ck::fuzz::MemFile file("fuzz.bump");
  const std::string& path = file.set(data, size);
  ck::fuzz::guarded([&] {
    ck::bump::Reader r(path);
    uint64_t sink = r.metadata_text().size();
    for (const auto& t : r.tensors()) {
      if (t.nbytes) sink += t.data[0] + t.data[t.nbytes - 1];
      if (r.find(t.name) == nullptr) __builtin_trap();
    }
    ck::fuzz::keep(sink);
    (void)r.recorded_sha256();
    r.verify();
    if (r.kv().contains("tokenizer.ggml.tokens")) ck::text::vocab_from_bump(r);
  });
  ck::fuzz::guarded([&] {
    auto c = ck::bump::check(path);
    if (c.status < 0 || c.status > 2 || (c.status != 0 && c.message.empty())) __builtin_trap();
  });
  return 0;
}
