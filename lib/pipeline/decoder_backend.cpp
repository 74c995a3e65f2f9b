// The decoder backend over lib/runtime: one Program (call.json of a decoder plan) and one Executor whose arena
// also holds the KV cache (the plan's `state` tensors live at fixed arena offsets, so they persist across
// runs). Per ubatch: bind the size symbols (n_tokens, n_kv, n_outputs, ctx_size), fill the input roles the
// way llama.cpp's llm_graph_input_*::set_input do, run every call, copy out the logits row of result_output.
#include "pipeline/decoder_backend.h"

#include <cstring>
#include <vector>

#include "core/error.h"
#include "dump/writer.h"
#include "runtime/executor.h"
#include "runtime/program.h"

namespace ck::pipeline {

namespace {

namespace rt = ck::runtime;
namespace dc = ck::decode;

class RuntimeBackend final : public dc::DecoderBackend {
 public:
  RuntimeBackend(const dc::ModelInfo& m, const BackendOptions& o) : opt_(o) {
    program_ = rt::Program::load(m.call_json);
    const auto missing = program_->missing_kernels();
    if (!missing.empty()) {
      std::string l;
      for (const auto& k : missing) l += (l.empty() ? "" : ", ") + k;
      throw RuntimeUnavailable("decoder runtime not available: " + m.call_json +
                               ": kernels not implemented in this build: " + l);
    }
    if (program_->outputs().size() != 1) fail(m.call_json, "a decoder plan has exactly one output (the logits)");
    exec_ = std::make_unique<rt::Executor>(*program_, o.threads);
    if (!o.dump_dir.empty()) {
      DumpWriterOptions wo;
      wo.overwrite = true;
      dump_ = std::make_unique<DumpWriter>(o.dump_dir, "ck-decode", wo);
    }
  }
  ~RuntimeBackend() override {
    try {
      if (dump_) dump_->commit();
    } catch (const std::exception&) {
    }
  }

  std::span<const float> run(const dc::UbatchInputs& in) override {
    const rt::Program& p = *program_;
    const std::string what = "ubatch (" + in.phase + ")";
    std::map<std::string, int64_t> free;
    const std::pair<const char*, int64_t> sizes[] = {
        {"n_tokens", in.n_tokens}, {"n_kv", in.n_kv}, {"n_outputs", in.n_outputs}, {"ctx_size", in.ctx_size}};
    for (const auto& [name, v] : sizes)
      if (p.symbol_index(name) >= 0) free[name] = v;
    exec_->bind(free, what);
    if (dump_) dump_->set_phase(in.phase);
    for (const auto& inp : p.inputs()) {
      const rt::View v = exec_->view(inp.t);
      if (!v.contiguous()) fail(p.path(), "input '" + inp.t.tensor + "' is not contiguous");
      const auto put = [&](const void* src, size_t bytes, const char* kind) {
        if (bytes != size_t(v.numel()) * traits(v.dtype).type_size)
          fail(p.path(), "input '" + inp.t.tensor + "' (" + inp.role + ") holds " + std::to_string(v.numel()) +
                             " elements, the ubatch gives " + kind);
        if (bytes) std::memcpy(v.data, src, bytes);
      };
      if (inp.role == "tokens") {
        if (in.type != dc::ChunkType::Text) continue;  // not fed: the token-embedding calls are skipped
        if (v.dtype != DType::I32) fail(p.path(), "tokens input must be I32");
        put(in.tokens.data(), in.tokens.size() * 4, "token ids");
        exec_->fed(inp, dump_.get(), "", {});
      } else if (inp.role == "embeddings") {
        if (in.type != dc::ChunkType::Image) continue;  // text: written by the token-embedding calls
        if (v.dtype != DType::F32 || v.cols() != in.embd_row_width)
          fail(p.path(), "embeddings input '" + inp.t.tensor + "' is not F32 rows of " +
                             std::to_string(in.embd_row_width));
        put(in.embd, size_t(in.n_tokens * in.embd_row_width) * 4, "image rows");
        exec_->fed(inp, dump_.get(), "", {});
      } else if (inp.role == "mrope_positions") {
        put(in.positions.data(), in.positions.size() * 4, "positions");
        exec_->fed(inp, dump_.get(), "", {});
      } else if (inp.role == "kv_slots") {
        put(in.kv_slots.data(), in.kv_slots.size() * 4, "kv slots");
        exec_->fed(inp, dump_.get(), "", {});
      } else if (inp.role == "kq_mask_causal") {
        if (v.dtype != DType::F16) fail(p.path(), "kq_mask input must be F16");
        put(in.kq_mask.data(), in.kq_mask.size() * 2, "mask cells");
        exec_->fed(inp, dump_.get(), "", {});
      } else if (inp.role == "output_rows") {
        put(in.out_ids.data(), in.out_ids.size() * 4, "output rows");
        exec_->fed(inp, dump_.get(), "", {});
      } else {
        fail(p.path(), "input '" + inp.t.tensor + "' has role '" + inp.role + "', which the decoder cannot fill");
      }
    }
    rt::RunOptions ro;
    ro.dump = dump_.get();
    ro.profile = in.phase == "prefill" ? opt_.prefill_profile : opt_.decode_profile;
    exec_->run(ro);
    if (in.n_outputs <= 0) return {};
    const rt::View out = exec_->view(p.outputs()[0]);
    // The logits of the output rows (n_outputs x n_vocab, in out_ids order); copied because the arena region is
    // reused by the next run.
    const float* rows = out.ptr<const float>();
    logits_.assign(rows, rows + in.n_outputs * out.cols());
    return logits_;
  }

 private:
  BackendOptions opt_;
  std::unique_ptr<rt::Program> program_;
  std::unique_ptr<rt::Executor> exec_;
  std::unique_ptr<DumpWriter> dump_;
  std::vector<float> logits_;
};

}  // namespace

std::unique_ptr<ck::decode::DecoderBackend> make_runtime_backend(const ck::decode::ModelInfo& m,
                                                                 const BackendOptions& o) {
  return std::make_unique<RuntimeBackend>(m, o);
}

}  // namespace ck::pipeline
