// weights_manifest.json through its one reader (lib/manifest read_manifest, manifest_template_path) and the
// lowering ck-lower runs on it (lib/pipeline lower_manifest: the template the manifest names, from templates/
// of the source tree, on a stream, as `ck-convert ... | ck-lower`). Structure-aware (fuzz_common.h).
#include <string>

#include "fuzz_common.h"
#include "graph/json_io.h"
#include "pipeline/steps.h"

CK_FUZZ_JSON_MUTATOR

CK_FUZZ_TARGET(manifest) {
  using ck::graph::json;
  const json doc = json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded()) return 0;  // not JSON: graph::read_json's one-line error, nothing further to reach
  static const std::string tdir = std::string(ck::fuzz::source_dir()) + "/templates";
  ck::fuzz::guarded([&] {
    (void)ck::pipeline::lower_manifest(doc, "-", "-", tdir, "", ck::registry::Mode::Strict);
  });
  return 0;
}
