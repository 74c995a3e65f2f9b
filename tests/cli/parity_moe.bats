#!/usr/bin/env bats
# The MoE text decoder (qwen3vlmoe) against golden fixtures from the oracle (tests/parity/fixtures_moe, made by
# tests/parity/moe_fixtures.py regen), without the oracle: ck-synth regenerates the tiny-moe models (F16, Q8_0;
# 7 experts, 2 used, so tokens leave experts empty), ck-decode runs them at threads 1 and 2, and every logits row
# (each prompt position + 16 greedy steps) and every token id must equal the oracle's. The K-quant and the
# full-width 30B-A3B cases need the oracle (ref_quantize) and run in make test-v8-qwen3vl.

bats_require_minimum_version 1.5.0

@test "moe_fixtures check (tiny-moe F16, Q8_0): every logits row and token id equal at 1 and 2 threads" {
  PY="${PYTHON:-/usr/bin/python3}"
  run "$PY" "$CK_SOURCE_DIR/tests/parity/moe_fixtures.py" check "$CK_BIN" "$CK_SOURCE_DIR/tests/parity/fixtures_moe" \
      "$BATS_FILE_TMPDIR/work" --models tiny-moe-text-f16,tiny-moe-text-q8_0
  echo "$output" | tail -6
  [ "$status" -eq 0 ]
  echo "$output" | grep -q "^verdict: 4 equal, 0 different, 0 not compared"
  echo "$output" | grep -q "^OK      decode tiny-moe-text-q8_0 text t2: 28/28 logits rows equal (12 prompt positions + 16 steps), 16 token ids equal"
}

@test "moe_fixtures check: a fixture row that differs is reported as a difference (exit 1)" {
  PY="${PYTHON:-/usr/bin/python3}"
  mkdir -p "$BATS_FILE_TMPDIR/bad"
  "$PY" - "$CK_SOURCE_DIR/tests/parity/fixtures_moe/manifest.json" "$BATS_FILE_TMPDIR/bad/manifest.json" <<'PYEOF'
import json, sys
m = json.load(open(sys.argv[1]))
for e in m["decode"]:
    if e["model"] == "tiny-moe-text-f16":
        e["rows_sha256"][13] = "0" * 64
json.dump(m, open(sys.argv[2], "w"))
PYEOF
  run "$PY" "$CK_SOURCE_DIR/tests/parity/moe_fixtures.py" check "$CK_BIN" "$BATS_FILE_TMPDIR/bad" \
      "$BATS_FILE_TMPDIR/work" --models tiny-moe-text-f16
  echo "$output" | tail -4
  [ "$status" -eq 1 ]
  echo "$output" | grep -q "first differing row 13 = step 1"
}
