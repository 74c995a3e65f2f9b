// The decoder backend over lib/runtime (the executor over call.json + layout.json + bump): what the Decoder
// (pipeline/decoder.h) runs each ubatch on. Moved from tools/ck-decode.
#pragma once
#include <memory>
#include <string>

#include "decode/model_info.h"
#include "decode/session.h"
#include "runtime/profile.h"

namespace ck::pipeline {

struct BackendOptions {
  int threads = 0;
  std::string dump_dir;  // empty: no dumps
  // Per-kernel wall time (runtime/profile.h), split by phase: prompt ubatches / generation steps.
  ck::runtime::Profile* prefill_profile = nullptr;
  ck::runtime::Profile* decode_profile = nullptr;
};

// Throws RuntimeUnavailable when the plan names kernels this build does not have.
struct RuntimeUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};
std::unique_ptr<ck::decode::DecoderBackend> make_runtime_backend(const ck::decode::ModelInfo& m,
                                                                 const BackendOptions& o);

}  // namespace ck::pipeline
