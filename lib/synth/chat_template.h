// Chat template written into synthetic Qwen3-VL text GGUFs (tokenizer.chat_template).
#pragma once

namespace ck::synth {

const char* qwen3vl_chat_template();           // Qwen3-VL-*-Instruct
const char* qwen3vl_thinking_chat_template();  // Qwen3-VL-*-Thinking

}  // namespace ck::synth
