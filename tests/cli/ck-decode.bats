#!/usr/bin/env bats
# ck-decode: chat shell, chunking, positions, ubatch plan (--plan, compared with the oracle fixture
# tests/fixtures/decode/cases.json), --tokenize, argument and input errors (one line, exit 2), prefix/model
# mismatch, the clean "decoder runtime not available" stop (exit 3) for a plan with a kernel this build lacks,
# and decoding on lib/runtime: greedy token ids and first logits equal to ref_decode
# (tests/fixtures/decode/greedy: tiny text f16 and q8_0, the oracle's image rows as the prefix).
# Model: ck-synth tiny text f16 -> ck-convert | ck-lower | ck-layout.
# Prefixes are written here with python3 (docs/formats/prefix.md), so they do not depend on ck-encode.

bats_require_minimum_version 1.5.0

setup_file() {
  export M="$BATS_FILE_TMPDIR/dec"
  mkdir -p "$M"
  "$CK_BIN/ck-synth" --preset tiny --text-type f16 --only text -o "$BATS_FILE_TMPDIR" -q \
      --tokenizer "$CK_DEPS_DIR/qwen3-tokenizer/tokenizer.json"
  (cd "$M" && "$CK_BIN/ck-convert" "$BATS_FILE_TMPDIR/tiny-text-f16.gguf" -o text.bump 2>/dev/null \
      | "$CK_BIN/ck-lower" - 2>/dev/null | "$CK_BIN/ck-layout" - -o . 2>/dev/null)
  export MKPREFIX="$BATS_FILE_TMPDIR/mkprefix.py"
  cat > "$MKPREFIX" <<'PY'
import json, struct, sys
out, nx, ny, n_embd, n_ds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rows, rw = nx * ny, n_embd * (1 + n_ds)
meta = {"format": "ck.prefix", "version": 1, "model": {"mmproj_sha256": "0" * 64, "mmproj_name": "test"},
        "bridge": {"activation": "test", "rows": rows, "row_width": rw, "n_embd": n_embd, "n_deepstack": n_ds,
                   "grid": [nx, ny], "positions": "t,t+y,t+x,0", "resume": "pos0+max(nx,ny)"}}
js = json.dumps(meta).encode()
off = (128 + len(js) + 63) // 64 * 64
hdr = b"CKPREFIX" + struct.pack("<IIQQIIIIQQQQ", 1, 128, rows, rw, n_embd, n_ds, nx, ny, 128, len(js), off, rows * rw * 4)
rows_data = open(sys.argv[6], "rb").read() if len(sys.argv) > 6 else b"\0" * (rows * rw * 4)
assert len(rows_data) == rows * rw * 4
data = hdr + b"\0" * (128 - len(hdr)) + js + b"\0" * (off - 128 - len(js)) + rows_data
(sys.stdout.buffer.write(data) if out == "-" else open(out, "wb").write(data))
PY
  python3 "$MKPREFIX" "$BATS_FILE_TMPDIR/g8x8.prefix" 8 8 64 2
  python3 "$MKPREFIX" "$BATS_FILE_TMPDIR/g3x9.prefix" 3 9 64 2
  python3 "$MKPREFIX" "$BATS_FILE_TMPDIR/g67x60.prefix" 67 60 64 2
  python3 "$MKPREFIX" "$BATS_FILE_TMPDIR/wide.prefix" 8 8 64 3
  export FIX="$CK_SOURCE_DIR/tests/fixtures/decode/cases.json"
}

setup() {
  D="$CK_BIN/ck-decode"
  P="$BATS_FILE_TMPDIR"
  cd "$BATS_TEST_TMPDIR"
}

# The oracle case NAME reduced to what --plan prints (prompt, tokens, chunk sizes/positions, prefill ubatches).
oracle() {
  jq -c --arg n "$1" '.cases[] | select(.name == $n) | {f: .formatted_prompt, t: .prompt_text_tokens,
     c: [.chunks[] | {type, n_tokens} + (if .type == "image" then {pos0, n_pos, last: [.last_token_pos_txyz[0], .last_token_pos_txyz[2], .last_token_pos_txyz[1], 0]} else {} end)],
     n_past: .n_past_after_prompt,
     u: [.ubatches[] | select(.phase == "prefill") | {n_tokens, n_kv, n_outputs}]}' "$FIX"
}
mine() {
  jq -c '{f: .formatted_prompt, t: .prompt_text_tokens,
     c: [.chunks[] | {type, n_tokens} + (if .type == "image" then {pos0, n_pos, last: .last_token_pos_thw} else {} end)],
     n_past: .n_past_after_prompt, u: [.ubatches[] | {n_tokens, n_kv, n_outputs}]}'
}

