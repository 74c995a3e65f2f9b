#!/usr/bin/env bash
# make fuzz / fuzz-long / fuzz-smoke: builds the libFuzzer targets of tests/fuzz with clang (+ASan +UBSan) into
# build-fuzz/ (never the main build) and runs each for CK_FUZZ_SECONDS (default 60), one after the other.
# The committed seeds (tests/fuzz/corpus/<target>) are copied into build-fuzz/corpus/<target>, which grows;
# tests/fuzz/regressions/<target> (inputs of fixed findings) is read as a second, read-only corpus;
# tests/fuzz/dict/<target>.dict is the target's dictionary. Crashes land in build-fuzz/crashes/<target>-*.
#   CK_FUZZ_RUNS=N     also stop a target after N executions (the long run: 1000000)
#   CK_FUZZ_SEEDS_ONLY=1  run the committed inputs once each and stop (no mutation; CI's first step)
# Exit status: non-zero if any target found a crash, a leak, a sanitizer report or a hang (-timeout).
#   scripts/fuzz.sh [TARGET...]     default: every tests/fuzz/fuzz_*.cpp
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
B="${CK_FUZZ_BUILD:-$ROOT/build-fuzz}"
SECS="${CK_FUZZ_SECONDS:-60}"
RUNS="${CK_FUZZ_RUNS:--1}"
JOBS="${JOBS:-2}"
# configured every time (cheap): a new tests/fuzz/fuzz_*.cpp is a new target
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$B" -DCK_DEPS_DIR="${CK_DEPS_DIR:-$ROOT/build/deps}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCK_BUILD_TESTS=OFF -DCK_FUZZ=ON >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$ROOT"/tests/fuzz/fuzz_*.cpp; do
    n="$(basename "$f" .cpp)"; n="${n#fuzz_}"; [ "$n" = common ] || targets+=("$n")
  done
fi
cmake --build "$B" -j"$JOBS" --target "${targets[@]/#/ck_fuzz_}"
mkdir -p "$B/crashes"
fail=0
for t in "${targets[@]}"; do
  mkdir -p "$B/corpus/$t"
  [ -d "$ROOT/tests/fuzz/corpus/$t" ] && cp -n "$ROOT/tests/fuzz/corpus/$t"/* "$B/corpus/$t/" 2>/dev/null || true
  dirs=("$B/corpus/$t")
  [ -d "$ROOT/tests/fuzz/regressions/$t" ] && dirs+=("$ROOT/tests/fuzz/regressions/$t")
  args=(-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$B/crashes/$t-")
  [ -f "$ROOT/tests/fuzz/dict/$t.dict" ] && args+=(-dict="$ROOT/tests/fuzz/dict/$t.dict")
  if [ "${CK_FUZZ_SEEDS_ONLY:-0}" = 1 ]; then
    args+=(-runs=0)
    echo "[fuzz] $t: committed inputs only"
  else
    args+=(-max_total_time="$SECS" -runs="$RUNS")
    echo "[fuzz] $t: ${SECS}s$([ "$RUNS" -ge 0 ] && echo ", at most $RUNS executions")"
  fi
  if ! "$B/fuzz/ck_fuzz_$t" "${args[@]}" "${dirs[@]}" > "$B/fuzz-$t.log" 2>&1; then
    echo "[fuzz] $t: FAILED (see $B/fuzz-$t.log, inputs in $B/crashes/)" >&2
    grep -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|ck-fuzz:|ALARM|deadly signal' "$B/fuzz-$t.log" | head -5 >&2 || true
    fail=1
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss|cov: ' "$B/fuzz-$t.log" | tail -3 || true
done
exit $fail
