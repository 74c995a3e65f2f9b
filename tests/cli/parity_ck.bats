#!/usr/bin/env bats
# ck against the committed golden fixtures (tests/parity/fixtures), without the oracle: compare_ck.py on the tiny
# preset — encoder prefixes and activations, and every decoder logits row (each prompt position + 64 greedy steps,
# threads 1 and 2) — must be equal, bit for bit. Text models the oracle's llama-quantize made (Q4_0, Q4_K_M) cannot
# be regenerated without it and are compared by `make test-v8-qwen3vl` / `make llamacpp-parity-full`.

bats_require_minimum_version 1.5.0

@test "compare_ck (tiny): every fixture case ck can regenerate is equal, none different" {
  PY="${PYTHON:-/usr/bin/python3}"
  run "$PY" "$CK_SOURCE_DIR/tests/parity/compare_ck.py" "$CK_BIN" "$CK_SOURCE_DIR/tests/parity/fixtures" \
      "$BATS_FILE_TMPDIR/work" --presets tiny
  echo "$output" | tail -5
  [ "$status" -eq 0 ] || [ "$status" -eq 3 ]
  verdict="$(echo "$output" | grep '^verdict:')"
  [[ "$verdict" == *" 0 different"* ]]
  equal="$(echo "$verdict" | sed -E 's/verdict: ([0-9]+) equal.*/\1/')"
  [ "$equal" -ge 60 ]
  # the decoder rows were really compared (not just the encoder)
  echo "$output" | grep -q "^OK      decode tiny-text-f16 long_image_first_cross512 t2: 563/563 logits rows equal"
}
