#!/usr/bin/env bats
# ck-synth: every flag, output names, determinism (sha256), --describe/--against, and bad input (exit 2, one
# line on stderr, no output file). Text files need the Qwen3 tokenizer.json of `make deps` ($CK_DEPS_DIR);
# the tests that write one are skipped without it.

bats_require_minimum_version 1.5.0

setup() {
  SYNTH="$CK_BIN/ck-synth"
  T="$BATS_TEST_TMPDIR"
  TOK="${CK_DEPS_DIR:-}/qwen3-tokenizer/tokenizer.json"
  FIX="$CK_SOURCE_DIR/tests/fixtures/synth"
}

need_tokenizer() {
  [ -f "$TOK" ] || skip "no $TOK (make deps)"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# One line on stderr, nothing on stdout, exit 2, and the message names the problem.
expect_bad() {  # expect_bad PATTERN ARGS...
  local pat="$1"; shift
  run --separate-stderr "$SYNTH" "$@"
  [ "$status" -eq 2 ]
  [ -z "$output" ]
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ "${stderr_lines[0]}" == ck-synth:\ error:* ]]
  [[ "${stderr_lines[0]}" == *$pat* ]]
}

@test "--help lists every flag" {
  run "$SYNTH" --help
  [ "$status" -eq 0 ]
  for f in --preset --mmproj-type --text-type --out-dir --seed --only --tokenizer --threads --quiet --describe --against; do
    [[ "$output" == *"$f"* ]]
  done
}

@test "default tiny pair: expected names, summary on stdout, structure of the python fixture" {
  need_tokenizer
  run "$SYNTH" --preset tiny -o "$T/out"
  [ "$status" -eq 0 ]
  [ -s "$T/out/tiny-mmproj-f32.gguf" ]
  [ -s "$T/out/tiny-text-f16.gguf" ]
  [ "$(ls "$T/out" | wc -l)" -eq 2 ]
  [[ "$output" == *"wrote $T/out/tiny-mmproj-f32.gguf (70 tensors"* ]]
  [[ "$output" == *"wrote $T/out/tiny-text-f16.gguf (46 tensors"* ]]
  run "$SYNTH" --describe "$T/out/tiny-mmproj-f32.gguf" --against "$FIX/tiny-mmproj-f32.structure.json"
  [ "$status" -eq 0 ]
  [ "$output" = "same structure" ]
  run "$SYNTH" --describe "$T/out/tiny-text-f16.gguf" --against "$FIX/tiny-text-f16.structure.json"
  [ "$status" -eq 0 ]
}

@test "--only mmproj needs no tokenizer; every --mmproj-type gives its file name" {
  for t in f32 f16 bf16 q8_0; do
    CK_DEPS_DIR="$T/nowhere" run "$SYNTH" --preset tiny --only mmproj --mmproj-type "$t" -o "$T/m"
    [ "$status" -eq 0 ]
    [ -s "$T/m/tiny-mmproj-$t.gguf" ]
  done
  [ "$(ls "$T/m" | wc -l)" -eq 4 ]
  # The converter's dtype rules: patch embedding F16 only for f16, F32 otherwise.
  run "$SYNTH" --describe "$T/m/tiny-mmproj-q8_0.gguf"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.tensors[] | select(.name == "v.patch_embd.weight") | .type')" = "f32" ]
  [ "$(echo "$output" | jq -r '.tensors[] | select(.name == "mm.0.weight") | .type')" = "q8_0" ]
  [ "$(echo "$output" | jq -r '.kv[] | select(.key == "general.file_type") | .value')" = "7" ]
  run "$SYNTH" --describe "$T/m/tiny-mmproj-f16.gguf"
  [ "$(echo "$output" | jq -r '.tensors[] | select(.name == "v.patch_embd.weight.1") | .type')" = "f16" ]
  run "$SYNTH" --describe "$T/m/tiny-mmproj-bf16.gguf"
  [ "$(echo "$output" | jq -r '.tensors[] | select(.name == "v.blk.0.attn_qkv.weight") | .type')" = "bf16" ]
  [ "$(echo "$output" | jq -r '.kv[] | select(.key == "general.file_type") | .value')" = "32" ]
}

@test "--only text with --tokenizer and every --text-type" {
  need_tokenizer
  for t in bf16 q8_0; do
    CK_DEPS_DIR="$T/nowhere" run "$SYNTH" --preset tiny --only text --text-type "$t" --tokenizer "$TOK" -o "$T/t"
    [ "$status" -eq 0 ]
    [ -s "$T/t/tiny-text-$t.gguf" ]
  done
  [ "$(ls "$T/t" | wc -l)" -eq 2 ]
  run "$SYNTH" --describe "$T/t/tiny-text-q8_0.gguf"
  [ "$(echo "$output" | jq -r '.tensors[] | select(.name == "token_embd.weight") | .type')" = "q8_0" ]
  [ "$(echo "$output" | jq -r '.tensors[] | select(.name == "blk.0.attn_q_norm.weight") | .type')" = "f32" ]
  [ "$(echo "$output" | jq -r '.kv[] | select(.key == "general.quantization_version") | .value')" = "2" ]
  [ "$(echo "$output" | jq -r '.kv[] | select(.key == "tokenizer.ggml.tokens") | .n')" = "151936" ]
  [ "$(echo "$output" | jq '[.tensors[] | select(.name == "output.weight")] | length')" = "0" ]  # tied
}

@test "--preset small writes the small dimensions" {
  run "$SYNTH" --preset small --only mmproj -o "$T/s" -q
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  run "$SYNTH" --describe "$T/s/small-mmproj-f32.gguf"
  [ "$(echo "$output" | jq -r '.kv[] | select(.key == "clip.vision.embedding_length") | .value')" = "256" ]
  [ "$(echo "$output" | jq -c '.kv[] | select(.key == "clip.vision.is_deepstack_layers") | .value')" = "[false,true,false,true,false,true]" ]
}

