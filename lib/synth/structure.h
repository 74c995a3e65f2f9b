// The structure of a GGUF file as JSON (format "ck.synth-structure", docs/formats/synth-structure.md):
// every metadata key with its type and value (long strings and arrays as length + sha256 of their GGUF
// payload bytes) and the tensor table (name, type, ne, offset), but no tensor data. Used to check that
// ck-synth writes what synth_qwen3vl.py / llama.cpp's converter write (tests/fixtures/synth/).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gguf/gguf.h"

namespace ck::synth {

inline constexpr const char* kStructureFormat = "ck.synth-structure";
inline constexpr int kStructureVersion = 1;

nlohmann::ordered_json describe(const gguf::Reader& r);
// A .gguf file is described; any other file is read as a ck.synth-structure JSON (format/version checked).
nlohmann::ordered_json load_structure(const std::string& path);

// Differences of `actual` from `expected`, one line each ("kv general.file_type: type u32 vs i32", ...);
// empty if equal. Keys listed in `ignore_values` must exist on both sides with the same type only.
std::vector<std::string> diff_structure(const nlohmann::ordered_json& expected, const nlohmann::ordered_json& actual,
                                        const std::vector<std::string>& ignore_values = {});

}  // namespace ck::synth