@test "--plan equals ref_decode: square image appended after the text" {
  run -0 --separate-stderr "$D" -m "$M" --prefix "$P/g8x8.prefix" -p "Describe this image." --plan
  [ "$(echo "$output" | mine)" = "$(oracle grad_square)" ]
  echo "$output" | jq -e '.ubatches | map(.flash_attn) == ["one_chunk", "tiled", "one_chunk"]'
}

@test "--plan equals ref_decode: tall 3x9 image, --image-first, marker inside, text only" {
  run -0 --separate-stderr "$D" -m "$M" --prefix "$P/g3x9.prefix" -p "What is in the picture?" --plan
  [ "$(echo "$output" | mine)" = "$(oracle noise_tall)" ]
  python3 "$MKPREFIX" w14x7.prefix 14 7 64 2
  run -0 --separate-stderr "$D" -m "$M" --prefix w14x7.prefix -p "Describe this image." --image-first --plan
  [ "$(echo "$output" | mine)" = "$(oracle checker_wide_first)" ]
  python3 "$MKPREFIX" m10x8.prefix 10 8 64 2
  run -0 --separate-stderr "$D" -m "$M" --prefix m10x8.prefix -p "Look: <__media__> and tell me what you see." --plan
  [ "$(echo "$output" | mine)" = "$(oracle marker_inside)" ]
  run -0 --separate-stderr "$D" -m "$M" -p "Hello there, how are you today?" --plan
  [ "$(echo "$output" | mine)" = "$(oracle text_only)" ]
}

@test "--plan equals ref_decode: 4020-row image in 512-token ubatches, n_kv growing by 256" {
  run -0 --separate-stderr "$D" -m "$M" --prefix "$P/g67x60.prefix" -p "What is in the picture?" --plan
  [ "$(echo "$output" | mine)" = "$(oracle large_ubatches)" ]
}

@test "prefix from stdin and --raw (no chat shell)" {
  python3 "$MKPREFIX" - 8 8 64 2 > s.prefix
  run -0 --separate-stderr "$D" -m "$M" --prefix - -p "x<__media__>y" --raw --plan < s.prefix
  [ "$(echo "$output" | jq -r .formatted_prompt)" = "x<__media__>y" ]
  [ "$(echo "$output" | jq -c '[.chunks[].type]')" = '["text","image","text"]' ]
}

@test "--tokenize prints the ids of a text part" {
  run -0 "$D" -m "$M" --tokenize "Hello world"
  [ "$output" = "9707 1879" ]
  run -0 "$D" -m "$M" --tokenize "<|vision_start|>"
  [ "$output" = "151652" ]
}

@test "prefix/model mismatch: one line naming both files, exit 2" {
  run -2 --separate-stderr "$D" -m "$M" --prefix "$P/wide.prefix" -p "hi" --plan
  [ "${#lines[@]}" -eq 0 ]
  [ "$(echo "$stderr" | wc -l)" -eq 1 ]
  [[ "$stderr" == *"wide.prefix"* ]]
  [[ "$stderr" == *"call.json"* ]]
  [[ "$stderr" == *"256"* && "$stderr" == *"192"* ]]
}

