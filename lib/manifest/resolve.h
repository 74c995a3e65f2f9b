// Generic resolver of a template's contract sections ("config", "preprocess", "chat", "tokenizer", "bridge"):
// each section maps output names to parameter specs (GGUF key, type, required, default, derived value,
// checks; docs/formats/weights_manifest.md "Template contract sections"). Nothing here knows a model family: all of it is template data.
#pragma once
#include <nlohmann/json.hpp>

#include "gguf/gguf.h"
#include "manifest/template_select.h"

namespace ck::manifest {

// Sections in resolution order. Later sections may refer to names of earlier ones.
inline constexpr const char* kContractSections[] = {"config", "preprocess", "tokenizer", "chat", "bridge"};

// Returns {"config": {...}, "preprocess": {...}, ...} for the sections the template has.
// Errors: ck::Error "<gguf>: missing required key K (template T, config.name)" for model problems,
// "<template>: config.name: ..." for template problems.
json resolve_contract(const TemplateRef& tmpl, const gguf::Reader& gguf);

}  // namespace ck::manifest
