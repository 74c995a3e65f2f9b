#!/usr/bin/env bash
# make llamacpp-parity-full: everything live against a freshly built oracle.
#   bash tests/parity/parity_full.sh [BUILD_DIR]
#
# For every tiny synthetic model x test image x threads {1, 2}, twice: ref_encode (mmproj F32/F16/Q8_0) and
# ref_decode (text F16/Q8_0/Q4_K_M + mmproj F32), with activation dumps for one case per side. Checks:
#   oracle determinism    rerun identical; 1 vs 2 threads identical (encode, prompt logits, generated logits
#                         while the KV view stays below 512 cells; beyond that llama.cpp's split-KV
#                         flash attention makes generated logits depend on the thread count: reported, not failed)
#   dumps                 ck-diff on the 1- vs 2-thread oracle dumps (BUILD_DIR/bin/ck-diff)
#   golden fixtures       oracle outputs vs tests/parity/fixtures/manifest.json sha256 (when the models match)
#   ck vs oracle          BUILD_DIR/bin/ck-encode / ck-decode -- printed as NOT COMPARED until they exist
# One summary table at the end; exit 1 on any mismatch, 3 if nothing could be run (no model generator).
# Work files: build/oracle/work/full/ (CK_ORACLE_DIR). Environment: see tests/parity/README.md.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/oracle/common.sh"
BUILD="$(abspath "${1:-build}")"
BIN="$BUILD/bin"
WORK="$REF/work/full"
T0=$(date +%s)

ensure_oracle || exit 1
bash "$PARITY/images/fetch_images.sh" > /dev/null 2>&1 || echo "note: fetch_images.sh failed; astronaut/coffee are skipped"
rm -rf "$WORK"; mkdir -p "$WORK/models" "$WORK/runs"
gen_models "$BUILD" "$WORK/models" || { echo "parity_full: model generation failed"; exit 1; }
if [ -z "$SYNTH_USED" ]; then
    echo "parity_full: NOT IMPLEMENTED: no model generator ($BIN/ck-synth does not exist yet; developers may set"
    echo "  CK_SYNTH_PY to a synth_qwen3vl.py-compatible script). Nothing was run."
    exit 3
fi

SUM="$WORK/summary.txt"; : > "$SUM"
n_fail=0 n_ok=0 n_info=0
row() { # row STATUS CHECK DETAIL
    printf '%-13s %-58s %s\n' "$1" "$2" "$3" >> "$SUM"
    case "$1" in FAIL*) n_fail=$((n_fail+1)) ;; OK) n_ok=$((n_ok+1)) ;; *) n_info=$((n_info+1)) ;; esac
}
check_same() { # check_same LABEL A B [EXPECTED_DIFF_NOTE]
    if cmp -s "$2" "$3"; then row OK "$1" identical
    elif [ -n "${4:-}" ]; then row "DIFF-EXPECTED" "$1" "$4"
    else row FAIL "$1" "DIFFERENT"; fi
}

ENC_IMAGES="grad_256x256.png checker_448x224.png noise_96x288.png mix_333x251.png tiny_24x24.png large_2304x2048.png
            rgba_128x96.png gray_200x120.png chelsea_palette.png chelsea_rgba.png chelsea.png camera.png rocket.jpg
            astronaut.png coffee.png"
DEC_IMAGES="grad_256x256.png mix_333x251.png chelsea.png astronaut.png"
PROMPT="Describe this image."
NPRED=16

# ------------------------------------------------------------------ encoder
for mm in f32 f16 q8_0; do
    for im in $ENC_IMAGES; do
        img="$(image_path "$im")"; [ -n "$img" ] || { row SKIPPED "encode $mm $im" "image not available"; continue; }
        o="$WORK/runs/enc_${mm}_${im%.*}"
        ok=1
        for t in 1 2; do for r in a b; do
            "$OBIN/ref_encode" --mmproj "$WORK/models/tiny-mmproj-$mm.gguf" --image "$img" --threads $t \
                --out "$o.t$t$r.f32" --meta "$o.t$t$r.json" > /dev/null 2> "$o.err" || { row FAIL "encode $mm $im t$t" "ref_encode failed: $(tail -c 200 "$o.err" | tr '\n' ' ')"; ok=0; }
        done; done
        [ $ok = 1 ] || continue
        check_same "encode mmproj=$mm $im: rerun (t1, t2)" <(cat "$o.t1a.f32" "$o.t2a.f32") <(cat "$o.t1b.f32" "$o.t2b.f32")
        check_same "encode mmproj=$mm $im: threads 1 vs 2" "$o.t1a.f32" "$o.t2a.f32"
    done
