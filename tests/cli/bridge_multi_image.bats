#!/usr/bin/env bats
# Several images in one prompt (ck-decode --prefix repeated, ck-bridge --image repeated), as llama-mtmd-cli /
# mtmd_tokenize: image k -> k-th <__media__> marker, no marker -> one per image after the text, each image advances
# the position by max(nx, ny). Against the oracle golden tests/parity/two_image (ref_decode, llama.cpp
# b10256 AVX2; models from ck-synth, sha256-checked): chunks, greedy token ids, first-token logits, all-position
# logits (--logits-all-out). Plus --plan, --json, marker-count errors, stdin twice, same-size adjacent images,
# bridge_report v2 and the mmproj/model width mismatch.

bats_require_minimum_version 1.5.0

setup_file() {
  export TI="$CK_SOURCE_DIR/tests/parity/two_image"
  export M="$BATS_FILE_TMPDIR/dec"
  mkdir -p "$M"
  "$CK_BIN/ck-synth" --preset tiny --text-type f16 --mmproj-type f32 -o "$BATS_FILE_TMPDIR" -q
  (cd "$M" && "$CK_BIN/ck-convert" "$BATS_FILE_TMPDIR/tiny-text-f16.gguf" -o text.bump 2>/dev/null \
      | "$CK_BIN/ck-lower" - -o ir1.json 2>/dev/null && "$CK_BIN/ck-layout" ir1.json -o . 2>/dev/null)
  export MKPREFIX="$BATS_FILE_TMPDIR/mkprefix.py"
  cat > "$MKPREFIX" <<'PY'
import json, struct, sys
# mkprefix.py OUT NX NY N_EMBD N_DS [SRC_W SRC_H]: a zero-row prefix (docs/formats/prefix.md)
out, nx, ny, n_embd, n_ds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rows, rw = nx * ny, n_embd * (1 + n_ds)
meta = {"format": "ck.prefix", "version": 1, "model": {"mmproj_sha256": "0" * 64, "mmproj_name": "test"},
        "bridge": {"activation": "test", "rows": rows, "row_width": rw, "n_embd": n_embd, "n_deepstack": n_ds,
                   "grid": [nx, ny], "positions": "t,t+y,t+x,0", "resume": "pos0+max(nx,ny)",
                   "max_frames": 2, "frame_merge": "adjacent_same_size"}}
if len(sys.argv) > 7:
    meta["preprocess"] = {"source": {"width": int(sys.argv[6]), "height": int(sys.argv[7])}}
js = json.dumps(meta).encode()
off = (128 + len(js) + 63) // 64 * 64
hdr = b"CKPREFIX" + struct.pack("<IIQQIIIIQQQQ", 1, 128, rows, rw, n_embd, n_ds, nx, ny, 128, len(js), off, rows * rw * 4)
data = hdr + b"\0" * (128 - len(hdr)) + js + b"\0" * (off - 128 - len(js)) + b"\0" * (rows * rw * 4)
(sys.stdout.buffer.write(data) if out == "-" else open(out, "wb").write(data))
PY
  python3 "$MKPREFIX" "$BATS_FILE_TMPDIR/a.prefix" 14 9 64 2 451 300
  python3 "$MKPREFIX" "$BATS_FILE_TMPDIR/b.prefix" 8 8 64 2 256 256
  python3 "$MKPREFIX" "$BATS_FILE_TMPDIR/b2.prefix" 8 8 64 2 256 256
  python3 "$MKPREFIX" "$BATS_FILE_TMPDIR/wide.prefix" 8 8 64 3
}

setup() {
  D="$CK_BIN/ck-decode"
  P="$BATS_FILE_TMPDIR"
  cd "$BATS_TEST_TMPDIR"
}

@test "two images vs ref_decode (tiny f16): chunks, token ids, first logits; all-position logits; ck-bridge" {
  run -0 "$TI/compare.sh" "$CK_BIN" "$BATS_FILE_TMPDIR/cmp" tiny decode,all_logits,bridge
  echo "$output"
  [[ "$output" == *"two_image: all equal"* ]]
  [ "$(echo "$output" | grep -c '^OK')" -eq 8 ]
}

@test "two images vs ref_decode (small f16): chunks, token ids, first logits" {
  run -0 "$TI/compare.sh" "$CK_BIN" "$BATS_FILE_TMPDIR/cmp" small decode
  echo "$output"
  [[ "$output" == *"two_image: all equal"* ]]
}

