// Program — a call.json (docs/formats/call.md) loaded and validated against its bump, ready to execute.
// Loading checks everything that can be checked before an input is known: format/version, that every weight
// argument names a tensor of the bump with the same offset, size and dtype (weights are used in place from
// the read-only mapping, never copied), that the bump is the one the plan was made for (content sha256 in
// the bump footer = the manifest's), that every arena argument fits the arena at the planned worst case,
// and that every kernel id has a binding (kernel_table.h) — or lists the ones that do not.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bump/reader.h"
#include "core/dtype.h"

namespace ck::runtime {

using json = nlohmann::ordered_json;

// One dimension of a planned shape: a constant, or symbol `sym` (index into Program::symbols).
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

struct KernelBinding;  // kernel_table.h

struct Call {
  int index = 0;
  std::string id, op, kernel;
  int layer = -1;
  std::string name;        // ggml callback name of the output, empty if unnamed
  std::string when_input;  // run only when this input was fed
  std::vector<TensorRef> ins;
  TensorRef out;
  std::vector<TensorRef> weights;
  std::vector<Scalar> scalars;
  const KernelBinding* kernel_fn = nullptr;  // null: no binding in this build
};

struct SymbolDef {
  std::string name;
  int64_t max = 0;
  // derived: value = product(of...) * mul / div; free symbols have no `of`
  std::vector<int> of;
  int64_t mul = 1, div = 1;
  bool free() const { return of.empty(); }
};

struct InputRef {
  TensorRef t;
  std::string role;
  json role_params;  // with {"symbol": name} entries as in call.json
};

class Program {
 public:
  // Loads DIR/call.json (or a call.json path) and maps its weights file. Throws ck::Error naming the file.
  static std::unique_ptr<Program> load(const std::string& dir_or_call_json);

  const std::string& path() const { return path_; }  // the call.json
  const json& doc() const { return doc_; }
  const bump::Reader& weights() const { return *bump_; }
  const uint8_t* weight_base() const { return weight_base_; }

  const std::vector<SymbolDef>& symbols() const { return symbols_; }
  int symbol_index(const std::string& name) const;  // -1 if absent
  const std::vector<InputRef>& inputs() const { return inputs_; }
  const InputRef* input_by_role(const std::string& role) const;
  const std::vector<TensorRef>& outputs() const { return outputs_; }
  // Named views (Qcur-0, ...): dumped just before the first call reading them.
  const std::vector<std::pair<TensorRef, std::string>>& named_views() const { return named_views_; }
  const std::vector<Call>& calls() const { return calls_; }
  uint64_t arena_bytes() const { return arena_bytes_; }
  uint64_t arena_alignment() const { return arena_alignment_; }
  const json& contracts() const { return contracts_; }
  const std::string& template_name() const { return template_; }
  // Kernel ids without a binding (in call order, unique), empty when everything can run.
  std::vector<std::string> missing_kernels() const;

 private:
  Program() = default;
  std::string path_, template_;
  json doc_, contracts_;
  std::unique_ptr<bump::Reader> bump_;
  const uint8_t* weight_base_ = nullptr;
  std::vector<SymbolDef> symbols_;
  std::vector<InputRef> inputs_;
  std::vector<TensorRef> outputs_;
  std::vector<std::pair<TensorRef, std::string>> named_views_;
  std::vector<Call> calls_;
  uint64_t arena_bytes_ = 0, arena_alignment_ = 64;
};

}  // namespace ck::runtime
