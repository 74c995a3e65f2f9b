// GGUF reader (lib/gguf): the file as ck-convert / ck-tokenize / ck-decode open it, then every accessor a
// consumer calls on a file that passed validation (typed getters, tensor data at its ends, the vocabulary).
#include "fuzz_common.h"
#include "gguf/gguf.h"
#include "text/vocab.h"

CK_FUZZ_TARGET(gguf) {
  static ck::fuzz::MemFile file("fuzz.gguf");
  const std::string& path = file.set(data, size);
  ck::fuzz::guarded([&] {
    ck::gguf::Reader r(path);
    uint64_t sink = r.version() + r.alignment() + r.data_offset();
    for (const auto& kv : r.kvs()) {
      sink += kv.value.arr.size() + kv.value.s.size();
      if (kv.value.type == ck::gguf::ValueType::STRING) sink += r.get_string(kv.key).size();
      if (kv.value.is_integer()) sink += static_cast<uint64_t>(kv.value.as_int());
      if (kv.value.is_float()) sink += static_cast<uint64_t>(kv.value.as_double() != 0);
    }
    for (const auto& t : r.tensors()) {
      sink += t.n_elements();
      if (t.nbytes) sink += t.data[0] + t.data[t.nbytes - 1];  // the reader promised [data, data+nbytes)
      if (r.find_tensor(t.name) == nullptr) __builtin_trap();
    }
    ck::fuzz::keep(sink);
    if (r.find("tokenizer.ggml.tokens")) ck::text::vocab_from_gguf(r);
  });
  return 0;
}
