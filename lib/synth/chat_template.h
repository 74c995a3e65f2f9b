// Chat template written into synthetic Qwen3-VL text GGUFs (tokenizer.chat_template).
#pragma once

namespace ck::synth {

const char* qwen3vl_chat_template();

}  // namespace ck::synth
