// ir1 — the lowered graph (ck-lower -> ck-layout), spec in docs/formats/ir1.md.
// Every op is concrete (layers expanded, weights bound by name, kernel chosen); shapes are row-major
// (outermost first) with each dimension either a number or the name of a symbol that the runtime binds
// (e.g. "n_pos"), every symbol carrying its worst-case bound.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ck::graph {

using json = nlohmann::ordered_json;

struct Dim {
  int64_t value = 0;  // the number, or the symbol's worst case when `sym` is set
  std::string sym;    // empty = constant
  bool symbolic() const { return !sym.empty(); }
};
using Shape = std::vector<Dim>;

// A runtime-bound size. `def` says how a derived symbol follows from others ({"product":[a,b]} or
// {"of":a,"mul":m,"div":d}); free symbols (def null) are bound by the runtime from its input.
// `option` names the planning option that may change `max` (ck-layout --bound option=N, --ctx-size, ...).
struct Symbol {
  std::string name;
  int64_t max = 0;
  json def;  // null for free symbols
  std::string option;
};

struct Tensor {
  std::string id;
  std::string kind;            // "input" | "state" | "activation" | "view"
  std::string dtype;           // "f32", "f16", "i32", ...
  Shape shape;
  std::optional<std::string> name;  // ggml callback name ("attn_norm-0"), for dumps
  std::string view_of;         // kind == "view": the viewed tensor
  int64_t view_offset = 0;     // bytes from the start of view_of
  std::vector<int64_t> view_strides;  // bytes per step of each dim (row-major); empty = contiguous
  std::string role;            // kind == "input": what the runtime writes there (see ir1.md)
  json role_params;            // parameters of that role (null if none)
};

struct WeightArg {
  std::string role;   // "w", "b", ...
  std::string name;   // tensor name in the weights manifest / bump
};

struct Op {
  std::string id;          // stable: "blk.3.attn_norm"
  std::string op;          // graph op ("rms_norm")
  std::string kernel;      // catalogue id
  std::string section;     // header | body | branch | footer
  int layer = -1;
  std::optional<std::string> name;  // ggml callback name of the output
  std::vector<std::string> in;      // tensor ids (activations, inputs, views, state)
  std::vector<WeightArg> weights;
  std::string out;                  // tensor id written (a new activation, or an input/state written into)
  json params;                      // evaluated scalars (numbers, bools, number lists, symbol names)
  std::string when_input;           // non-empty: run only when the runtime fed this input (e.g. "tokens")
};

struct Weight {
  std::string name, dtype;
  std::vector<int64_t> shape;  // row-major
  uint64_t offset = 0, nbytes = 0;
};

struct Ir1 {
  json source;          // {"manifest": ..., "sha256": ..., "bump": ...} as read from the manifest
  std::string arch, template_name, mode;
  std::vector<Symbol> symbols;
  std::vector<Weight> weights;
  std::vector<Tensor> tensors;
  std::vector<Op> ops;
  std::vector<std::string> outputs;  // tensor ids the runtime reads after the last op
  json contracts;                    // carried through from the manifest/template untouched
};

json dim_to_json(const Dim& d);
json shape_to_json(const Shape& s);
Shape shape_from_json(const json& j, const std::string& where);

json ir1_to_json(const Ir1& ir);
Ir1 ir1_from_json(const json& j, const std::string& where);  // checks format "ck.ir1" and version 2

const Tensor* find_tensor(const Ir1& ir, const std::string& id);
// Bytes of a tensor at its worst case (symbols at their max). Throws for block-quantized dtypes it cannot size.
uint64_t worst_case_bytes(const Tensor& t);
uint64_t dtype_elem_bytes(const std::string& dtype, const std::string& where);

}  // namespace ck::graph
