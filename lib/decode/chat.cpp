// Mirrors llama.cpp b10256 src/llama-chat.cpp (llm_chat_detect_template, llm_chat_apply_template) and
// tools/mtmd/mtmd-cli.cpp (marker appended to the prompt) with the strings taken from data.
#include "decode/chat.h"

#include <cstdint>

#include "core/error.h"

namespace ck::decode {
namespace {

const char kBuiltinFormats[] =
#include "decode/chat_formats.inc"
    ;

std::string str_at(const nlohmann::ordered_json& j, const char* key, const std::string& source) {
  if (!j.contains(key) || !j[key].is_string()) ck::fail(source, std::string("missing string \"") + key + "\"");
  return j[key].get<std::string>();
}

// A token id: an integer that fits int32 (get<int32_t>() would wrap a larger one, or convert a double with
// undefined behaviour).
int32_t int32_of(const nlohmann::ordered_json& v, const char* key, const std::string& source) {
  if (!v.is_number_integer() || v.get<int64_t>() < INT32_MIN || v.get<int64_t>() > INT32_MAX ||
      (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT32_MAX)))
    ck::fail(source, std::string("chat.") + key + " is not a 32-bit integer");
  return static_cast<int32_t>(v.get<int64_t>());
}

std::optional<int32_t> opt_id(const nlohmann::ordered_json& j, const char* key, const std::string& source) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  return int32_of(j[key], key, source);
}

// A member of another type threw nlohmann's type_error from value() / get<>() (read while writing ck_fuzz_call).
std::string opt_string(const nlohmann::ordered_json& j, const char* key, const std::string& source) {
  if (!j.contains(key)) return {};
  if (!j[key].is_string()) ck::fail(source, std::string("chat.") + key + " is not a string");
  return j[key].get<std::string>();
}

}  // namespace

ChatFormats ChatFormats::parse(const nlohmann::ordered_json& j, const std::string& source) {
  if (j.value("format", "") != "ck.chat_formats" || j.value("version", 0) != 1)
    ck::fail(source, "not a ck.chat_formats version 1 document");
  ChatFormats f;
  f.default_template = str_at(j, "default_template", source);
  f.media_marker = str_at(j, "media_marker", source);
  if (f.media_marker.empty()) ck::fail(source, "empty media_marker");
  auto read = [&](const nlohmann::ordered_json& list, bool jinja, std::vector<ChatFormat>& out,
                  std::vector<std::vector<std::string>>& detect) {
    for (const auto& e : list) {
      ChatFormat cf;
      cf.name = str_at(e, "name", source);
      cf.supported = jinja || e.value("supported", false);
      if (cf.supported) {
        const auto& m = e.at("message");
        cf.msg_prefix = str_at(m, "prefix", source);
        cf.msg_role_suffix = str_at(m, "role_suffix", source);
        cf.msg_suffix = str_at(m, "suffix", source);
        cf.generation_prompt = str_at(e, "generation_prompt", source);
      }
      if (e.contains("thinking")) {
        cf.thinking_start = str_at(e["thinking"], "start", source);
        cf.thinking_end = str_at(e["thinking"], "end", source);
      }
      std::vector<std::string> all;
      for (const auto& s : e.at("detect").at("contains_all")) all.push_back(s.get<std::string>());
      if (all.empty()) ck::fail(source, "format " + cf.name + ": empty detect.contains_all");
      out.push_back(std::move(cf));
      detect.push_back(std::move(all));
    }
  };
  read(j.at("formats"), false, f.formats, f.contains_all);
  if (j.contains("jinja")) read(j["jinja"].at("formats"), true, f.jinja_formats, f.jinja_contains_all);
  return f;
}

const ChatFormats& ChatFormats::builtin() {
  static const ChatFormats f = parse(nlohmann::ordered_json::parse(kBuiltinFormats), "chat_formats.json");
  return f;
}

const ChatFormat* ChatFormats::detect(const std::string& tmpl) const {
  for (const auto& cf : formats)
    if (cf.name == tmpl) return &cf;  // llm_chat_template_from_str
  for (size_t i = 0; i < formats.size(); ++i) {
    bool all = true;
    for (const auto& s : contains_all[i]) all = all && tmpl.find(s) != std::string::npos;
    if (all) return &formats[i];
  }
  return nullptr;
}

