#include "core/arith.h"

#include <algorithm>

namespace ck::arith {

Number apply(Op op, Number a, Number b) {
  if (!a.is_float && !b.is_float) {
    int64_t r = 0;
    bool overflow = false;
    switch (op) {
      case Op::Add: overflow = __builtin_add_overflow(a.i, b.i, &r); break;
      case Op::Sub: overflow = __builtin_sub_overflow(a.i, b.i, &r); break;
      case Op::Mul: overflow = __builtin_mul_overflow(a.i, b.i, &r); break;
      case Op::Min: return Number::of_int(std::min(a.i, b.i));
      case Op::Max: return Number::of_int(std::max(a.i, b.i));
      case Op::Div:
        if (b.i == 0) throw Error("division by zero");
        if (b.i == -1 && a.i == INT64_MIN) throw Error("integer overflow");
        if (a.i % b.i != 0) throw Error(std::to_string(a.i) + " is not divisible by " + std::to_string(b.i));
        return Number::of_int(a.i / b.i);
    }
    if (overflow) throw Error("integer overflow");
    return Number::of_int(r);
  }
  const double x = a.as_double(), y = b.as_double();
  switch (op) {
    case Op::Add: return Number::of_float(x + y);
    case Op::Sub: return Number::of_float(x - y);
    case Op::Mul: return Number::of_float(x * y);
    case Op::Min: return Number::of_float(std::min(x, y));
    case Op::Max: return Number::of_float(std::max(x, y));
    case Op::Div:
      if (y == 0) throw Error("division by zero");
      return Number::of_float(x / y);
  }
  return Number::of_float(0);  // unreachable
}

Number negate(Number a) {
  if (a.is_float) return Number::of_float(-a.f);
  if (a.i == INT64_MIN) throw Error("integer overflow");
  return Number::of_int(-a.i);
}

}  // namespace ck::arith
