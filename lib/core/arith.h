// The arithmetic core of ck's two template expression languages — the infix text of graph shapes and params
// (lib/graph/expr: "n_embd*4", "rsqrt(d_head)") and the JSON operators of contract sections (lib/manifest/expr:
// {"div": ["n_embd", "n_head"]}). One set of rules for both:
//   - integers are 64-bit and stay integers; any float operand makes the result a double;
//   - integer overflow is an error;
//   - division has one rule: an integer division must be exact (every division the ggml callers do on these
//     numbers divides: n_embd / n_head, patches / merge), a float one must not divide by zero; anything else
//     is an error, never a silently truncated or infinite value.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>

namespace ck::arith {

struct Number {
  bool is_float = false;
  int64_t i = 0;
  double f = 0;
  double as_double() const { return is_float ? f : double(i); }
  static Number of_int(int64_t v) { return {false, v, 0}; }
  static Number of_float(double v) { return {true, 0, v}; }
};

enum class Op { Add, Sub, Mul, Div, Min, Max };

// What went wrong, without context: each language prefixes its own (file, section, expression).
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// a op b under the rules above. Throws arith::Error.
Number apply(Op op, Number a, Number b);
Number negate(Number a);

}  // namespace ck::arith
