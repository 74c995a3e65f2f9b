#include "synth/synth.h"

#include <chrono>
#include <filesystem>
#include <algorithm>

#include "core/error.h"
#include "core/thread_pool.h"
#include "synth/chat_template.h"
#include "synth/quantize.h"
#include "synth/random.h"

namespace ck::synth {

namespace fs = std::filesystem;

std::string output_name(const std::string& preset, const std::string& kind, DType type) {
  return preset + "-" + kind + "-" + dtype_name(type) + ".gguf";
}

void fill_tensor(const TensorPlan& plan, uint64_t seed, std::span<uint8_t> out, int ith, int nth) {
  uint64_t n = 1;
  for (int64_t d : plan.ne) n *= static_cast<uint64_t>(d);
  if (out.size() != encoded_bytes(plan.type, n))
    throw Error("synth: tensor '" + plan.name + "': buffer of " + std::to_string(out.size()) + " bytes, need " +
                std::to_string(encoded_bytes(plan.type, n)));
  const uint64_t key = tensor_key(seed, plan.name);
  const NormalParams normal = NormalParams::make(plan.mean, plan.std);
  const uint64_t n_chunks = (n + kChunk - 1) / kChunk;
  std::vector<float> buf(static_cast<size_t>(std::min<uint64_t>(n, kChunk)));
  for (uint64_t c = static_cast<uint64_t>(ith); c < n_chunks; c += static_cast<uint64_t>(nth)) {
    const uint64_t begin = c * kChunk;
    const uint64_t len = std::min<uint64_t>(kChunk, n - begin);
    SplitMix64 rng = chunk_stream(key, c);
    for (uint64_t i = 0; i < len; ++i) buf[i] = normal(rng.next());
    encode(plan.type, std::span<const float>(buf.data(), static_cast<size_t>(len)),
           out.data() + encoded_bytes(plan.type, begin));
  }
}

void add_random_tensors(gguf::Writer& w, const std::vector<TensorPlan>& plans, uint64_t seed, ThreadPool& pool_ref) {
  for (const auto& plan : plans) {
    ThreadPool* pool = &pool_ref;
    w.add_tensor(plan.name, plan.type, plan.ne, [plan, seed, pool](std::span<uint8_t> out) {
      pool->run([&](int ith, int nth) { fill_tensor(plan, seed, out, ith, nth); });
    });
  }
}

namespace {

const char* chat_template_of(const std::string& name) {
  if (name == "instruct") return qwen3vl_chat_template();
  if (name == "thinking") return qwen3vl_thinking_chat_template();
  throw Error("--chat-template '" + name + "': use instruct or thinking");
}

Written write_file(const std::string& path, const std::vector<gguf::KeyValue>& kvs,
                   const std::vector<TensorPlan>& plans, uint64_t seed, ThreadPool& pool) {
  const auto t0 = std::chrono::steady_clock::now();
  gguf::Writer w;
  for (const auto& kv : kvs) w.set(kv.key, kv.value);
  add_random_tensors(w, plans, seed, pool);
  w.write(path);
  Written r;
  r.path = path;
  r.bytes = fs::file_size(path);
  r.n_tensors = plans.size();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

void check_type(DType t, const char* what) {
  if (!is_weight_type(t))
    throw Error(std::string(what) + ": unsupported type '" + dtype_name(t) + "' (use f32, f16, bf16 or q8_0)");
}

}  // namespace

std::vector<Written> generate(const Options& opt) {
  const Preset p = with_depth(preset(opt.preset), opt.layers, opt.vision_layers);
  check_preset(p);
  check_type(opt.mmproj_type, "--mmproj-type");
  check_type(opt.text_type, "--text-type");
  if (opt.out_dir.empty()) throw Error("no output directory given");
  if (!opt.write_mmproj && !opt.write_text) throw Error("nothing to write");
  // The vocabulary first: a missing tokenizer must fail before any file is written.
  Vocab voc;
  if (opt.write_text) {
    if (opt.tokenizer.empty()) throw Error("no tokenizer.json given (--tokenizer FILE or $CK_DEPS_DIR)");
    voc = load_qwen_vocab(opt.tokenizer, p.n_vocab);
  }
  std::error_code ec;
  fs::create_directories(opt.out_dir, ec);
  if (ec || !fs::is_directory(opt.out_dir)) fail(opt.out_dir, "cannot create output directory");
  ThreadPool pool(opt.threads > 0 ? opt.threads : ThreadPool::physical_cores());
  std::vector<Written> out;
  if (opt.write_mmproj) {
    const std::string path = (fs::path(opt.out_dir) / output_name(p.name, "mmproj", opt.mmproj_type)).string();
    out.push_back(write_file(path, mmproj_kvs(p, opt.mmproj_type, opt.seed), mmproj_tensors(p, opt.mmproj_type),
                             opt.seed, pool));
  }
  if (opt.write_text) {
    const std::string path = (fs::path(opt.out_dir) / output_name(p.name, "text", opt.text_type)).string();
    out.push_back(write_file(path, text_kvs(p, opt.text_type, opt.seed, voc, chat_template_of(opt.chat_template)),
                             text_tensors(p, opt.text_type, static_cast<int>(voc.tokens.size())), opt.seed, pool));
  }
  return out;
}

}  // namespace ck::synth
