// The chat contract of ck-decode: how a user prompt (plus one image) becomes the text llama-mtmd-cli feeds to
// mtmd_tokenize. Everything model-specific is data: the template text comes from the model (GGUF
// tokenizer.chat_template, carried as contracts.chat.chat_template), the shells from chat_formats.json
// (compiled in), the image markers from contracts.chat.image_begin/image_end. docs/formats/chat.md.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ck::decode {

// One entry of chat_formats.json.
struct ChatFormat {
  std::string name;
  bool supported = false;
  std::string msg_prefix, msg_role_suffix, msg_suffix;  // prefix + role + role_suffix + content + suffix
  std::string generation_prompt;
  std::string thinking_start, thinking_end;  // jinja formats of reasoning models: the tags the prompt opens with
};

struct ChatFormats {
  std::string default_template;  // what llama_chat_apply_template uses for a model without a template
  std::string media_marker;      // mtmd_default_marker()
  std::vector<ChatFormat> formats;
  std::vector<std::vector<std::string>> contains_all;  // detection rule per format
  // The jinja route (common_chat_templates_apply with use_jinja: llama-server's default, llama-mtmd-cli --jinja):
  // the rendering of known model templates, as shells. Detected by substrings of the template, in order.
  std::vector<ChatFormat> jinja_formats;
  std::vector<std::vector<std::string>> jinja_contains_all;

  // The compiled-in table (lib/decode/chat_formats.json).
  static const ChatFormats& builtin();
  static ChatFormats parse(const nlohmann::ordered_json& j, const std::string& source);

  // llm_chat_detect_template: exact format name first, then the substring rules in order. nullptr = unknown.
  const ChatFormat* detect(const std::string& tmpl) const;
  // The jinja rendering of tmpl (first jinja_formats entry whose strings all occur). nullptr = not known to ck.
  const ChatFormat* detect_jinja(const std::string& tmpl) const;
};

// contracts.chat of a call.json / weights_manifest.json (docs/formats/weights_manifest.md).
struct ChatContract {
  std::optional<std::string> chat_template;  // null: model has none -> ChatFormats::default_template
  std::string image_begin, image_end;        // texts tokenized around an image chunk (parse_special)
  std::optional<int32_t> image_begin_id, image_end_id;
  std::optional<int32_t> bos_id;
  bool add_bos = false;
  std::vector<int32_t> stop_ids;  // end-of-generation set

  static ChatContract from_json(const nlohmann::ordered_json& chat, const std::string& source);
};

// llama-mtmd-cli single turn: content = prompt with one media marker appended when it has none (or put first
// with image_first); without an image the prompt is used as is.
std::string user_content(const std::string& prompt, bool with_image, bool image_first, const ChatFormats& f);
// n images: a prompt without any marker gets n markers, appended (mtmd-cli "prompt_content += marker" per loaded
// image) or prepended with image_first; a prompt with markers is used as is (mtmd_tokenize checks the count).
std::string user_content(const std::string& prompt, int n_images, bool image_first, const ChatFormats& f);

// llama_chat_apply_template(tmpl, {"user", content}, add_ass=true). Throws ck::Error(source: ...) for a
// template ck does not know or does not implement.
std::string apply_chat_shell(const ChatContract& c, const std::string& content, const ChatFormats& f,
                             const std::string& source);

// llama_chat_apply_template over several messages ({role, content}, e.g. a system message, then the user's).
struct ChatMessage {
  std::string role, content;
};
std::string apply_chat_shell(const ChatContract& c, const std::vector<ChatMessage>& messages, bool add_ass,
                             const ChatFormats& f, const std::string& source);
// The same conversation through the jinja route (common_chat_templates_apply, use_jinja = true) for a template in
// ChatFormats::jinja_formats (e.g. Qwen3-VL-*-Thinking: the generation prompt opens "<think>\n"). Throws for a
// model without a template or a template ck does not know.
std::string apply_chat_shell_jinja(const ChatContract& c, const std::vector<ChatMessage>& messages, bool add_ass,
                                   const ChatFormats& f, const std::string& source);
// A next turn of a chat whose earlier turns are already in the KV cache, as llama-mtmd-cli's chat mode builds it
// (common_chat_format_single): the formatted conversation with the new message minus the formatted conversation
// before it, plus a "\n" in front when that earlier text ends with one. For a message-by-message shell (chatml)
// this is "\n" + the new message's shell + the generation prompt.
std::string next_turn_shell(const ChatContract& c, const ChatMessage& message, const ChatFormats& f,
                            const std::string& source);

}  // namespace ck::decode
