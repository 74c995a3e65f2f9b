#!/usr/bin/env bash
# Builds ref_tokenize into ${CK_ORACLE_DIR:-build/oracle}/build-tokenizer/ against the oracle's static
# libraries (building the oracle first if needed). Idempotent.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
REF="${CK_ORACLE_DIR:-build/oracle}"
case "$REF" in /*) ;; *) REF="$ROOT/$REF" ;; esac
if [ ! -f "$REF/build-avx2/lib/libllama.a" ]; then
    CK_ORACLE_ISA=avx2 bash "$ROOT/tests/parity/oracle/build.sh"
fi
OUT="$REF/build-tokenizer"
CK_ORACLE_DIR="$REF" cmake -S "$HERE" -B "$OUT" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$OUT" -j "${CK_ORACLE_JOBS:-2}" >/dev/null
echo "$OUT/ref_tokenize"