done
# encoder dumps: 1 vs 2 threads through ck-diff; dumping must not change the output
dimg="$(image_path mix_333x251.png)"
for t in 1 2; do
    "$OBIN/ref_encode" --mmproj "$WORK/models/tiny-mmproj-f32.gguf" --image "$dimg" --threads $t \
        --out "$WORK/encdump_t$t.f32" --dump-dir "$WORK/encdump_t$t" > /dev/null 2>&1
done
check_same "encode dump run == plain run (f32, mix_333x251, t1)" "$WORK/encdump_t1.f32" "$WORK/runs/enc_f32_mix_333x251.t1a.f32"
if [ -x "$BIN/ck-diff" ]; then
    if "$BIN/ck-diff" --quiet "$WORK/encdump_t1" "$WORK/encdump_t2" > "$WORK/encdump.diff" 2>&1; then
        row OK "ck-diff encoder dump t1 vs t2 (f32, mix_333x251)" "$(tail -1 "$WORK/encdump.diff")"
    else row FAIL "ck-diff encoder dump t1 vs t2 (f32, mix_333x251)" "$(tail -2 "$WORK/encdump.diff" | tr '\n' ' ')"; fi
else row "NOT COMPARED" "ck-diff encoder dumps" "$BIN/ck-diff not built"; fi

# ------------------------------------------------------------------ decoder
for tt in f16 q8_0 q4_k_m; do
    for im in $DEC_IMAGES none; do
        if [ "$im" = none ]; then imgargs=(--no-image)
        else
            img="$(image_path "$im")"; [ -n "$img" ] || { row SKIPPED "decode $tt $im" "image not available"; continue; }
            imgargs=(--mmproj "$WORK/models/tiny-mmproj-f32.gguf" --image "$img")
        fi
        o="$WORK/runs/dec_${tt}_${im%.*}"
        ok=1
        for t in 1 2; do for r in a b; do
            "$OBIN/ref_decode" --model "$WORK/models/tiny-text-$tt.gguf" "${imgargs[@]}" --prompt "$PROMPT" --n-predict $NPRED \
                --threads $t --logits-out "$o.t$t$r.first.f32" --logits-all-out "$o.t$t$r.all.f32" --meta "$o.t$t$r.json" \
                > /dev/null 2> "$o.err" || { row FAIL "decode $tt $im t$t" "ref_decode failed: $(tail -c 200 "$o.err" | tr '\n' ' ')"; ok=0; }
        done; done
        [ $ok = 1 ] || continue
        # KV cells used (prompt tokens incl. image embeddings + generated); n_kv = max(256, pad256(cells)), and
        # single-token steps with n_kv >= 512 take the split-KV flash-attention path (thread-count dependent)
        cells=$("$PY" -c "import json;d=json.loads(open('$o.t1a.json','rb').read().decode('utf-8','replace'));print(d['n_prompt_tokens']+len(d['tokens']))")
        note=""; [ "$cells" -gt 256 ] && note="split-KV flash attention (KV view >= 512 cells: $cells used)"
        check_same "decode text=$tt $im: rerun (t1, t2)" <(cat "$o.t1a.all.f32" "$o.t2a.all.f32") <(cat "$o.t1b.all.f32" "$o.t2b.all.f32")
        check_same "decode text=$tt $im: prompt logits threads 1 vs 2" "$o.t1a.first.f32" "$o.t2a.first.f32"
        check_same "decode text=$tt $im: generated logits threads 1 vs 2" "$o.t1a.all.f32" "$o.t2a.all.f32" "$note"
    done
