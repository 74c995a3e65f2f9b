// ck-tokenize: text -> token ids with the vocabulary of a GGUF (or bump), exactly as llama.cpp b10256's
// llama_tokenize(add_special=true, parse_special=true) does for a Qwen2 byte-level BPE vocab (docs/TOKENIZER.md).
//   ck-tokenize --vocab text.gguf "Hello world"        -> 9707 1879
//   ck-tokenize --vocab text.gguf -f prompt.txt --pieces
//   ck-tokenize --vocab text.gguf --decode 9707 1879   -> Hello world
//   ck-tokenize --vocab text.gguf --info               -> JSON summary (sizes, special ids, vocab digest)
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/mapped_file.h"
#include "text/tokenizer.h"
#include "text/vocab.h"

namespace {

// A piece as a JSON string literal: printable ASCII kept, the rest escaped (bytes that are not valid UTF-8
// as \u00XX of the byte value would be ambiguous, so every non-ASCII byte is written \xNN).
std::string quote(const std::string& s) {
  std::string out = "\"";
  char buf[8];
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c >= 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

int body(int argc, char** argv) {
  CLI::App app{"ck-tokenize: tokenize text with a GGUF's byte-level BPE vocabulary (llama.cpp-exact)"};
  std::string vocab_path, file;
  std::vector<std::string> args;
  bool pieces = false, no_parse_special = false, no_add_special = false, decode = false, no_special_pieces = false,
       info = false;
  app.add_option("--vocab", vocab_path, "GGUF (or bump) holding tokenizer.ggml.* keys")->required();
  app.add_option("text", args, "text to tokenize (several arguments are joined with one space); with --decode: ids");
  app.add_option("-f,--file", file, "read the text (bytes as they are, no newline stripped) from FILE; - = stdin");
  app.add_flag("--pieces", pieces, "print one line per token: id, TAB, its piece as a quoted string");
  app.add_flag("--decode", decode, "the arguments (or the file) are token ids: print their concatenated pieces");
  app.add_flag("--no-parse-special", no_parse_special,
               "treat control-token strings as plain text (llama_tokenize parse_special=false)");
  app.add_flag("--no-add-special", no_add_special, "llama_tokenize add_special=false (no BOS/EOS for Qwen either way)");
  app.add_flag("--no-special-pieces", no_special_pieces, "render control tokens as \"\" (llama_token_to_piece special=false)");
  app.add_flag("--info", info, "print a JSON summary of the vocabulary (sizes, special ids, digest) and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    throw ck::Error(std::string(e.what()) + " (see ck-tokenize --help)");
  }
  if (info) {
    const ck::text::Vocab v = ck::text::load_vocab(vocab_path);
    const ck::text::Tokenizer tok(v);
    nlohmann::ordered_json j;
    j["format"] = "ck.tokenizer_info";
    j["version"] = 1;
    j["model"] = v.model;
    j["pre"] = v.pre;
    j["n_tokens"] = tok.n_tokens();
    j["n_merges"] = v.merges.size();
    j["vocab_digest"] = ck::text::vocab_digest(v);
    j["bos"] = tok.bos();
    j["eos"] = tok.eos();
    j["eot"] = tok.eot();
    j["add_bos"] = tok.add_bos();
    j["add_eos"] = tok.add_eos();
    j["eog"] = tok.eog_ids();
    j["special_tokens"] = tok.special_tokens().size();
    std::printf("%s\n", j.dump(1).c_str());
    return 0;
  }
  if (!file.empty() && !args.empty()) throw ck::Error("give the text either as arguments or with -f, not both");
  if (file.empty() && args.empty()) throw ck::Error("no text: give TEXT or -f FILE (see ck-tokenize --help)");

  std::string text;
  if (!file.empty()) {
    text = ck::read_text_file(file);
  } else {
    for (size_t i = 0; i < args.size(); ++i) text += (i ? " " : "") + args[i];
  }

  const ck::text::Tokenizer tok(ck::text::load_vocab(vocab_path));
  const bool special_pieces = !no_special_pieces;

  if (decode) {
    std::vector<int32_t> ids;
    const std::string where = file.empty() ? std::string("arguments") : (file == "-" ? "<stdin>" : file);
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
      if (i == text.size()) break;
      size_t j = i;
      while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
      const std::string w = text.substr(i, j - i);
      char* end = nullptr;
      const long long v = std::strtoll(w.c_str(), &end, 10);
      if (*end != '\0' || w.empty() || v < 0 || v >= static_cast<long long>(tok.n_tokens()))
        ck::fail(where, "'" + w + "' is not a token id of this vocabulary (0.." + std::to_string(tok.n_tokens() - 1) + ")");
      ids.push_back(static_cast<int32_t>(v));
      i = j;
    }
    const std::string out = tok.detokenize(ids, special_pieces);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }

  const std::vector<int32_t> ids = tok.tokenize(text, !no_add_special, !no_parse_special);
  std::string out;
  if (pieces) {
    for (int32_t id : ids) out += std::to_string(id) + "\t" + quote(tok.token_to_piece(id, special_pieces)) + "\n";
  } else {
    for (size_t i = 0; i < ids.size(); ++i) out += (i ? " " : "") + std::to_string(ids[i]);
    out += "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return ck::run_tool("ck-tokenize", body, argc, argv); }
