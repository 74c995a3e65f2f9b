#!/usr/bin/env bash
# make llamacpp-parity-full: everything live against a freshly built oracle.
#   bash tests/parity/parity_full.sh [BUILD_DIR]
#
# Models: ck-synth presets $CK_PARITY_PRESETS (default "tiny small 2b"; 2b = the real-size f16 mmproj + text
# Q8_0, F16, Q4_K_M, Q6_K: ~15 GB in the work dir; "tiny small 2b" measured 9 min on 2 cores without the fixture
# step; CK_PARITY_PRESETS="tiny small" for a quicker run) -- mmproj
# F32/F16/BF16/Q8_0, text F16/Q8_0 + Q4_K_M/Q6_K via ref_quantize (CK_PARITY_2B_TEXT: the 2b text types besides q8_0).
# For every model x image x threads {1, 2} (+ a rerun at 1 thread) the oracle runs and ck-diff compares:
#   oracle determinism  rerun identical (one of the two runs writes an activation dump: dumping must not change
#                       anything); 1 vs 2 threads identical -- encoder output, preprocessed pixels, every
#                       encoder/decoder activation (ck-diff on the dumps), prompt logits, generated logits. The
#                       one known thread dependence, split-KV flash attention for single-token steps once the KV
#                       view reaches 512 cells (> 256 cells used), is reported as DIFF-EXPECTED (prompt logits
#                       must still be identical).
#   golden fixtures     regen_fixtures.py with the live oracle into the work dir, compared file by file with
#                       tests/parity/fixtures (CK_PARITY_SKIP_FIXTURES=1 skips this, ~10 min)
#   ck vs oracle        BUILD_DIR/bin/ck-encode (if it exists and runs): prefix vs the oracle's embedding and its
#                       dump vs the oracle's, via ck-diff. BUILD_DIR/bin/ck-decode (image prefix made by ck-encode,
#                       text planned with ck-layout --bound n_outputs=512): the logits at every prompt position and
#                       at each greedy step (--logits-all-out vs ref_decode --prompt-logits-out ++ --logits-all-out)
#                       byte for byte + the token ids, every text model of every preset (2b included when asked),
#                       threads 1 and 2, one row per model x case x threads naming the first differing row.
#   frames (#17)        an MTMD_VIDEO oracle build ($REF/build-video) regenerates tests/parity/frames live for the
#                       presets (drift vs the committed golden), then ck vs it: merged stills, --no-frame-merge,
#                       three in a row, odd/even videos, a video then a still, 1 and 2 threads, every logits row
#                       (tests/parity/frames); 2b: the cases of CK_PARITY_FRAMES_2B_CASES (default: pair)
# One summary table (model, dtype, image, threads, tensors, max_abs, first divergence); exit 1 on any mismatch,
# 3 if nothing could run (no model generator). Work files + report: build/oracle/work/full/ (CK_ORACLE_DIR).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/oracle/common.sh"
BUILD="$(abspath "${1:-build}")"
BIN="$BUILD/bin"
WORK="$REF/work/full"
PRESETS="${CK_PARITY_PRESETS:-tiny small 2b}"
T0=$(date +%s)

ensure_oracle || exit 1
bash "$PARITY/images/fetch_images.sh" > /dev/null 2>&1 || echo "note: fetch_images.sh failed; astronaut/coffee are skipped"
rm -rf "$WORK"; mkdir -p "$WORK/models" "$WORK/runs"
gen_models "$BUILD" "$WORK/models" "$PRESETS" || { echo "parity_full: model generation failed"; exit 1; }
if [ -z "$SYNTH_USED" ]; then
    echo "parity_full: NOT IMPLEMENTED: no model generator ($BIN/ck-synth does not exist). Nothing was run."
    exit 3
fi
# Preset 2b: gen_models makes only the q8_0 text; the other text weight types ck runs at that size are added here
# (CK_PARITY_2B_TEXT, default "f16 q4_k_m q6_k"; empty = q8_0 only): F16 from ck-synth, Q4_K_M / Q6_K from it with
# ref_quantize (llama-quantize defaults, no imatrix), as gen_models makes them for small. ~3.4 + 1.1 + 1.4 GB.
case " $PRESETS " in *" 2b "*)
    for t in ${CK_PARITY_2B_TEXT-f16 q4_k_m q6_k}; do
        case $t in
        f16|f32|bf16|q8_0) [ -f "$WORK/models/2b-text-$t.gguf" ] && continue
            "$BIN/ck-synth" --preset 2b --text-type "$t" --only text -q -o "$WORK/models" ||
                { echo "parity_full: ck-synth 2b $t failed"; exit 1; }
            printf '2b-text-%s\tck-synth --preset 2b --text-type %s --only text\n' "$t" "$t" >> "$WORK/models/models.tsv" ;;
        *)  T="$(echo "$t" | tr a-z A-Z)"
            [ -f "$WORK/models/2b-text-f16.gguf" ] || { echo "parity_full: 2b $t needs f16 in CK_PARITY_2B_TEXT first"; exit 1; }
            "$OBIN/ref_quantize" "$WORK/models/2b-text-f16.gguf" "$WORK/models/2b-text-$t.gguf" "$T" 2 > "$WORK/models/quantize_2b-$t.log" 2>&1 ||
                { echo "parity_full: ref_quantize 2b $T failed (log: $WORK/models/quantize_2b-$t.log)"; exit 1; }
            printf '2b-text-%s\tref_quantize 2b-text-f16.gguf 2b-text-%s.gguf %s (llama_model_quantize defaults, no imatrix)\n' "$t" "$t" "$T" >> "$WORK/models/models.tsv" ;;
        esac
    done
    "$PY" -c 'import json,sys; print(json.dumps(dict(l.rstrip("\n").split("\t") for l in open(sys.argv[1])), indent=1))' \
        "$WORK/models/models.tsv" > "$WORK/models/models.json" ;;
