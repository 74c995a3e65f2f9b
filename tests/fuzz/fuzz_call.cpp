// call.json (docs/formats/call.md) through its one reader, lib/plan read_call_file, and what loads on top of
// it: lib/runtime Program::load (what ck-encode, ck-decode, ck-bridge and ck-serve run: the bump next to the
// plan, every weight argument checked against it, kernel bindings), lib/decode ModelInfo::load (ck-decode's
// chat contract, input width, planned bounds) and the preprocess contract ck-encode takes from it (lib/image
// contract_from_json on contracts.preprocess). The plan directory is a scratch directory: call.json is the
// input, w.bump a copy of tests/fuzz/corpus/bump/toy.bump (one f32 tensor "w", 2x4), which the seeds name.
// Structure-aware (fuzz_common.h).
#include <filesystem>
#include <fstream>
#include <string>

#include "decode/model_info.h"
#include "fuzz_common.h"
#include "image/contract.h"
#include "plan/call_file.h"
#include "runtime/program.h"

CK_FUZZ_JSON_MUTATOR

CK_FUZZ_TARGET(call) {
  namespace fs = std::filesystem;
  static const std::string dir = [] {
    const std::string d = ck::fuzz::scratch_dir("call");
    fs::copy_file(std::string(ck::fuzz::source_dir()) + "/tests/fuzz/corpus/bump/toy.bump", fs::path(d) / "w.bump",
                  fs::copy_options::overwrite_existing);
    return d;
  }();
  static const std::string call_json = (fs::path(dir) / "call.json").string();
  {
    std::ofstream f(call_json, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!f) std::abort();
  }
  ck::fuzz::guarded([&] {
    const auto cf = ck::plan::read_call_file(dir);
    uint64_t sink = cf.arena_bytes + uint64_t(cf.symbol_max("n_tokens"));
    for (const auto& c : cf.calls) sink += c.ins.size() + c.out.shape.size();
    if (const auto* in = cf.input_by_role("embeddings")) sink += in->t.shape.size();
    ck::fuzz::keep(sink);
    if (cf.contracts.contains("preprocess"))
      ck::fuzz::keep(ck::image::contract_from_json(cf.contracts["preprocess"], cf.path + ": contracts.preprocess"));
  });
  ck::fuzz::guarded([&] {
    const auto p = ck::runtime::Program::load(dir);
    ck::fuzz::keep(p->missing_kernels());
  });
  ck::fuzz::guarded([&] { ck::fuzz::keep(ck::decode::ModelInfo::load(dir)); });
  return 0;
}