const ChatFormat* ChatFormats::detect_jinja(const std::string& tmpl) const {
  for (size_t i = 0; i < jinja_formats.size(); ++i) {
    bool all = true;
    for (const auto& s : jinja_contains_all[i]) all = all && tmpl.find(s) != std::string::npos;
    if (all) return &jinja_formats[i];
  }
  return nullptr;
}

ChatContract ChatContract::from_json(const nlohmann::ordered_json& chat, const std::string& source) {
  if (!chat.is_object()) ck::fail(source, "no chat contract (contracts.chat)");
  ChatContract c;
  if (chat.contains("chat_template") && chat["chat_template"].is_string())
    c.chat_template = chat["chat_template"].get<std::string>();
  c.image_begin = opt_string(chat, "image_begin", source);
  c.image_end = opt_string(chat, "image_end", source);
  c.image_begin_id = opt_id(chat, "image_begin_id", source);
  c.image_end_id = opt_id(chat, "image_end_id", source);
  c.bos_id = opt_id(chat, "bos_id", source);
  if (chat.contains("add_bos")) {
    if (!chat["add_bos"].is_boolean()) ck::fail(source, "chat.add_bos is not a boolean");
    c.add_bos = chat["add_bos"].get<bool>();
  }
  if (chat.contains("stop_ids")) {
    if (!chat["stop_ids"].is_array()) ck::fail(source, "chat.stop_ids is not an array");
    for (const auto& v : chat["stop_ids"]) c.stop_ids.push_back(int32_of(v, "stop_ids", source));
  }
  return c;
}

std::string user_content(const std::string& prompt, bool with_image, bool image_first, const ChatFormats& f) {
  return user_content(prompt, with_image ? 1 : 0, image_first, f);
}

std::string user_content(const std::string& prompt, int n_images, bool image_first, const ChatFormats& f) {
  if (n_images <= 0 || prompt.find(f.media_marker) != std::string::npos) return prompt;
  std::string markers;
  for (int k = 0; k < n_images; ++k) markers += f.media_marker;
  return image_first ? markers + prompt : prompt + markers;
}

namespace {
const ChatFormat& chat_format(const ChatContract& c, const ChatFormats& f, const std::string& source) {
  const std::string tmpl = c.chat_template.value_or(f.default_template);
  const ChatFormat* cf = f.detect(tmpl);
  if (!cf) ck::fail(source, "chat template not recognised (as llama_chat_apply_template); use --raw");
  if (!cf->supported)
    ck::fail(source, "chat template format '" + cf->name + "' is not implemented by ck-decode; use --raw");
  return *cf;
}
std::string message_shell(const ChatFormat& cf, const ChatMessage& m) {
  return cf.msg_prefix + m.role + cf.msg_role_suffix + m.content + cf.msg_suffix;
}
}  // namespace

std::string apply_chat_shell(const ChatContract& c, const std::string& content, const ChatFormats& f,
                             const std::string& source) {
  return apply_chat_shell(c, {{"user", content}}, true, f, source);
}

std::string apply_chat_shell(const ChatContract& c, const std::vector<ChatMessage>& messages, bool add_ass,
                             const ChatFormats& f, const std::string& source) {
  const ChatFormat& cf = chat_format(c, f, source);
  std::string s;
  for (const auto& m : messages) s += message_shell(cf, m);
  return add_ass ? s + cf.generation_prompt : s;
}

std::string apply_chat_shell_jinja(const ChatContract& c, const std::vector<ChatMessage>& messages, bool add_ass,
                                   const ChatFormats& f, const std::string& source) {
  if (!c.chat_template) ck::fail(source, "--jinja: the model has no chat template (tokenizer.chat_template)");
  const ChatFormat* cf = f.detect_jinja(*c.chat_template);
  if (!cf) ck::fail(source, "--jinja: chat template not known to ck's jinja shells (chat_formats.json); drop --jinja");
  std::string s;
  for (const auto& m : messages) s += message_shell(*cf, m);
  return add_ass ? s + cf->generation_prompt : s;
}

std::string next_turn_shell(const ChatContract& c, const ChatMessage& message, const ChatFormats& f,
                            const std::string& source) {
  const ChatFormat& cf = chat_format(c, f, source);
  // The earlier conversation's text ends with a message suffix (an assistant reply was appended to the history).
  const bool nl = !cf.msg_suffix.empty() && cf.msg_suffix.back() == '\n';
  return (nl ? "\n" : "") + message_shell(cf, message) + cf.generation_prompt;
}

}  // namespace ck::decode
