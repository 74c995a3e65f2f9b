#!/usr/bin/env bats
# Video (#17): ck-encode --video / ck-bridge --video / ck-decode --prefix DIR, frames through ffprobe + ffmpeg as
# llama.cpp b10256's mtmd-helper (MTMD_VIDEO): 4 fps, source size, "Video:" and timestamp texts, frame 0 alone then
# pairs. Against the oracle golden tests/parity/frames/golden.json (ref_decode of an MTMD_VIDEO build on a
# generated testsrc video, tests/parity/frames/regen.sh); the 22-frame video runs in make test-v8-qwen3vl.

bats_require_minimum_version 1.5.0

setup_file() {
  export G="$CK_SOURCE_DIR/tests/parity/frames/golden.json"
  export M="$BATS_FILE_TMPDIR"
  export C="$M/cmp/tiny"
  mkdir -p "$C/models" "$C/mmproj-f32" "$C/text-f16"
  (cd "$C/models" && "$CK_BIN/ck-synth" --preset tiny --mmproj-type f32 --only mmproj -o . -q \
     && "$CK_BIN/ck-synth" --preset tiny --text-type f16 --only text -o . -q)
  (cd "$C/mmproj-f32" && "$CK_BIN/ck-convert" "$C/models/tiny-mmproj-f32.gguf" -o w.bump 2>/dev/null |
     "$CK_BIN/ck-lower" - -o ir1.json 2>/dev/null && "$CK_BIN/ck-layout" ir1.json -o . 2>/dev/null)
  (cd "$C/text-f16" && "$CK_BIN/ck-convert" "$C/models/tiny-text-f16.gguf" -o w.bump 2>/dev/null |
     "$CK_BIN/ck-lower" - -o ir1.json 2>/dev/null && "$CK_BIN/ck-layout" ir1.json -o . 2>/dev/null)
  export ENC="$C/mmproj-f32" DEC="$C/text-f16" V="$M/cmp/videos"
  bash "$CK_SOURCE_DIR/tests/parity/frames/make_videos.sh" "$V"
  "$CK_BIN/ck-encode" -m "$ENC" -t 2 --video "$V/odd5.mkv" -o "$M/odd5.d"
}

setup() { T="$BATS_TEST_TMPDIR"; }

@test "video (5 frames, odd) vs ref_decode MTMD_VIDEO (tiny): chunks, 32 tokens + first logits at 1 and 2 threads, every logits row, ck-bridge --video" {
  run "$CK_SOURCE_DIR/tests/parity/frames/compare.sh" "$CK_BIN" "$M/cmp" tiny decode,all_logits,bridge video_odd 1,2
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"frames: all equal"* ]]
}

@test "ck-encode --video: chunks {0} {1,2} {3,4}, texts Video: and [0m0.00s], video.json" {
  jq -e '.format == "ck.video_chunks" and .n_frames == 5 and .fps == 4 and .size == [176, 112]
         and ([.chunks[] | .frames] == [[0], [1, 2], [3, 4]])
         and .chunks[0].texts_before == ["Video:"] and .chunks[1].texts_before == ["[0m0.00s]"]
         and .chunks[2].texts_before == [] and .chunks[2].texts_after == []' "$M/odd5.d/video.json"
  run "$CK_BIN/ck-encode" --info "$M/odd5.d/video.0001.prefix"
  [ "$status" -eq 0 ]
  jq -e '.frames == 2 and .meta.video.chunk == 1 and .meta.video.n_chunks == 3 and .meta.video.frame_times_s == [0.25, 0.5]' <<< "$output"
}

@test "ck-decode --plan on a video directory: one marker expands to Video:, 3 image chunks, [0m0.00s]" {
  run -0 --separate-stderr "$CK_BIN/ck-decode" -m "$DEC" --prefix "$M/odd5.d" -p "<__media__>Describe the video." --plan
  jq -e '[.chunks[] | .type] == ["text", "image", "text", "image", "text", "image", "text"]' <<< "$output"
  jq -e '[.chunks[] | select(.type == "image") | .frames] == [1, 2, 2]' <<< "$output"
}

@test "ck-decode: a video's prefixes out of order or incomplete are refused, one line, exit 2" {
  run -2 --separate-stderr "$CK_BIN/ck-decode" -m "$DEC" --prefix "$M/odd5.d/video.0001.prefix" -p "x" --plan
  [ "$(wc -l <<< "$stderr")" -eq 1 ]
  [[ "$stderr" == *"does not start a video"* ]]
  run -2 --separate-stderr "$CK_BIN/ck-decode" -m "$DEC" --prefix "$M/odd5.d/video.0000.prefix" \
    --prefix "$M/odd5.d/video.0002.prefix" -p "x" --plan
  [[ "$stderr" == *"expected chunk 1 of 3"* ]]
}

