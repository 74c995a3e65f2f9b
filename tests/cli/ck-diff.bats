#!/usr/bin/env bats
# ck-diff: every flag and exit code, on dumps written from bash (index.json via jq + data via the zstd CLI,
# i.e. independently of lib/dump's writer) and on raw f32 files. Format: docs/formats/dump.md.

bats_require_minimum_version 1.5.0

setup() {
  CKDIFF="${CK_BIN:?CK_BIN not set}/ck-diff"
  W="$BATS_TEST_TMPDIR"
}

# rec DIR PHASE NAME DTYPE NE_JSON VALUES... — appends one record to DIR (order = records so far).
# f32 values are decimal floats, i32 decimal ints, f16 raw 16-bit patterns (decimal or 0x..).
rec() {
  local dir=$1 phase=$2 name=$3 dtype=$4 ne=$5
  shift 5
  mkdir -p "$dir"
  local order=0
  [ -f "$dir/.records" ] && order=$(wc -l < "$dir/.records")
  local file
  file=$(printf '%05d_%s.zst' "$order" "$(printf '%s' "$name" | sed 's/[^A-Za-z0-9.-]/_/g')")
  local fmt size
  case $dtype in f32) fmt='f<'; size=4 ;; i32) fmt='l<'; size=4 ;; f16) fmt='v'; size=2 ;; esac
  perl -e 'my $f = shift; print pack("$f*", map { /^0x/ ? hex($_) : $_ } @ARGV)' "$fmt" "$@" \
    | zstd -q -c > "$dir/$file"
  jq -nc --argjson order "$order" --arg name "$name" --arg phase "$phase" --arg dtype "$dtype" \
    --argjson ne "$ne" --arg file "$file" --argjson nbytes $(( $# * size )) \
    '{order: $order, name: $name, phase: $phase, dtype: $dtype, ne: $ne, shape: ($ne | reverse),
      file: $file, nbytes: $nbytes}' >> "$dir/.records"
}

# fin DIR [PRODUCER] — writes DIR/index.json from the records added so far.
fin() {
  jq -s --arg p "${2:-bats}" '{format: "ck.dump", version: 1, producer: $p, records: .}' "$1/.records" \
    > "$1/index.json"
}

# A small encoder+decoder dump; `v` overrides attn_norm-0's second value, `g` l_out-0's first value.
sample() {
  local dir=$1 v=${2:-2} g=${3:-5}
  rec "$dir" encode inp_raw f32 '[3,2]' 0 1 2 3 4 5
  rec "$dir" encode attn_norm-0 f32 '[3,1,1,1]' 1 "$v" 3
  rec "$dir" encode ffn_gelu-0 f16 '[2]' 0x3c00 0xc100
  rec "$dir" prefill tokens i32 '[3]' 151644 872 198
  rec "$dir" prefill l_out-0 f32 '[2,2]' "$g" 6 7 8
  fin "$dir" "${4:-bats}"
}

# refute PATTERN — fails if $output matches (a bare `! grep` would not fail a bats test).
refute() { if grep -q -- "$1" <<< "$output"; then echo "unexpected match: $1"; return 1; fi; }

# mkprefix OUT NX NY N_EMBD N_DEEPSTACK VALUES... — a ck.prefix v1 file (docs/formats/prefix.md), by hand.
mkprefix() {
  perl -e '
    my ($out, $nx, $ny, $ne, $nd, @v) = @ARGV;
    my ($rows, $w) = ($nx * $ny, $ne * (1 + $nd));
    die "need $rows x $w values\n" unless @v == $rows * $w;
    my $json = qq({"format":"ck.prefix","version":1,"bridge":{"rows":$rows,"row_width":$w,"n_embd":$ne,)
             . qq("n_deepstack":$nd,"grid":[$nx,$ny]}});
    my $doff = int((128 + length($json) + 63) / 64) * 64;
    my $hdr = "CKPREFIX" . pack("VV Q<Q< VVVV Q<Q<Q<Q<", 1, 128, $rows, $w, $ne, $nd, $nx, $ny,
                                128, length($json), $doff, 4 * @v) . ("\0" x 48);
    open(my $f, ">", $out) or die; binmode $f;
    print $f $hdr, $json, "\0" x ($doff - 128 - length($json)), pack("f<*", @v);
  ' "$@"
}

f32file() { local out=$1; shift; perl -e 'print pack("f<*", @ARGV)' "$@" > "$out"; }

