// Not wired yet: lib/runtime (Program, kernel table) is being written and has no executor API to bind the
// per-ubatch inputs (decode/session.h UbatchInputs -> the template's input roles) and the persistent KV state.
// Until it does, ck-decode stops here with a clear message instead of pretending to decode.
#include "runtime_backend.h"

namespace ck::decode_cli {

std::unique_ptr<ck::decode::DecoderBackend> make_runtime_backend(const ck::decode::ModelInfo& m,
                                                                 const BackendOptions&) {
  throw RuntimeUnavailable("decoder runtime not available: this build of ck-decode has no executor for " +
                           m.call_json + " (lib/runtime); --plan and --tokenize work without it");
}

}  // namespace ck::decode_cli
