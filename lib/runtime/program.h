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
#include "plan/call_file.h"

namespace ck::runtime {

using json = nlohmann::ordered_json;

// The call.json data model is lib/plan's (plan/call_file.h: its one reader); the runtime adds the bindings.
using Dim = plan::Dim;
using TensorRef = plan::TensorRef;
using Scalar = plan::Scalar;
using SymbolDef = plan::SymbolDef;
using InputRef = plan::InputRef;

struct KernelBinding;  // kernel_table.h

struct Call : plan::CallEntry {
  const KernelBinding* kernel_fn = nullptr;  // null: no binding in this build
};

class Program {
 public:
  // Loads DIR/call.json (or a call.json path) and maps its weights file. Throws ck::Error naming the file.
  static std::unique_ptr<Program> load(const std::string& dir_or_call_json);

  const std::string& path() const { return file_.path; }  // the call.json
  const json& doc() const { return file_.doc; }
  const plan::CallFile& file() const { return file_; }
  const bump::Reader& weights() const { return *bump_; }
  const uint8_t* weight_base() const { return weight_base_; }

  const std::vector<SymbolDef>& symbols() const { return file_.symbols; }
  int symbol_index(const std::string& name) const { return file_.symbol_index(name); }  // -1 if absent
  const std::vector<InputRef>& inputs() const { return file_.inputs; }
  const InputRef* input_by_role(const std::string& role) const { return file_.input_by_role(role); }
  const std::vector<TensorRef>& outputs() const { return file_.outputs; }
  // Named views (Qcur-0, ...): dumped just before the first call reading them.
  const std::vector<std::pair<TensorRef, std::string>>& named_views() const { return file_.named_views; }
  const std::vector<Call>& calls() const { return calls_; }
  uint64_t arena_bytes() const { return file_.arena_bytes; }
  uint64_t arena_alignment() const { return file_.arena_alignment; }
  const json& contracts() const { return file_.contracts; }
  const std::string& template_name() const { return file_.template_name; }
  // Kernel ids without a binding (in call order, unique), empty when everything can run.
  std::vector<std::string> missing_kernels() const;

 private:
  Program() = default;
  plan::CallFile file_;
  std::unique_ptr<bump::Reader> bump_;
  const uint8_t* weight_base_ = nullptr;
  std::vector<Call> calls_;
};

}  // namespace ck::runtime