@test "identical dumps: one OK line per tensor, verdict OK, exit 0" {
  sample "$W/a"; sample "$W/b"
  run "$CKDIFF" "$W/a" "$W/b"
  [ "$status" -eq 0 ]
  [ "$(grep -c '^OK ' <<< "$output")" -eq 5 ]
  grep -q '^OK      encode/attn_norm-0 .* f32 \[1,1,1,3\] .*max_abs 0 mean_abs 0 rmse 0 cos 1 diff 0/3' <<< "$output"
  grep -q '^OK      prefill/tokens .* i32 ' <<< "$output"
  [ "${lines[-1]}" = "OK: 0 of 5 tensors differ, 0 only in A, 0 only in B (tol 0, bitwise)" ]
  refute 'FIRST DIVERGENCE'
}

@test "a differing value: NOT OK with the numbers, first divergence in A's graph order, exit 1" {
  sample "$W/a"; sample "$W/b" 2.5 5.25
  run "$CKDIFF" "$W/a" "$W/b"
  [ "$status" -eq 1 ]
  grep -q '^NOT OK  encode/attn_norm-0 .*max_abs 0.5 mean_abs 0.166667 rmse 0.288675 .*diff 1/3 first 1 \[0,0,0,1\] a=2 b=2.5' <<< "$output"
  grep -q '^NOT OK  prefill/l_out-0 .*max_abs 0.25 .*diff 1/4 first 0 \[0,0\] a=5 b=5.25' <<< "$output"
  grep -q '^FIRST DIVERGENCE: encode/attn_norm-0 (order 1, f32 \[1,1,1,3\]): max_abs 0.5' <<< "$output"
  [ "${lines[-1]}" = "NOT OK: 2 of 5 tensors differ, 0 only in A, 0 only in B (tol 0, bitwise)" ]
}

@test "first divergence follows A's order even when B lists records differently" {
  rec "$W/a" encode x f32 '[1]' 1; rec "$W/a" encode y f32 '[1]' 2; fin "$W/a"
  rec "$W/b" encode y f32 '[1]' 3; rec "$W/b" encode x f32 '[1]' 4; fin "$W/b"
  run "$CKDIFF" "$W/a" "$W/b"
  [ "$status" -eq 1 ]
  grep -q '^FIRST DIVERGENCE: encode/x (order 0' <<< "$output"
  run "$CKDIFF" "$W/b" "$W/a"
  grep -q '^FIRST DIVERGENCE: encode/y (order 0' <<< "$output"
}

@test "--tol: within tolerance is OK (exit 0), beyond is NOT OK (exit 1)" {
  sample "$W/a"; sample "$W/b" 2.5 5.25
  run "$CKDIFF" --tol 0.5 "$W/a" "$W/b"
  [ "$status" -eq 0 ]
  grep -q '^OK      encode/attn_norm-0 .*max_abs 0.5' <<< "$output"
  [[ "${lines[-1]}" == "OK: "*"(tol 0.5)" ]]
  run "$CKDIFF" --tol 0.4 "$W/a" "$W/b"
  [ "$status" -eq 1 ]
  grep -q '^OK      prefill/l_out-0' <<< "$output"
  grep -q '^NOT OK  encode/attn_norm-0' <<< "$output"
}

@test "--tol rejects negative and non-numeric values with exit 2" {
  sample "$W/a"
  run "$CKDIFF" --tol -1 "$W/a" "$W/a"
  [ "$status" -eq 2 ]
  [[ "$output" == "ck-diff: error: --tol must be a finite number >= 0" ]]
  run "$CKDIFF" --tol abc "$W/a" "$W/a"
  [ "$status" -eq 2 ]
  [[ "$output" == "ck-diff: error: "* ]]
}

@test "--json: machine-readable report, same verdict and exit code" {
  sample "$W/a"; sample "$W/b" 2.5
  run --separate-stderr "$CKDIFF" --json "$W/a" "$W/b"
  [ "$status" -eq 1 ]
  jq -e '.format == "ck.diff" and .version == 1 and .ok == false and .compared == 5 and .differing == 1' <<< "$output"
  jq -e '.first_divergence | .phase == "encode" and .name == "attn_norm-0" and .order == 1 and .status == "diff"
         and .max_abs == 0.5 and .n_diff == 1 and .first_index == 1 and .first_multi_index == [0,0,0,1]
         and .a == 2 and .b == 2.5' <<< "$output"
  jq -e '.tensors[0] | .status == "ok" and .first_index == null and .cosine == 1' <<< "$output"
  jq -e '(.mean_abs | . > 0.1666666 and . < 0.1666667)' <<< "$(jq '.first_divergence' <<< "$output")"
  run "$CKDIFF" --json "$W/a" "$W/a"
  [ "$status" -eq 0 ]
  jq -e '.ok == true and .first_divergence == null and .only_in_a == [] and .only_in_b == []' <<< "$output"
}

