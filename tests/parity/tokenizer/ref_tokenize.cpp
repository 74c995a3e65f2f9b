// ref_tokenize: llama.cpp b10256's tokenizer as the oracle for lib/text (tests/parity/tokenizer/README.md).
// Links the oracle's static libllama/ggml only (no ck library).
//
//   ref_tokenize --model T.gguf --in corpus.bin --out ids.bin [--pieces-out P] [--flags-out F]
//
// corpus.bin: records {u32 n_bytes, bytes}. ids.bin: per record, two results -- llama_tokenize(add_special=true,
// parse_special=true) then (add_special=false, parse_special=false) -- each {i32 n, n x i32 ids}, n = -1 when
// llama_tokenize threw (the exception text goes to stderr). --pieces-out: for every token id,
// {u32 n, bytes} of llama_token_to_piece(special=true), then the same for special=false.
// --flags-out: u16 unicode_cpt_flags_from_cpt(c).as_uint() for c = 0..0x10FFFF, then u32 unicode_tolower(c).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "llama.h"
#include "unicode.h"  // llama.cpp src/unicode.h: the same functions libllama's tokenizer calls

static void die(const std::string& m) {
  std::fprintf(stderr, "ref_tokenize: %s\n", m.c_str());
  std::exit(2);
}

static std::vector<uint8_t> read_all(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) die("cannot open " + path);
  std::vector<uint8_t> d;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) d.insert(d.end(), buf, buf + n);
  std::fclose(f);
  return d;
}

struct Out {
  FILE* f;
  explicit Out(const std::string& p) : f(std::fopen(p.c_str(), "wb")) {
    if (!f) die("cannot write " + p);
  }
  ~Out() { std::fclose(f); }
  template <class T> void put(T v) { std::fwrite(&v, sizeof v, 1, f); }
  void bytes(const void* p, size_t n) { std::fwrite(p, 1, n, f); }
};

static void quiet_log(ggml_log_level, const char*, void*) {}

int main(int argc, char** argv) {
  std::string model, in, out, pieces_out, flags_out;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + a);
      return argv[++i];
    };
    if (a == "--model") model = next();
    else if (a == "--in") in = next();
    else if (a == "--out") out = next();
    else if (a == "--pieces-out") pieces_out = next();
    else if (a == "--flags-out") flags_out = next();
    else if (a == "--verbose") verbose = true;
    else die("unknown argument " + a);
  }

  if (!flags_out.empty()) {
    Out o(flags_out);
    for (uint32_t c = 0; c < 0x110000; ++c) o.put<uint16_t>(unicode_cpt_flags_from_cpt(c).as_uint());
    for (uint32_t c = 0; c < 0x110000; ++c) o.put<uint32_t>(unicode_tolower(c));
  }
  if (model.empty()) return 0;

  if (!verbose) llama_log_set(quiet_log, nullptr);
  llama_backend_init();
  llama_model_params mp = llama_model_default_params();
  mp.vocab_only = true;
  llama_model* m = llama_model_load_from_file(model.c_str(), mp);
  if (!m) die("cannot load " + model);
  const llama_vocab* vocab = llama_model_get_vocab(m);
  const int32_t n_vocab = llama_vocab_n_tokens(vocab);

  if (!in.empty()) {
    if (out.empty()) die("--in needs --out");
    const std::vector<uint8_t> corpus = read_all(in);
    Out o(out);
    size_t off = 0, n_rec = 0, n_err = 0;
    while (off < corpus.size()) {
      if (off + 4 > corpus.size()) die("truncated corpus");
      uint32_t len;
      std::memcpy(&len, corpus.data() + off, 4);
      off += 4;
      if (off + len > corpus.size()) die("truncated corpus");
      const char* text = reinterpret_cast<const char*>(corpus.data() + off);
      off += len;
      for (int mode = 0; mode < 2; ++mode) {
        const bool special = mode == 0;
        std::vector<llama_token> ids(len + 16);
        int32_t n;
        try {
          n = llama_tokenize(vocab, text, static_cast<int32_t>(len), ids.data(), static_cast<int32_t>(ids.size()),
                             special, special);
          if (n < 0) {
            ids.resize(-n);
            n = llama_tokenize(vocab, text, static_cast<int32_t>(len), ids.data(), static_cast<int32_t>(ids.size()),
                               special, special);
          }
        } catch (const std::exception& e) {
          std::fprintf(stderr, "ref_tokenize: record %zu mode %d: exception: %s\n", n_rec, mode, e.what());
          n = -1;
          ++n_err;
        }
        o.put<int32_t>(n);
        if (n > 0) o.bytes(ids.data(), sizeof(llama_token) * n);
      }
      ++n_rec;
    }
    std::printf("{\"records\": %zu, \"exceptions\": %zu, \"n_vocab\": %d}\n", n_rec, n_err, n_vocab);
  }

  {
    // special ids and the end-of-generation set, for the manifest
    std::string eog;
    for (llama_token id = 0; id < n_vocab; ++id)
      if (llama_vocab_is_eog(vocab, id)) eog += (eog.empty() ? "" : ", ") + std::to_string(id);
    std::printf("{\"bos\": %d, \"eos\": %d, \"eot\": %d, \"add_bos\": %s, \"add_eos\": %s, \"eog\": [%s]}\n",
                llama_vocab_bos(vocab), llama_vocab_eos(vocab), llama_vocab_eot(vocab),
                llama_vocab_get_add_bos(vocab) ? "true" : "false", llama_vocab_get_add_eos(vocab) ? "true" : "false",
                eog.c_str());
  }

  if (!pieces_out.empty()) {
    Out o(pieces_out);
    std::vector<char> buf(256);
    for (int special = 1; special >= 0; --special) {
      for (llama_token id = 0; id < n_vocab; ++id) {
        int32_t n = llama_token_to_piece(vocab, id, buf.data(), static_cast<int32_t>(buf.size()), 0, special != 0);
        if (n < 0) {
          buf.resize(-n);
          n = llama_token_to_piece(vocab, id, buf.data(), static_cast<int32_t>(buf.size()), 0, special != 0);
        }
        o.put<uint32_t>(static_cast<uint32_t>(n));
        o.bytes(buf.data(), n);
      }
    }
  }
  llama_model_free(m);
  llama_backend_free();
  return 0;
}
