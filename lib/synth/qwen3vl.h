// What a synthetic Qwen3-VL GGUF pair contains: tensor names, shapes, dtypes and metadata exactly as
// llama.cpp b10256's convert_hf_to_gguf.py writes them for Qwen3-VL (Qwen3VLVisionModel -> mmproj,
// Qwen3VLTextModel -> text), mirroring synth_qwen3vl.py (mmproj_tensors/mmproj_kvs/text_tensors/text_kvs).
// Layouts: research digests llamacpp-qwen3vl-encoder.md §A and llamacpp-qwen3vl-decoder.md §A.
//
// dtype rules of the converter (ModelBase.prepare_tensors + MmprojModel.tensor_force_quant):
//  - 1-D tensors (norms, biases) and v.position_embd.weight (V_ENC_EMBD_POS) are always F32;
//  - v.patch_embd.weight(.1) is F16 if the output type is F16, else F32 (also for BF16 and Q8_0);
//  - every other 2-D weight takes the output type; Q8_0 falls back to F16 when ne[0] % 32 != 0 (gguf-py
//    QuantError fallback; never the case for these presets).
// Known difference to synth_qwen3vl.py: for a Q8_0 mmproj the python writes the patch embedding as F16;
// the converter (and ck-synth) writes F32.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "gguf/gguf.h"
#include "synth/preset.h"
#include "synth/vocab.h"

namespace ck::synth {

// One tensor to generate: values ~ N(mean, std) (Irwin-Hall approximation, random.h).
struct TensorPlan {
  std::string name;
  DType type;
  std::vector<int64_t> ne;  // ggml order, ne[0] fastest
  float mean, std;
};

// The output types ck-synth accepts for the 2-D weights of a file.
bool is_weight_type(DType t);
// llama_ftype written as general.file_type for an output type (ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q8_0 7,
// MOSTLY_BF16 32).
uint32_t file_type_of(DType t);

std::vector<TensorPlan> mmproj_tensors(const Preset& p, DType wtype);
std::vector<gguf::KeyValue> mmproj_kvs(const Preset& p, DType wtype, uint64_t seed);
std::vector<TensorPlan> text_tensors(const Preset& p, DType wtype, int n_vocab);
std::vector<gguf::KeyValue> text_kvs(const Preset& p, DType wtype, uint64_t seed, const Vocab& voc,
                                     const char* chat_template);

}  // namespace ck::synth
