#!/usr/bin/env bats
# ck-bridge: the whole pipeline on tiny synthetic models (ck-synth): text on stdout and a bridge_report.json with
# the documented keys (docs/formats/bridge_report.md); the second run reuses the plan cache; --stop-after each
# phase; missing inputs and a mismatched mmproj/model pair -> one line naming the file(s), exit 2.

bats_require_minimum_version 1.5.0

setup_file() {
  "$CK_BIN/ck-synth" --preset tiny --mmproj-type f16 --text-type f16 -o "$BATS_FILE_TMPDIR" -q \
      --tokenizer "$CK_DEPS_DIR/qwen3-tokenizer/tokenizer.json"
  "$CK_BIN/ck-synth" --preset small --text-type f16 --only text -o "$BATS_FILE_TMPDIR" -q \
      --tokenizer "$CK_DEPS_DIR/qwen3-tokenizer/tokenizer.json"
  export MM="$BATS_FILE_TMPDIR/tiny-mmproj-f16.gguf" TX="$BATS_FILE_TMPDIR/tiny-text-f16.gguf"
  export SMALL="$BATS_FILE_TMPDIR/small-text-f16.gguf"
  export IMG="$CK_SOURCE_DIR/tests/parity/images/chelsea.png"
  export CACHE="$BATS_FILE_TMPDIR/cache"
}

setup() {
  cd "$BATS_TEST_TMPDIR"
  BR="$CK_BIN/ck-bridge"
}

bridge() { "$BR" --mmproj "$MM" --model "$TX" --image "$IMG" -p "Describe the image." -n 6 -t 1 "$@"; }

@test "a run prints text and writes a report with every documented key; the second run is cached" {
  run -0 --separate-stderr bridge --cache-dir "$CACHE" --report r1.json
  [ -n "$output" ]
  [[ "$stderr" == *"ck-bridge: 1 image(s), prompt"* ]]
  jq -e '.format == "ck.bridge_report" and .version == 2 and .status == "ok"' r1.json
  jq -e 'has("tool") and has("mode") and has("threads") and has("isa") and has("inputs") and has("artifacts")
         and has("contracts") and has("prefix") and has("prompt") and has("output") and has("timings_ms")
         and has("token_counts") and has("tokens_per_s")' r1.json
  jq -e '.inputs.mmproj.sha256 | length == 64' r1.json
  jq -e '.inputs.model.sha256 | length == 64' r1.json
  jq -e '(.inputs.images | length) == 1 and (.inputs.images[0].sha256 | length == 64)' r1.json
  jq -e '.contracts.preprocess != null and .contracts.bridge != null and .contracts.chat != null' r1.json
  jq -e '(.prefix | length) == 1 and .prefix[0].image == 0' r1.json
  jq -e '.prefix[0] | .rows == (.grid[0] * .grid[1]) and .row_width == .n_embd * (1 + .n_deepstack)' r1.json
  jq -e '(.prompt.text_token_ids | length) > 0 and .prompt.n_prompt_tokens > 0 and .prompt.n_images == 1' r1.json
  jq -e '[.prompt.segments[].type] == ["text", "image", "text"]' r1.json
  jq -e '(.output.token_ids | length) == .output.n_generated and .output.n_generated <= 6' r1.json
  jq -e '.output.stop_reason | IN("end_of_generation", "n_predict", "context_full")' r1.json
  jq -e '.timings_ms | [.convert, .lower, .layout, .plans, .load, .preprocess, .encode, .prefill, .decode] | all(. != null and . >= 0)' r1.json
  # the phases are disjoint parts of the run: together at most its total (what is left is the unexplained overhead)
  jq -e '.timings_ms | .load > 0 and ([.convert, .lower, .layout, .plans, .load, .preprocess, .encode, .prefill, .decode] | add) <= .total' r1.json
  jq -e '.tokens_per_s.encode > 0 and .tokens_per_s.prefill > 0 and .tokens_per_s.decode >= 0' r1.json
  jq -e '.token_counts.encode == .prefix[0].rows and .token_counts.prefill == .prompt.n_prompt_tokens' r1.json
  jq -e '.token_counts.decode == .output.n_generated' r1.json
  jq -e '.threads == 1 and .mode == "strict" and (.isa | length) > 0' r1.json
  jq -e '.artifacts.cached == false and .artifacts.model.cached.convert == false' r1.json
  jq -e '.artifacts.model.source_sha256_cached == false and .tool.stages == "in-process"' r1.json
  [ "$(jq -r .output.text r1.json)" = "$output" ]
  run -0 bridge --cache-dir "$CACHE" --report r2.json
  jq -e '.artifacts.cached == true and .artifacts.mmproj.all_cached and .artifacts.model.all_cached' r2.json
  # The second run found both GGUFs' sha256 by size + mtime + inode (no hashing).
  jq -e '.artifacts.mmproj.source_sha256_cached and .artifacts.model.source_sha256_cached' r2.json
  [ "$(jq -r .inputs.model.sha256 r1.json)" = "$(jq -r .inputs.model.sha256 r2.json)" ]
  jq -e '.timings_ms.convert == 0 and .timings_ms.lower == 0 and .timings_ms.layout == 0' r2.json
  # Same inputs, same greedy answer.
  [ "$(jq -c .output.token_ids r1.json)" = "$(jq -c .output.token_ids r2.json)" ]
}

