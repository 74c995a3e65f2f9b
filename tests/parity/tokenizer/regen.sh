#!/usr/bin/env bash
# Regenerates tests/fixtures/tokenizer/{golden.jsonl.zst,manifest.json} from the llama.cpp oracle.
#   bash tests/parity/tokenizer/regen.sh [CK_BUILD_DIR]   (default build; needs bin/ck-synth and bin/ck-tokenize)
# Steps: build ref_tokenize (build.sh) -> tiny text GGUF from ck-synth (real Qwen3 vocab) -> gen_corpus.py ->
# ref_tokenize (ids, pieces of every token, unicode flags) -> assemble.py -> zstd -19 -> manifest.json.
# A rerun with the same oracle, vocab and scripts is byte-identical.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
BUILD="${1:-build}"
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
REF="${CK_ORACLE_DIR:-build/oracle}"
case "$REF" in /*) ;; *) REF="$ROOT/$REF" ;; esac
PY="${PYTHON:-/usr/bin/python3}"
OUT="$ROOT/tests/fixtures/tokenizer"
DEPS="${CK_DEPS_DIR:-build/deps}"
case "$DEPS" in /*) ;; *) DEPS="$ROOT/$DEPS" ;; esac
TOKJSON="$DEPS/qwen3-tokenizer/tokenizer.json"
for t in ck-synth ck-tokenize; do
    [ -x "$BUILD/bin/$t" ] || { echo "regen.sh: $BUILD/bin/$t missing (build ck first)" >&2; exit 2; }
done

REFBIN="$(bash "$HERE/build.sh")"
WORK="$REF/work/tokenizer"
rm -rf "$WORK" && mkdir -p "$WORK"
"$BUILD/bin/ck-synth" --preset tiny --text-type f16 --only text -o "$WORK" -q
MODEL="$WORK/tiny-text-f16.gguf"
"$PY" "$HERE/gen_corpus.py" "$WORK/corpus.bin" >/dev/null
"$REFBIN" --model "$MODEL" --in "$WORK/corpus.bin" --out "$WORK/ids.bin" --pieces-out "$WORK/pieces.bin" \
    --flags-out "$WORK/flags.bin" > "$WORK/ref.jsonl" 2> "$WORK/ref.stderr"
"$PY" "$HERE/assemble.py" "$WORK/corpus.bin" "$WORK/ids.bin" "$WORK/golden.jsonl" > "$WORK/assemble.json"
mkdir -p "$OUT"
zstd -19 -q -f --no-progress "$WORK/golden.jsonl" -o "$OUT/golden.jsonl.zst"
"$BUILD/bin/ck-tokenize" --vocab "$MODEL" --info > "$WORK/info.json"

"$PY" - "$WORK" "$REF" "$OUT" "$ROOT" "$TOKJSON" <<'PYEOF'
import hashlib, json, sys
work, ref, out, root, tokjson = sys.argv[1:6]
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
oracle = json.load(open(f"{ref}/build-avx2/oracle.json"))
lines = open(f"{work}/ref.jsonl").read().splitlines()
counts, special = json.loads(lines[0]), json.loads(lines[1])
asm = json.load(open(f"{work}/assemble.json"))
info = json.load(open(f"{work}/info.json"))
m = {
    "format": "ck.tokenizer_fixture",
    "version": 1,
    "oracle": {"llama_cpp": oracle["llama_cpp"], "npm": oracle["npm"], "compiler": oracle["compiler"],
               "api": "llama_model_load_from_file(vocab_only=true); llama_tokenize; llama_token_to_piece(lstrip=0)"},
    "model": {"generator": "ck-synth --preset tiny --text-type f16 --only text",
              "file": "tiny-text-f16.gguf", "sha256": sha(f"{work}/tiny-text-f16.gguf")},
    "vocab": {"tokenizer_json_sha256": sha(tokjson),
              "vocab_digest": info["vocab_digest"], "n_tokens": counts["n_vocab"], "n_merges": info["n_merges"],
              "bos": special["bos"], "eos": special["eos"], "eot": special["eot"],
              "add_bos": special["add_bos"], "add_eos": special["add_eos"], "eog": special["eog"]},
    "corpus": {"file": "golden.jsonl.zst", "jsonl_sha256": sha(f"{work}/golden.jsonl"),
               "generator": "tests/parity/tokenizer/gen_corpus.py", "records": asm["records"],
               "errors": asm["errors"], "ids": asm["ids"],
               "modes": {"ids": "add_special=true, parse_special=true",
                         "ids_plain": "add_special=false, parse_special=false (stored only when different)"}},
    "pieces": {"what": "for id in 0..n_tokens-1: u32 n + bytes of llama_token_to_piece(special=true); then special=false",
               "sha256": sha(f"{work}/pieces.bin")},
    "unicode": {"what": "u16 unicode_cpt_flags_from_cpt(c).as_uint() for c in 0..0x10FFFF, then u32 unicode_tolower(c)",
                "sha256": sha(f"{work}/flags.bin"),
                "unicode_data_cpp_sha256": sha(f"{ref}/src/src/unicode-data.cpp")},
    "regen": "bash tests/parity/tokenizer/regen.sh [CK_BUILD_DIR]",
}
json.dump(m, open(f"{out}/manifest.json", "w"), indent=1)
open(f"{out}/manifest.json", "a").write("\n")
print(json.dumps({"records": asm["records"], "errors": asm["errors"], "ids": asm["ids"]}))
PYEOF