@test "bad inputs: one line, exit 2" {
  run -2 --separate-stderr "$D" -m "$P/nope" -p hi --plan
  [[ "$stderr" == "ck-decode: error: "*"nope"* ]]
  run -2 --separate-stderr "$D" -m "$M" --plan
  [[ "$stderr" == *"no prompt"* ]]
  run -2 --separate-stderr "$D" -m "$M" --prefix "$P/missing.prefix" -p hi --plan
  [[ "$stderr" == *"missing.prefix"* ]]
  head -c 100 "$P/g8x8.prefix" > trunc.prefix
  run -2 --separate-stderr "$D" -m "$M" --prefix trunc.prefix -p hi --plan
  [[ "$stderr" == *"trunc.prefix"* ]]
  run -2 --separate-stderr "$D" -m "$M" --prefix "$P/g8x8.prefix" -p "a <__media__> b <__media__>" --plan
  [[ "$stderr" == *"2 image marker"* ]]
  run -2 --separate-stderr "$D" -m "$M" -p "a <__media__>" --plan
  [[ "$stderr" == *"1 image marker"* ]]
  run -2 --separate-stderr "$D" -m "$M" -p hi --ctx-size 8192 --plan
  [[ "$stderr" == *"planned 4096"* ]]
  run -2 --separate-stderr "$D" -m "$M" -p hi --n-ubatch 1024 --plan
  [[ "$stderr" == *"planned 512"* ]]
  run -2 --separate-stderr "$D" -m "$M" --prefix "$P/g67x60.prefix" -p hi --ctx-size 1024 --plan
  [[ "$stderr" == *"--ctx-size"* ]]
  run -2 --separate-stderr "$D" -m "$M" -p hi --bogus
  [ "$(echo "$stderr" | wc -l)" -eq 1 ]
}

@test "a plan with a kernel this build lacks stops cleanly: exit 3, nothing on stdout, no logits file" {
  mkdir x && cp "$M/call.json" "$M/layout.json" x/ && ln -s "$M/text.bump" x/text.bump
  sed -i 's/"swiglu.f32.strict"/"swiglu.f32.nosuch"/' x/call.json
  run -3 --separate-stderr "$D" -m x --prefix "$P/g8x8.prefix" -p "Describe this image." -n 4 --logits-out l.f32
  [ -z "$output" ]
  [[ "$stderr" == "ck-decode: error: decoder runtime not available"*"swiglu.f32.nosuch"* ]]
  [ ! -e l.f32 ]
}

# Greedy decoding vs ref_decode (llama.cpp b10256): the oracle's image rows as the prefix, 16 tokens, 2 threads.
greedy_case() {
  local type="$1" G="$CK_SOURCE_DIR/tests/fixtures/decode/greedy" dir
  local fx; fx=$(jq -c --arg m "tiny-text-$type.gguf" '.cases[] | select(.model == $m)' "$G/manifest.json")
  if [ "$type" = f16 ]; then dir="$M"; else
    dir="$BATS_FILE_TMPDIR/dec-$type"; mkdir -p "$dir"
    "$CK_BIN/ck-synth" --preset tiny --text-type "$type" --only text -o "$BATS_FILE_TMPDIR" -q \
        --tokenizer "$CK_DEPS_DIR/qwen3-tokenizer/tokenizer.json"
    (cd "$dir" && "$CK_BIN/ck-convert" "$BATS_FILE_TMPDIR/tiny-text-$type.gguf" -o text.bump 2>/dev/null \
        | "$CK_BIN/ck-lower" - 2>/dev/null | "$CK_BIN/ck-layout" - -o . 2>/dev/null)
  fi
  # the fixture is only valid for the model it was recorded with
  [ "$(sha256sum "$BATS_FILE_TMPDIR/tiny-text-$type.gguf" | cut -d' ' -f1)" = "$(echo "$fx" | jq -r .model_sha256)" ]
  zstd -q -d -f "$G/emb.f32.zst" -o emb.f32
  python3 "$MKPREFIX" img.prefix 3 3 64 2 emb.f32
  run -0 --separate-stderr "$D" -m "$dir" --prefix img.prefix -p "Describe this image." -n 16 -t 2 \
      --logits-out first.f32 --tokens-out ids.txt
  [ "$(cat ids.txt)" = "$(echo "$fx" | jq -r '.tokens | map(tostring) | join(" ")')" ]
  [ "$(sha256sum first.f32 | cut -d' ' -f1)" = "$(echo "$fx" | jq -r .first_logits_sha256)" ]
}

@test "greedy decoding equals ref_decode: tiny text f16 + image (token ids, first logits bit-identical)" {
  greedy_case f16
}

@test "greedy decoding equals ref_decode: tiny text q8_0 + image (token ids, first logits bit-identical)" {
  greedy_case q8_0
}