@test "--plan with two prefixes: image k at marker k, second image at pos0 + max(nx, ny) + text" {
  run -0 --separate-stderr "$D" -m "$M" --prefix "$P/a.prefix" --prefix "$P/b.prefix" \
      -p "<__media__>Describe the first picture. <__media__>Now compare it with the second one." --plan
  echo "$output" | jq -e '[.chunks[] | .type] == ["text", "image", "text", "image", "text"]'
  echo "$output" | jq -e '[.chunks[] | select(.type == "image") | [.image, .pos0, .n_pos, .n_tokens]] == [[0, 4, 14, 126], [1, 26, 8, 64]]'
  echo "$output" | jq -e '.n_prompt_tokens == 216 and .n_past_after_prompt == 48'
  echo "$output" | jq -e '[.ubatches[] | select(.type == "image") | .image] == [0, 1]'
}

@test "no marker: one marker per image after the text (--image-first: before); same-size adjacent images refused (the bridge contract says they merge)" {
  run -0 --separate-stderr "$D" -m "$M" --prefix "$P/a.prefix" --prefix "$P/b.prefix" -p "Compare." --plan
  [[ "$(echo "$output" | jq -r .formatted_prompt)" == *"Compare.<__media__><__media__><|im_end|>"* ]]
  echo "$output" | jq -e '[.chunks[] | select(.type == "image") | .image] == [0, 1]'
  run -0 --separate-stderr "$D" -m "$M" --prefix "$P/a.prefix" --prefix "$P/b.prefix" -p "Compare." --image-first --plan
  [[ "$(echo "$output" | jq -r .formatted_prompt)" == *"user"$'\n'"<__media__><__media__>Compare."* ]]
  # mtmd would merge two adjacent same-size images into one 2-frame chunk: ck refuses, naming both prefixes
  run -2 --separate-stderr "$D" -m "$M" --prefix "$P/b.prefix" --prefix "$P/b2.prefix" -p "Compare." --plan
  [ -z "$output" ]
  [ "$(echo "$stderr" | wc -l)" -eq 1 ]
  [[ "$stderr" == *"b.prefix"*"b2.prefix"*"same size"* ]]
  # the same images with text between the markers are fine
  run -0 --separate-stderr "$D" -m "$M" --prefix "$P/b.prefix" --prefix "$P/b2.prefix" -p "<__media__>x<__media__>" --plan
}

@test "marker count errors: more markers than images / fewer, one line, exit 2" {
  run -2 --separate-stderr "$D" -m "$M" --prefix "$P/a.prefix" --prefix "$P/b.prefix" \
      -p "<__media__> one <__media__> two <__media__> three" --plan
  [ -z "$output" ]
  [ "$(echo "$stderr" | wc -l)" -eq 1 ]
  [[ "$stderr" == "ck-decode: error: "*"3 image marker(s)"*"for 2 image(s): more markers than images"* ]]
  run -2 --separate-stderr "$D" -m "$M" --prefix "$P/a.prefix" --prefix "$P/b.prefix" -p "only <__media__> one" --plan
  [[ "$stderr" == *"1 image marker(s)"*"for 2 image(s): fewer markers than images"* ]]
  run -2 --separate-stderr "$D" -m "$M" --prefix - --prefix - -p "x" --plan < "$P/a.prefix"
  [[ "$stderr" == *"stdin can carry one prefix only"* ]]
  # a second prefix of the wrong width names that prefix and the decoder
  run -2 --separate-stderr "$D" -m "$M" --prefix "$P/a.prefix" --prefix "$P/wide.prefix" -p "x" --plan
  [[ "$stderr" == *"wide.prefix"*"call.json"* ]]
}

@test "--json FILE|-: prefill and decode ms, tokens, tokens/s" {
  n=$("$D" -m "$M" --prefix "$P/a.prefix" --prefix "$P/b.prefix" -p "Compare." --plan | jq .n_prompt_tokens)
  nu=$("$D" -m "$M" --prefix "$P/a.prefix" --prefix "$P/b.prefix" -p "Compare." --plan | jq '.ubatches | length')
  [ "$n" -eq $(( 126 + 64 + $("$D" -m "$M" --prefix "$P/a.prefix" --prefix "$P/b.prefix" -p "Compare." --plan \
      | jq '.prompt_text_tokens | length') )) ]
  run -0 --separate-stderr "$D" -m "$M" --prefix "$P/a.prefix" --prefix "$P/b.prefix" -p "Compare." -n 4 -t 1 \
      --json s.json
  jq -e --argjson n "$n" '.format == "ck.decode_stats" and .version == 1 and .n_images == 2 and .n_prompt_tokens == $n' s.json
  jq -e --argjson n "$n" --argjson nu "$nu" \
      '.prefill.n_tokens == $n and .prefill.ms > 0 and .prefill.tokens_per_s > 0 and .prefill.n_ubatches == $nu' s.json
  jq -e '.decode.n_tokens == 4 and .decode.n_forward == 3 and .decode.ms >= 0 and .stop_reason == "n_predict"' s.json
  run -0 --separate-stderr "$D" -m "$M" -p "Hi" -n 2 -t 1 --json -
  echo "$stderr" | sed -n '/^{/,/^}/p' | jq -e '.n_images == 0 and .decode.n_tokens == 2'
}

