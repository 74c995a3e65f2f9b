#include "decode/model_info.h"

#include <filesystem>

#include "core/error.h"
#include "core/mapped_file.h"

namespace ck::decode {
namespace fs = std::filesystem;

namespace {
int64_t planned_dim(const nlohmann::ordered_json& dim, const nlohmann::ordered_json& symbols) {
  if (dim.is_number_integer()) return dim.get<int64_t>();
  if (dim.is_string())
    for (const auto& s : symbols)
      if (s.value("name", "") == dim.get<std::string>()) return s.value("max", int64_t(0));
  return 0;
}
int64_t symbol_max(const nlohmann::ordered_json& symbols, const char* name) {
  for (const auto& s : symbols)
    if (s.value("name", "") == name) return s.value("max", int64_t(0));
  return 0;
}
}  // namespace

ModelInfo ModelInfo::load(const std::string& dir) {
  ModelInfo m;
  m.dir = dir;
  m.call_json = fs::is_directory(dir) ? (fs::path(dir) / "call.json").string() : dir;
  if (!fs::exists(m.call_json)) ck::fail(dir, "not a decoder directory (no call.json; make it with ck-layout -o DIR)");
  nlohmann::ordered_json doc;
  try {
    doc = nlohmann::ordered_json::parse(ck::read_text_file(m.call_json));
  } catch (const nlohmann::json::exception& e) {
    ck::fail(m.call_json, std::string("invalid JSON: ") + e.what());
  }
  if (doc.value("format", "") != "ck.call" || doc.value("version", 0) != 1)
    ck::fail(m.call_json, "not a ck.call version 1 document");
  m.contracts = doc.value("contracts", nlohmann::ordered_json::object());
  m.mode = doc.value("mode", std::string("strict"));
  if (!m.contracts.contains("chat"))
    ck::fail(m.call_json, "the plan has no chat contract (contracts.chat): not a text decoder");
  m.chat = ChatContract::from_json(m.contracts["chat"], m.call_json);
  const auto& symbols = doc.value("symbols", nlohmann::ordered_json::array());
  for (const auto& in : doc.value("inputs", nlohmann::ordered_json::array()))
    if (in.value("role", "") == "embeddings" && in.contains("shape") && !in["shape"].empty())
      m.n_embd_inp = planned_dim(in["shape"].back(), symbols);
  if (m.n_embd_inp <= 0) ck::fail(m.call_json, "the plan has no \"embeddings\" input (image rows cannot be fed)");
  if (m.contracts.contains("config")) {  // carried when ck-lower copies the config section
    const auto& c = m.contracts["config"];
    m.n_embd = c.value("n_embd", int64_t(0));
    m.n_deepstack = c.value("n_deepstack_layers", int64_t(-1));
  }
  m.max_ubatch = symbol_max(symbols, "n_tokens");
  m.max_ctx = symbol_max(symbols, "ctx_size");
  m.max_outputs = symbol_max(symbols, "n_outputs");
  const std::string wfile = doc.contains("weights") ? doc["weights"].value("file", "") : "";
  if (wfile.empty()) ck::fail(m.call_json, "no weights.file");
  const fs::path wp(wfile);
  m.weights = wp.is_absolute() ? wp.string() : (fs::path(m.call_json).parent_path() / wp).lexically_normal().string();
  // A plan made from a manifest on stdin records the bump relative to ck-lower's working directory; a bump
  // sitting next to call.json is the common layout (ck-convert -o DIR/x.bump | ck-lower - | ck-layout -o DIR).
  if (!fs::exists(m.weights)) {
    const fs::path beside = fs::path(m.call_json).parent_path() / wp.filename();
    if (fs::exists(beside)) m.weights = beside.lexically_normal().string();
  }
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