esac
[ -x "$BIN/ck-diff" ] || { echo "parity_full: $BIN/ck-diff is missing (build it: cmake --build $BUILD --target ck-diff)"; exit 1; }

SUM="$WORK/summary.tsv"; : > "$SUM"
NOTES="$WORK/not_compared.txt"; : > "$NOTES"
n_fail=0 n_ok=0 n_exp=0
# row STATUS MODEL IMAGE THREADS CHECK TENSORS MAX_ABS FIRST
row() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$SUM"
    case "$1" in FAIL*) n_fail=$((n_fail+1)) ;; OK) n_ok=$((n_ok+1)) ;; *) n_exp=$((n_exp+1)) ;; esac
}
# cmpd A B -> sets C_TENSORS C_MAX C_FIRST C_OK (1 equal, 0 different) from ck-diff --json; exit 2 = bad input
cmpd() {
    local j="$WORK/diff.json"
    "$BIN/ck-diff" --json "$1" "$2" > "$j" 2> "$WORK/diff.err"
    local rc=$?
    if [ $rc -eq 2 ]; then C_TENSORS=- C_MAX=- C_FIRST="ck-diff error: $(head -c 150 "$WORK/diff.err")" C_OK=0; return; fi
    read -r C_TENSORS C_MAX C_FIRST < <("$PY" - "$j" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
mx = 0.0
for t in d["tensors"]:
    v = t.get("max_abs")
    if isinstance(v, str): mx = v; break
    if v is not None and v > mx: mx = v
fd = d.get("first_divergence")
first = "-" if not fd else "%s/%s" % (fd.get("phase", ""), fd.get("name", "")) if fd.get("phase") else fd.get("name", "?")
if d.get("only_in_a") or d.get("only_in_b"):
    first += " (only in one: %d/%d)" % (len(d.get("only_in_a", [])), len(d.get("only_in_b", [])))
print(d["compared"], "%.6g" % mx if not isinstance(mx, str) else mx, first)
PYEOF
)
    C_OK=$([ $rc -eq 0 ] && echo 1 || echo 0)
}
# judge MODEL IMAGE THREADS CHECK A B [EXPECTED_DIFF_REASON]
judge() {
    cmpd "$5" "$6"
    if [ "$C_OK" = 1 ]; then row OK "$1" "$2" "$3" "$4" "$C_TENSORS" "$C_MAX" "-"
    elif [ -n "${7:-}" ]; then row DIFF-EXPECTED "$1" "$2" "$3" "$4" "$C_TENSORS" "$C_MAX" "$C_FIRST; $7"
    else row FAIL "$1" "$2" "$3" "$4" "$C_TENSORS" "$C_MAX" "$C_FIRST"; fi
}
oracle() { # oracle TOOL LOG ARGS... (stdout discarded; on failure a FAIL row is written by the caller)
    local tool="$1" log="$2"; shift 2
    "$OBIN/$tool" "$@" > /dev/null 2> "$log"
}
models_of() { "$PY" -c "import json,sys; print(' '.join(k for k in json.load(open(sys.argv[1])) if k.startswith(sys.argv[2])))" "$WORK/models/models.json" "$1"; }

# ------------------------------------------------------------------ encoder
ENC_TINY="tiny_24x24.png grad_256x256.png checker_448x224.png noise_96x288.png mix_333x251.png rgba_128x96.png gray_200x120.png
          chelsea_palette.png chelsea_rgba.png chelsea.png camera.png rocket.jpg astronaut.png coffee.png large_2304x2048.png"
