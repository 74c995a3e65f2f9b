#!/usr/bin/env bats
# Golden parity fixtures (tests/parity/fixtures, made by `make regen-fixtures` with the pinned llama.cpp oracle)
# checked WITHOUT the oracle: the manifest against freshly generated ck-synth tiny models (sha256: proves
# ck-synth's determinism and the fixture/model pairing), every listed file present, decompressing and matching
# its sha256/shape, ck-diff on the fixture dumps; and that each of these checks fails when it should.

bats_require_minimum_version 1.5.0

setup() {
  FIX="$CK_SOURCE_DIR/tests/parity/fixtures"
  CHECK="$CK_SOURCE_DIR/tests/parity/check_fixtures.py"
  PY="${PYTHON:-/usr/bin/python3}"
  T="$BATS_TEST_TMPDIR"
  TOK="${CK_DEPS_DIR:-}/qwen3-tokenizer/tokenizer.json"
  [ -f "$FIX/manifest.json" ]
}

# a private copy of the fixtures (and the images next to it, which the checker looks up as ../images)
copy_fixtures() {
  mkdir -p "$T/p"
  cp -r "$FIX" "$T/p/fixtures"
  cp -r "$CK_SOURCE_DIR/tests/parity/images" "$T/p/images"
}

jq_first_dump() { jq -r '[.files | to_entries[] | select(.value.kind == "dump") | .key][0]' "$1/manifest.json"; }

@test "every fixture file exists, decompresses and matches its manifest sha256 and shape" {
  run "$PY" "$CHECK" "$FIX"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"0 problem(s)"* ]]
  # the manifest pins the oracle and the ISA build the fixtures came from
  [ "$(jq -r '.oracle.llama_cpp.commit' "$FIX/manifest.json")" = 6c8dcaa ]
  [ "$(jq -r '.oracle.isa' "$FIX/manifest.json")" = avx2 ]
  [ "$(jq '.files | length' "$FIX/manifest.json")" -gt 20 ]
}