@test "--seed and --threads: same seed same bytes (any thread count), other seed other bytes" {
  "$SYNTH" --only mmproj -o "$T/a" -q --threads 1
  "$SYNTH" --only mmproj -o "$T/b" -q --threads 2 --seed 0
  "$SYNTH" --only mmproj -o "$T/c" -q --seed 1
  [ "$(sha "$T/a/tiny-mmproj-f32.gguf")" = "$(sha "$T/b/tiny-mmproj-f32.gguf")" ]
  [ "$(sha "$T/a/tiny-mmproj-f32.gguf")" != "$(sha "$T/c/tiny-mmproj-f32.gguf")" ]
  run "$SYNTH" --describe "$T/c/tiny-mmproj-f32.gguf" --against "$T/a/tiny-mmproj-f32.gguf"
  [ "$status" -eq 1 ]  # only the description names the seed
  [ "${lines[0]}" = 'kv general.description: value "synthetic random-weight Qwen3-VL vision encoder (seed 0)" vs "synthetic random-weight Qwen3-VL vision encoder (seed 1)"' ]
  [ "${lines[1]}" = "1 difference(s)" ]
}

@test "two runs of the text file give the same sha256" {
  need_tokenizer
  "$SYNTH" --only text -o "$T/a" -q
  "$SYNTH" --only text -o "$T/b" -q --threads 1
  [ "$(sha "$T/a/tiny-text-f16.gguf")" = "$(sha "$T/b/tiny-text-f16.gguf")" ]
}

@test "--describe prints a ck.synth-structure JSON; --against a GGUF or JSON" {
  "$SYNTH" --only mmproj -o "$T" -q
  run "$SYNTH" --describe "$T/tiny-mmproj-f32.gguf"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.format')" = "ck.synth-structure" ]
  [ "$(echo "$output" | jq -r '.version')" = "1" ]
  [ "$(echo "$output" | jq '.tensors | length')" = "70" ]
  echo "$output" > "$T/s.json"
  run "$SYNTH" --describe "$T/s.json" --against "$T/tiny-mmproj-f32.gguf"
  [ "$status" -eq 0 ]
  jq '.tensors[0].type = "f16"' "$T/s.json" > "$T/s2.json"
  run "$SYNTH" --describe "$T/tiny-mmproj-f32.gguf" --against "$T/s2.json"
  [ "$status" -eq 1 ]
  [ "${lines[0]}" = 'tensors v.patch_embd.weight: type "f16" vs "f32"' ]
}

@test "bad preset, types, --only, missing -o: exit 2 with one line" {
  expect_bad "unknown preset 'huge'" --preset huge -o "$T/x"
  expect_bad "--mmproj-type: unknown type 'q4_0'" --mmproj-type q4_0 -o "$T/x"
  expect_bad "--text-type: unknown type 'int8'" --text-type int8 -o "$T/x"
  expect_bad "--only: unknown value 'both2'" --only both2 -o "$T/x"
  expect_bad "-o DIR is required" --preset tiny
  expect_bad "--threads must be >= 0" --threads -1 -o "$T/x"
  expect_bad "--against needs --describe" --against "$T/x"
  expect_bad "not expected" --no-such-flag
  expect_bad "seed" --seed banana -o "$T/x"
  expect_bad "preset '8b' has 27 vision layers" --preset 8b --vision-layers 28 -o "$T/x"
  expect_bad "keeps none of preset '8b' deepstack layers" --preset 8b --vision-layers 8 -o "$T/x"
  expect_bad "preset '4b' has 36 text layers" --preset 4b --layers 37 -o "$T/x"
  expect_bad "text layers must exceed the deepstack tap count" --preset 8b --layers 3 -o "$T/x"
  [ ! -e "$T/x" ]
}

@test "--preset 8b --vision-layers 9: 8B vision widths, 9 layers, one deepstack tap" {
  run "$SYNTH" --preset 8b --vision-layers 9 --only mmproj --mmproj-type q8_0 -q -o "$T/v"
  [ "$status" -eq 0 ]
  run "$SYNTH" --describe "$T/v/8b-mmproj-q8_0.gguf"
  [ "$status" -eq 0 ]
  [[ "$output" == *'"v.blk.8.attn_qkv.weight"'* ]]
  [[ "$output" != *'"v.blk.9.'* ]]
  [[ "$output" == *'"v.deepstack.8.fc1.weight"'* ]]
  rm -rf "$T/v"
}

@test "missing or broken tokenizer: exit 2 naming the file, no output file" {
  expect_bad "$T/none.json" --tokenizer "$T/none.json" -o "$T/x"
  [ ! -e "$T/x/tiny-mmproj-f32.gguf" ]
  printf '{"model": {"type": "BPE", "vocab": {"a": 0}' > "$T/bad.json"
  expect_bad "$T/bad.json" --tokenizer "$T/bad.json" -o "$T/x"
  printf '{"model": {"type": "Unigram", "vocab": []}}' > "$T/uni.json"
  expect_bad "not BPE" --tokenizer "$T/uni.json" -o "$T/x"
  [ -z "$(ls -A "$T/x" 2>/dev/null)" ]
}

@test "--describe of a non-GGUF non-JSON file or a missing file: exit 2" {
  printf 'hello' > "$T/junk"
  expect_bad "$T/junk" --describe "$T/junk"
  expect_bad "$T/missing.gguf" --describe "$T/missing.gguf"
  printf '{"format": "ck.other", "version": 1}' > "$T/other.json"
  expect_bad "not a ck.synth-structure file" --describe "$T/other.json"
}