ENC_SMALL="tiny_24x24.png mix_333x251.png noise_96x288.png chelsea.png rocket.jpg"
ENC_2B="tiny_24x24.png grad_256x256.png"
ENC_DUMP="tiny_24x24.png mix_333x251.png"      # activation dumps (t1 vs t2 via ck-diff) on these images
for p in $PRESETS; do
    case $p in tiny) imgs=$ENC_TINY ;; small) imgs=$ENC_SMALL ;; *) imgs=$ENC_2B ;; esac
    for mm in $(models_of "$p-mmproj-"); do
        for im in $imgs; do
            img="$(image_path "$im")"; [ -n "$img" ] || { row SKIPPED "$mm" "$im" - "image not available" - - -; continue; }
            o="$WORK/runs/enc_${mm}_${im%.*}"
            dump=0; case " $ENC_DUMP " in *" $im "*) [ "$p" != 2b ] && dump=1 ;; esac
            ok=1
            for r in t1 t1b t2; do
                t=${r:1:1}; extra=()
                [ $dump = 1 ] && [ $r != t1b ] && extra=(--dump-dir "$o.$r.dump")
                oracle ref_encode "$o.err" --mmproj "$WORK/models/$mm.gguf" --image "$img" --threads "$t" \
                    --out "$o.$r.f32" --preproc-out "$o.$r.pre.f32" "${extra[@]}" || {
                    row FAIL "$mm" "$im" "$t" "ref_encode" - - "failed: $(tail -c 150 "$o.err" | tr '\n' ' ')"; ok=0; break; }
            done
            [ $ok = 1 ] || continue
            judge "$mm" "$im" "1/1" "encode output, rerun$([ $dump = 1 ] && echo ' (dump on/off)')" "$o.t1.f32" "$o.t1b.f32"
            judge "$mm" "$im" "1/2" "encode output" "$o.t1.f32" "$o.t2.f32"
            judge "$mm" "$im" "1/2" "preprocessed pixels" "$o.t1.pre.f32" "$o.t2.pre.f32"
            [ $dump = 1 ] && judge "$mm" "$im" "1/2" "every encoder activation (dump)" "$o.t1.dump" "$o.t2.dump"
        done
    done
done