@test "a file that is neither image nor video: one line, exit 2, no output (ck-encode --video, ck-bridge --image/--video)" {
  printf 'not a picture\n' > "$T/junk.bin"
  run -2 --separate-stderr "$CK_BIN/ck-encode" -m "$ENC" --video "$T/junk.bin" -o "$T/out.d"
  [ "$(wc -l <<< "$stderr")" -eq 1 ]
  [[ "$stderr" == *"junk.bin"*"not a video"* ]]
  [ ! -e "$T/out.d" ]
  for flag in --image --video; do
    run -2 --separate-stderr "$CK_BIN/ck-bridge" --mmproj "$C/models/tiny-mmproj-f32.gguf" --model "$C/models/tiny-text-f16.gguf" \
      $flag "$T/junk.bin" -p x -n 1 --cache-dir "$M/cmp/tiny/cache" --report "$T/r.json"
    [ "$(wc -l <<< "$stderr")" -eq 1 ]
    [[ "$stderr" == "ck-bridge: error: "*"junk.bin"* ]]
    [ ! -e "$T/r.json" ]
  done
}

@test "ck-encode --video: needs -o DIR, takes no image, refuses a non-empty DIR" {
  run -2 --separate-stderr "$CK_BIN/ck-encode" -m "$ENC" --video "$V/odd5.mkv"
  [[ "$stderr" == *"needs -o DIR"* ]]
  run -2 --separate-stderr "$CK_BIN/ck-encode" -m "$ENC" --video "$V/odd5.mkv" -o "$M/odd5.d"
  [[ "$stderr" == *"not an empty directory"* ]]
  run -2 --separate-stderr "$CK_BIN/ck-encode" -m "$ENC" --video "$V/odd5.mkv" "$V/odd5.mkv" -o "$T/x.d"
  [[ "$stderr" == *"--video takes no image arguments"* ]]
}

@test "ck-bridge --image VIDEO: a file stb_image cannot decode is read as a video (as mtmd-helper); report lists it" {
  run -0 --separate-stderr "$CK_BIN/ck-bridge" --mmproj "$C/models/tiny-mmproj-f32.gguf" --model "$C/models/tiny-text-f16.gguf" \
    --image "$V/odd5.mkv" -p "<__media__>Describe the video." -n 32 -t 2 --cache-dir "$M/cmp/tiny/cache" --report "$T/r.json"
  [ "$(jq -c .output.token_ids "$T/r.json")" = "$(jq -c '.presets.tiny.cases.video_odd.threads["2"].tokens' "$G")" ]
  jq -e '.inputs.videos[0].n_frames == 5 and .inputs.videos[0].fps == 4 and .inputs.videos[0].texts == ["Video:", "[0m0.00s]"]
         and ([.prefix[] | .video.frame_indices] == [[0], [1, 2], [3, 4]])' "$T/r.json"
}

@test "ck-bridge: --image and --video take the markers in command-line order" {
  local I="$CK_SOURCE_DIR/tests/parity/images"
  run -0 --separate-stderr "$CK_BIN/ck-bridge" --mmproj "$C/models/tiny-mmproj-f32.gguf" --model "$C/models/tiny-text-f16.gguf" \
    --video "$V/odd5.mkv" --image "$I/chelsea.png" -p "<__media__>then<__media__>" -t 2 --stop-after encode \
    --cache-dir "$M/cmp/tiny/cache" --report "$T/r.json"
  jq -e '[.prefix[] | .video.chunk] == [0, 1, 2, null] and .prefix[3].file == "chelsea.png"' "$T/r.json"
  run -0 --separate-stderr "$CK_BIN/ck-bridge" --mmproj "$C/models/tiny-mmproj-f32.gguf" --model "$C/models/tiny-text-f16.gguf" \
    --image "$I/chelsea.png" --video "$V/odd5.mkv" -p "<__media__>then<__media__>" -t 2 --stop-after encode \
    --cache-dir "$M/cmp/tiny/cache" --report "$T/r.json"
  jq -e '[.prefix[] | .video.chunk] == [null, 0, 1, 2] and .prefix[0].file == "chelsea.png"' "$T/r.json"
}

@test "ck-bridge --no-frame-merge --video: a video's own frames stay paired (ref_decode --no-frame-merge splits media, not frames)" {
  run -0 --separate-stderr "$CK_BIN/ck-bridge" --mmproj "$C/models/tiny-mmproj-f32.gguf" --model "$C/models/tiny-text-f16.gguf" \
    --video "$V/odd5.mkv" -p "<__media__>Describe the video." -n 32 -t 2 --no-frame-merge --cache-dir "$M/cmp/tiny/cache" --report "$T/r.json"
  jq -e '[.prefix[] | .frames] == [1, 2, 2]' "$T/r.json"
  [ "$(jq -c .output.token_ids "$T/r.json")" = "$(jq -c '.presets.tiny.cases.video_odd.threads["2"].tokens' "$G")" ]
}

