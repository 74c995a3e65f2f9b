#!/usr/bin/env bats
# Temporal merge (#17): two adjacent same-size images are one 2-frame chunk, as llama.cpp b10256's mtmd does for
# Qwen-VL. Golden: tests/parity/frames/golden.json (tests/parity/frames/regen.sh = ref_decode of the pinned oracle:
# greedy token ids, sha256 of the first-token logits and of every logits row); ck-encode A B -> one prefix
# (frames = 2), ck-decode at 1 and 2 threads, ck-bridge (tests/parity/frames/compare.sh on the tiny preset; the
# small one runs in make test-v8-qwen3vl).

bats_require_minimum_version 1.5.0

setup_file() {
  export G="$CK_SOURCE_DIR/tests/parity/frames/golden.json"
  export I="$CK_SOURCE_DIR/tests/parity/images"
  export M="$BATS_FILE_TMPDIR"
  # compare.sh's layout: models and plans under cmp/tiny (it reuses them)
  export C="$M/cmp/tiny"
  mkdir -p "$C/models" "$C/mmproj-f32" "$C/text-f16"
  (cd "$C/models" && "$CK_BIN/ck-synth" --preset tiny --mmproj-type f32 --only mmproj -o . -q \
     && "$CK_BIN/ck-synth" --preset tiny --text-type f16 --only text -o . -q)
  (cd "$C/mmproj-f32" && "$CK_BIN/ck-convert" "$C/models/tiny-mmproj-f32.gguf" -o w.bump 2>/dev/null |
     "$CK_BIN/ck-lower" - -o ir1.json 2>/dev/null && "$CK_BIN/ck-layout" ir1.json -o . 2>/dev/null)
  (cd "$C/text-f16" && "$CK_BIN/ck-convert" "$C/models/tiny-text-f16.gguf" -o w.bump 2>/dev/null |
     "$CK_BIN/ck-lower" - -o ir1.json 2>/dev/null && "$CK_BIN/ck-layout" ir1.json -o . 2>/dev/null)
  export ENC="$C/mmproj-f32" DEC="$C/text-f16"
  "$CK_BIN/ck-encode" -m "$ENC" "$I/chelsea.png" "$I/chelsea_palette.png" -o "$M/pair.prefix" -t 2
  "$CK_BIN/ck-encode" -m "$ENC" "$I/chelsea.png" -o "$M/single.prefix" -t 2
}

setup() { T="$BATS_TEST_TMPDIR"; }

@test "frames: the synthesized models are the golden's" {
  [ "$(sha256sum "$C/models/tiny-mmproj-f32.gguf" | cut -d' ' -f1)" = "$(jq -r '.presets.tiny.models["mmproj-f32"].sha256' "$G")" ]
  [ "$(sha256sum "$C/models/tiny-text-f16.gguf" | cut -d' ' -f1)" = "$(jq -r '.presets.tiny.models["text-f16"].sha256' "$G")" ]
}

@test "ck-encode A B: one prefix of 2 frames with one frame's grid; identical at 1 and 2 threads" {
  run "$CK_BIN/ck-encode" --info "$M/pair.prefix"
  [ "$status" -eq 0 ]
  jq -e '.frames == 2 and .rows == 126 and .grid == [14, 9] and .meta.version == 2 and .meta.bridge.frames == 2
         and .meta.bridge.max_frames == 2' <<< "$output"
  "$CK_BIN/ck-encode" -m "$ENC" "$I/chelsea.png" "$I/chelsea_palette.png" -o "$T/p1.prefix" -t 1
  cmp "$T/p1.prefix" "$M/pair.prefix"
  # the 2-frame rows are not the first frame's still rows (frame 1 goes through patch kernel 1)
  ! cmp -s <(tail -c 96768 "$M/pair.prefix") <(tail -c 96768 "$M/single.prefix")
}

@test "merged pair, and three in a row (pair then single), vs ref_decode (tiny): chunks, 32 tokens and first logits at 1 and 2 threads, every logits row, ck-bridge" {
  run "$CK_SOURCE_DIR/tests/parity/frames/compare.sh" "$CK_BIN" "$M/cmp" tiny decode,all_logits,bridge pair,triple 1,2
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"frames: all equal"* ]]
}

@test "--no-frame-merge: pair and three in a row, each image its own chunk, vs ref_decode --no-frame-merge (tiny): 1 and 2 threads, every logits row, ck-bridge" {
  run "$CK_SOURCE_DIR/tests/parity/frames/compare.sh" "$CK_BIN" "$M/cmp" tiny decode,all_logits,bridge pair_nfm,triple_nfm 1,2
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"frames: all equal"* ]]
}