# ------------------------------------------------------------------ decoder
LONG_PROMPT="$("$PY" -c "import sys; sys.path.insert(0, '$PARITY'); import regen_fixtures as r; print(r.LONG_PROMPT)")"
NPRED=32
for p in $PRESETS; do
    mmproj="$p-mmproj-$([ "$p" = 2b ] && echo f16 || echo f32)"
    for tm in $(models_of "$p-text-"); do
        cases="describe:tiny_24x24.png describe:grad_256x256.png describe:chelsea.png long:tiny_24x24.png describe:none"
        [ "$p" = 2b ] && cases="describe:tiny_24x24.png"
        for c in $cases; do
            kind=${c%%:*} im=${c#*:}
            if [ "$im" = none ]; then imgargs=(--no-image)
            else
                img="$(image_path "$im")"; [ -n "$img" ] || { row SKIPPED "$tm" "$im" - "image not available" - - -; continue; }
                imgargs=(--mmproj "$WORK/models/$mmproj.gguf" --image "$img")
            fi
            if [ "$kind" = long ]; then pargs=(--prompt "$LONG_PROMPT" --image-first); label="long prompt, image first"
            else pargs=(--prompt "Describe this image."); label="describe"; fi
            o="$WORK/runs/dec_${tm}_${kind}_${im%.*}"
            dump=0; [ "$kind" = describe ] && [ "$im" = tiny_24x24.png ] && dump=1
            ok=1
            for r in t1 t1b t2; do
                t=${r:1:1}; extra=()
                [ $dump = 1 ] && [ $r != t1b ] && extra=(--dump-dir "$o.$r.dump" --dump-steps 2)
                oracle ref_decode "$o.err" --model "$WORK/models/$tm.gguf" "${imgargs[@]}" "${pargs[@]}" --n-predict $NPRED \
                    --threads "$t" --logits-out "$o.$r.first.f32" --logits-all-out "$o.$r.all.f32" --meta "$o.$r.json" "${extra[@]}" || {
                    row FAIL "$tm" "$im" "$t" "ref_decode $label" - - "failed: $(tail -c 150 "$o.err" | tr '\n' ' ')"; ok=0; break; }
            done
            [ $ok = 1 ] || continue
            cells=$("$PY" -c "import json,sys;d=json.loads(open(sys.argv[1],'rb').read().decode('utf-8','replace'));print(d['n_prompt_tokens']+len(d['tokens']))" "$o.t1.json")
            note=""; [ "$cells" -gt 256 ] && note="split-KV flash attention ($cells KV cells > 256)"
            tag="$label, $cells cells"
            judge "$tm" "$im" "1/1" "generated logits, rerun$([ $dump = 1 ] && echo ' (dump on/off)') [$tag]" "$o.t1.all.f32" "$o.t1b.all.f32"
            judge "$tm" "$im" "1/2" "prompt logits (last position) [$tag]" "$o.t1.first.f32" "$o.t2.first.f32"
            judge "$tm" "$im" "1/2" "generated logits, $NPRED steps [$tag]" "$o.t1.all.f32" "$o.t2.all.f32" "$note"
            if ! cmp -s <("$PY" -c "import json,sys;print(json.loads(open(sys.argv[1],'rb').read().decode('utf-8','replace'))['tokens'])" "$o.t1.json") \
                        <("$PY" -c "import json,sys;print(json.loads(open(sys.argv[1],'rb').read().decode('utf-8','replace'))['tokens'])" "$o.t2.json"); then
                row "$([ -n "$note" ] && echo DIFF-EXPECTED || echo FAIL)" "$tm" "$im" "1/2" "greedy tokens [$tag]" - - "token ids differ"
            fi
            [ $dump = 1 ] && judge "$tm" "$im" "1/2" "every decoder activation, prefill+gen0+gen1 (dump)" "$o.t1.dump" "$o.t2.dump"
        done
        # logits at every prompt position (all prompt tokens are outputs), 1 vs 2 threads
        [ "$p" = 2b ] && continue
        o="$WORK/runs/dec_${tm}_promptall"
        ok=1
        for t in 1 2; do
            oracle ref_decode "$o.err" --model "$WORK/models/$tm.gguf" --mmproj "$WORK/models/$mmproj.gguf" --image "$(image_path tiny_24x24.png)" \
                --prompt "Describe this image." --n-predict 0 --threads $t --prompt-logits-out "$o.t$t.f32" || { row FAIL "$tm" tiny_24x24.png $t "ref_decode --prompt-logits-out" - - "failed"; ok=0; }
        done
        [ $ok = 1 ] && judge "$tm" tiny_24x24.png "1/2" "logits at every prompt position" "$o.t1.f32" "$o.t2.f32"
    done
done

# ------------------------------------------------------------------ golden fixtures vs the live oracle
FM="$PARITY/fixtures/manifest.json"
if [ "${CK_PARITY_SKIP_FIXTURES:-0}" = 1 ]; then
    echo "golden fixtures: skipped (CK_PARITY_SKIP_FIXTURES=1)" >> "$NOTES"
elif [ ! -f "$FM" ]; then
    echo "golden fixtures: tests/parity/fixtures/manifest.json absent (make regen-fixtures)" >> "$NOTES"
else
    RW="$WORK/regen"; rm -rf "$RW" "$WORK/fixtures"
    if CK_REGEN_WORK="$RW" CK_REGEN_OUT="$WORK/fixtures" bash "$PARITY/regen_fixtures.sh" "$BUILD" > "$WORK/regen.log" 2>&1; then
        nfiles=$(cd "$PARITY/fixtures" && find . -type f | wc -l)
        if diff -rq "$PARITY/fixtures" "$WORK/fixtures" > "$WORK/fixtures.diff" 2>&1; then
            row OK "(all fixture models)" - "1/2" "golden fixtures == live oracle ($nfiles files, byte-identical)" "$nfiles" 0 "-"
        else
            # per differing dump / file: ck-diff for the first divergence
            "$PY" - "$FM" "$WORK/fixtures/manifest.json" > "$WORK/fixtures.changed" <<'PYEOF'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
for k in ("oracle", "oracle_drivers_sha256", "zstd_cli", "models", "images"):
    if a.get(k) != b.get(k):
        print("META\t%s" % k)
for k, v in a["files"].items():
    w = b["files"].get(k)
    if w is None: print("GONE\t%s" % k)
    elif {x: y for x, y in v.items() if x != "zst_bytes"} != {x: y for x, y in w.items() if x != "zst_bytes"}: print("%s\t%s" % (v["kind"], k))
for k in b["files"]:
    if k not in a["files"]: print("NEW\t%s" % k)
PYEOF
            while IFS=$'\t' read -r kind rel; do
                case $kind in
                META) row FAIL "(fixtures)" - - "manifest '$rel' differs (oracle/drivers/models changed: make regen-fixtures)" - - - ;;
                dump) judge "(fixture)" "$rel" - "committed vs live oracle" "$PARITY/fixtures/$rel" "$WORK/fixtures/$rel" ;;
                f32) zstd -q -dc "$PARITY/fixtures/$rel" > "$WORK/fa.f32"; zstd -q -dc "$WORK/fixtures/$rel" > "$WORK/fb.f32"
                     judge "(fixture)" "$rel" - "committed vs live oracle" "$WORK/fa.f32" "$WORK/fb.f32" ;;
                *) row FAIL "(fixture)" "$rel" - "$kind in one tree only" - - - ;;
                esac
            done < "$WORK/fixtures.changed"
            [ -s "$WORK/fixtures.changed" ] || row FAIL "(fixtures)" - - "trees differ but no listed file changed: $(head -3 "$WORK/fixtures.diff" | tr '\n' ' ')" - - -
        fi
    else
        row FAIL "(fixtures)" - - "regenerating the fixtures with the live oracle failed: $(tail -2 "$WORK/regen.log" | tr '\n' ' ')" - - -
    fi