@test "--logits-all-out: every prompt position then every step; needs a plan with n_outputs bound" {
  run -2 --separate-stderr "$D" -m "$M" -p "Hi there" -n 3 -t 1 --logits-all-out all.f32
  [[ "$stderr" == *"call.json"*"--bound n_outputs=512"* ]]
  [ ! -e all.f32 ]
  (cd "$M" && "$CK_BIN/ck-layout" ir1.json -o ../dec-all --bound n_outputs=512 --weights text.bump 2>/dev/null)
  run -0 --separate-stderr "$D" -m "$P/dec-all" -p "Hi there" -n 3 -t 1 --logits-all-out all.f32 --plan
  echo "$output" | jq -e '[.ubatches[].n_outputs] == [.ubatches[].n_tokens]'
  n=$(echo "$output" | jq .n_prompt_tokens)
  run -0 --separate-stderr "$D" -m "$P/dec-all" -p "Hi there" -n 3 -t 1 --logits-all-out all.f32 --tokens-out ids.txt
  nv=151936
  [ "$(stat -c %s all.f32)" -eq $(( (n + 3) * nv * 4 )) ]
  # the last prompt row is the row the first token is sampled from
  cmp <(tail -c +$(( (n - 1) * nv * 4 + 1 )) all.f32 | head -c $(( nv * 4 ))) \
      <(tail -c +$(( n * nv * 4 + 1 )) all.f32 | head -c $(( nv * 4 )))
}

@test "ck-bridge: two --image -> report v2 (per-image prefixes, segments, prefill/decode timings)" {
  run -0 --separate-stderr "$CK_BIN/ck-bridge" --mmproj "$P/tiny-mmproj-f32.gguf" --model "$P/tiny-text-f16.gguf" \
      --image "$CK_SOURCE_DIR/tests/parity/images/chelsea.png" --image "$CK_SOURCE_DIR/tests/parity/images/grad_256x256.png" \
      -p "Compare." -n 3 -t 1 --cache-dir "$P/cache" --report r.json
  jq -e '.format == "ck.bridge_report" and .version == 2 and .status == "ok"' r.json
  jq -e '(.inputs.images | length) == 2 and (.inputs.images | map(.sha256 | length) == [64, 64])' r.json
  jq -e '(.prefix | length) == 2 and .prefix[0].grid == [14, 9] and .prefix[1].grid == [8, 8]' r.json
  jq -e '.prefix | all(.rows == .grid[0] * .grid[1] and .timings_ms.encode > 0)' r.json
  # image 1 starts after image 0's max(14, 9) positions + <|vision_end|> <|vision_start|>
  jq -e '.prompt.n_images == 2 and ([.prompt.segments[] | select(.type == "image") | .pos0] | .[1] - .[0] == 16)' r.json
  jq -e '[.prompt.segments[] | select(.type == "image") | [.image, .n_pos, .n_tokens]] == [[0, 14, 126], [1, 8, 64]]' r.json
  jq -e '.timings_ms | [.convert, .lower, .layout, .preprocess, .encode, .prefill, .decode, .total] | all(. != null and . >= 0)' r.json
  jq -e '.token_counts == {"encode": 190, "prefill": .prompt.n_prompt_tokens, "decode": 3}' r.json
  jq -e '.tokens_per_s.encode > 0 and .tokens_per_s.prefill > 0 and .tokens_per_s.decode >= 0' r.json
}

@test "ck-bridge: a missing second image, and a mismatched pair, name the file(s), exit 2" {
  run -2 "$CK_BIN/ck-bridge" --mmproj "$P/tiny-mmproj-f32.gguf" --model "$P/tiny-text-f16.gguf" \
      --image "$CK_SOURCE_DIR/tests/parity/images/chelsea.png" --image nope.png -p hi --no-cache
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *"nope.png"* ]]
  "$CK_BIN/ck-synth" --preset small --text-type f16 --only text -o "$BATS_TEST_TMPDIR" -q
  run -2 "$CK_BIN/ck-bridge" --mmproj "$P/tiny-mmproj-f32.gguf" --model small-text-f16.gguf \
      --image "$CK_SOURCE_DIR/tests/parity/images/chelsea.png" --image "$CK_SOURCE_DIR/tests/parity/images/grad_256x256.png" \
      -p hi --no-cache
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *"tiny-mmproj-f32.gguf"*"small-text-f16.gguf"*"not a pair"* ]]
  [ ! -e bridge_report.json ]
}
