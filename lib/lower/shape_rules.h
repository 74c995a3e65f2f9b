// Output shapes of the graph op vocabulary (what each ggml op does to shapes), used to infer and to check
// template shapes. Generic op semantics, no model knowledge. Mismatches are "shape mismatch" errors.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/ir1.h"

namespace ck::lower {

bool same_dim(const graph::Dim& a, const graph::Dim& b);
bool same_shape(const graph::Shape& a, const graph::Shape& b);

// `ins` = activation inputs, `ws` = bound weights (row-major shapes). When the template gives an explicit
// shape it wins, but it is checked against the rule where the rule is defined. `params` = the op's evaluated
// parameters (argsort_top_k reads k there).
graph::Shape infer_shape(const std::string& op, const std::vector<const graph::Tensor*>& ins,
                         const std::vector<const graph::Weight*>& ws, const std::optional<graph::Shape>& explicit_shape,
                         const std::string& model_path, const std::string& where,
                         const nlohmann::ordered_json* params = nullptr);

}  // namespace ck::lower
