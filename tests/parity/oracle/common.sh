# Shared by tests/parity/{regen_fixtures,parity_full,gate}.sh (sourced, not executed).
# Sets: ROOT PARITY REF ISA OBIN PY IMG_DIR FETCHED_DIR TOKENIZER; functions below.
PARITY="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$PARITY/../.." && pwd)"
abspath() { case "$1" in /*) echo "$1" ;; *) echo "$ROOT/$1" ;; esac; }
REF="$(abspath "${CK_ORACLE_DIR:-build/oracle}")"
ISA="${CK_ORACLE_ISA:-avx2}"
OBUILD="$(abspath "${CK_ORACLE_BUILD:-$REF/build-$ISA}")"
OBIN="$OBUILD/bin"
PY="${PYTHON:-/usr/bin/python3}"
IMG_DIR="$PARITY/images"
FETCHED_DIR="$(abspath "${CK_PARITY_IMAGES:-build/parity/images}")"
TOKENIZER="$(abspath "${CK_DEPS_DIR:-build/deps}")/qwen3-tokenizer/tokenizer.json"
export CK_ORACLE_DIR="$REF" CK_ORACLE_ISA="$ISA" CK_ORACLE_BUILD="$OBUILD"

# Build the oracle if needed (build.sh is idempotent: a no-op rebuild takes ~1 s).
ensure_oracle() {
    if ! bash "$PARITY/oracle/build.sh" > "$REF.build.log" 2>&1; then
        cat "$REF.build.log" >&2
        echo "parity: oracle build failed (log: $REF.build.log)" >&2
        return 1
    fi
}

# gen_models BUILD_DIR OUT_DIR [PRESETS]: the synthetic Qwen3-VL models used by the harness (PRESETS default
# "tiny small"; "2b" = the real-size f16 mmproj + q8_0 text only, 0.8 + 1.7 GB). Per preset: mmproj F32/F16/BF16/Q8_0
# and text F16/Q8_0 from BUILD_DIR/bin/ck-synth; text Q4_K_M and Q6_K made from the F16 text with the oracle's
# ref_quantize (llama-quantize defaults, no imatrix). Tiny's 64-wide rows cannot hold K-quant blocks (256), so
# llama-quantize falls back there (Q4_K_M -> q5_0/q8_0; Q6_K -> q8_0 only, a near-copy of Q8_0: not made for tiny).
# Writes OUT_DIR/models.json {name: "how it was made"}. Sets SYNTH_USED ("" = no ck-synth: the caller reports
# that nothing could be run). A generator that fails makes this return 1.
gen_models() {
    local bin="$1/bin" out="$2" presets="${3:-tiny small}" p t
    mkdir -p "$out"
    SYNTH_USED=""
    [ -x "$bin/ck-synth" ] || return 0
    SYNTH_USED="ck-synth"
    local made="$out/models.tsv"; : > "$made"
    for p in $presets; do
        local mm="f32 f16 bf16 q8_0" tx="f16 q8_0" kq="q4_k_m q6_k"
        [ "$p" = tiny ] && kq="q4_k_m"
        [ "$p" = 2b ] && { mm="f16"; tx="q8_0"; kq=""; }
        for t in $mm; do
            "$bin/ck-synth" --preset "$p" --mmproj-type "$t" --only mmproj -q -o "$out" || return 1
            printf '%s-mmproj-%s\tck-synth --preset %s --mmproj-type %s --only mmproj\n' "$p" "$t" "$p" "$t" >> "$made"
        done
        for t in $tx; do
            "$bin/ck-synth" --preset "$p" --text-type "$t" --only text -q -o "$out" || return 1
            printf '%s-text-%s\tck-synth --preset %s --text-type %s --only text\n' "$p" "$t" "$p" "$t" >> "$made"
        done
        for t in $kq; do
            local T; T="$(echo "$t" | tr a-z A-Z)"
            "$OBIN/ref_quantize" "$out/$p-text-f16.gguf" "$out/$p-text-$t.gguf" "$T" 2 > "$out/quantize_$p-$t.log" 2>&1 || return 1
            printf '%s-text-%s\tref_quantize %s-text-f16.gguf %s-text-%s.gguf %s (llama_model_quantize defaults, no imatrix)\n' \
                "$p" "$t" "$p" "$p" "$t" "$T" >> "$made"
        done
    done
    "$PY" -c 'import json,sys; print(json.dumps(dict(l.rstrip("\n").split("\t") for l in open(sys.argv[1])), indent=1))' \
        "$made" > "$out/models.json"
}

# image path by manifest name (committed or fetched); empty if absent
image_path() {
    if [ -f "$IMG_DIR/$1" ]; then echo "$IMG_DIR/$1"; elif [ -f "$FETCHED_DIR/$1" ]; then echo "$FETCHED_DIR/$1"; fi
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
same() { if cmp -s "$1" "$2"; then echo identical; else echo DIFFERENT; fi; }
