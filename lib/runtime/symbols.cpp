#include "runtime/symbols.h"

#include "core/error.h"

namespace ck::runtime {

std::vector<int64_t> bind_symbols(const Program& p, const std::map<std::string, int64_t>& free_values,
                                  const std::string& what) {
  std::vector<int64_t> v(p.symbols().size(), 0);
  for (size_t i = 0; i < p.symbols().size(); ++i) {
    const SymbolDef& s = p.symbols()[i];
    int64_t x;
    if (s.free()) {
      auto it = free_values.find(s.name);
      if (it == free_values.end()) fail(what, "no value for size '" + s.name + "' (the input does not provide it)");
      x = it->second;
    } else {
      x = 1;
      for (int o : s.of) x *= v[size_t(o)];
      x *= s.mul;
      if (x % s.div) fail(what, "size '" + s.name + "' = " + std::to_string(x) + "/" + std::to_string(s.div) + " is not whole");
      x /= s.div;
    }
    if (x < 0) fail(what, "size '" + s.name + "' is negative");
    if (x > s.max)
      fail(what, "size '" + s.name + "' = " + std::to_string(x) + " exceeds the planned maximum " +
                     std::to_string(s.max) + " (re-plan with ck-layout --bound)");
    v[i] = x;
  }
  return v;
}

std::vector<int64_t> bind_shape(const std::vector<Dim>& s, const std::vector<int64_t>& values) {
  std::vector<int64_t> out;
  out.reserve(s.size());
  for (const auto& d : s) out.push_back(d.sym >= 0 ? values[size_t(d.sym)] : d.value);
  return out;
}

}  // namespace ck::runtime
