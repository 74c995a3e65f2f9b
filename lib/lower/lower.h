// ck-lower's library: a weights manifest + a template -> ir1 (docs/formats/ir1.md, docs/formats/template.md).
// Expands the header / body (repeated per layer) / branches / footer, binds every weight by name, checks
// coverage both ways and shapes, and picks each op's kernel from the catalogue by
// (op, weight dtype, activation dtype, mode). Every failure is a ck::Error with one line.
#pragma once
#include <string>

#include "graph/ir1.h"
#include "registry/catalogue.h"

namespace ck::lower {

using graph::json;

struct Manifest {
  std::string path;   // for messages
  json doc;           // the whole manifest
  std::string arch;
  json config;        // name -> value
  std::vector<graph::Weight> tensors;
};

// Reads a weights manifest (format "ck.weights_manifest"; see docs/formats/weights_manifest.md).
Manifest parse_manifest(const json& doc, const std::string& path);

// The template file for a manifest: its "template.file" if present, else the first templates/index.json
// entry whose "equals" is the manifest's arch. Returns the path.
std::string select_template(const Manifest& m, const std::string& templates_dir);

struct Options {
  registry::Mode mode = registry::Mode::Strict;
};

graph::Ir1 lower(const Manifest& m, const json& tmpl, const std::string& template_path, const Options& opt);

}  // namespace ck::lower
