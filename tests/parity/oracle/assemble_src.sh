#!/usr/bin/env bash
# Assemble an upstream-named llama.cpp source tree for the CPU reference oracle.
#
# Sources (both npm packages by the same authors, both bundling llama.cpp b10256 / 6c8dcaa):
#   llama.rn@0.12.9            -> ggml core (ggml.c, ggml-alloc.c, ggml-backend*.cpp, ggml-quants.c,
#                                 gguf.cpp, ...) and tools/mtmd (clip, mtmd, mtmd-helper, models/*).
#                                 Every ggml/gguf symbol there is prefixed lm_/LM_; we strip the prefix
#                                 mechanically (see UNPREFIX below).
#   @fugood/llama.node@1.7.15  -> ggml/include, ggml/src/ggml-cpu (incl. llamafile/sgemm.cpp which
#                                 llama.rn does not ship), include/, src/ (incl. llama-quant.cpp which
#                                 llama.rn does not ship, and the unmodified llama-mmap.cpp).
# Where both packages contain a file, the de-prefixed llama.rn copy is byte-identical to the
# llama.node copy (checked below; the only known exception is src/llama-mmap.cpp, where llama.rn
# patched posix_madvise -> madvise; we use the upstream llama.node version).
#
# Output: $OUT = ${CK_ORACLE_SRC:-$REF/oracle-src}, REF = ${CK_ORACLE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ck-oracle},
# laid out like upstream:
#   ggml/include, ggml/src, ggml/src/ggml-cpu, include, src, src/models, tools/mtmd
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
REF="${CK_ORACLE_DIR:-build/oracle}"
case "$REF" in /*) ;; *) REF="$ROOT/$REF" ;; esac
OUT="${CK_ORACLE_SRC:-$REF/src}"
RN_VER=0.12.9
NODE_VER=1.7.15
RN=$REF/llama.rn/cpp
NODE=$REF/npm/llama.node/package/src/llama.cpp

# ---- obtain sources if missing -------------------------------------------------------------
TMP_NPM=""
cleanup() { [ -z "$TMP_NPM" ] || rm -rf "$TMP_NPM"; }
trap cleanup EXIT
if [ ! -f "$RN/ggml.c" ]; then
    echo "[assemble] fetching llama.rn@$RN_VER via npm pack"
    [ -n "$TMP_NPM" ] || TMP_NPM="$(mktemp -d)"
    mkdir -p "$REF/llama.rn"
    (cd "$TMP_NPM" && npm pack --loglevel=error "llama.rn@$RN_VER" >/dev/null)
    tar xzf "$TMP_NPM/llama.rn-$RN_VER.tgz" -C "$REF/llama.rn" --strip-components=1
fi
if [ ! -f "$NODE/ggml/src/ggml-cpu/llamafile/sgemm.cpp" ]; then
    echo "[assemble] fetching @fugood/llama.node@$NODE_VER via npm pack"
    [ -n "$TMP_NPM" ] || TMP_NPM="$(mktemp -d)"
    mkdir -p "$REF/npm/llama.node"
    (cd "$TMP_NPM" && npm pack --loglevel=error "@fugood/llama.node@$NODE_VER" >/dev/null)
    tar xzf "$TMP_NPM/fugood-llama.node-$NODE_VER.tgz" -C "$REF/npm/llama.node"
fi

STAMP="rn=$RN_VER node=$NODE_VER assemble=v3"
if [ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$STAMP" ]; then
    echo "[assemble] $OUT up to date"
    exit 0
fi

UNPREFIX='s/lm_ggml/ggml/g; s/LM_GGML/GGML/g; s/lm_gguf/gguf/g; s/LM_GGUF/GGUF/g; s/lm_iq2xs_/iq2xs_/g; s/lm_iq3xs_/iq3xs_/g'
unp() { sed -e "$UNPREFIX" "$1" > "$2"; }

rm -rf "$OUT.tmp"
mkdir -p "$OUT.tmp"/{ggml/include,ggml/src,include,tools/mtmd}

# ggml public headers + ggml-cpu backend + llama (src, include) from llama.node (upstream names)
cp "$NODE"/ggml/include/*.h "$OUT.tmp/ggml/include/"
cp -r "$NODE/ggml/src/ggml-cpu" "$OUT.tmp/ggml/src/ggml-cpu"
cp "$NODE"/include/*.h "$OUT.tmp/include/"
cp -r "$NODE/src" "$OUT.tmp/src"

# ggml core (ggml-base + ggml registry) from llama.rn, de-prefixed
for f in ggml.c ggml-alloc.c ggml-backend.cpp ggml-backend-meta.cpp ggml-backend-reg.cpp \
         ggml-backend-dl.cpp ggml-backend-dl.h ggml-backend-impl.h ggml-common.h ggml-impl.h \
         ggml-opt.cpp ggml-quants.c ggml-quants.h ggml-threading.cpp ggml-threading.h gguf.cpp; do
    unp "$RN/$f" "$OUT.tmp/ggml/src/$f"
done

# tools/mtmd from llama.rn, de-prefixed (stb + miniaudio vendored there)
(cd "$RN/tools/mtmd" && find . -type f) | while read -r f; do
    mkdir -p "$(dirname "$OUT.tmp/tools/mtmd/$f")"
    case "$f" in
        *.c|*.cpp|*.h|*.hpp) unp "$RN/tools/mtmd/$f" "$OUT.tmp/tools/mtmd/$f" ;;
        *) cp "$RN/tools/mtmd/$f" "$OUT.tmp/tools/mtmd/$f" ;;
    esac
done

# ---- consistency check: files present in both packages must agree after de-prefixing --------
n_same=0; n_diff=0
check() { # $1 = llama.rn file, $2 = llama.node file
    if [ -f "$1" ] && [ -f "$2" ]; then
        if sed -e "$UNPREFIX" "$1" | cmp -s - "$2"; then n_same=$((n_same+1)); else
            n_diff=$((n_diff+1)); echo "[assemble] note: differs between packages: $2"; fi
    fi
}
for f in "$NODE"/ggml/include/*.h; do check "$RN/$(basename "$f")" "$f"; done
for f in $(cd "$NODE/ggml/src/ggml-cpu" && find . -type f); do check "$RN/ggml-cpu/$f" "$NODE/ggml/src/ggml-cpu/$f"; done
for f in $(cd "$NODE/src" && find . -type f); do f=${f#./}; check "$RN/$f" "$NODE/src/$f"; done
for f in "$NODE"/include/*.h; do check "$RN/$(basename "$f")" "$f"; done
echo "[assemble] cross-package check: $n_same identical, $n_diff differing (expected: 1, src/llama-mmap.cpp)"

# sanity: no prefixed symbols left
if grep -rIl 'lm_ggml\|LM_GGML\|lm_gguf\|LM_GGUF' "$OUT.tmp" >/dev/null; then
    echo "[assemble] ERROR: prefixed symbols remain:"; grep -rIl 'lm_ggml\|LM_GGML\|lm_gguf\|LM_GGUF' "$OUT.tmp"; exit 1
fi

echo "$STAMP" > "$OUT.tmp/.stamp"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
echo "[assemble] wrote $OUT"