@test "ck-synth regenerates the tiny models byte-identical to the fixtures' models" {
  names=""
  for t in f32 f16 bf16 q8_0; do
    "$CK_BIN/ck-synth" --preset tiny --mmproj-type "$t" --only mmproj -q -o "$T/m"
    names="$names,tiny-mmproj-$t"
  done
  if [ -f "$TOK" ]; then
    for t in f16 q8_0; do
      "$CK_BIN/ck-synth" --preset tiny --text-type "$t" --only text -q -o "$T/m"
      names="$names,tiny-text-$t"
    done
  fi
  run "$PY" "$CHECK" "$FIX" --models "$T/m" --require-models "$names"
  echo "$output"
  [ "$status" -eq 0 ]
  n=$(ls "$T/m"/*.gguf | wc -l)
  [[ "$output" == *"$n models checked, 0 problem(s)"* ]]
  [ -f "$TOK" ] || skip "text models not checked: no $TOK (make deps)"
}

@test "a model made with another seed is rejected (the pairing check can fail)" {
  "$CK_BIN/ck-synth" --preset tiny --mmproj-type f32 --only mmproj --seed 1 -q -o "$T/m"
  run "$PY" "$CHECK" "$FIX" --models "$T/m" --require-models tiny-mmproj-f32
  [ "$status" -eq 1 ]
  [[ "$output" == *"model tiny-mmproj-f32: sha256 of the regenerated file differs"* ]]
  run "$PY" "$CHECK" "$FIX" --models "$T/m" --require-models tiny-mmproj-f16
  [ "$status" -eq 1 ]
  [[ "$output" == *"model tiny-mmproj-f16: required but not in"* ]]
}

@test "ck-diff: every fixture dump equals itself" {
  dumps=$(jq -r '.files | to_entries[] | select(.value.kind == "dump") | .key' "$FIX/manifest.json")
  [ -n "$dumps" ]
  for d in $dumps; do
    run "$CK_BIN/ck-diff" --quiet "$FIX/$d" "$FIX/$d"
    [ "$status" -eq 0 ] || { echo "$d: $output"; false; }
  done
  # raw f32 fixtures too (ck-diff compares two raw f32 files)
  f=$(jq -r '[.encode[] | select(.model == "tiny-mmproj-f32")][0].embedding' "$FIX/manifest.json")
  zstd -q -dc "$FIX/$f" > "$T/emb.f32"
  run "$CK_BIN/ck-diff" --quiet "$T/emb.f32" "$T/emb.f32"
  [ "$status" -eq 0 ]
}

@test "ck-diff finds a changed value in a fixture dump; the checker finds it too" {
  copy_fixtures
  d=$(jq_first_dump "$T/p/fixtures")
  rec=$(jq -r '[.records[] | select(.nbytes >= 64)][1] | .file' "$T/p/fixtures/$d/index.json")
  name=$(jq -r "[.records[] | select(.file == \"$rec\")][0] | .phase + \"/\" + .name" "$T/p/fixtures/$d/index.json")
  zstd -q -dc "$T/p/fixtures/$d/$rec" > "$T/raw"
  printf '\x7f' | dd of="$T/raw" bs=1 seek=3 conv=notrunc 2>/dev/null     # high byte of the first f32
  zstd -q -19 -f "$T/raw" -o "$T/p/fixtures/$d/$rec"
  run "$CK_BIN/ck-diff" --quiet "$FIX/$d" "$T/p/fixtures/$d"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"FIRST DIVERGENCE: $name"* ]]
  run "$PY" "$CHECK" "$T/p/fixtures"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$d: content sha256 (all records) differs from the manifest"* ]]
}

@test "the checker rejects a changed f32 file, a wrong shape, a missing file and an unlisted file" {
  copy_fixtures
  F="$T/p/fixtures"
  f=$(jq -r '[.files | to_entries[] | select(.value.kind == "f32") | .key][0]' "$F/manifest.json")
  # changed content (valid zstd, same size)
  zstd -q -dc "$F/$f" > "$T/raw"
  printf '\x01' | dd of="$T/raw" bs=1 seek=0 conv=notrunc 2>/dev/null
  zstd -q -19 -f "$T/raw" -o "$F/$f"
  run "$PY" "$CHECK" "$F"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$f: sha256 of the decompressed data differs"* ]]
  # corrupt zstd
  cp "$FIX/$f" "$F/$f"; printf 'garbage' > "$F/$f"
  run "$PY" "$CHECK" "$F"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$f: zstd -d failed"* ]]
  cp "$FIX/$f" "$F/$f"
  # wrong shape in the manifest
  jq --arg f "$f" '.files[$f].shape[0] += 1' "$FIX/manifest.json" > "$F/manifest.json"
  run "$PY" "$CHECK" "$F"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$f: "*"bytes decompressed, shape"* ]]
  cp "$FIX/manifest.json" "$F/manifest.json"
  # missing and unlisted files
  mv "$F/$f" "$F/stray.zst"
  run "$PY" "$CHECK" "$F"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$f: listed but missing"* ]]
  [[ "$output" == *"stray.zst: file not listed in the manifest"* ]]
  mv "$F/stray.zst" "$F/$f"
  run "$PY" "$CHECK" "$F"
  [ "$status" -eq 0 ]
}

@test "the checker rejects an image that is not the fixtures' image, and a bad manifest (exit 2)" {
  copy_fixtures
  im=$(jq -r '.images | keys[0]' "$T/p/fixtures/manifest.json")
  cp "$CK_SOURCE_DIR/tests/parity/images/gray_200x120.png" "$T/p/images/$im"
  [ "$im" != gray_200x120.png ]
  run "$PY" "$CHECK" "$T/p/fixtures"
  [ "$status" -eq 1 ]
  [[ "$output" == *"image $im: sha256 differs from the manifest"* ]]
  jq '.version = 1' "$FIX/manifest.json" > "$T/p/fixtures/manifest.json"
  run "$PY" "$CHECK" "$T/p/fixtures"
  [ "$status" -eq 2 ]
}

@test "greedy tokens in the manifest are the argmax of their logits rows (and the check can fail)" {
  copy_fixtures
  jq '.decode[0].gen[0].tokens[0] += 1' "$FIX/manifest.json" > "$T/p/fixtures/manifest.json"
  run "$PY" "$CHECK" "$T/p/fixtures"
  [ "$status" -eq 1 ]
  [[ "$output" == *"greedy tokens are not the argmax"* ]]
}

@test "decoder cases pin every logits row: each prompt position and 64 greedy steps, threads 1 and 2, KV views crossing 256 and 512 cells" {
  M="$FIX/manifest.json"
  # per case: one row hash per prompt position; per thread group one per token (64 unless end of generation);
  # threads 1 and 2 both covered; the layout note ck's comparison relies on
  run jq -r '.decode[] | .n_predict as $n | select((.prompt_logits.rows_sha256 | length) != .n_prompt_tokens
      or ([.gen[].threads[]] | sort) != [1, 2] or (.rows | not)
      or any(.gen[]; (.rows_sha256 | length) != (.tokens | length) or ((.tokens | length) != $n and (.hit_eog | not))))
      | .model + " " + .case' "$M"
  echo "$output"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  [ "$(jq -c '[.decode[].n_predict] | unique' "$M")" = "[64]" ]
  # full sha256 digests only (no raw logits beyond the describe heads)
  [ "$(jq '[.decode[] | .prompt_logits.rows_sha256[], .gen[].rows_sha256[] | select(test("^[0-9a-f]{64}$") | not)] | length' "$M")" = 0 ]
  # every text model has cases; each preset has a case whose generation crosses 256 and one crossing 512 KV cells
  for p in tiny small; do
    for b in 256 512; do
      n=$(jq --arg p "$p" --argjson b "$b" '[.decode[] | select(.model | startswith($p + "-")) | select(any(.kv_boundaries_crossed[]; . == $b))] | length' "$M")
      [ "$n" -gt 0 ] || { echo "$p: no decoder case crosses $b KV cells during generation"; false; }
    done
  done
  [ "$(jq '[.models | keys[] | select(test("-text-"))] - [.decode[].model] | length' "$M")" = 0 ]
  # prefixes of several images in one prompt
  [ "$(jq '[.decode[] | select((.images | length) > 1)] | length' "$M")" -gt 0 ]
}
