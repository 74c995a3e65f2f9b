#!/usr/bin/env bash
# Builds the live ck-vs-ggml programs of tests/parity/kernels against ONE oracle build and ck's static libraries:
#   kernel_parity   bit-for-bit parity of every strict kernel vs the oracle's ggml (make test-v8-vision-kernels)
#   bench_vs_ggml   GFLOP/s of ck's mat-mul paths vs the same ggml ops + the machine's FMA peak (make bench-kernels)
# ggml is linked into these test programs only, never into ck's product.
#
# Usage: build_live.sh [CK_BUILD_DIR [OUT_DIR]]
#   CK_BUILD_DIR    ck build tree (default: build); its ck_runtime, ck_kernels, ck_core targets are (re)built first
#   OUT_DIR         where the binaries go (default: CK_BUILD_DIR/parity-live); names carry the oracle ISA:
#                   OUT_DIR/kernel_parity-<isa>, OUT_DIR/bench_vs_ggml-<isa>
# Environment:
#   CK_ORACLE_ISA   avx2 (default: the pinned numerics) | avx512 (speed anchor)
#   CK_ORACLE_BUILD oracle build with lib/*.a (default: $CK_ORACLE_DIR/build-$CK_ORACLE_ISA, CK_ORACLE_DIR
#                   default build/oracle)
#   CK_ORACLE_SRC   assembled llama.cpp tree (default: $CK_ORACLE_DIR/src)
#   CK_LIVE_TARGETS programs to build (default: "kernel_parity bench_vs_ggml")
#   CK_LIVE_NO_CMAKE=1  use CK_BUILD_DIR's libraries as they are (no cmake --build first)
# Exit: 0 built, 2 setup error (missing oracle build / sources / compiler error).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
abspath() { case "$1" in /*) echo "$1" ;; *) echo "$root/$1" ;; esac; }
isa=${CK_ORACLE_ISA:-avx2}
odir=$(abspath "${CK_ORACLE_DIR:-build/oracle}")
obuild=$(abspath "${CK_ORACLE_BUILD:-$odir/build-$isa}")
osrc=$(abspath "${CK_ORACLE_SRC:-$odir/src}")
ckb=$(abspath "${1:-build}")
out=$(abspath "${2:-$ckb/parity-live}")
targets=${CK_LIVE_TARGETS:-kernel_parity bench_vs_ggml}
die() { echo "build_live.sh: $*" >&2; exit 2; }

for l in libllama.a libggml.a libggml-cpu.a libggml-base.a; do
  [[ -f $obuild/lib/$l ]] || die "$obuild/lib/$l missing (build the oracle: CK_ORACLE_ISA=$isa bash tests/parity/oracle/build.sh)"
done
[[ -f $osrc/ggml/include/ggml-cpu.h ]] || die "$osrc: no assembled llama.cpp tree (tests/parity/oracle/build.sh makes it)"
[[ -f $ckb/CMakeCache.txt ]] || die "$ckb: not a configured ck build tree (cmake -S . -B $ckb)"
if [[ ${CK_LIVE_NO_CMAKE:-0} != 1 ]]; then
  cmake --build "$ckb" -j"${CK_JOBS:-2}" --target ck_runtime ck_kernels ck_core > "$ckb/build_live.cmake.log" 2>&1 ||
    { tail -20 "$ckb/build_live.cmake.log" >&2; die "building ck_runtime / ck_kernels / ck_core in $ckb failed"; }
fi
# ck_runtime (the kernel bindings: kernel_parity runs the MoE ones) and what it links, in link order
cklibs=("$ckb/lib/runtime/libck_runtime.a" "$ckb/lib/bump/libck_bump.a" "$ckb/lib/gguf/libck_gguf.a"
        "$ckb/lib/dump/libck_dump.a" "$ckb/lib/bridge/libck_bridge.a" "$ckb/lib/registry/libck_registry.a"
        "$ckb/lib/kernels/libck_kernels.a" "$ckb/lib/core/libck_core.a")
for l in "${cklibs[@]}"; do [[ -f $l ]] || die "$l missing"; done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Copy the oracle libraries first: the oracle build may be rebuilt concurrently.
mkdir -p "$work/o" "$out"
cp "$obuild"/lib/libllama.a "$obuild"/lib/libggml.a "$obuild"/lib/libggml-cpu.a "$obuild"/lib/libggml-base.a "$work/o/"
for t in $targets; do
  [[ -f $here/$t.cpp ]] || die "$here/$t.cpp missing"
  # Same language mode and strictness as ck (C++20, no fast-math); -O2 like the golden generator. The ck
  # kernels keep their own flags (they are compiled into libck_kernels.a by CMake).
  g++ -std=gnu++20 -O2 -fno-fast-math -I"$root/lib" -I"$osrc/include" -I"$osrc/ggml/include" -I"$here" \
    "$here/$t.cpp" -o "$work/$t" "${cklibs[@]}" \
    "$work/o/libllama.a" "$work/o/libggml.a" "$work/o/libggml-cpu.a" "$work/o/libggml-base.a" \
    -fopenmp -lzstd -lcrypto -lm -lpthread -ldl -lrt || die "compiling $t against the $isa oracle failed"
  mv "$work/$t" "$out/$t-$isa"
  echo "$out/$t-$isa"
done