fi

# ------------------------------------------------------------------ ck vs oracle
# ck-encode: GGUF -> ck-convert -> ck-lower -> ck-layout -> ck-encode --dump; prefix vs oracle embedding and
# dump vs oracle dump. A ck tool that exits with an error is NOT COMPARED (listed), a wrong result is FAIL.
if [ -x "$BIN/ck-encode" ]; then
    for p in $PRESETS; do
        [ "$p" = 2b ] && continue
        for mm in $(models_of "$p-mmproj-"); do
            e="$WORK/ck/$mm"; mkdir -p "$e"
            if ! { "$BIN/ck-convert" "$WORK/models/$mm.gguf" -o "$e/w.bump" --manifest "$e/manifest.json" &&
                   "$BIN/ck-lower" "$e/manifest.json" -o "$e/ir1.json" &&
                   "$BIN/ck-layout" "$e/ir1.json" -o "$e/enc" --weights "$e/w.bump"; } > "$e/prep.log" 2>&1; then
                echo "ck-encode $mm: model preparation failed: $(tail -1 "$e/prep.log")" >> "$NOTES"; continue
            fi
            for im in $ENC_DUMP; do
                for t in 1 2; do
                    o="$WORK/runs/enc_${mm}_${im%.*}"
                    if ! "$BIN/ck-encode" -m "$e/enc" "$(image_path "$im")" -o "$e/${im%.*}.t$t.prefix" -t $t \
                            --dump "$e/${im%.*}.t$t.dump" --dump-overwrite > "$e/run.log" 2>&1; then
                        echo "ck-encode $mm $im t$t: $(tail -1 "$e/run.log")" >> "$NOTES"; continue
                    fi
                    judge "$mm" "$im" "$t" "ck-encode prefix vs oracle embedding" "$e/${im%.*}.t$t.prefix" "$o.t$t.f32"
                    judge "$mm" "$im" "$t" "ck-encode activations vs oracle (dump)" "$o.t$t.dump" "$e/${im%.*}.t$t.dump"
                done
            done
        done
    done
else
    echo "ck-encode vs oracle: $BIN/ck-encode does not exist" >> "$NOTES"
fi

# ck-decode: per preset, the image prefix made by ck itself (ck-convert | ck-lower | ck-layout of the mmproj the
# decoder section above uses, then ck-encode at the thread count of the run), every text model of the preset
# planned with ck-layout --bound n_outputs=512 (--logits-all-out makes every prompt position an output row, as
# compare_ck.py plans it), then per case and threads 1, 2: ck-decode --logits-all-out --tokens-out vs ref_decode
# --prompt-logits-out P --logits-all-out G at the same thread count (P ++ G is ck's layout): every logits row byte
# for byte (each prompt position, then each greedy step) and the greedy token ids (decode_live.py). Cases (tiny,
# small; $NPRED steps): describe + tiny_24x24; the long prompt, image first (390 prompt positions: every
# single-token step sees a 512-cell KV view = split-KV flash attention, whose result depends on the thread count,
# so ck -t T must reproduce oracle -t T); describe without an image. Preset 2b: describe and long (split-KV) with
# tiny_24x24, $NPRED_2B steps.
# Also once per mmproj x image x threads: the ck prefix vs the image embeddings ref_decode decoded (--emb-out).
# A ck tool that fails is a FAIL here (ck-decode is required to match); the all-rows logits files (~600 KB per row)
# and the text plans' weights are deleted after OK comparisons and kept on FAIL.
NPRED_2B=16
DEC_CK="$WORK/ckdec"
if [ ! -x "$BIN/ck-decode" ] || [ ! -x "$BIN/ck-encode" ]; then
    echo "ck-decode vs oracle: $BIN/ck-decode or $BIN/ck-encode does not exist" >> "$NOTES"