@test "--filter: only records whose phase/name contains SUBSTR" {
  sample "$W/a"; sample "$W/b" 2.5
  run "$CKDIFF" --filter prefill/ "$W/a" "$W/b"
  [ "$status" -eq 0 ]
  [ "$(grep -c '^OK ' <<< "$output")" -eq 2 ]
  refute 'encode/'
  run "$CKDIFF" --filter norm "$W/a" "$W/b"
  [ "$status" -eq 1 ]
  [[ "${lines[-1]}" == "NOT OK: 1 of 1 tensors differ"* ]]
  run "$CKDIFF" --filter no_such_tensor "$W/a" "$W/b"
  [ "$status" -eq 1 ]
  [[ "${lines[-1]}" == "NOT OK: no tensors compared;"* ]]
}

@test "--quiet: only the first divergence and the verdict" {
  sample "$W/a"; sample "$W/b" 2.5
  run "$CKDIFF" --quiet "$W/a" "$W/b"
  [ "$status" -eq 1 ]
  [ "${#lines[@]}" -eq 2 ]
  [[ "${lines[0]}" == "FIRST DIVERGENCE: encode/attn_norm-0 "* ]]
  [[ "${lines[1]}" == "NOT OK: 1 of 5"* ]]
  run "$CKDIFF" --quiet "$W/a" "$W/a"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == "OK: 0 of 5 tensors differ"* ]]
}

@test "records on one side only are listed and fail unless --allow-missing" {
  sample "$W/a"
  rec "$W/b" encode inp_raw f32 '[3,2]' 0 1 2 3 4 5
  rec "$W/b" gen0 result_output f32 '[2]' 1 2
  fin "$W/b"
  run "$CKDIFF" "$W/a" "$W/b"
  [ "$status" -eq 1 ]
  grep -q '^ONLY A  encode/attn_norm-0$' <<< "$output"
  grep -q '^ONLY A  prefill/l_out-0$' <<< "$output"
  grep -q '^ONLY B  gen0/result_output$' <<< "$output"
  [ "${lines[-1]}" = "NOT OK: 0 of 1 tensors differ, 4 only in A, 1 only in B (tol 0, bitwise)" ]
  run "$CKDIFF" --allow-missing "$W/a" "$W/b"
  [ "$status" -eq 0 ]
  [[ "${lines[-1]}" == "OK: 0 of 1 tensors differ, 4 only in A, 1 only in B (allowed)"* ]]
  run "$CKDIFF" --json --allow-missing "$W/a" "$W/b"
  jq -e '.ok and .only_in_b == ["gen0/result_output"] and (.only_in_a | length) == 4' <<< "$output"
}

@test "shape and dtype mismatches are per-tensor failures; leading 1s do not matter" {
  rec "$W/a" encode same f32 '[2,1,1,1]' 1 2
  rec "$W/a" encode shp f32 '[4]' 1 2 3 4
  rec "$W/a" encode dt f32 '[1]' 1
  fin "$W/a"
  rec "$W/b" encode same f32 '[2]' 1 2
  rec "$W/b" encode shp f32 '[2,2]' 1 2 3 4
  rec "$W/b" encode dt f16 '[1]' 0x3c00
  fin "$W/b"
  run "$CKDIFF" "$W/a" "$W/b"
  [ "$status" -eq 1 ]
  grep -q '^OK      encode/same ' <<< "$output"
  grep -q '^NOT OK  encode/shp .*shape mismatch: A \[4\] B \[2,2\]' <<< "$output"
  grep -q '^NOT OK  encode/dt .*dtype mismatch: A f32 B f16' <<< "$output"
  grep -q '^FIRST DIVERGENCE: encode/shp ' <<< "$output"
  run "$CKDIFF" --json "$W/a" "$W/b"
  jq -e '.tensors[1].status == "shape_mismatch" and .tensors[2].status == "dtype_mismatch"' <<< "$output"
}

@test "f16 compared after exact conversion; i32 compared exactly even with --tol" {
  rec "$W/a" encode h f16 '[2]' 0x3c00 0x3c01; rec "$W/a" encode t i32 '[2]' 16777217 5; fin "$W/a"
  rec "$W/b" encode h f16 '[2]' 0x3c00 0x3c00; rec "$W/b" encode t i32 '[2]' 16777216 5; fin "$W/b"
  run "$CKDIFF" --tol 0.01 "$W/a" "$W/b"
  [ "$status" -eq 1 ]
  grep -q '^OK      encode/h .*max_abs 0.000976562' <<< "$output"
  grep -q '^NOT OK  encode/t .*max_abs 1 .*first 0 \[0\] a=16777217 b=16777216' <<< "$output"
  run "$CKDIFF" "$W/a" "$W/b"
  grep -q '^NOT OK  encode/h .*first 1 \[1\] a=1.00097656 b=1' <<< "$output"
}

