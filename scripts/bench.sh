#!/usr/bin/env bash
# make bench: ck vs llama.cpp in the same run, median of N runs, markdown + JSON (build/bench/bench.json).
# Never a test: numbers only. Parts that cannot run yet say so instead of printing nothing.
#   CK_BENCH_RUNS (default 5)   CK_BENCH_THREADS (default 2)   CK_BENCH_PRESET (default small)
#   CK_ORACLE_ISA=avx2|avx512   which oracle build to compare with (default avx2, the pin)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-build}"; case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
BIN="$BUILD/bin"; OUT="$BUILD/bench"; mkdir -p "$OUT"
RUNS="${CK_BENCH_RUNS:-5}"; THREADS="${CK_BENCH_THREADS:-2}"; PRESET="${CK_BENCH_PRESET:-small}"
ISA="${CK_ORACLE_ISA:-avx2}"
ORACLE_BIN="${CK_ORACLE_DIR:-$ROOT/build/oracle}/build-$ISA/bin"
results="$OUT/results.jsonl"; : > "$results"

median_ms() {  # median_ms CMD... : runs CMD $RUNS times, prints the median wall time in ms
  local t=()
  for _ in $(seq "$RUNS"); do
    local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); t+=($(( (e - s) / 1000000 )))
  done
  printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
record() { printf '{"bench":"%s","ck_ms":%s,"ref_ms":%s,"runs":%s,"threads":%s,"oracle":"%s"}\n' \
  "$1" "$2" "$3" "$RUNS" "$THREADS" "$ISA" >> "$results"; }

echo "# ck bench ($(date -u +%F), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $THREADS threads, median of $RUNS)"
echo
echo "## Kernels (ck strict vs a naive scalar loop, 1 thread)"
"$BIN/ck-bench-kernels" | tee "$OUT/kernels.md"

echo
echo "## Pipeline stages vs llama.cpp ($ISA build, preset $PRESET)"
MODELS="$OUT/models"; mkdir -p "$MODELS"
"$BIN/ck-synth" --preset "$PRESET" --mmproj-type f16 --text-type q8_0 -o "$MODELS" -q
MM="$MODELS/$PRESET-mmproj-f16.gguf"; TX="$MODELS/$PRESET-text-q8_0.gguf"
IMG="$ROOT/tests/parity/images/chelsea.png"
echo "| stage | ck ms | llama.cpp ms | time ratio ck / llama.cpp (< 1 = ck faster) |"
echo "|---|---|---|---|"
row() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { r = (b > 0 && a != "-") ? sprintf("%.2fx", a / b) : "-"; printf "| %s | %s | %s | %s |\n", n, a, b, r }'; }

ck=$(median_ms "$BIN/ck-convert" "$MM" -o "$OUT/enc.bump" --manifest "$OUT/enc.manifest.json")
ref=$(median_ms sh -c "cp '$MM' '$OUT/copy.gguf' && sha256sum '$OUT/copy.gguf'")
row "convert mmproj (vs cp + sha256sum)" "$ck" "$ref"; record convert "$ck" "$ref"

if [ -x "$ORACLE_BIN/ref_encode" ] && [ -x "$BIN/ck-encode" ] && \
   mkdir -p "$OUT/enc" && \
   "$BIN/ck-convert" "$MM" -o "$OUT/enc/model.bump" 2>/dev/null | "$BIN/ck-lower" - 2>/dev/null | "$BIN/ck-layout" - -o "$OUT/enc" 2>/dev/null && \
   "$BIN/ck-encode" -m "$OUT/enc" -t "$THREADS" "$IMG" -o "$OUT/ck.prefix" 2>/dev/null; then
  ck=$(median_ms "$BIN/ck-encode" -m "$OUT/enc" -t "$THREADS" "$IMG" -o "$OUT/ck.prefix")
  ref=$(median_ms "$ORACLE_BIN/ref_encode" --mmproj "$MM" --image "$IMG" --out "$OUT/ref.f32" --threads "$THREADS")
  row "encode chelsea.png (process wall, incl. load)" "$ck" "$ref"; record encode "$ck" "$ref"
else
  echo "| encode | - | - | not available: needs build/bin/ck-encode working and the oracle ($ORACLE_BIN; make llamacpp-parity-full builds it) |"
fi
if [ ! -x "$BIN/ck-decode" ] || ! "$BIN/ck-decode" --help >/dev/null 2>&1; then
  echo "| decode | - | - | not available yet |"
fi
echo
echo "raw: $results"
