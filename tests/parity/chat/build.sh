#!/usr/bin/env bash
# Builds ref_chat (tests/parity/chat/ref_chat.cpp) against one oracle build's static libs and the common/ sources of
# the same npm package the oracle's src/ comes from (@fugood/llama.node 1.7.15 = b10256: common/chat.cpp and its
# jinja engine). Oracle side only; ck never links it.
#   bash tests/parity/chat/build.sh [OUT_BIN]     (default: $CK_ORACLE_BUILD/bin/ref_chat)
# Environment as tests/parity/oracle: CK_ORACLE_DIR, CK_ORACLE_BUILD, CK_ORACLE_SRC, plus CK_ORACLE_COMMON (the
# package's common/ directory; default $CK_ORACLE_DIR/npm/llama.node/package/src/llama.cpp/common).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../oracle/common.sh"
SRC="$(abspath "${CK_ORACLE_SRC:-$REF/src}")"
COMMON="$(abspath "${CK_ORACLE_COMMON:-$REF/npm/llama.node/package/src/llama.cpp/common}")"
OUT="$(abspath "${1:-$OBUILD/bin/ref_chat}")"
HERE="$PARITY/chat"
for l in libllama.a libggml.a libggml-cpu.a libggml-base.a; do
    [ -f "$OBUILD/lib/$l" ] || { echo "chat/build.sh: $OBUILD/lib/$l missing (tests/parity/oracle/build.sh)" >&2; exit 2; }
done
[ -f "$COMMON/chat.cpp" ] || { echo "chat/build.sh: $COMMON/chat.cpp missing (the npm package's common/)" >&2; exit 2; }
OBJ="$(dirname "$OUT")/ref_chat.obj"; mkdir -p "$OBJ"
srcs=(chat.cpp chat-auto-parser-generator.cpp chat-auto-parser-helpers.cpp chat-diff-analyzer.cpp chat-peg-parser.cpp
      peg-parser.cpp json-schema-to-grammar.cpp common.cpp log.cpp unicode.cpp sampling.cpp speculative.cpp fit.cpp
      ngram-cache.cpp ngram-map.cpp ngram-mod.cpp reasoning-budget.cpp trie.cpp jinja/caps.cpp jinja/lexer.cpp
      jinja/parser.cpp jinja/runtime.cpp jinja/string.cpp jinja/value.cpp)
objs=()
for s in "${srcs[@]}" ref_chat.cpp; do
    in="$COMMON/$s"; [ "$s" = ref_chat.cpp ] && in="$HERE/ref_chat.cpp"
    [ -f "$in" ] || continue
    o="$OBJ/$(echo "$s" | tr / _).o"
    [ "$o" -nt "$in" ] || g++ -std=gnu++17 -O0 -DNDEBUG -I"$COMMON" -I"$SRC/include" -I"$SRC/ggml/include" -I"$SRC/src" \
        -c "$in" -o "$o"
    objs+=("$o")
done
g++ "${objs[@]}" -o "$OUT" "$OBUILD/lib/libllama.a" "$OBUILD/lib/libggml.a" "$OBUILD/lib/libggml-cpu.a" \
    "$OBUILD/lib/libggml-base.a" -fopenmp -lpthread -ldl -lm
echo "$OUT"