else
    for p in $PRESETS; do
        mm="$p-mmproj-$([ "$p" = 2b ] && echo f16 || echo f32)"
        if [ "$p" = 2b ]; then cases="describe:tiny_24x24.png long:tiny_24x24.png"; npred=$NPRED_2B
        else cases="describe:tiny_24x24.png long:tiny_24x24.png describe:none"; npred=$NPRED; fi
        # the encoder plan and the prefixes (one per image and thread count)
        e="$DEC_CK/$mm"; mkdir -p "$e"
        if ! { "$BIN/ck-convert" "$WORK/models/$mm.gguf" -o "$e/w.bump" --manifest "$e/manifest.json" &&
               "$BIN/ck-lower" "$e/manifest.json" -o "$e/ir1.json" &&
               "$BIN/ck-layout" "$e/ir1.json" -o "$e/enc" --weights "$e/w.bump"; } > "$e/prep.log" 2>&1; then
            row FAIL "$mm" - - "ck-decode: preparing the encoder (ck-convert | ck-lower | ck-layout)" - - "$(tail -1 "$e/prep.log")"
            continue
        fi
        declare -A PFX=() EMB_DONE=()
        for c in $cases; do
            im=${c#*:}; [ "$im" = none ] && continue
            img="$(image_path "$im")"; [ -n "$img" ] || continue
            for t in 1 2; do
                [ -n "${PFX[$im.$t]:-}" ] && continue
                if "$BIN/ck-encode" -m "$e/enc" "$img" -o "$e/${im%.*}.t$t.prefix" -t $t > "$e/run.log" 2>&1; then
                    PFX[$im.$t]="$e/${im%.*}.t$t.prefix"
                else
                    row FAIL "$mm" "$im" $t "ck-decode: ck-encode of the image prefix" - - "$(tail -1 "$e/run.log")"
                fi
            done
        done
        for tm in $(models_of "$p-text-"); do
            d="$DEC_CK/$tm"; mkdir -p "$d"
            if ! { "$BIN/ck-convert" "$WORK/models/$tm.gguf" -o "$d/model.bump" | "$BIN/ck-lower" - |
                   "$BIN/ck-layout" - -o "$d" --bound n_outputs=512; } > "$d/prep.log" 2>&1; then
                row FAIL "$tm" - - "ck-decode: planning the text model (ck-convert | ck-lower | ck-layout --bound n_outputs=512)" - - "$(tail -1 "$d/prep.log")"
                continue
            fi
            fails_before=$n_fail
            for c in $cases; do
                kind=${c%%:*} im=${c#*:}
                if [ "$im" = none ]; then imgargs=(--no-image) ckimg=()
                else
                    img="$(image_path "$im")"; [ -n "$img" ] || { row SKIPPED "$tm" "$im" - "ck-decode: image not available" - - -; continue; }
                    imgargs=(--mmproj "$WORK/models/$mm.gguf" --image "$img")
                fi
                if [ "$kind" = long ]; then prompt="$LONG_PROMPT" first=(--image-first) label="long prompt, image first"
                else prompt="Describe this image." first=() label="describe"; fi
                for t in 1 2; do
                    o="$WORK/runs/ckdec_${tm}_${kind}_${im%.*}.t$t"
                    if [ "$im" != none ]; then
                        [ -n "${PFX[$im.$t]:-}" ] || { row FAIL "$tm" "$im" $t "ck-decode [$label]" - - "no ck prefix (ck-encode failed)"; continue; }
                        ckimg=(--prefix "${PFX[$im.$t]}")
                    fi
                    emb=(); [ "$im" != none ] && [ -z "${EMB_DONE[$im.$t]:-}" ] && emb=(--emb-out "$o.emb.f32")
                    if ! oracle ref_decode "$o.err" --model "$WORK/models/$tm.gguf" "${imgargs[@]}" --prompt "$prompt" "${first[@]}" \
                            --n-predict $npred --threads $t --prompt-logits-out "$o.p.f32" --logits-all-out "$o.g.f32" \
                            --meta "$o.json" "${emb[@]}"; then
                        row FAIL "$tm" "$im" $t "ref_decode --prompt-logits-out [$label]" - - "failed: $(tail -c 150 "$o.err" | tr '\n' ' ')"; continue
                    fi
                    if [ ${#emb[@]} -gt 0 ]; then
                        EMB_DONE[$im.$t]=1
                        judge "$mm" "$im" $t "ck-encode prefix vs the image embeddings ref_decode decoded" "${PFX[$im.$t]}" "$o.emb.f32"
                    fi
                    if ! "$BIN/ck-decode" -m "$d" "${ckimg[@]}" -p "$prompt" "${first[@]}" -n $npred -t $t \
                            --logits-all-out "$o.ck.f32" --tokens-out "$o.ck.tok" > "$o.ck.log" 2>&1; then
                        row FAIL "$tm" "$im" $t "ck-decode --logits-all-out [$label]" - - "failed: $(tail -c 150 "$o.ck.log" | tr '\n' ' ')"; continue
                    fi
                    cells=$("$PY" -c "import json,sys;d=json.loads(open(sys.argv[1],'rb').read().decode('utf-8','replace'));print(d['n_prompt_tokens']+len(d['tokens']))" "$o.json")
                    tag="$label, $npred steps, $cells cells$([ "$cells" -gt 256 ] && [ $t = 2 ] && echo ', split-KV')"
                    IFS=$'\t' read -r st rows mx firstdiff < <("$PY" "$PARITY/decode_live.py" "$o.ck.f32" "$o.ck.tok" "$o.p.f32" "$o.g.f32" "$o.json")
                    case "$st" in OK) rm -f "$o.ck.f32" "$o.p.f32" "$o.g.f32" ;; FAIL) ;; *) st=FAIL firstdiff="decode_live.py failed" ;; esac
                    row "$st" "$tm" "$im" $t "ck-decode vs oracle: logits at every prompt position and step, token ids [$tag]" "${rows:--}" "${mx:--}" "${firstdiff:--}"
                done
            done
            [ $n_fail = $fails_before ] && rm -f "$d/model.bump"     # the plan's weights (2b: GBs); kept on FAIL
        done
        unset PFX EMB_DONE
    done
fi

# ck-decode vs the live oracle on the MoE text decoder (qwen3vlmoe, text only): tests/parity/moe_fixtures.py live
# regenerates its models (tiny-moe F16/Q8_0, small-moe F16/Q4_K_M/Q6_K, Qwen3-VL-30B-A3B at full width with 2
# layers in F16 and Q4_K_M: 3.6 + 1.2 GB), runs ref_decode and ck-decode at threads 1 and 2 and compares every logits
# row and token id. CK_PARITY_MOE_MODELS: a comma-separated subset; CK_PARITY_MOE=0 skips it.
if [ "${CK_PARITY_MOE:-1}" != 0 ]; then
    mo="$WORK/moe"
    "$PY" "$PARITY/moe_fixtures.py" live "$BIN" "$OBIN" "$mo" ${CK_PARITY_MOE_MODELS:+--models "$CK_PARITY_MOE_MODELS"} > "$WORK/moe.log" 2>&1
    mrc=$?
    while IFS= read -r l; do
        case "$l" in
        "OK      "*|"NOT OK  "*)
            x=${l#*decode }; mt=${x#* text t}; mt=${mt%%:*}
            if [ "${l:0:2}" = OK ]; then row OK "${x%% *}" none "$mt" "ck-decode vs oracle (MoE, text only): logits rows + token ids" "${x#*: }" 0 -
            else row FAIL "${x%% *}" none "$mt" "ck-decode vs oracle (MoE, text only)" - - "${x#*: }"; fi ;;
        "NOT COMPARED  "*) echo "moe: ${l#NOT COMPARED  }" >> "$NOTES" ;;
        esac
    done < "$WORK/moe.log"
    [ $mrc = 0 ] || [ $mrc = 1 ] || [ $mrc = 3 ] || row FAIL moe - - "moe_fixtures.py live" - - "exit $mrc: $(tail -1 "$WORK/moe.log")"
