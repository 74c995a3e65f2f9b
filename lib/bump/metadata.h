// GGUF metadata -> the bump's metadata JSON (docs/formats/bump.md "Metadata JSON").
// Every GGUF key-value pair is carried, in file order, losslessly and with its GGUF type, so the runtime
// (tokenizer, chat contract) never needs the GGUF again.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "gguf/gguf.h"

namespace ck::bump {

using json = nlohmann::ordered_json;

// {"type": "<gguf type>", "value": ...} (+ "elem_type" for arrays). Encoding rules:
//  - integers and bools as JSON integers/booleans;
//  - f32 as the shortest decimal that reads back as the same float, f64 as the shortest for the double;
//    non-finite floats as the strings "nan", "inf", "-inf";
//  - strings as JSON strings when valid UTF-8, else {"hex": "<bytes>"};
//  - arrays of scalars as plain JSON arrays; arrays of arrays as arrays of typed objects.
json value_to_json(const gguf::Value& v);
// The "kv" object: key -> value_to_json(value), in file order.
json kvs_to_json(const std::vector<gguf::KeyValue>& kvs);

// A float32 as a JSON number that prints as its shortest round-trip decimal ("1e-06", not
// "9.999999974752427e-07"); non-finite values become "nan"/"inf"/"-inf".
json json_float32(float f);

bool is_valid_utf8(const std::string& s);

}  // namespace ck::bump
