#!/usr/bin/env bash
# Builds gen_goldens against the oracle's ggml static libraries (tests/parity/oracle, portable AVX2 build) and
# regenerates tests/fixtures/kernels/*.ckg.zst. Not part of `make test`; run after changing kernel_cases.h or
# when re-pinning the oracle, then review and commit the fixtures (and MANIFEST.json).
#   build.sh [OUT_DIR [GROUP...]]   GROUP: moe | repack | dotq | softmax (default: every group)
#   CK_ORACLE_SRC   assembled llama.cpp tree   (default: build/oracle/src, else $CK_ORACLE_DIR/oracle-src)
#   CK_ORACLE_BUILD oracle build with lib/*.a  (default: build/oracle/build-avx2, else $CK_ORACLE_DIR/oracle-build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
src=${CK_ORACLE_SRC:-}
bld=${CK_ORACLE_BUILD:-}
if [[ -z $src ]]; then
  if [[ -d $root/build/oracle/src/ggml ]]; then src=$root/build/oracle/src; else src=${CK_ORACLE_DIR:?set CK_ORACLE_DIR}/oracle-src; fi
fi
if [[ -z $bld ]]; then
  if [[ -d $root/build/oracle/build-avx2/lib ]]; then bld=$root/build/oracle/build-avx2; else bld=${CK_ORACLE_DIR:?}/oracle-build; fi
fi
out=${1:-$root/tests/fixtures/kernels}
shift $(( $# > 0 ? 1 : 0 ))  # the rest: groups to regenerate (default all)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Copy the libraries first: the oracle build may be rebuilt concurrently.
cp "$bld"/lib/libllama.a "$bld"/lib/libggml.a "$bld"/lib/libggml-cpu.a "$bld"/lib/libggml-base.a "$work"/
g++ -std=gnu++17 -O2 -I"$src/include" -I"$src/ggml/include" -I"$here" "$here/gen_goldens.cpp" -o "$work/gen_goldens" \
  "$work/libllama.a" "$work/libggml.a" "$work/libggml-cpu.a" "$work/libggml-base.a" -fopenmp -lzstd -lm -lpthread -ldl
mkdir -p "$out"
"$work/gen_goldens" "$out" "$@"
