// Binding the symbolic sizes of a plan to one input: free symbols (grid_w, grid_h, n_tokens, ...) are set by
// the input fillers, derived ones follow from their definition (product / of, mul, div — divisions must be
// exact), and every value must lie in [0, planned max]. No re-planning: the arena was sized for the max.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/program.h"

namespace ck::runtime {

// `free_values`: name -> value for every free symbol. Returns values indexed like Program::symbols().
// Throws ck::Error ("<what>: ...") for a missing free symbol, an inexact division or a value above max.
std::vector<int64_t> bind_symbols(const Program& p, const std::map<std::string, int64_t>& free_values,
                                  const std::string& what);

// A planned shape with symbols replaced by their bound values.
std::vector<int64_t> bind_shape(const std::vector<Dim>& s, const std::vector<int64_t>& values);

}  // namespace ck::runtime