fi
# ------------------------------------------------------------------ dense checkpoints (4B / 8B / 32B widths)
# checkpoints.sh live: the checkpoint fixture set regenerated with the live oracle (== the committed tree) and ck
# vs it at threads 1 and 2 (every logits row, token ids, prefix, dumps), plus the 8B vision tower at full depth
# (27 layers, taps 8/16/24; F16, Q8_0). ~8 GB of models in the work dir; CK_PARITY_CHECKPOINTS=0 skips it.
if [ "${CK_PARITY_CHECKPOINTS:-1}" = 1 ]; then
    bash "$PARITY/checkpoints.sh" live "$BUILD" "$WORK/checkpoints" > "$WORK/checkpoints.log" 2>&1
    while IFS= read -r l; do
        case "$l" in
        "OK   "*) row OK "(checkpoints)" - "1,2" "${l#OK   }" - 0 - ;;
        "FAIL "*) row FAIL "(checkpoints)" - "1,2" "${l#FAIL }" - - "log: $WORK/checkpoints.log" ;;
        esac
    done < "$WORK/checkpoints.log"
    grep -qE '^(OK|FAIL) ' "$WORK/checkpoints.log" || row FAIL "(checkpoints)" - - "checkpoints.sh live ran nothing: $(tail -2 "$WORK/checkpoints.log" | tr '\n' ' ')" - - -
else
    echo "dense checkpoints: skipped (CK_PARITY_CHECKPOINTS=0)" >> "$NOTES"
fi