@test "ck-bridge --no-frame-merge: no merge line, one prefix per image" {
  run --separate-stderr "$CK_BIN/ck-bridge" --mmproj "$C/models/tiny-mmproj-f32.gguf" --model "$C/models/tiny-text-f16.gguf" \
    --image "$I/chelsea.png" --image "$I/chelsea_palette.png" -p "$(jq -r .case.cases.pair.prompt "$G")" -n 2 -t 2 \
    --cache-dir "$M/cmp/tiny/cache" --report "$T/r.json" --no-frame-merge
  [ "$status" -eq 0 ]
  [[ "$stderr" != *"merged"* ]]
  jq -e '.prefix | length == 2 and .[0].frames == 1 and .[1].frames == 1' "$T/r.json"
}

@test "ck-bridge: one stderr line says the pair was merged; -q silences it" {
  run --separate-stderr "$CK_BIN/ck-bridge" --mmproj "$C/models/tiny-mmproj-f32.gguf" --model "$C/models/tiny-text-f16.gguf" \
    --image "$I/chelsea.png" --image "$I/chelsea_palette.png" -p "$(jq -r .case.cases.pair.prompt "$G")" -n 2 -t 2 \
    --cache-dir "$M/cmp/tiny/cache" --report "$T/r.json"
  [ "$status" -eq 0 ]
  [ "$(grep -c 'merged into one 2-frame chunk' <<< "$stderr")" -eq 1 ]
  [[ "$stderr" == *"images 1+2"*"--no-frame-merge"* ]]
  jq -e '.prefix | length == 1 and .[0].frames == 2 and .[0].bitmaps == [0, 1]' "$T/r.json"
  run --separate-stderr "$CK_BIN/ck-bridge" --mmproj "$C/models/tiny-mmproj-f32.gguf" --model "$C/models/tiny-text-f16.gguf" \
    --image "$I/chelsea.png" --image "$I/chelsea_palette.png" -p "$(jq -r .case.cases.pair.prompt "$G")" -n 2 -t 2 \
    --cache-dir "$M/cmp/tiny/cache" --report "$T/r.json" -q
  [ "$status" -eq 0 ]
  [ -z "$stderr" ]
}

@test "ck-decode --plan: the 2-frame chunk has one frame's tokens and positions advance by max(nx, ny)" {
  run "$CK_BIN/ck-decode" -m "$DEC" --prefix "$M/pair.prefix" --prefix "$M/single.prefix" \
    -p "$(jq -r .case.cases.triple.prompt "$G")" --plan
  [ "$status" -eq 0 ]
  [ "$(jq -c '[.chunks[] | select(.type == "image") | [.n_tokens, .n_pos, .pos0, .frames]]' <<< "$output")" = \
    "$(jq -c '[.presets.tiny.cases.triple.chunks[] | select(.type == "image") | [.n_tokens, .n_pos, .pos0]] | [(.[0] + [2]), (.[1] + [1])]' "$G")" ]
}

@test "ck-decode: separate same-size prefixes at adjacent markers are refused (the pin merges them), exit 2" {
  run "$CK_BIN/ck-decode" -m "$DEC" --prefix "$M/single.prefix" --prefix "$M/single.prefix" -p "<__media__><__media__>x" -n 1
  [ "$status" -eq 2 ]
  [[ "$output" == *"merges into one 2-frame chunk"*"--no-frame-merge"* ]]
  [ "$(wc -l <<< "$output")" -eq 1 ]
}

@test "ck-decode: a 2-frame prefix at markers with text between them is refused, exit 2" {
  run "$CK_BIN/ck-decode" -m "$DEC" --prefix "$M/pair.prefix" -p "<__media__>a<__media__>b" -n 1
  [ "$status" -eq 2 ]
  [[ "$output" == *"markers are not adjacent"* ]]
}

@test "ck-encode: three images, or two of different sizes, are refused with one line, exit 2, no output" {
  run "$CK_BIN/ck-encode" -m "$ENC" "$I/chelsea.png" "$I/chelsea.png" "$I/chelsea.png" -o "$T/x.prefix"
  [ "$status" -eq 2 ]
  [[ "$output" == *"merges at most 2 frames"* ]]
  [ ! -e "$T/x.prefix" ]
  run "$CK_BIN/ck-encode" -m "$ENC" "$I/chelsea.png" "$I/grad_256x256.png" -o "$T/x.prefix"
  [ "$status" -eq 2 ]
  [[ "$output" == *"only images of the same size merge"* ]]
  [ "$(wc -l <<< "$output")" -eq 1 ]
  [ ! -e "$T/x.prefix" ]
}
