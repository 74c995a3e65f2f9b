#include "runtime/profile.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace ck::runtime {

namespace {
std::vector<std::pair<std::string, Profile::Entry>> sorted(const Profile& p) {
  std::vector<std::pair<std::string, Profile::Entry>> v(p.by_kernel.begin(), p.by_kernel.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second.ms > b.second.ms; });
  return v;
}
}  // namespace

void Profile::add(const std::string& kernel, double ms) {
  Entry& e = by_kernel[kernel];
  ++e.calls;
  e.ms += ms;
}

double Profile::total_ms() const {
  double t = 0;
  for (const auto& [k, e] : by_kernel) t += e.ms;
  return t;
}

nlohmann::ordered_json Profile::to_json() const {
  const double total = total_ms();
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const auto& [k, e] : sorted(*this))
    rows.push_back({{"kernel", k}, {"calls", e.calls}, {"ms", e.ms}, {"share", total > 0 ? e.ms / total : 0.0}});
  return rows;
}

std::string Profile::to_table() const {
  const double total = total_ms();
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-44s %7s %11s %7s\n", "kernel", "calls", "ms", "share");
  out += line;
  for (const auto& [k, e] : sorted(*this)) {
    std::snprintf(line, sizeof line, "%-44s %7lld %11.2f %6.1f%%\n", k.c_str(), (long long)e.calls, e.ms,
                  total > 0 ? 100.0 * e.ms / total : 0.0);
    out += line;
  }
  std::snprintf(line, sizeof line, "%-44s %7s %11.2f\n", "total", "", total);
  out += line;
  return out;
}

}  // namespace ck::runtime
