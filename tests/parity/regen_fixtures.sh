#!/usr/bin/env bash
# make regen-fixtures: regenerate the golden parity fixtures in tests/parity/fixtures/ from the pinned oracle.
#   bash tests/parity/regen_fixtures.sh [BUILD_DIR]     (BUILD_DIR default: build; needs BUILD_DIR/bin/ck-synth)
#
# 1. builds the oracle if needed (tests/parity/oracle/build.sh -> build/oracle/build-avx2)
# 2. generates the synthetic models, presets tiny and small (oracle/common.sh gen_models: ck-synth mmproj
#    F32/F16/BF16/Q8_0 + text F16/Q8_0, ref_quantize text Q4_K_M/Q6_K; then extra_text_models below: ck-synth
#    text F32/BF16, ref_quantize text Q4_0 (both presets) and Q5_K_S (small: 42 q5_K + q6_K token_embd))
# 3. runs ref_encode / ref_decode at threads 1 and 2 and writes the fixtures (regen_fixtures.py): encoder
#    pixels + embeddings (+ every activation on the smallest image); decoder cases (one image, two images, prompts
#    whose KV view crosses 256 and 512 cells during generation): the sha256 of EVERY logits row (each prompt
#    position, then each of 64 greedy steps = the rows of ck-decode --logits-all-out) and the token ids, per
#    thread count where they differ (first 256 columns + result_norm dump for the short case only); and
#    manifest.json (oracle version/ISA/flags, driver sources, zstd, threads, sha256 of every model, image, file)
# 4. replaces tests/parity/fixtures only if everything succeeded and the thread/dump cross-checks held.
# Deterministic: a rerun with the same oracle, models and zstd gives byte-identical files (no timestamps or
# machine paths are written). Exit: 0 ok, 1 failure / mismatch, 3 no model generator.
# CK_REGEN_ONLY_NEW=1: keep every existing fixture file as it is and run the oracle only for decoder cases of
# text models the current manifest does not have yet, or recorded with another n_predict or without per-row
# hashes (regen_fixtures.py --incremental; the new files and the
# manifest with the new entries are copied into tests/parity/fixtures; the regenerated models, oracle, zstd must
# equal the recorded ones, and a changed driver source is accepted only if a recorded decoder case reproduces).
# CK_REGEN_WORK overrides the work directory (default $CK_ORACLE_DIR/work/regen). CK_REGEN_OUT=DIR writes the
# fresh tree to DIR (replacing DIR) instead of tests/parity/fixtures (used to compare with the committed tree).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/oracle/common.sh"
BUILD="$(abspath "${1:-build}")"
FIX="$PARITY/fixtures"
if [ -n "${CK_REGEN_OUT:-}" ]; then     # a fresh tree elsewhere, tests/parity/fixtures untouched (parity_full.sh)
    [ "${CK_REGEN_ONLY_NEW:-0}" = 1 ] && { echo "regen_fixtures: CK_REGEN_OUT and CK_REGEN_ONLY_NEW=1 do not combine" >&2; exit 1; }
    FIX="$(abspath "$CK_REGEN_OUT")"
fi
WORK="$(abspath "${CK_REGEN_WORK:-$REF/work/regen}")"
T0=$(date +%s)

ensure_oracle
rm -rf "$WORK"; mkdir -p "$WORK/models" "$WORK/runs"

# Text types beyond oracle/common.sh gen_models, so the decoder fixtures cover every text weight type ck runs
# (issue #8: F32 F16 BF16 Q8_0 Q4_0 Q4_K Q5_K Q6_K). Tiny's 64-wide rows cannot hold K-quant blocks: no Q5_K_S there.
extra_text_models() {
    local bin="$1/bin" out="$2" p t T
    for p in tiny small; do
        for t in f32 bf16; do
            "$bin/ck-synth" --preset "$p" --text-type "$t" --only text -q -o "$out" || return 1
            printf '%s-text-%s\tck-synth --preset %s --text-type %s --only text\n' "$p" "$t" "$p" "$t" >> "$out/models.tsv"
        done
        local kq="q4_0"; [ "$p" = small ] && kq="q4_0 q5_k_s"
        for t in $kq; do
            T="$(echo "$t" | tr a-z A-Z)"
            "$OBIN/ref_quantize" "$out/$p-text-f16.gguf" "$out/$p-text-$t.gguf" "$T" 2 > "$out/quantize_$p-$t.log" 2>&1 || return 1
            printf '%s-text-%s\tref_quantize %s-text-f16.gguf %s-text-%s.gguf %s (llama_model_quantize defaults, no imatrix)\n' \
                "$p" "$t" "$p" "$p" "$t" "$T" >> "$out/models.tsv"
        done
    done
    "$PY" -c 'import json,sys; print(json.dumps(dict(l.rstrip("\n").split("\t") for l in open(sys.argv[1])), indent=1))' \
        "$out/models.tsv" > "$out/models.json"
}

gen_models "$BUILD" "$WORK/models" "tiny small" || { echo "regen_fixtures: model generation failed" >&2; exit 1; }
if [ -z "$SYNTH_USED" ]; then
    echo "regen_fixtures: NOT RUN: no model generator ($BUILD/bin/ck-synth does not exist). Fixtures left unchanged."
    exit 3
fi
extra_text_models "$BUILD" "$WORK/models" || { echo "regen_fixtures: model generation failed" >&2; exit 1; }
INCR=()
[ "${CK_REGEN_ONLY_NEW:-0}" = 1 ] && INCR=(--incremental "$FIX")

rm -rf "$FIX.tmp"; mkdir -p "$FIX.tmp"
trap 'rm -rf "$FIX.tmp"' EXIT
"$PY" "$PARITY/regen_fixtures.py" "$WORK" "$FIX.tmp" "$OBIN" "$OBUILD/oracle.json" "$WORK/models/models.json" "${INCR[@]}"
if [ ${#INCR[@]} -gt 0 ]; then
    cp -a "$FIX.tmp/." "$FIX/"     # new files + manifest over the existing tree (nothing else is touched)
else
    rm -rf "$FIX.old"; [ -d "$FIX" ] && mv "$FIX" "$FIX.old"; mv "$FIX.tmp" "$FIX"; rm -rf "$FIX.old"
fi
echo "regen_fixtures: OK: $(find "$FIX" -type f | wc -l) files, $(du -sb "$FIX" | cut -f1) bytes in ${FIX#"$ROOT"/}, $(( $(date +%s) - T0 )) s"