@test "default report path is ./bridge_report.json; --no-cache plans afresh and leaves no cache" {
  export XDG_CACHE_HOME="$BATS_TEST_TMPDIR/xdg"
  run -0 bridge --no-cache
  jq -e '.artifacts.cache == "disabled" and .artifacts.cached == false' bridge_report.json
  [ ! -e "$XDG_CACHE_HOME/ck" ]
}

@test "--stop-after each phase stops there and says so" {
  for phase in convert lower layout encode; do
    run -0 bridge --cache-dir "$BATS_TEST_TMPDIR/c" --stop-after "$phase" --report "$phase.json"
    [ -z "$output" ]
    jq -e --arg p "$phase" '.status == "stopped_after_" + $p and .output == null' "$phase.json"
  done
  jq -e '.artifacts.model.cached | has("lower") | not' convert.json
  jq -e '.artifacts.model.cached | has("layout") | not' lower.json
  jq -e '.artifacts.model.cached.layout == false and .prefix == null' layout.json
  jq -e '.prefix[0].rows > 0 and .timings_ms.encode > 0 and .prompt == null and .timings_ms.prefill == null' encode.json
}

@test "missing input files: one line naming the file, exit 2, no report" {
  run -2 "$BR" --mmproj nope.gguf --model "$TX" --image "$IMG" -p hi --no-cache
  [[ "$output" == *"nope.gguf"* ]]
  [ "${#lines[@]}" -eq 1 ]
  run -2 "$BR" --mmproj "$MM" --model "$TX" --image nope.png -p hi --no-cache
  [[ "$output" == *"nope.png"* ]]
  [ ! -e bridge_report.json ]
  run -2 "$BR" --mmproj "$MM" --model "$TX" --image "$IMG"
  [ "${#lines[@]}" -eq 1 ]
}

@test "mismatched pair (tiny mmproj, small text model): exit 2 naming both files" {
  run -2 "$BR" --mmproj "$MM" --model "$SMALL" --image "$IMG" -p hi --no-cache
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *"tiny-mmproj-f16.gguf"* ]]
  [[ "$output" == *"small-text-f16.gguf"* ]]
  [[ "$output" == *"not a pair"* ]]
  [ ! -e bridge_report.json ]
}

@test "GGUFs in swapped roles: exit 2 naming the file" {
  run -2 "$BR" --mmproj "$TX" --model "$MM" --image "$IMG" -p hi --no-cache
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *"tiny-text-f16.gguf"* ]]
}

@test "--work-dir keeps the prefixes; --start-from prefix decodes them to the same tokens without the mmproj" {
  run -0 bridge --cache-dir "$CACHE" --report full.json
  run -0 bridge --cache-dir "$CACHE" --stop-after encode --work-dir wd --report enc.json
  [ -f wd/prefix.0.bin ]
  jq -e '.status == "stopped_after_encode" and .artifacts.work_dir == "wd"' enc.json
  run -0 "$BR" --model "$TX" --start-from prefix --prefix wd/prefix.0.bin -p "Describe the image." -n 6 -t 1 \
      --cache-dir "$CACHE" --report from.json
  jq -e '.status == "ok" and .inputs.start_from == "prefix" and .inputs.mmproj == null' from.json
  jq -e '(.inputs.prefixes | length) == 1 and (.inputs.prefixes[0].sha256 | length) == 64' from.json
  [ "$(jq -c .output.token_ids from.json)" = "$(jq -c .output.token_ids full.json)" ]
  [ "$(jq -c .prefix[0].grid from.json)" = "$(jq -c .prefix[0].grid full.json)" ]
}

@test "--start-from / --prefix misuse: one line, exit 2" {
  run -2 "$BR" --model "$TX" --start-from prefix -p "x" --cache-dir "$CACHE"
  [[ "$output" == *"--start-from prefix needs at least one --prefix"* ]]
  run -2 "$BR" --model "$TX" --start-from prefix --prefix "$IMG" --image "$IMG" -p "x" --cache-dir "$CACHE"
  [[ "$output" == *"--image/--video/--mmproj do not apply"* ]]
  run -2 bridge --prefix "$IMG" --cache-dir "$CACHE"
  [[ "$output" == *"--prefix needs --start-from prefix"* ]]
  run -2 "$BR" --model "$TX" --start-from prefix --prefix missing.bin -p "x" --cache-dir "$CACHE"
  [[ "$output" == *"missing.bin"* ]]
  run -2 "$BR" --model "$TX" --start-from prefix --prefix "$IMG" -p "x" --cache-dir "$CACHE" --report bad.json
  [[ "$output" == *"chelsea.png"* ]]
  [ ! -e bad.json ]
}

@test "--image-min-tokens / --image-max-tokens reach the encoder (grid within the budget)" {
  run -0 bridge --cache-dir "$CACHE" --image-max-tokens 64 --report small.json
  jq -e '.prefix[0].rows <= 64 and .inputs.image_tokens.max == 64' small.json
  run -0 bridge --cache-dir "$CACHE" --report default.json
  jq -e '.prefix[0].rows > 64' default.json
  run -2 bridge --cache-dir "$CACHE" --image-max-tokens 0
}
