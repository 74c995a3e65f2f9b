#!/usr/bin/env bash
# The dense Qwen3-VL checkpoints' dimensions (4B, 8B, 32B; issue #18) against the oracle: checkpoints.py makes the
# models (ck-synth presets with real widths, reduced depth) and runs the oracle; compare_ck.py runs ck on them.
#   bash tests/parity/checkpoints.sh regen BUILD_DIR        rewrite tests/parity/fixtures-checkpoints (make regen-fixtures-checkpoints)
#   bash tests/parity/checkpoints.sh live BUILD_DIR WORK    parity_full.sh's part: the fixture set regenerated with
#        the live oracle (must equal the committed tree byte for byte) + ck vs it, and the 8B vision tower at full
#        depth (27 layers, taps 8/16/24) F16/Q8_0 vs the live oracle; prints OK/FAIL lines, exit 0 / 1.
# Models: ~8 GB in the work dir (32B text: 2.7 GB at 2 layers, 1.65 GB of it the 151936 x 5120 embedding and output rows); deleted at the end.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/oracle/common.sh"
cmd="${1:-}"; BUILD="$(abspath "${2:-build}")"; BIN="$BUILD/bin"
FIX="$PARITY/fixtures-checkpoints"
[ -x "$BIN/ck-synth" ] || { echo "checkpoints: $BIN/ck-synth missing (make build)"; exit 2; }
# the oracle binaries as they are when present (a shared, prebuilt oracle is never reconfigured from here)
if [ ! -x "$OBIN/ref_encode" ] || [ ! -x "$OBIN/ref_decode" ]; then ensure_oracle || exit 1; fi

case "$cmd" in
regen)
    WORK="$(abspath "${CK_REGEN_WORK:-$REF/work/checkpoints}")"
    rm -rf "$WORK" "$FIX.tmp"; mkdir -p "$WORK"
    trap 'rm -rf "$FIX.tmp"' EXIT
    "$PY" "$PARITY/checkpoints.py" "$BIN" "$OBIN" "$OBUILD/oracle.json" "$WORK" "$FIX.tmp" || exit 1
    rm -rf "$FIX.old"; [ -d "$FIX" ] && mv "$FIX" "$FIX.old"; mv "$FIX.tmp" "$FIX"; rm -rf "$FIX.old" "$WORK"
    echo "checkpoints: OK: $(find "$FIX" -type f | wc -l) files, $(du -sb "$FIX" | cut -f1) bytes in ${FIX#"$ROOT"/}"
    ;;
live)
    WORK="$(abspath "${3:?work dir}")"; rm -rf "$WORK"; mkdir -p "$WORK"
    fail=0
    if "$PY" "$PARITY/checkpoints.py" "$BIN" "$OBIN" "$OBUILD/oracle.json" "$WORK/fx" "$WORK/fixtures" > "$WORK/fx.log" 2>&1; then
        if diff -rq "$FIX" "$WORK/fixtures" > "$WORK/fixtures.diff" 2>&1; then
            echo "OK   checkpoint fixtures == live oracle ($(find "$FIX" -type f | wc -l) files, byte-identical)"
        else
            echo "FAIL checkpoint fixtures differ from the live oracle: $(head -3 "$WORK/fixtures.diff" | tr '\n' ' ')"; fail=1
        fi
        mkdir -p "$WORK/ck"; ln -sfn "$WORK/fx/models" "$WORK/ck/models"   # the models just made (sha256 re-checked)
        "$PY" "$PARITY/compare_ck.py" "$BIN" "$WORK/fixtures" "$WORK/ck" --oracle-bin "$OBIN" --presets 4b,8b,32b \
            > "$WORK/ck.log" 2>&1; rc=$?
        sed 's/^/     /' "$WORK/ck.log"
        [ $rc = 0 ] && echo "OK   ck vs the live oracle, checkpoint set" || { echo "FAIL ck vs the live oracle, checkpoint set (exit $rc)"; fail=1; }
    else
        echo "FAIL checkpoints.py (fixture set): $(tail -2 "$WORK/fx.log" | tr '\n' ' ')"; fail=1
    fi
    rm -rf "$WORK/fx" "$WORK/ck/models" "$WORK/ck/plans"
    if "$PY" "$PARITY/checkpoints.py" "$BIN" "$OBIN" "$OBUILD/oracle.json" "$WORK/full" "$WORK/full-tree" --set full > "$WORK/full.log" 2>&1; then
        mkdir -p "$WORK/ckfull"; ln -sfn "$WORK/full/models" "$WORK/ckfull/models"
        "$PY" "$PARITY/compare_ck.py" "$BIN" "$WORK/full-tree" "$WORK/ckfull" --presets 8b > "$WORK/ckfull.log" 2>&1; rc=$?
        sed 's/^/     /' "$WORK/ckfull.log"
        [ $rc = 0 ] && echo "OK   ck vs the live oracle, 8B vision at full depth" || { echo "FAIL ck vs the live oracle, 8B vision at full depth (exit $rc)"; fail=1; }
    else
        echo "FAIL checkpoints.py --set full: $(tail -2 "$WORK/full.log" | tr '\n' ' ')"; fail=1
    fi
    rm -rf "$WORK/full" "$WORK/ckfull/models" "$WORK/ckfull/plans"
    exit $fail
    ;;
*)
    echo "usage: checkpoints.sh regen|live BUILD_DIR [WORK]" >&2; exit 2 ;;
esac
