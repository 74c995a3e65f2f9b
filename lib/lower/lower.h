// ck-lower's library: a weights manifest + a template -> ir1 (docs/formats/ir1.md, docs/formats/template.md).
// Expands the header / body (repeated per layer) / branches / footer, binds every weight by name, checks
// coverage both ways and shapes, and picks each op's kernel from the catalogue by
// (op, weight dtype, activation dtype, mode). Every failure is a ck::Error with one line.
#pragma once
#include <string>

#include "graph/ir1.h"
#include "manifest/manifest_read.h"
#include "registry/catalogue.h"

namespace ck::lower {

using graph::json;

// The manifest is read by its owner, lib/manifest (manifest/manifest_read.h: read_manifest,
// manifest_template_path).
using manifest::Manifest;

struct Options {
  registry::Mode mode = registry::Mode::Strict;
};

graph::Ir1 lower(const Manifest& m, const json& tmpl, const std::string& template_path, const Options& opt);

}  // namespace ck::lower