# A still right after a video's marker, of the video's size (176x112). mtmd b10256 pairs adjacent same-size bitmaps
# whatever they come from: the 22-frame video ends with frame 21 alone (after the "[0m5.00s]" text), so frame 21 and
# the still are one 2-frame chunk; the 5-frame video ends with the pair {3, 4}, so the still stays alone.
@test "a video then a same-size still vs ref_decode MTMD_VIDEO (tiny): last frame + still merged (22 frames), still alone (5 frames); 1 and 2 threads, every logits row, ck-bridge" {
  run "$CK_SOURCE_DIR/tests/parity/frames/compare.sh" "$CK_BIN" "$M/cmp" tiny decode,all_logits,bridge video_image,video_odd_image 1,2
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"frames: all equal"* ]]
}

@test "ck-bridge --video V --image STILL: the report's last prefix holds frame 21 and the still; one stderr line says so" {
  local S="$CK_SOURCE_DIR/tests/parity/images/grad_176x112.png"
  run -0 --separate-stderr "$CK_BIN/ck-bridge" --mmproj "$C/models/tiny-mmproj-f32.gguf" --model "$C/models/tiny-text-f16.gguf" \
    --video "$V/even22.mkv" --image "$S" -p "<__media__><__media__>Describe." -t 2 --stop-after encode \
    --cache-dir "$M/cmp/tiny/cache" --report "$T/r.json" --work-dir "$T/w"
  [[ "$stderr" == *"1 (the video's last frame)+2: same size at adjacent markers, merged into one 2-frame chunk"* ]]
  jq -e '(.prefix | length) == 12 and .prefix[11].frames == 2 and .prefix[11].video.frame_indices == [21]
         and .prefix[11].video.still.file == "grad_176x112.png" and .prefix[11].bitmaps == [21, 22]
         and .prefix[10].video.still == null' "$T/r.json"
  # ck-decode takes those prefixes: the still's marker is the merged chunk's second frame
  local pre=(); for q in $(seq 0 11); do pre+=(--prefix "$T/w/prefix.$q.bin"); done
  run -0 --separate-stderr "$CK_BIN/ck-decode" -m "$DEC" "${pre[@]}" -p "<__media__><__media__>Describe." --plan
  jq -e '[.chunks[] | select(.type == "image") | .frames] | length == 12 and .[11] == 2' <<< "$output"
  # ... but not with text between the two markers (mtmd merges adjacent markers only)
  run -2 --separate-stderr "$CK_BIN/ck-decode" -m "$DEC" "${pre[@]}" -p "<__media__> and <__media__>Describe." --plan
  [ "$(wc -l <<< "$stderr")" -eq 1 ]
  [[ "$stderr" == *"not adjacent"* ]]
  # --no-frame-merge: the still is its own chunk (ref_decode --no-frame-merge tokenizes each medium on its own)
  run -0 --separate-stderr "$CK_BIN/ck-bridge" --mmproj "$C/models/tiny-mmproj-f32.gguf" --model "$C/models/tiny-text-f16.gguf" \
    --video "$V/even22.mkv" --image "$S" -p "<__media__><__media__>Describe." -t 2 --stop-after encode --no-frame-merge \
    --cache-dir "$M/cmp/tiny/cache" --report "$T/r2.json"
  jq -e '(.prefix | length) == 13 and .prefix[11].frames == 1 and .prefix[12].file == "grad_176x112.png"' "$T/r2.json"
}

@test "ck-decode: a video's separate prefixes then a same-size still's prefix are refused (the pin merges them), one line, exit 2" {
  local S="$CK_SOURCE_DIR/tests/parity/images/grad_176x112.png"
  "$CK_BIN/ck-encode" -m "$ENC" -t 2 --video "$V/even22.mkv" -o "$T/even22.d"
  "$CK_BIN/ck-encode" -m "$ENC" -t 2 "$S" -o "$T/still.prefix"
  run -2 --separate-stderr "$CK_BIN/ck-decode" -m "$DEC" --prefix "$T/even22.d" --prefix "$T/still.prefix" \
    -p "<__media__><__media__>Describe." --plan
  [ "$(wc -l <<< "$stderr")" -eq 1 ]
  [[ "$stderr" == *"merges into one 2-frame chunk"*"ck-bridge --video V --image I"* ]]
  [ -z "$output" ]
}