# Temporal merge and video (#17, tests/parity/frames): an MTMD_VIDEO build of the same oracle (AVX2 pin + video,
# $REF/build-video) regenerates the frames golden live for $PRESETS (merged stills, --no-frame-merge, three in a row,
# odd/even videos); its tiny/small part must equal the committed golden (oracle drift), then compare.sh checks ck
# against the live one on every preset (1 and 2 threads, every logits row, ck-bridge).
VBUILD="${CK_ORACLE_VIDEO_BUILD:-$REF/build-video}"
if CK_ORACLE_BUILD="$VBUILD" bash "$PARITY/oracle/build.sh" -DORACLE_VIDEO=ON > "$WORK/build-video.log" 2>&1; then
    FW="$WORK/frames"; mkdir -p "$FW"
    # 2b: only the cases of CK_PARITY_FRAMES_2B_CASES (default the merged pair: ~2 x 3 GB models, 3 oracle + 5 ck
    # runs per case); the other presets every case
    F2B="${CK_PARITY_FRAMES_2B_CASES:-pair}"
    FSMALL="$(echo " $PRESETS " | sed 's/ 2b / /g' | xargs)"
    frames_regen() {
        { [ -z "$FSMALL" ] || CK_FRAMES_PRESETS="$FSMALL" CK_FRAMES_OUT="$FW/golden.live.json" \
              bash "$PARITY/frames/regen.sh" "$VBUILD/bin" "$BIN" "$FW/regen"; } &&
        { [[ " $PRESETS " != *" 2b "* ]] || CK_FRAMES_PRESETS=2b CK_FRAMES_CASES="$F2B" CK_FRAMES_KEEP=1 \
              CK_FRAMES_OUT="$FW/golden.live.json" bash "$PARITY/frames/regen.sh" "$VBUILD/bin" "$BIN" "$FW/regen"; }
    }
    frames_compare() {
        local rc=0
        [ -z "$FSMALL" ] || CK_FRAMES_GOLDEN="$FW/golden.live.json" bash "$PARITY/frames/compare.sh" "$BIN" "$FW/ck" \
              "${FSMALL// /,}" || rc=1
        [[ " $PRESETS " != *" 2b "* ]] || CK_FRAMES_GOLDEN="$FW/golden.live.json" bash "$PARITY/frames/compare.sh" \
              "$BIN" "$FW/ck" 2b decode,all_logits,bridge "$F2B" || rc=1
        return $rc
    }
    if frames_regen > "$FW/regen.log" 2>&1; then
        drift=$("$PY" - "$PARITY/frames/golden.json" "$FW/golden.live.json" <<'PYEOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
bad = [f"{p}/{c}" for p in a["presets"] if p in b["presets"] for c in a["presets"][p]["cases"]
       if a["presets"][p]["cases"][c] != b["presets"][p]["cases"].get(c)]
bad += [f"video {v}" for v in a.get("videos", {}) if a["videos"][v]["frames_rgb24_sha256"] != b.get("videos", {}).get(v, {}).get("frames_rgb24_sha256")]
print(" ".join(bad))
PYEOF
)
        if [ -z "$drift" ]; then row OK frames - - "committed tests/parity/frames/golden.json == live MTMD_VIDEO oracle" - - -
        else row FAIL frames - - "committed frames golden vs live oracle" - - "differs: $drift"; fi
        if frames_compare > "$FW/compare.log" 2>&1; then
            row OK frames - "1,2" "ck vs live oracle: merged stills, --no-frame-merge, three in a row, videos ($(grep -c '^OK' "$FW/compare.log") checks)" - - -
        else
            row FAIL frames - "1,2" "ck vs live oracle (frames)" - - "$(grep -m3 '^NOT OK' "$FW/compare.log" | tr '\n' ';') (log: $FW/compare.log)"
        fi
    else
        row FAIL frames - - "frames regen.sh with the MTMD_VIDEO oracle" - - "failed: $(tail -c 200 "$FW/regen.log" | tr '\n' ' ')"
    fi
else
    row FAIL frames - - "MTMD_VIDEO oracle build" - - "failed (log: $WORK/build-video.log)"
fi

{
    echo
    echo "== llamacpp-parity-full: oracle $(basename "$OBUILD") ($("$PY" -c "import json,sys;print(json.load(open(sys.argv[1]))['ggml_cpu_c_flags'])" "$OBUILD/oracle.json")), presets: $PRESETS, $(( $(date +%s) - T0 )) s"
    "$PY" - "$SUM" <<'PYEOF'
import sys
def dtype(model):
    for k in ("-mmproj-", "-text-"):
        if k in model:
            return model.split(k, 1)[1]
    return "-"
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
rows = [r[:2] + [dtype(r[1])] + r[2:] for r in rows]
hdr = ["STATUS", "MODEL", "DTYPE", "IMAGE", "THREADS", "CHECK", "TENSORS", "MAX_ABS", "FIRST DIVERGENCE"]
w = [max([len(hdr[i])] + [len(r[i]) for r in rows]) for i in range(8)]
for r in [hdr] + rows:
    print("  ".join(r[i].ljust(w[i]) for i in range(8)) + "  " + r[8])
PYEOF
    echo "== $n_ok OK, $n_fail FAIL, $n_exp other (DIFF-EXPECTED / SKIPPED)"
    if [ -s "$NOTES" ]; then echo "== NOT COMPARED:"; sed 's/^/   /' "$NOTES"; fi
} | tee "$WORK/report.txt"
[ $n_fail = 0 ] || { echo "parity_full: FAILED ($n_fail)"; exit 1; }
echo "parity_full: OK (oracle determinism, ck-encode and ck-decode vs oracle)$([ -s "$NOTES" ] && echo "; see NOT COMPARED above")"
