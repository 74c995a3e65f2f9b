#!/usr/bin/env bats
# ck-layout: layout.json + call.json from ir1; invariants visible in the JSON; determinism; errors -> exit 2.

setup() {
  F="$CK_SOURCE_DIR/tests/fixtures"
  T="$BATS_TEST_TMPDIR"
}

@test "encoder pipeline: lower | layout -o DIR" {
  run bash -c "'$CK_BIN/ck-lower' '$F/manifests/tiny-mmproj-f32.json' | '$CK_BIN/ck-layout' -o '$T/enc'"
  [ "$status" -eq 0 ]
  [[ "$output" == *"saved"* ]]
  [ "$(jq -r .format "$T/enc/layout.json")" = "ck.layout" ]
  [ "$(jq -r .format "$T/enc/call.json")" = "ck.call" ]
  # Arena <= naive sum, peak <= arena, all offsets 64-B aligned.
  [ "$(jq '.peak_bytes <= .arena_bytes and .arena_bytes <= .naive_bytes' "$T/enc/layout.json")" = "true" ]
  [ "$(jq '[.buffers[].offset % 64] | max' "$T/enc/layout.json")" = "0" ]
  # No code text in call.json: every arg is a typed buffer reference, a value or a symbol.
  [ "$(jq '[.calls[].args[] | select(has("buffer") or has("value") or has("symbol")) ] | length' "$T/enc/call.json")" = \
    "$(jq '[.calls[].args[]] | length' "$T/enc/call.json")" ]
  # Shapes stay symbolic where the image varies.
  [ "$(jq -r '.outputs[0].shape[0]' "$T/enc/call.json")" = "n_merged" ]
}

@test "bounds: --max-image-tokens and --ctx-size change the worst case" {
  "$CK_BIN/ck-lower" "$F/manifests/tiny-mmproj-f32.json" -o "$T/e.json"
  "$CK_BIN/ck-layout" "$T/e.json" -o "$T/small" --max-image-tokens 64
  "$CK_BIN/ck-layout" "$T/e.json" -o "$T/big"
  [ "$(jq .arena_bytes "$T/small/layout.json")" -lt "$(jq .arena_bytes "$T/big/layout.json")" ]
  "$CK_BIN/ck-lower" "$F/manifests/tiny-text-f16.json" -o "$T/d.json"
  "$CK_BIN/ck-layout" "$T/d.json" -o "$T/d1" --ctx-size 1024
  "$CK_BIN/ck-layout" "$T/d.json" -o "$T/d4" --ctx-size 4096
  [ "$(jq .arena_bytes "$T/d1/layout.json")" -lt "$(jq .arena_bytes "$T/d4/layout.json")" ]
  [ "$(jq '.symbols[] | select(.name == "ctx_size") | .max' "$T/d1/layout.json")" = "1024" ]
}

@test "same input gives the same bytes" {
  "$CK_BIN/ck-lower" "$F/manifests/tiny-text-f16.json" -o "$T/d.json"
  "$CK_BIN/ck-layout" "$T/d.json" -o "$T/a"
  "$CK_BIN/ck-layout" "$T/d.json" -o "$T/b"
  cmp "$T/a/layout.json" "$T/b/layout.json"
  cmp "$T/a/call.json" "$T/b/call.json"
}

@test "weights referenced relative to the output directory" {
  "$CK_BIN/ck-lower" "$F/manifests/tiny-mmproj-f32.json" -o "$T/e.json"
  (cd "$T" && "$CK_BIN/ck-layout" e.json -o out/enc --weights models/enc.bump)
  [ "$(jq -r .weights.file "$T/out/enc/call.json")" = "../../models/enc.bump" ]
}

@test "piped from ck-convert -o DIR/x.bump: weights.file is the bump in DIR, contracts carry config" {
  "$CK_BIN/ck-synth" --preset tiny --text-type f16 --only text -o "$T" -q \
      --tokenizer "$CK_DEPS_DIR/qwen3-tokenizer/tokenizer.json"
  mkdir -p "$T/w/dec"
  cd "$T/w"
  "$CK_BIN/ck-convert" "$T/tiny-text-f16.gguf" -o dec/x.bump 2>/dev/null | "$CK_BIN/ck-lower" - 2>/dev/null \
      | "$CK_BIN/ck-layout" - -o dec 2>/dev/null
  [ "$(jq -r .weights.file dec/call.json)" = "x.bump" ]
  [ "$(jq -r '.contracts.config.n_embd' dec/call.json)" = "64" ]
  # from another directory: still the bump next to call.json
  mkdir -p "$T/v/sub" "$T/v/out" && cd "$T/v/sub"
  "$CK_BIN/ck-convert" "$T/tiny-text-f16.gguf" -o ../out/y.bump 2>/dev/null | "$CK_BIN/ck-lower" - 2>/dev/null \
      | "$CK_BIN/ck-layout" - -o ../out 2>/dev/null
  [ "$(jq -r .weights.file ../out/call.json)" = "y.bump" ]
}

@test "errors exit 2 with one line" {
  echo '{"format":"ck.ir1","version":9}' > "$T/v.json"
  run "$CK_BIN/ck-layout" "$T/v.json" -o "$T/x"
  [ "$status" -eq 2 ]
  [[ "$output" == *"unsupported ck.ir1 version"* ]]
  "$CK_BIN/ck-lower" "$F/manifests/tiny-text-f16.json" -o "$T/d.json"
  run "$CK_BIN/ck-layout" "$T/d.json" -o "$T/y" --bound nosuch=3
  [ "$status" -eq 2 ]
  [[ "$output" == *"no symbol or option"* ]]
  run "$CK_BIN/ck-layout" "$T/d.json" -o "$T/y" --bound ctx_size=abc
  [ "$status" -eq 2 ]
  jq '.ops[0].in = ["ghost"]' "$T/d.json" > "$T/g.json"
  run "$CK_BIN/ck-layout" "$T/g.json" -o "$T/z"
  [ "$status" -eq 2 ]
  [[ "$output" == *"unknown tensor 'ghost'"* ]]
  [ ! -e "$T/z/call.json" ]
}
