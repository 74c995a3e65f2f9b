#!/usr/bin/env bats
# ck-preprocess: golden pixels (same bytes as the oracle's ref_encode --preproc-out), contract from a
# manifest-style file, token overrides, malformed/unsupported inputs (exit 2, one line naming the file, no
# output file left behind). Fixtures: tests/fixtures/image (manifest.json records how they were made).

bats_require_minimum_version 1.5.0

setup() {
  PRE="$CK_BIN/ck-preprocess"
  FX="$CK_SOURCE_DIR/tests/fixtures/image"
  T="$BATS_TEST_TMPDIR"
}

golden() {  # golden CASE -> path of the decompressed oracle output
  zstd -q -d -f "$FX/$1.hwc.f32.zst" -o "$T/$1.ref.f32"
  echo "$T/$1.ref.f32"
}

@test "truncated baseline JPEG decodes to the oracle's exact pixels (hwc layout)" {
  run "$PRE" "$FX/trunc70_base_150x100.jpg" --layout hwc -o "$T/out.f32"
  [ "$status" -eq 0 ]
  cmp "$T/out.f32" "$(golden truncated_baseline_jpeg)"
  [ "$(jq -r '.target.width, .target.height, .n_tokens, .budget_branch' <<<"$output" | tr '\n' ' ')" = "160 96 15 round " ]
  [ "$(jq -r .content.offset_x <<<"$output")" = 8 ]
}

@test "token overrides and a contract file give the oracle's pixels" {
  jq '.contracts.qwen3vl' "$FX/manifest.json" >"$T/contract.json"
  jq -n --slurpfile c "$T/contract.json" '{format: "ck.weights_manifest", preprocess: $c[0]}' >"$T/manifest.json"
  run "$PRE" "$FX/rgb_120x90.bmp" --contract "$T/manifest.json" --image-min-tokens 2 --image-max-tokens 6 --layout hwc -o "$T/o.f32"
  [ "$status" -eq 0 ]
  cmp "$T/o.f32" "$(golden bmp_max_override)"
  [ "$(jq -r '.custom_max_tokens, .max_pixels, .budget_branch' <<<"$output" | tr '\n' ' ')" = "true 6144 max_pixels " ]
}

@test "planar output is the hwc output transposed; summary sha256 covers the planar bytes" {
  run "$PRE" "$FX/rgba16_37x23.png" -o "$T/p.f32" --summary "$T/s.json"
  [ "$status" -eq 0 ]
  [ "$(sha256sum "$T/p.f32" | cut -d' ' -f1)" = "$(jq -r .pixels_sha256 "$T/s.json")" ]
  [ "$(jq -c .shape "$T/s.json")" = "[3,96,128]" ]
  [ "$(stat -c %s "$T/p.f32")" -eq $((3 * 96 * 128 * 4)) ]
}

@test "--u8-out writes the resized + padded RGB8 image" {
  run "$PRE" "$FX/palette_130x70.png" --u8-out "$T/u8.ppm"
  [ "$status" -eq 0 ]
  [ "$(head -c 14 "$T/u8.ppm" | tr '\n' ' ')" = "P6 128 64 255 " ]
  [ "$(stat -c %s "$T/u8.ppm")" -eq $((14 + 128 * 64 * 3)) ]
}

@test "truncated PNG: exit 2, one line naming the file, no output" {
  run "$PRE" "$FX/trunc_64x64.png" -o "$T/x.f32"
  [ "$status" -eq 2 ]
  [ "${#lines[@]}" -eq 1 ]
  # stb only says "outofdata"; ck names what is wrong (issue #21 item 5)
  [ "$output" = "ck-preprocess: error: $FX/trunc_64x64.png: cannot decode image: truncated PNG: chunk IDAT at byte 151 needs 9463 bytes, the file ends 5717 bytes after it starts (stb_image 2.30: outofdata)" ]
  [ ! -e "$T/x.f32" ]
  [ -z "$(ls "$T" | grep -v '\.ref\.f32$' || true)" ]
}

@test "missing, empty, garbage and audio inputs: exit 2" {
  run "$PRE" "$T/nope.png"
  [ "$status" -eq 2 ]; [[ "$output" == *"$T/nope.png: cannot open"* ]]
  : >"$T/empty.png"
  run "$PRE" "$T/empty.png"
  [ "$status" -eq 2 ]; [[ "$output" == *"empty.png: empty file, not an image" ]]
  printf 'not an image at all' >"$T/junk.jpg"
  run "$PRE" "$T/junk.jpg"
  [ "$status" -eq 2 ]; [[ "$output" == *"junk.jpg: cannot decode image (stb_image 2.30: unknown image type)" ]]
  printf 'RIFF\x24\x00\x00\x00WAVEfmt ' >"$T/a.wav"
  run "$PRE" "$T/a.wav"
  [ "$status" -eq 2 ]; [[ "$output" == *"a.wav: has an audio signature"* ]]
}

@test "image beyond the contract: huge header, extreme aspect ratio" {
  printf 'P6\n30000 30000\n255\n' >"$T/big.ppm"
  run "$PRE" "$T/big.ppm"
  [ "$status" -eq 2 ]; [[ "$output" == *"big.ppm: image 30000x30000 is beyond the preprocess contract"* ]]
  { printf 'P6\n4000 50\n255\n'; head -c $((4000 * 50 * 3)) /dev/zero; } >"$T/wide.ppm"
  run "$PRE" "$T/wide.ppm" --image-max-tokens 64
  [ "$status" -eq 2 ]; [[ "$output" == *"wide.ppm: image 4000x50 preprocesses to 2272x32 (71 tokens), beyond the contract's max_tokens 64" ]]
  run "$PRE" "$T/wide.ppm" --image-max-tokens 64 --allow-over-max-tokens
  [ "$status" -eq 0 ]; [ "$(jq -r .over_max_tokens <<<"$output")" = true ]
}

@test "bad contracts and overrides: exit 2 naming the source" {
  jq '.contracts.qwen3vl + {resize_pad: "pad_nearest"}' "$FX/manifest.json" >"$T/c.json"
  run "$PRE" "$FX/rgb_40x30.png" --contract "$T/c.json"
  [ "$status" -eq 2 ]; [[ "$output" == *"c.json: unsupported \"resize_pad\" \"pad_nearest\""* ]]
  run "$PRE" "$FX/rgb_40x30.png" --image-min-tokens 200 --image-max-tokens 100
  [ "$status" -eq 2 ]; [[ "$output" == *"max tokens 100 is less than min tokens 200"* ]]
  printf '{' >"$T/bad.json"
  run "$PRE" "$FX/rgb_40x30.png" --contract "$T/bad.json"
  [ "$status" -eq 2 ]; [[ "$output" == *"bad.json: invalid JSON"* ]]
}

@test "stdin input" {
  run bash -c "'$PRE' - < '$FX/gray_61x45.jpg' --layout hwc -o '$T/g.f32'"
  [ "$status" -eq 0 ]
  cmp "$T/g.f32" "$(golden gray_jpeg)"
}
