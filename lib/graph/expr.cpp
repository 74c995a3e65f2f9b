#include "graph/expr.h"

#include <cctype>
#include <cmath>

#include "core/error.h"

namespace ck::graph {
namespace {

struct Parser {
  const std::string& s;
  const NameResolver& resolve;
  const std::string& where;
  size_t p = 0;

  [[noreturn]] void bad(const std::string& what) { fail(where, "expression '" + s + "': " + what); }
  void ws() { while (p < s.size() && std::isspace(static_cast<unsigned char>(s[p]))) ++p; }
  bool eat(char c) {
    ws();
    if (p < s.size() && s[p] == c) { ++p; return true; }
    return false;
  }

  Number binary(char op, Number a, Number b) {
    const arith::Op o = op == '+' ? arith::Op::Add : op == '-' ? arith::Op::Sub : op == '*' ? arith::Op::Mul : arith::Op::Div;
    try {
      return arith::apply(o, a, b);
    } catch (const arith::Error& e) {
      bad(e.what());
    }
  }

  Number expr() {
    Number v = term();
    for (;;) {
      if (eat('+')) v = binary('+', v, term());
      else if (eat('-')) v = binary('-', v, term());
      else return v;
    }
  }
  Number term() {
    Number v = unary();
    for (;;) {
      if (eat('*')) v = binary('*', v, unary());
      else if (eat('/')) v = binary('/', v, unary());
      else return v;
    }
  }
  Number unary() {
    if (eat('-')) {
      Number v = unary();
      try {
        return arith::negate(v);
      } catch (const arith::Error& e) {
        bad(e.what());
      }
    }
    return primary();
  }
  Number primary() {
    ws();
    if (p >= s.size()) bad("unexpected end");
    if (eat('(')) {
      Number v = expr();
      if (!eat(')')) bad("missing ')'");
      return v;
    }
    char c = s[p];
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      size_t start = p;
      bool flt = false;
      while (p < s.size() && (std::isalnum(static_cast<unsigned char>(s[p])) || s[p] == '.' ||
                              ((s[p] == '-' || s[p] == '+') && (s[p - 1] == 'e' || s[p - 1] == 'E')))) {
        if (s[p] == '.' || s[p] == 'e' || s[p] == 'E') flt = true;
        ++p;
      }
      std::string tok = s.substr(start, p - start);
      try {
        size_t used = 0;
        if (flt) {
          double d = std::stod(tok, &used);
          if (used != tok.size()) bad("bad number '" + tok + "'");
          return Number::of_float(d);
        }
        long long v = std::stoll(tok, &used);
        if (used != tok.size()) bad("bad number '" + tok + "'");
        return Number::of_int(v);
      } catch (const std::logic_error&) {
        bad("bad number '" + tok + "'");
      }
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = p;
      while (p < s.size() && (std::isalnum(static_cast<unsigned char>(s[p])) || s[p] == '_' || s[p] == '.')) ++p;
      std::string name = s.substr(start, p - start);
      if (eat('(')) {
        Number a = expr();
        if (!eat(')')) bad("missing ')'");
        if (name == "rsqrt") return Number::of_float(double(1.0f / std::sqrt(float(a.as_double()))));
        if (name == "isqrt") {  // integer square root, exact squares only
          if (a.is_float || a.i < 0) bad("isqrt of a non-integer");
          int64_t r = int64_t(std::llround(std::sqrt(double(a.i))));
          if (r * r != a.i) bad(std::to_string(a.i) + " is not a perfect square");
          return Number::of_int(r);
        }
        bad("unknown function '" + name + "'");
      }
      auto v = resolve(name);
      if (!v) fail(where, "unknown config key '" + name + "'");
      return *v;
    }
    bad(std::string("unexpected '") + c + "'");
  }
};

}  // namespace

Number eval_expr(const std::string& text, const NameResolver& resolve, const std::string& where) {
  Parser P{text, resolve, where};
  Number v = P.expr();
  P.ws();
  if (P.p != text.size()) P.bad("trailing characters");
  return v;
}

int64_t eval_int(const std::string& text, const NameResolver& resolve, const std::string& where) {
  Number v = eval_expr(text, resolve, where);
  if (v.is_float) {
    if (v.f != std::floor(v.f)) fail(where, "expression '" + text + "' is not an integer");
    // int64_t(1e308) is undefined behaviour (ck_fuzz_manifest, UBSan: a config value 1e308)
    if (!(v.f >= -9223372036854775808.0 && v.f < 9223372036854775808.0))
      fail(where, "expression '" + text + "' is outside the 64-bit integer range");
    return int64_t(v.f);
  }
  return v.i;
}

bool is_identifier(const std::string& t) {
  if (t.empty() || !(std::isalpha(static_cast<unsigned char>(t[0])) || t[0] == '_')) return false;
  for (char c : t)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  return true;
}

}  // namespace ck::graph