@test "NaN equals NaN only with identical bits; -0 differs from +0 at tol 0" {
  rec "$W/a" encode n f32 '[2]' NaN 1; rec "$W/a" encode z f32 '[1]' 0; fin "$W/a"
  rec "$W/b" encode n f32 '[2]' NaN 1; rec "$W/b" encode z f32 '[1]' -0.0; fin "$W/b"
  run "$CKDIFF" "$W/a" "$W/b"
  [ "$status" -eq 1 ]
  grep -q '^OK      encode/n ' <<< "$output"
  grep -q '^NOT OK  encode/z .*max_abs 0 .*diff 1/1' <<< "$output"
  run "$CKDIFF" --tol 1e-30 "$W/a" "$W/b"
  [ "$status" -eq 0 ]
  # A NaN with other bits (0x7fc00001) is a difference at any tolerance.
  perl -e 'print pack("V*", 0x7fc00001), pack("f<", 1)' | zstd -q -c -f -o "$W/b/00000_n.zst"
  run "$CKDIFF" --tol 1000 "$W/a" "$W/b"
  [ "$status" -eq 1 ]
  grep -q '^NOT OK  encode/n .*diff 1/2 first 0 \[0\] a=nan b=nan' <<< "$output"
}

@test "raw f32 files: compared as one tensor; size mismatch or truncation is exit 2" {
  f32file "$W/a.f32" 1 2 3; f32file "$W/b.f32" 1 2.5 3; f32file "$W/c.f32" 1 2
  run "$CKDIFF" "$W/a.f32" "$W/a.f32"
  [ "$status" -eq 0 ]
  grep -q '^OK      raw .*f32 \[3\] ' <<< "$output"
  run "$CKDIFF" "$W/a.f32" "$W/b.f32"
  [ "$status" -eq 1 ]
  grep -q '^NOT OK  raw .*max_abs 0.5 mean_abs 0.166667 rmse 0.288675 .*diff 1/3 first 1 \[1\]' <<< "$output"
  run "$CKDIFF" --tol 0.5 --quiet "$W/a.f32" "$W/b.f32"
  [ "$status" -eq 0 ]
  run --separate-stderr "$CKDIFF" "$W/a.f32" "$W/c.f32"
  [ "$status" -eq 2 ]
  [ -z "$output" ]
  [[ "$stderr" == "ck-diff: error: $W/c.f32: raw f32 size 8 bytes differs from $W/a.f32 (12 bytes)" ]]
  head -c 11 "$W/a.f32" > "$W/t.f32"
  run "$CKDIFF" "$W/t.f32" "$W/t.f32"
  [ "$status" -eq 2 ]
  [[ "$output" == *"t.f32: size 11 is not a multiple of 4 (truncated raw f32 file?)" ]]
}

@test "ck.prefix files: compared per slice (merger, deepstack_k); against raw f32 rows too" {
  # grid 2x1, n_embd 2, 1 deepstack slice: rows [0 1 | 2 3], [10 11 | 12 13]
  mkprefix "$W/a.prefix" 2 1 2 1 0 1 2 3 10 11 12 13
  mkprefix "$W/b.prefix" 2 1 2 1 0 1 2 3 10 11 12 13.5
  run "$CKDIFF" "$W/a.prefix" "$W/a.prefix"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "A: $W/a.prefix (ck.prefix 2x4, grid 2x1)" ]
  grep -q '^OK      prefix/merger .* f32 \[2,2\] ' <<< "$output"
  grep -q '^OK      prefix/deepstack_0 ' <<< "$output"
  run "$CKDIFF" "$W/a.prefix" "$W/b.prefix"
  [ "$status" -eq 1 ]
  grep -q '^FIRST DIVERGENCE: prefix/deepstack_0 (order 1, f32 \[2,2\]): max_abs 0.5 .*first 3 \[1,1\] a=13 b=13.5' <<< "$output"
  run "$CKDIFF" --tol 0.5 "$W/a.prefix" "$W/b.prefix"
  [ "$status" -eq 0 ]
  f32file "$W/rows.f32" 0 1 2 3 10 11 12 13
  run "$CKDIFF" "$W/rows.f32" "$W/a.prefix"
  [ "$status" -eq 0 ]
  grep -q '^A: .*rows.f32 (raw f32)$' <<< "$output"
  mkprefix "$W/c.prefix" 1 2 2 1 0 1 2 3 10 11 12 13
  run "$CKDIFF" "$W/a.prefix" "$W/c.prefix"
  [ "$status" -eq 1 ]
  grep -q '^NOT OK  prefix/rows .*shape mismatch: A \[1,2,2,2\] B \[2,1,2,2\]' <<< "$output"
  head -c 200 "$W/a.prefix" > "$W/t.prefix"
  run --separate-stderr "$CKDIFF" "$W/a.prefix" "$W/t.prefix"
  [ "$status" -eq 2 ]
  [[ "$stderr" == "ck-diff: error: $W/t.prefix: "* ]]
  f32file "$W/short.f32" 1 2 3
  run --separate-stderr "$CKDIFF" "$W/a.prefix" "$W/short.f32"
  [ "$status" -eq 2 ]
  [[ "$stderr" == "ck-diff: error: $W/short.f32: raw f32 size 12 bytes, the prefix it is compared with has 32"* ]]
}

