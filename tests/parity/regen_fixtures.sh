#!/usr/bin/env bash
# make regen-fixtures: regenerate the golden parity fixtures in tests/parity/fixtures/ from the pinned oracle.
#   bash tests/parity/regen_fixtures.sh [BUILD_DIR]     (BUILD_DIR default: build; needs BUILD_DIR/bin/ck-synth)
#
# 1. builds the oracle if needed (tests/parity/oracle/build.sh -> build/oracle/build-avx2)
# 2. generates the synthetic models, presets tiny and small (oracle/common.sh gen_models: ck-synth mmproj
#    F32/F16/BF16/Q8_0 + text F16/Q8_0, ref_quantize text Q4_K_M/Q6_K)
# 3. runs ref_encode / ref_decode at threads 1 and 2 and writes the fixtures (regen_fixtures.py): encoder
#    pixels + embeddings (+ every activation on the smallest image), decoder logits at every prompt position and
#    32 greedy tokens (per-row sha256 of the full logits, first 256 columns stored, result_norm dumps), and
#    manifest.json (oracle version/ISA/flags, driver sources, zstd, threads, sha256 of every model, image, file)
# 4. replaces tests/parity/fixtures only if everything succeeded and the thread/dump cross-checks held.
# Deterministic: a rerun with the same oracle, models and zstd gives byte-identical files (no timestamps or
# machine paths are written). Exit: 0 ok, 1 failure / mismatch, 3 no model generator.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/oracle/common.sh"
BUILD="$(abspath "${1:-build}")"
FIX="$PARITY/fixtures"
WORK="$REF/work/regen"
T0=$(date +%s)

ensure_oracle
rm -rf "$WORK"; mkdir -p "$WORK/models" "$WORK/runs"
gen_models "$BUILD" "$WORK/models" "tiny small" || { echo "regen_fixtures: model generation failed" >&2; exit 1; }
if [ -z "$SYNTH_USED" ]; then
    echo "regen_fixtures: NOT RUN: no model generator ($BUILD/bin/ck-synth does not exist). Fixtures left unchanged."
    exit 3
fi

rm -rf "$FIX.tmp"; mkdir -p "$FIX.tmp"
trap 'rm -rf "$FIX.tmp"' EXIT
"$PY" "$PARITY/regen_fixtures.py" "$WORK" "$FIX.tmp" "$OBIN" "$OBUILD/oracle.json" "$WORK/models/models.json"
rm -rf "$FIX.old"; [ -d "$FIX" ] && mv "$FIX" "$FIX.old"; mv "$FIX.tmp" "$FIX"; rm -rf "$FIX.old"
echo "regen_fixtures: OK: $(find "$FIX" -type f | wc -l) files, $(du -sb "$FIX" | cut -f1) bytes in tests/parity/fixtures, $(( $(date +%s) - T0 )) s"
