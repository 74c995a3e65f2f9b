#!/usr/bin/env bats
# The README pipeline with the bump and the plan in any directories, from any working directory: every artifact
# records the bump relative to its own location (docs/formats/weights_manifest.md "Paths"), so ck-encode finds
# it with relative and absolute paths, from inside and outside the plan's directory, and after the plan and
# its bump move together. The prefix is the same in every layout (same weights, same plan).

bats_require_minimum_version 1.5.0

setup_file() {
  export IMG="$CK_SOURCE_DIR/tests/parity/images/tiny_24x24.png"
  "$CK_BIN/ck-synth" --preset tiny --mmproj-type f16 --only mmproj -o "$BATS_FILE_TMPDIR/models" -q
  export GGUF="$BATS_FILE_TMPDIR/models/tiny-mmproj-f16.gguf"
  cd "$BATS_FILE_TMPDIR"
  "$CK_BIN/ck-convert" "$GGUF" -o ref.bump 2>/dev/null | "$CK_BIN/ck-lower" 2>/dev/null |
    "$CK_BIN/ck-layout" -o ref 2>/dev/null
  "$CK_BIN/ck-encode" -m ref "$IMG" -o ref.prefix
}

setup() {
  T="$BATS_TEST_TMPDIR"
  cd "$T"
}

# pipe BUMP PLAN: the README's headline pipeline
pipe() {
  "$CK_BIN/ck-convert" "$GGUF" -o "$1" 2>/dev/null | "$CK_BIN/ck-lower" 2>/dev/null | "$CK_BIN/ck-layout" -o "$2" 2>/dev/null
}

# encodes_ok PLAN [DIR]: ck-encode -m PLAN run from DIR gives the reference prefix
encodes_ok() {
  run --separate-stderr bash -c 'cd "$1" && "$CK_BIN/ck-encode" -m "$2" "$IMG" -o "$3"' _ "${2:-$T}" "$1" "$T/out.prefix"
  [ "$status" -eq 0 ] || { echo "ck-encode -m $1 (cwd ${2:-$T}): $stderr"; return 1; }
  cmp "$T/out.prefix" "$BATS_FILE_TMPDIR/ref.prefix"
  rm -f "$T/out.prefix"
}

@test "bump and plan side by side in a subdirectory (the issue's layout), from outside and inside it" {
  mkdir plans
  pipe plans/enc.bump plans/enc
  [ "$(jq -r .weights.file plans/enc/call.json)" = "../enc.bump" ]
  encodes_ok plans/enc
  encodes_ok enc "$T/plans"
  encodes_ok . "$T/plans/enc"
  encodes_ok "$T/plans/enc" /
}

@test "the same pipe run from inside the directory" {
  mkdir plans
  (cd plans && pipe enc.bump enc)
  [ "$(jq -r .weights.file plans/enc/call.json)" = "../enc.bump" ]
  encodes_ok plans/enc
  encodes_ok enc "$T/plans"
}

@test "bump inside the plan directory, in a sibling tree, and with absolute paths" {
  mkdir -p a/enc weights/deep
  pipe a/enc/w.bump a/enc
  [ "$(jq -r .weights.file a/enc/call.json)" = "w.bump" ]
  encodes_ok a/enc
  pipe weights/deep/w.bump plans/x/enc
  [ "$(jq -r .weights.file plans/x/enc/call.json)" = "../../../weights/deep/w.bump" ]
  encodes_ok plans/x/enc
  encodes_ok enc "$T/plans/x"
  mkdir abs
  pipe "$T/abs/w.bump" "$T/abs/enc"
  [ "$(jq -r .weights.file abs/enc/call.json)" = "../w.bump" ]
  encodes_ok "$T/abs/enc" /
  encodes_ok abs/enc
}

@test "plan moved together with its bump keeps working; moved apart it fails with one line naming both paths" {
  mkdir plans
  pipe plans/enc.bump plans/enc
  mv plans elsewhere
  encodes_ok elsewhere/enc
  encodes_ok enc "$T/elsewhere"
  mkdir lone
  mv elsewhere/enc lone/
  run --separate-stderr "$CK_BIN/ck-encode" -m lone/enc "$IMG" -o "$T/x.prefix"
  [ "$status" -eq 2 ]
  [ "${#lines[@]}" -eq 0 ]
  [[ "$stderr" == *"lone/enc/call.json"*"../enc.bump"*"not found"* ]]
  [ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
  [ ! -e "$T/x.prefix" ]
}

@test "files instead of pipes: manifest and ir1 in other directories record the bump relative to themselves" {
  mkdir -p m i plans
  "$CK_BIN/ck-convert" "$GGUF" -o plans/enc.bump --manifest m/man.json 2>/dev/null
  [ "$(jq -r .bump.file m/man.json)" = "../plans/enc.bump" ]
  [ "$(jq -r .version m/man.json)" = 2 ]
  "$CK_BIN/ck-lower" m/man.json -o i/ir1.json 2>/dev/null
  [ "$(jq -r .source.bump.path i/ir1.json)" = "../plans/enc.bump" ]
  # ck-layout reads the ir1 from another working directory
  (cd / && "$CK_BIN/ck-layout" "$T/i/ir1.json" -o "$T/plans/enc" 2>/dev/null)
  [ "$(jq -r .weights.file plans/enc/call.json)" = "../enc.bump" ]
  encodes_ok plans/enc
  # --weights relative to the working directory; absolute stays absolute
  "$CK_BIN/ck-layout" i/ir1.json -o other/enc --weights plans/enc.bump 2>/dev/null
  [ "$(jq -r .weights.file other/enc/call.json)" = "../../plans/enc.bump" ]
  encodes_ok other/enc
  "$CK_BIN/ck-layout" i/ir1.json -o other2 --weights "$T/plans/enc.bump" 2>/dev/null
  [ "$(jq -r .weights.file other2/call.json)" = "$T/plans/enc.bump" ]
  encodes_ok other2
}

@test "ck-layout warns when the bump the ir1 names is not there" {
  mkdir plans
  "$CK_BIN/ck-convert" "$GGUF" -o plans/enc.bump 2>/dev/null | "$CK_BIN/ck-lower" 2>/dev/null > ir1.json
  [ "$(jq -r .source.bump.path ir1.json)" = "plans/enc.bump" ]
  mv plans/enc.bump gone.bump
  run --separate-stderr "$CK_BIN/ck-layout" ir1.json -o plans/enc
  [ "$status" -eq 0 ]
  [[ "$stderr" == *"warning: plans/enc.bump: the bump named by ir1.json is not there"* ]]
}
