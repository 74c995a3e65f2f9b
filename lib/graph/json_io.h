// Reading a JSON document from a file or "-" (stdin) with one-line errors.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace ck::graph {
nlohmann::ordered_json read_json(const std::string& path);  // "-" = stdin
}
