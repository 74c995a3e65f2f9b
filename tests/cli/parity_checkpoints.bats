#!/usr/bin/env bats
# The dense checkpoints' golden fixtures (tests/parity/fixtures-checkpoints, made by tests/parity/checkpoints.sh
# regen with the pinned oracle), checked WITHOUT the oracle and without regenerating the multi-GB models (that is
# make test-v8-qwen3vl): integrity, and that the set really covers the 4B / 8B / 32B widths it claims.

bats_require_minimum_version 1.5.0

setup() {
  FIX="$CK_SOURCE_DIR/tests/parity/fixtures-checkpoints"
  CHECK="$CK_SOURCE_DIR/tests/parity/check_fixtures.py"
  PY="${PYTHON:-/usr/bin/python3}"
  [ -f "$FIX/manifest.json" ]
}

@test "checkpoint fixtures: every file exists, decompresses and matches its sha256 and shape" {
  run "$PY" "$CHECK" "$FIX"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"0 problem(s)"* ]]
  [ "$(jq -r '.oracle.llama_cpp.commit' "$FIX/manifest.json")" = 6c8dcaa ]
  [ "$(jq -r '.oracle.isa' "$FIX/manifest.json")" = avx2 ]
}

@test "checkpoint fixtures: 8B vision width (1152 = 16 x 72) in F32, F16, BF16 and Q8_0, 4B/8B/32B projections" {
  M="$FIX/manifest.json"
  for t in f32 f16 bf16 q8_0; do
    [ "$(jq -r --arg m "8b-mmproj-$t" '[.encode[] | select(.model == $m)] | length' "$M")" -ge 1 ]
    jq -r --arg m "8b-mmproj-$t" '.models[$m].made_by' "$M" | grep -q -- '--preset 8b .*--vision-layers 9'
  done
  # the merger output is the text width: 2560 (4B), 4096 (8B), 5120 (32B); one deepstack tap kept at this depth
  [ "$(jq -r '[.encode[] | select(.model == "4b-mmproj-f16")][0].n_embd' "$M")" = 2560 ]
  [ "$(jq -r '[.encode[] | select(.model == "8b-mmproj-f16")][0].n_embd' "$M")" = 4096 ]
  [ "$(jq -r '[.encode[] | select(.model == "32b-mmproj-f16")][0].n_embd' "$M")" = 5120 ]
  [ "$(jq -r '[.encode[] | select(.model == "8b-mmproj-f16")][0].n_embd_total' "$M")" = 8192 ]
  # Q8_0 at this width: the 4304-wide ffn_down rows are F16 (gguf-py's fallback); made_by says how it was made
  jq -r '.models["8b-mmproj-q8_0"].made_by' "$M" | grep -q -- '--mmproj-type q8_0'
  [ "$(jq -r '.models["8b-mmproj-q8_0"].bytes' "$M")" -lt "$(jq -r '.models["8b-mmproj-f16"].bytes' "$M")" ]
}

@test "checkpoint fixtures: 4B, 8B, 32B text cases pin every logits row and the greedy tokens at 1 and 2 threads" {
  M="$FIX/manifest.json"
  for p in 4b 8b 32b; do
    n=$(jq -r --arg m "$p-text-q8_0" '[.decode[] | select(.model == $m)] | length' "$M")
    [ "$n" -ge 1 ]
    jq -r --arg m "$p-text-q8_0" '.models[$m].made_by' "$M" | grep -q -- "--preset $p .*--layers 2"
    # threads 1 and 2 recorded identical, one sha256 per row, tokens = argmax of their rows
    [ "$(jq -c --arg m "$p-text-q8_0" '[.decode[] | select(.model == $m)][0].gen | map(.threads) | add | sort' "$M")" = "[1,2]" ]
    [ "$(jq -r --arg m "$p-text-q8_0" '[.decode[] | select(.model == $m)][0] | (.prompt_logits.rows_sha256 | length) == .n_prompt_tokens' "$M")" = true ]
    [ "$(jq -r --arg m "$p-text-q8_0" '[.decode[] | select(.model == $m)][0].gen[0] | (.rows_sha256 | length) == (.tokens | length) and .argmax == .tokens' "$M")" = true ]
  done
}

@test "checkpoint fixtures stay small (committed bytes)" {
  bytes=$(du -sb "$FIX" | cut -f1)
  echo "fixtures-checkpoints: $bytes bytes"
  [ "$bytes" -lt 12000000 ]
}