done
for t in 1 2; do
    "$OBIN/ref_decode" --model "$WORK/models/tiny-text-f16.gguf" --mmproj "$WORK/models/tiny-mmproj-f32.gguf" \
        --image "$(image_path grad_256x256.png)" --prompt "$PROMPT" --n-predict $NPRED --threads $t \
        --logits-all-out "$WORK/decdump_t$t.all.f32" --dump-dir "$WORK/decdump_t$t" --dump-steps 2 > /dev/null 2>&1
done
check_same "decode dump run == plain run (f16, grad_256x256, t1)" "$WORK/decdump_t1.all.f32" "$WORK/runs/dec_f16_grad_256x256.t1a.all.f32"
if [ -x "$BIN/ck-diff" ]; then
    if "$BIN/ck-diff" --quiet "$WORK/decdump_t1" "$WORK/decdump_t2" > "$WORK/decdump.diff" 2>&1; then
        row OK "ck-diff decoder dump t1 vs t2 (f16, grad_256x256)" "$(tail -1 "$WORK/decdump.diff")"
    else row FAIL "ck-diff decoder dump t1 vs t2 (f16, grad_256x256)" "$(tail -2 "$WORK/decdump.diff" | tr '\n' ' ')"; fi
else row "NOT COMPARED" "ck-diff decoder dumps" "$BIN/ck-diff not built"; fi

# ------------------------------------------------------------------ golden fixtures (drift of oracle or generator)
FM="$PARITY/fixtures/manifest.json"
if [ -f "$FM" ]; then
    "$PY" - "$FM" "$WORK" >> "$WORK/fixtures.txt" 2>&1 <<'PYEOF'
import hashlib, json, os, sys
man, work = json.load(open(sys.argv[1])), sys.argv[2]
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
models_ok = all(os.path.exists(os.path.join(work, "models", m["file"])) and sha(os.path.join(work, "models", m["file"])) == m["sha256"]
                for m in man["models"].values())
if not models_ok:
    print("INFO\tgolden fixtures\tmodels differ from the fixtures' models (generator changed): run make regen-fixtures")
    sys.exit(0)
for o in man["outputs"]:
    stem = os.path.splitext(o["image"])[0]
    if o["kind"] == "encode":
        p = os.path.join(work, "runs", "enc_%s_%s.t1a.f32" % (o["model"].split("-")[-1], stem))
    else:
        tt = o["model"].split("+")[0][len("tiny-text-"):]
        p = os.path.join(work, "runs", "dec_%s_%s.t1a.%s.f32" % (tt, stem, "first" if o["output"] == "first_logits" else "all"))
    label = "fixture %s %s %s" % (o["model"], o["image"], o["output"])
    if not os.path.exists(p):
        print("INFO\t%s\tnot run here" % label)
    else:
        print("%s\t%s\t%s" % ("OK" if sha(p) == o["sha256"] else "FAIL", label, "sha256 match" if sha(p) == o["sha256"] else "sha256 differs"))
PYEOF
    while IFS=$'\t' read -r st label detail; do row "$st" "$label" "$detail"; done < "$WORK/fixtures.txt"
else
    row "NOT COMPARED" "golden fixtures" "tests/parity/fixtures/manifest.json absent (make regen-fixtures)"
fi

# ------------------------------------------------------------------ ck vs oracle
for tool in ck-encode ck-decode; do
    row "NOT COMPARED" "$tool vs oracle (outputs, dumps via ck-diff)" "$BIN/$tool does not exist yet"
done

{
    echo
    echo "== llamacpp-parity-full: oracle $(basename "$OBUILD") ($("$PY" -c "import json;print(json.load(open('$OBUILD/oracle.json'))['ggml_cpu_c_flags'])")), models: $SYNTH_USED, $(( $(date +%s) - T0 )) s"
    printf '%-13s %-58s %s\n' STATUS CHECK DETAIL
    cat "$SUM"
    echo "== $n_ok OK, $n_fail FAIL, $n_info other (DIFF-EXPECTED / NOT COMPARED / SKIPPED / INFO)"
} | tee "$WORK/report.txt"
[ $n_fail = 0 ] || { echo "parity_full: FAILED ($n_fail)"; exit 1; }
echo "parity_full: oracle side OK; ck side NOT COMPARED (ck-encode / ck-decode missing)"
