// call.json (docs/formats/call.md) — the one reader of the format lib/plan writes (plan.cpp, kCallVersion).
// Reading validates everything that needs no weights: format and version, every shape and symbol reference,
// that every arena argument fits the arena at its planned worst case, and resolves the weights file relative to
// the call.json (core/paths.h). The runtime (lib/runtime/program.h) adds what needs the bump and the kernel
// bindings; ck-decode's model info (lib/decode/model_info.h) reads the contracts and bounds from the same struct.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dtype.h"

namespace ck::plan {

using json = nlohmann::ordered_json;

inline constexpr const char* kCallFormat = "ck.call";
inline constexpr int kCallVersion = 1;

// One dimension of a planned shape: a constant, or symbol `sym` (index into CallFile::symbols).
struct Dim {
  int64_t value = 0;  // the constant, or the symbol's planned max
  int sym = -1;
};

// A tensor argument of a call: an arena region (activation, input, view) or a weight in the bump.
struct TensorRef {
  std::string arg;     // "in0", "out", "w", "b", ...
  std::string tensor;  // tensor id (arena) or weight name
  bool weight = false;
  uint64_t byte_offset = 0;  // from the arena start, or from the start of the bump file
  uint64_t nbytes = 0;       // weights only
  DType dtype = DType::F32;
  std::vector<Dim> shape;        // row-major
  std::vector<int64_t> strides;  // bytes per dim (constant); empty = contiguous for the bound shape
};

struct Scalar {
  std::string arg;
  json value;    // number, bool, list, string (null when symbolic)
  int sym = -1;  // symbol index when bound at run time
};

struct CallEntry {
  int index = 0;
  std::string id, op, kernel;
  int layer = -1;
  std::string name;        // ggml callback name of the output, empty if unnamed
  std::string when_input;  // run only when this input was fed
  std::vector<TensorRef> ins;
  TensorRef out;
  std::vector<TensorRef> weights;
  std::vector<Scalar> scalars;
};

struct SymbolDef {
  std::string name;
  int64_t max = 0;
  // derived: value = product(of...) * mul / div (exact); free symbols have no `of`
  std::vector<int> of;
  int64_t mul = 1, div = 1;
  bool free() const { return of.empty(); }
};

struct InputRef {
  TensorRef t;
  std::string role;
  json role_params;  // with {"symbol": name} entries as in call.json
};

struct CallFile {
  std::string path;  // the call.json
  json doc;          // the whole document
  std::string template_name, arch, mode;
  json contracts = json::object();
  std::string weights_recorded;  // weights.file as written
  std::string weights_path;      // resolved relative to the call.json (usable from the working directory)
  std::string weights_sha256;    // the bump content sha256 the plan was made for ("" if not recorded)
  uint64_t arena_bytes = 0, arena_alignment = 64;
  std::vector<SymbolDef> symbols;
  std::vector<InputRef> inputs;
  std::vector<TensorRef> outputs;
  std::vector<std::pair<TensorRef, std::string>> named_views;  // (view, name)
  std::vector<CallEntry> calls;

  int symbol_index(const std::string& name) const;  // -1 if absent
  int64_t symbol_max(const std::string& name) const;  // 0 if absent
  const InputRef* input_by_role(const std::string& role) const;
};

// Reads DIR/call.json (or a call.json path). Throws ck::Error("<call.json>: <problem>").
CallFile read_call_file(const std::string& dir_or_call_json);

}  // namespace ck::plan
