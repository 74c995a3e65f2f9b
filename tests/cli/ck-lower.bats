#!/usr/bin/env bats
# ck-lower: real templates on ck-synth manifests, the toy third template, determinism, every error -> exit 2.

setup() {
  F="$CK_SOURCE_DIR/tests/fixtures"
  T="$BATS_TEST_TMPDIR"
  TOYT="$F/templates/toy_mlp.json"
  TOYM="$F/manifests/toy_mlp.json"
}

@test "encoder manifest -> ir1 (template picked by arch)" {
  run "$CK_BIN/ck-lower" "$F/manifests/tiny-mmproj-f32.json" -o "$T/enc.json"
  [ "$status" -eq 0 ]
  [ "$(jq -r .format "$T/enc.json")" = "ck.ir1" ]
  [ "$(jq -r .template "$T/enc.json")" = "qwen3_vl_vision" ]
  [ "$(jq -r '[.ops[] | select(.name == "ffn_gelu-0")] | length' "$T/enc.json")" = "1" ]
  [ "$(jq -r '.ops[] | select(.kernel == null or .kernel == "") | .id' "$T/enc.json")" = "" ]
}

@test "decoder manifest on stdin -> ir1 on stdout" {
  run bash -c "'$CK_BIN/ck-lower' < '$F/manifests/tiny-text-f16.json' 2>/dev/null | jq -r '.ops[-1].name'"
  [ "$status" -eq 0 ]
  [ "$output" = "result_output" ]
}

@test "same input gives the same bytes" {
  "$CK_BIN/ck-lower" "$F/manifests/tiny-mmproj-f32.json" -o "$T/a.json"
  "$CK_BIN/ck-lower" "$F/manifests/tiny-mmproj-f32.json" -o "$T/b.json"
  cmp "$T/a.json" "$T/b.json"
}

@test "a third template lowers with no code change" {
  run "$CK_BIN/ck-lower" "$TOYM" --template "$TOYT" -o "$T/toy.json"
  [ "$status" -eq 0 ]
  [ "$(jq -r .template "$T/toy.json")" = "toy_mlp" ]
}

@test "--mode fast is offered only when the build binds every fast kernel, and then picks them" {
  # data-driven (runtime::available_mode_names): the help lists the modes this build can run
  if "$CK_BIN/ck-lower" --help | grep -q 'fast'; then
    "$CK_BIN/ck-lower" "$F/manifests/tiny-text-f16.json" --mode fast -o "$T/f.json"
    [ "$(jq -r '.ops[] | select(.id == "blk.0.q") | .kernel' "$T/f.json")" = "mul_mat.f16.f32.fast" ]
  else
    run --separate-stderr "$CK_BIN/ck-lower" "$F/manifests/tiny-text-f16.json" --mode fast -o "$T/f.json"
    [ "$status" -eq 2 ]
    [[ "$stderr" == *"--mode"*"fast"* ]]
    [ ! -e "$T/f.json" ]
    run -2 "$CK_BIN/ck-bridge" --mode fast --model x.gguf -p hi
  fi
  run "$CK_BIN/ck-lower" "$F/manifests/tiny-text-f16.json" --mode turbo
  [ "$status" -eq 2 ]
}

@test "--list-kernels prints the catalogue" {
  run bash -c "'$CK_BIN/ck-lower' --list-kernels | jq -r '.kernels[].id' | grep -c strict"
  [ "$status" -eq 0 ]
  [ "$output" -gt 20 ]
}

lower_err() {  # $1 = jq filter applied to the toy manifest, $2 = expected message part
  jq "$1" "$TOYM" > "$T/m.json"
  run "$CK_BIN/ck-lower" "$T/m.json" --template "$TOYT" -o "$T/out.json"
  [ "$status" -eq 2 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *"$2"* ]]
  [ ! -e "$T/out.json" ]
}

@test "error: template weight missing from the model" {
  lower_err 'del(.tensors[1])' "template weight 'l0.norm' is missing from the model"
}

@test "error: model tensor unused by the template" {
  lower_err '.tensors += [.tensors[1] | .name = "stray.weight"]' "model tensor 'stray.weight' is not used"
}

@test "error: shape mismatch" {
  lower_err '.tensors[2].ne = [16, 33]' "shape mismatch"
}

@test "error: op with no kernel for its dtypes" {
  lower_err '.tensors[1].dtype = "q8_0"' "no kernel for op 'mul' with weight dtype q8_0"
}

@test "error: unknown config key" {
  lower_err 'del(.config.eps)' "unknown config key 'eps'"
}

@test "error: malformed manifest and unknown arch" {
  echo '{"format":' > "$T/bad.json"
  run "$CK_BIN/ck-lower" "$T/bad.json"
  [ "$status" -eq 2 ]
  [[ "$output" == *"malformed JSON"* ]]
  jq '.arch = "nonesuch" | del(.template)' "$TOYM" > "$T/m.json"
  run "$CK_BIN/ck-lower" "$T/m.json"
  [ "$status" -eq 2 ]
  [[ "$output" == *"no template for arch 'nonesuch'"* ]]
}
