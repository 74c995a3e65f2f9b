// The small expression language of template contract sections (docs/formats/weights_manifest.md "Expressions").
// Expressions are JSON, never code text:
//   number / true / false / null      the literal itself
//   "name"                            the value of an already-resolved parameter
//   [e, ...]                          a list of evaluated elements
//   {"lit": <json>}                   <json> as-is (e.g. a literal string)
//   {"add"|"mul"|"min"|"max": [e, e, ...]}, {"sub"|"div": [a, b]}   core/arith.h, shared with the graph
//                                     language: integer math when all operands are integers (an integer
//                                     div must be exact, overflow is an error), else double
//   {"eq"|"ne"|"lt"|"le"|"gt"|"ge": [a, b]}, {"and"|"or": [...]}, {"not": e}
//   {"if": [cond, then, else]}        lazy
//   {"coalesce": [e, ...]}            first non-null
//   {"len": e}, {"first": e}, {"index": [arr, i]}
//   {"union": [e, ...]}               sorted set of the integers in the operands (nulls skipped)
//   {"tensor_exists": "name"}         whether the GGUF has that tensor
//   {"tensor_ne": {"tensor": "name", "dim": d}}      a tensor dimension (error if the tensor is missing)
//   {"tensor_indices": {"pattern": "v.deepstack.%d.fc1.weight", "count": e}}
//                                     the i in [0, count) for which the tensor exists
//   {"gguf_len": "key"}               length of a GGUF array (null if absent); %s = general.architecture
//   {"vocab_ids": {"key": "tokenizer.ggml.tokens", "texts": ["<|im_end|>", ...]}}
//                                     sorted ids of the tokens with these texts (last id wins for duplicate
//                                     texts, like llama-vocab's token_to_id map)
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "gguf/gguf.h"

namespace ck::manifest {

using json = nlohmann::ordered_json;

struct EvalContext {
  const gguf::Reader& gguf;
  std::string arch;                    // general.architecture, for %s in keys ("" if absent)
  std::string template_path;           // for errors in the template itself
  std::string where;                   // "config.n_embd_inp", for error messages
  std::map<std::string, json> values;  // resolved parameters, all sections share one namespace
  std::unordered_map<std::string, std::unordered_map<std::string, int64_t>> vocab_cache;

  [[noreturn]] void template_error(const std::string& what) const;  // "<template>: <where>: <what>"
  [[noreturn]] void model_error(const std::string& what) const;     // "<gguf>: <what> (<template>, <where>)"
  std::string key(const std::string& pattern) const;               // replaces %s with arch
};

json eval(const json& expr, EvalContext& ctx);
bool truthy(const json& v);

}  // namespace ck::manifest
