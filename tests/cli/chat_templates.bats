#!/usr/bin/env bats
# The chat contract of the Qwen3-VL Instruct and Thinking templates vs the pinned oracle's own rendering
# (tests/fixtures/chat/renderings.json, made by tests/parity/chat/regen.py with ref_chat = common_chat_templates_apply
# and ref_decode): ck-decode --plan (legacy route, llama-mtmd-cli's default) and ck-decode --plan --jinja (the jinja
# route: llama-server, llama-mtmd-cli --jinja) must give the oracle's prompt text, byte for byte.

bats_require_minimum_version 1.5.0

setup_file() {
  TOK="${CK_DEPS_DIR:-}/qwen3-tokenizer/tokenizer.json"
  [ -f "$TOK" ] || return 0
  D="$BATS_FILE_TMPDIR"
  for v in instruct thinking; do
    "$CK_BIN/ck-synth" --preset tiny --only text --text-type f16 --chat-template "$v" -q -o "$D/$v"
    "$CK_BIN/ck-convert" "$D/$v/tiny-text-f16.gguf" -o "$D/$v/m.bump" 2>/dev/null | "$CK_BIN/ck-lower" - 2>/dev/null |
      "$CK_BIN/ck-layout" - -o "$D/$v/plan" 2>/dev/null
  done
}

setup() {
  FX="$CK_SOURCE_DIR/tests/fixtures/chat/renderings.json"
  TOK="${CK_DEPS_DIR:-}/qwen3-tokenizer/tokenizer.json"
  [ -f "$TOK" ] || skip "no $TOK (make deps)"
  D="$BATS_FILE_TMPDIR"
}

# plan_json VARIANT CASE_INDEX [--jinja] -> ck-decode --plan's JSON (formatted_prompt, prompt_text_tokens, ...)
plan_json() {
  local v=$1 i=$2; shift 2
  local p s
  p=$(jq -r --arg v "$v" --argjson i "$i" '.templates[$v].cases[$i].prompt' "$FX")
  s=$(jq -r --arg v "$v" --argjson i "$i" '.templates[$v].cases[$i].system' "$FX")
  local args=(-m "$D/$v/plan" -p "$p" --plan "$@")
  [ -n "$s" ] && args+=(--system "$s")
  "$CK_BIN/ck-decode" "${args[@]}"
}

@test "the fixture is the oracle's: legacy = chatml for both templates, jinja adds <think> for Thinking only" {
  [ "$(jq -r '.oracle.llama_cpp.commit' "$FX")" = 6c8dcaa ]
  [ "$(jq -r '.templates.thinking.cases[0].jinja.prompt' "$FX")" = "$(printf '<|im_start|>user\nDescribe this image.<|im_end|>\n<|im_start|>assistant\n<think>\n')" ]
  [ "$(jq -r '.templates.thinking.cases[0].legacy.prompt' "$FX")" = "$(jq -r '.templates.instruct.cases[0].legacy.prompt' "$FX")" ]
  [ "$(jq -r '.templates.instruct.cases[0].jinja.prompt' "$FX")" = "$(jq -r '.templates.instruct.cases[0].legacy.prompt' "$FX")" ]
}

@test "ck-decode (legacy route) renders every case as the oracle does, and as ref_decode decodes it" {
  for v in instruct thinking; do
    n=$(jq --arg v "$v" '.templates[$v].cases | length' "$FX")
    for ((i = 0; i < n; i++)); do
      c=$(jq -c --arg v "$v" --argjson i "$i" '.templates[$v].cases[$i]' "$FX")
      js=$(plan_json "$v" "$i")
      got=$(jq -j '.formatted_prompt' <<< "$js")
      want=$(jq -j '.legacy.prompt' <<< "$c")
      [ "$got" = "$want" ] || { echo "$v case $i: ck [$got] oracle [$want]"; false; }
      # the cases without a system message also carry what ref_decode decoded (same prompt): text and token ids
      if [ "$(jq -r 'has("ref_decode")' <<< "$c")" = true ]; then
        [ "$(jq -r '.ref_decode.prompt == .prompt' <<< "$c")" = true ]
        [ "$got" = "$(jq -j '.ref_decode.formatted_prompt' <<< "$c")" ]
        toks=$(jq -c '.prompt_text_tokens' <<< "$js")
        [ "$toks" = "$(jq -c '.ref_decode.prompt_text_tokens' <<< "$c")" ] || { echo "$v case $i tokens: ck $toks"; false; }
      fi
    done
  done
}

@test "ck-decode --jinja renders every case as the oracle's jinja route (Thinking: the reply opens with <think>)" {
  for v in instruct thinking; do
    n=$(jq --arg v "$v" '.templates[$v].cases | length' "$FX")
    for ((i = 0; i < n; i++)); do
      want=$(jq -j --arg v "$v" --argjson i "$i" '.templates[$v].cases[$i].jinja.prompt' "$FX")
      got=$(plan_json "$v" "$i" --jinja | jq -j '.formatted_prompt')
      [ "$got" = "$want" ] || { echo "$v case $i: ck [$got] oracle [$want]"; false; }
    done
  done
  [ "$("$CK_BIN/ck-decode" -m "$D/thinking/plan" -p hi --plan --jinja | jq -c '.formatted_prompt')" = \
    '"<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n"' ]
}

@test "ck-decode --jinja refuses --raw and a template it does not know" {
  run -2 "$CK_BIN/ck-decode" -m "$D/thinking/plan" -p hi --plan --jinja --raw
  [[ "$output" == *"--jinja"*"--raw"* ]]
  rm -rf "$D/other"; cp -r "$D/thinking" "$D/other"     # plan + its bump (call.json names it relatively)
  jq '.contracts.chat.chat_template = "{% for m in messages %}<|im_start|>{{ m.content }}{% endfor %}"' \
    "$D/thinking/plan/call.json" > "$D/other/plan/call.json"
  run -2 "$CK_BIN/ck-decode" -m "$D/other/plan" -p hi --plan --jinja
  [[ "$output" == *"not known to ck's jinja shells"* ]]
  # the legacy route still takes it (chatml by substring, as llm_chat_detect_template)
  run -0 "$CK_BIN/ck-decode" -m "$D/other/plan" -p hi --plan
}
