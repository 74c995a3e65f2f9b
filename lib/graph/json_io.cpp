#include "graph/json_io.h"

#include <fstream>
#include <iostream>
#include <iterator>

#include "core/error.h"

namespace ck::graph {

nlohmann::ordered_json read_json(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream f(path, std::ios::binary);
    if (!f) fail(path, "cannot open");
    text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  const std::string name = path == "-" ? "<stdin>" : path;
  if (text.empty()) fail(name, "empty input");
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const std::exception& e) {
    std::string w = e.what();
    fail(name, "malformed JSON: " + w.substr(0, w.find('\n')));
  }
}

}  // namespace ck::graph