@test "bad input: one line on stderr, nothing on stdout, exit 2" {
  sample "$W/a"
  bad() {  # bad EXPECTED_SUBSTRING ARGS...
    local want=$1; shift
    run --separate-stderr "$CKDIFF" "$@"
    [ "$status" -eq 2 ] || { echo "status $status for $*"; return 1; }
    [ -z "$output" ] || { echo "stdout: $output"; return 1; }
    [ "${#stderr_lines[@]}" -eq 1 ] || { echo "stderr: $stderr"; return 1; }
    [[ "$stderr" == "ck-diff: error: "*"$want"* ]] || { echo "stderr: $stderr"; return 1; }
  }
  bad "$W/missing: no such file or directory" "$W/a" "$W/missing"
  bad "is not a directory" "$W/a" "$W/a/index.json"
  mkdir "$W/empty"
  bad "$W/empty/index.json: missing" "$W/a" "$W/empty"
  cp -r "$W/a" "$W/b"
  echo '{"format": "ck.dump",' > "$W/b/index.json"
  bad "$W/b/index.json: invalid JSON" "$W/a" "$W/b"
  jq '.format = "ck.prefix"' "$W/a/index.json" > "$W/b/index.json"
  bad 'format is "ck.prefix", expected "ck.dump"' "$W/a" "$W/b"
  jq '.version = 2' "$W/a/index.json" > "$W/b/index.json"
  bad "unsupported ck.dump version 2" "$W/a" "$W/b"
  jq '.records[1].nbytes = 8' "$W/a/index.json" > "$W/b/index.json"
  bad 'record 1 (order 1, "attn_norm-0"): nbytes 8 != product(ne) x 4 = 12' "$W/a" "$W/b"
  cp "$W/a/index.json" "$W/b/index.json"
  echo garbage > "$W/b/00001_attn_norm-0.zst"
  bad "$W/b/00001_attn_norm-0.zst: corrupt zstd data" "$W/a" "$W/b"
  head -c 12 "$W/a/00001_attn_norm-0.zst" > "$W/b/00001_attn_norm-0.zst"
  bad "$W/b/00001_attn_norm-0.zst: truncated zstd data" "$W/a" "$W/b"
  printf '\0\0\0\0' | zstd -q -c > "$W/b/00001_attn_norm-0.zst"
  bad "$W/b/00001_attn_norm-0.zst: decompresses to 4 bytes, index says nbytes 12" "$W/a" "$W/b"
  rm "$W/b/00001_attn_norm-0.zst"
  bad "$W/b/00001_attn_norm-0.zst: missing data file" "$W/a" "$W/b"
  bad "A is required" 
  bad "The following argument was not expected: extra" "$W/a" "$W/a" extra
}

@test "--help exits 0 and lists every flag" {
  run "$CKDIFF" --help
  [ "$status" -eq 0 ]
  for f in --tol --json --filter --quiet --allow-missing; do grep -q -- "$f" <<< "$output"; done
}

@test "reads dumps written by lib/dump-compatible producers: extra keys and files are ignored" {
  sample "$W/a" 2 5 "llama.cpp b10256 ref_encode"
  sample "$W/b" 2 5 "ck-encode 0.1.0"
  jq '.records[0].op = "GET_ROWS" | .records[0].src_type = "bf16" | .build = "x"' "$W/b/index.json" > "$W/b/i2"
  mv "$W/b/i2" "$W/b/index.json"
  touch "$W/b/README"
  run "$CKDIFF" "$W/a" "$W/b"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "A: $W/a (llama.cpp b10256 ref_encode)" ]
  [ "${lines[1]}" = "B: $W/b (ck-encode 0.1.0)" ]
}
