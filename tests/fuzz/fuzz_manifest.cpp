// weights_manifest.json reader (lib/lower parse_manifest) and lowering with the template the manifest selects
// (templates/ of the source tree): ck-lower on a mutated manifest. Structure-aware (fuzz_common.h).
#include <string>

#include "fuzz_common.h"
#include "graph/json_io.h"
#include "lower/lower.h"

CK_FUZZ_JSON_MUTATOR

CK_FUZZ_TARGET(manifest) {
  using ck::graph::json;
  const json doc = json::parse(data, data + size, nullptr, false);
  if (doc.is_discarded()) return 0;  // not JSON: graph::read_json's one-line error, nothing further to reach
  static const std::string tdir = std::string(ck::fuzz::source_dir()) + "/templates";
  ck::fuzz::guarded([&] {
    const auto m = ck::lower::parse_manifest(doc, "fuzz.json");
    const std::string tpath = ck::lower::select_template(m, tdir);
    static std::string last_path;
    static json last;
    if (tpath != last_path) {
      last = ck::graph::read_json(tpath);
      last_path = tpath;
    }
    (void)ck::lower::lower(m, last, tpath, {});
  });
  return 0;
}
