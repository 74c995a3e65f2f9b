// Template arithmetic: the small, closed expression language of template parameters and shapes
// ("n_embd*4", "(layer+1)*n_embd", "rsqrt(d_head)"). Arithmetic is core/arith.h's (integers stay 64-bit,
// '/' must divide exactly, any float operand makes a double), except rsqrt which is computed in float as
// the ggml callers do: 1.0f/sqrtf((float)d)). Names are resolved by the caller (config keys, symbols, "layer").
// This language exists only in templates: ir1/call.json carry evaluated numbers and symbol names, never text.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/arith.h"

namespace ck::graph {

using arith::Number;  // the shared arithmetic core (core/arith.h): one division rule for both languages

// Resolves a name; nullopt = unknown (the evaluator then throws "unknown config key '<name>'").
using NameResolver = std::function<std::optional<Number>(const std::string&)>;

// Evaluates `text`; throws ck::Error("<where>: ...") on syntax errors, unknown names, inexact division.
Number eval_expr(const std::string& text, const NameResolver& resolve, const std::string& where);
int64_t eval_int(const std::string& text, const NameResolver& resolve, const std::string& where);

// True if `text` is a bare identifier (a symbol or key name, no arithmetic).
bool is_identifier(const std::string& text);

}  // namespace ck::graph
