#include "decode/model_info.h"

#include <filesystem>

#include "core/error.h"
#include "plan/call_file.h"

namespace ck::decode {
namespace fs = std::filesystem;

ModelInfo ModelInfo::load(const std::string& dir) {
  ModelInfo m;
  m.dir = dir;
  {
    std::error_code ec;
    const fs::path cp = fs::is_directory(dir, ec) ? fs::path(dir) / "call.json" : fs::path(dir);
    if (!fs::exists(cp, ec)) ck::fail(dir, "not a decoder directory (no call.json; make it with ck-layout -o DIR)");
  }
  const plan::CallFile f = plan::read_call_file(dir);  // the one call.json reader (lib/plan)
  m.call_json = f.path;
  m.contracts = f.contracts;
  m.mode = f.mode;
  if (!m.contracts.contains("chat"))
    ck::fail(m.call_json, "the plan has no chat contract (contracts.chat): not a text decoder");
  m.chat = ChatContract::from_json(m.contracts["chat"], m.call_json);
  if (const plan::InputRef* in = f.input_by_role("embeddings"))
    m.n_embd_inp = in->t.shape.back().value;  // the row width (a symbol's planned max if symbolic)
  if (m.n_embd_inp <= 0) ck::fail(m.call_json, "the plan has no \"embeddings\" input (image rows cannot be fed)");
  if (m.contracts.contains("config") && m.contracts["config"].is_object()) {  // carried when ck-lower copies it
    const auto& c = m.contracts["config"];
    auto int_of = [&](const char* k, int64_t dflt) {
      return c.contains(k) && c[k].is_number_integer() ? c[k].get<int64_t>() : dflt;
    };
    m.n_embd = int_of("n_embd", 0);
    m.n_deepstack = int_of("n_deepstack_layers", -1);
  }
  m.max_ubatch = f.symbol_max("n_tokens");
  m.max_ctx = f.symbol_max("ctx_size");
  m.max_outputs = f.symbol_max("n_outputs");
  m.weights = f.weights_path;
  return m;
}

void check_prefix(const ModelInfo& m, const bridge::PrefixInfo& p, const std::string& prefix_source) {
  const int64_t rw = int64_t(p.row_width);
  if (rw != m.n_embd_inp || (m.n_embd > 0 && int64_t(p.n_embd) != m.n_embd) ||
      (m.n_deepstack >= 0 && int64_t(p.n_deepstack) != m.n_deepstack))
    throw ck::Error(prefix_source + ": prefix rows of width " + std::to_string(rw) + " (n_embd " +
                    std::to_string(p.n_embd) + " x (1+" + std::to_string(p.n_deepstack) +
                    " deepstack)) do not fit the decoder " + m.call_json + ", whose input rows are " +
                    std::to_string(m.n_embd_inp) + " wide (n_embd*(1+n_deepstack))");
}

}  // namespace ck::decode
