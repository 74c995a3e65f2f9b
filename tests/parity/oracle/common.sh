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

# gen_models BUILD_DIR OUT_DIR: the tiny synthetic Qwen3-VL models used by the harness.
# Generator: $BUILD_DIR/bin/ck-synth (the project's own); else $CK_SYNTH_PY (a python script with the CLI
# "model --preset P --mmproj-type T --text-type T [--only mmproj|text] --out-dir D --tokenizer-json J",
# for developers before ck-synth exists). Q4_K_M text is made from the F16 text model with ref_quantize.
# Sets SYNTH_USED ("" = no generator: the caller reports that nothing could be run).
MODEL_SET="tiny-mmproj-f32 tiny-mmproj-f16 tiny-mmproj-q8_0 tiny-text-f16 tiny-text-q8_0 tiny-text-q4_k_m"
gen_models() {
    local bin="$1/bin" out="$2"
    mkdir -p "$out"
    SYNTH_USED=""
    if [ -x "$bin/ck-synth" ]; then
        SYNTH_USED="ck-synth"
        "$bin/ck-synth" --preset tiny --mmproj-type f32 --text-type f16 -o "$out" >/dev/null &&
        "$bin/ck-synth" --preset tiny --mmproj-type f16 --text-type q8_0 -o "$out" >/dev/null &&
        "$bin/ck-synth" --preset tiny --mmproj-type q8_0 --text-type q8_0 -o "$out" >/dev/null || return 1
    elif [ -n "${CK_SYNTH_PY:-}" ]; then
        SYNTH_USED="CK_SYNTH_PY=$(basename "$CK_SYNTH_PY")"
        local tj=(); [ -f "$TOKENIZER" ] && tj=(--tokenizer-json "$TOKENIZER")
        "$PY" "$CK_SYNTH_PY" model --preset tiny --mmproj-type f32 --text-type f16 --out-dir "$out" "${tj[@]}" >/dev/null &&
        "$PY" "$CK_SYNTH_PY" model --preset tiny --mmproj-type q8_0 --text-type q8_0 --out-dir "$out" "${tj[@]}" >/dev/null &&
        "$PY" "$CK_SYNTH_PY" model --preset tiny --mmproj-type f16 --only mmproj --out-dir "$out" "${tj[@]}" >/dev/null || return 1
    else
        return 0
    fi
    if [ ! -f "$out/tiny-text-q4_k_m.gguf" ]; then
        "$OBIN/ref_quantize" "$out/tiny-text-f16.gguf" "$out/tiny-text-q4_k_m.gguf" Q4_K_M 2 > "$out/quantize_q4_k_m.log" 2>&1 || return 1
    fi
}

# image path by manifest name (committed or fetched); empty if absent
image_path() {
    if [ -f "$IMG_DIR/$1" ]; then echo "$IMG_DIR/$1"; elif [ -f "$FETCHED_DIR/$1" ]; then echo "$FETCHED_DIR/$1"; fi
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
same() { if cmp -s "$1" "$2"; then echo identical; else echo DIFFERENT; fi; }
