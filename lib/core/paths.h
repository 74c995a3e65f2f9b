// Paths that artifacts record (the bump a weights manifest, an ir1 or a call.json refers to).
// One rule for every artifact (docs/formats/weights_manifest.md, ir1.md, call.md): a recorded relative path is
// relative to the artifact's own location — the directory of the file it was written to, or, for an artifact
// written to a stream (stdout, read back from stdin), the working directory, which every process of a pipe
// shares. Absolute paths stay absolute. So a pipe `ck-convert -o plans/enc.bump | ck-lower | ck-layout -o
// plans/enc` records "plans/enc.bump" in the streams and "../enc.bump" in plans/enc/call.json, and a plan
// moved together with its bump keeps working from any directory.
#pragma once
#include <string>

namespace ck {

// `recorded`, read from an artifact at `artifact` ("-" = a stream), as a path usable from the working directory.
std::string path_from_artifact(const std::string& recorded, const std::string& artifact);

// `path` (usable from the working directory) as an artifact written to `artifact` records it: relative to
// the artifact's directory for a file (even when `path` is absolute), unchanged for a stream ("-").
std::string path_for_artifact(const std::string& path, const std::string& artifact);

}  // namespace ck
