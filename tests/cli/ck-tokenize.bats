#!/usr/bin/env bats
# ck-tokenize: ids, pieces, decode, file/stdin input, GGUF and bump vocabularies, error exits.
# The vocabulary is ck-synth's tiny text GGUF (the real Qwen3 vocab from $CK_DEPS_DIR): a missing
# tokenizer.json makes these tests fail (run `make deps`), they never skip.

bats_require_minimum_version 1.5.0

setup_file() {
  export V="$BATS_FILE_TMPDIR/tiny-text-f16.gguf"
  "$CK_BIN/ck-synth" --preset tiny --text-type f16 --only text -o "$BATS_FILE_TMPDIR" -q \
      --tokenizer "$CK_DEPS_DIR/qwen3-tokenizer/tokenizer.json"
}

setup() {
  TOK="$CK_BIN/ck-tokenize"
  cd "$BATS_TEST_TMPDIR"
}

@test "ids of plain text and of a chat prompt (llama.cpp's ids)" {
  run -0 "$TOK" --vocab "$V" "Hello world"
  [ "$output" = "9707 1879" ]
  run -0 "$TOK" --vocab "$V" $'<|im_start|>user\nDescribe this image.<|im_end|>\n<|im_start|>assistant\n'
  [ "$output" = "151644 872 198 74785 419 2168 13 151645 198 151644 77091 198" ]
}

@test "several arguments are joined with one space" {
  run -0 "$TOK" --vocab "$V" Hello world
  [ "$output" = "9707 1879" ]
}

@test "-f FILE and -f - read bytes as they are (trailing newline kept)" {
  printf 'Hello world\n' > in.txt
  run -0 "$TOK" --vocab "$V" -f in.txt
  [ "$output" = "9707 1879 198" ]
  run -0 "$TOK" --vocab "$V" -f - < in.txt
  [ "$output" = "9707 1879 198" ]
}

@test "--pieces: id TAB quoted piece per line" {
  run -0 "$TOK" --vocab "$V" --pieces $'Hi <|im_end|>\n'
  [ "${lines[0]}" = $'13048\t"Hi"' ]
  [ "${lines[1]}" = $'220\t" "' ]
  [ "${lines[2]}" = $'151645\t"<|im_end|>"' ]
  [ "${lines[3]}" = $'198\t"\\n"' ]
  run -0 "$TOK" --vocab "$V" --pieces --no-special-pieces '<|im_end|>'
  [ "$output" = $'151645\t""' ]
  run -0 "$TOK" --vocab "$V" --pieces 'é'
  [ "$output" = $'963\t"\\xC3\\xA9"' ]
}

@test "--no-parse-special tokenizes control-token text as text" {
  run -0 "$TOK" --vocab "$V" '<|im_end|>'
  [ "$output" = "151645" ]
  run -0 "$TOK" --vocab "$V" --no-parse-special '<|im_end|>'
  [ "$output" != "151645" ]
  [ "$(echo "$output" | wc -w)" -gt 1 ]
}

@test "--decode prints the concatenated pieces (round trip)" {
  text=$'naïve 😀 <|im_start|>x\t\n  y'
  ids="$("$TOK" --vocab "$V" "$text")"
  run -0 "$TOK" --vocab "$V" --decode $ids
  [ "$output" = "$text" ]
  echo "$ids" > ids.txt
  "$TOK" --vocab "$V" --decode -f ids.txt > back.txt
  [ "$(cat back.txt)" = "$text" ]
}

@test "invalid UTF-8 becomes U+FFFD like llama.cpp" {
  printf 'a\xffb' > bad.txt
  run -0 "$TOK" --vocab "$V" -f bad.txt
  [ "$output" = "64 5691 65" ]
}

@test "a bump made by ck-convert carries the same vocabulary" {
  "$CK_BIN/ck-convert" "$V" -o t.bump --manifest t.json 2>/dev/null
  run -0 "$TOK" --vocab t.bump "Hello world <|im_end|> 12345"
  expected="$("$TOK" --vocab "$V" "Hello world <|im_end|> 12345")"
  [ "$output" = "$expected" ]
  a="$("$TOK" --vocab t.bump --info | jq -r .vocab_digest)"
  b="$("$TOK" --vocab "$V" --info | jq -r .vocab_digest)"
  [ "$a" = "$b" ]
}

@test "--info summarizes the vocabulary" {
  run -0 "$TOK" --vocab "$V" --info
  [ "$(echo "$output" | jq -r .format)" = "ck.tokenizer_info" ]
  [ "$(echo "$output" | jq -r .n_tokens)" = "151936" ]
  [ "$(echo "$output" | jq -r .add_bos)" = "false" ]
  [ "$(echo "$output" | jq -c .eog)" = "[128247,151643,151645,151662,151663,151664]" ]
}

@test "errors: one line, exit 2" {
  run -2 "$TOK" --vocab missing.gguf "x"
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == "ck-tokenize: error: missing.gguf: "* ]]
  run -2 "$TOK" --vocab "$V"
  [[ "$output" == *"no text"* ]]
  echo x > in.txt
  run -2 "$TOK" --vocab "$V" -f in.txt "also text"
  run -2 "$TOK" --vocab "$V" --decode 12 151936
  [[ "$output" == *"'151936' is not a token id"* ]]
  run -2 "$TOK" --vocab "$V" --decode 12 abc
  printf 'ok \xf5\x80\x80\x80' > big.txt
  run -2 "$TOK" --vocab "$V" -f big.txt
  [[ "$output" == *"above U+10FFFF"* ]]
  printf 'not a gguf' > junk.gguf
  run -2 "$TOK" --vocab junk.gguf x
  [ "${#lines[@]}" -eq 1 ]
}

@test "a GGUF without tokenizer keys is refused by name" {
  python3 - <<'PY'
import struct
def s(x): b = x.encode(); return struct.pack('<Q', len(b)) + b
kv = s("general.architecture") + struct.pack('<I', 8) + s("qwen3vl")
open("novocab.gguf", "wb").write(b'GGUF' + struct.pack('<IQQ', 3, 0, 1) + kv)
PY
  run -2 "$TOK" --vocab novocab.gguf x
  [[ "$output" == *"novocab.gguf: missing key tokenizer.ggml.tokens"* ]]
}
