#!/usr/bin/env bash
# make regen-fixtures: regenerate the golden parity fixtures in tests/parity/fixtures/ from the pinned oracle.
#   bash tests/parity/regen_fixtures.sh [BUILD_DIR]     (BUILD_DIR default: build; needs BUILD_DIR/bin/ck-synth)
#
# 1. builds the oracle if needed (tests/parity/oracle/build.sh -> build/oracle/build-avx2)
# 2. generates the tiny synthetic models (ck-synth; see oracle/common.sh for the CK_SYNTH_PY fallback)
# 3. runs ref_encode / ref_decode at threads 1 and 2 (the two must agree bit for bit, else this fails)
# 4. writes tests/parity/fixtures/: zstd-compressed outputs (small ones), two ck.dump activation dumps, and
#    manifest.json with the oracle version, ISA, flags, threads, the sha256 of every model and image, and the
#    sha256 of every output's raw bytes (large outputs are recorded by sha256 only).
# Deterministic: a rerun with the same oracle, models and zstd gives byte-identical files.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/oracle/common.sh"
BUILD="$(abspath "${1:-build}")"
FIX="$PARITY/fixtures"
WORK="$REF/work/regen"
MAX_COMMIT_BYTES=65536    # compressed outputs larger than this are recorded by sha256 only

ensure_oracle
rm -rf "$WORK"; mkdir -p "$WORK/models" "$WORK/runs"
gen_models "$BUILD" "$WORK/models" || { echo "regen_fixtures: model generation failed" >&2; exit 1; }
if [ -z "$SYNTH_USED" ]; then
    echo "regen_fixtures: NOT RUN: no model generator ($BUILD/bin/ck-synth does not exist yet; developers may set"
    echo "  CK_SYNTH_PY to a synth_qwen3vl.py-compatible script). Fixtures left unchanged."
    exit 3
fi

ENC_IMAGES="grad_256x256.png checker_448x224.png noise_96x288.png mix_333x251.png tiny_24x24.png rgba_128x96.png
            gray_200x120.png chelsea_palette.png chelsea_rgba.png chelsea.png camera.png rocket.jpg"
DEC_IMAGES="grad_256x256.png mix_333x251.png"
PROMPT="Describe this image."
NPRED=16

rm -rf "$FIX.tmp"; mkdir -p "$FIX.tmp"
trap 'rm -rf "$FIX.tmp"' EXIT
RUNS="$WORK/runs.tsv"; : > "$RUNS"   # kind, model(s), image, output-name, raw file, meta json
pack() { # pack RAW DEST_REL: zstd -19 copy into fixtures if small enough; prints the relative path or "-"
    local tmp="$WORK/pack.zst"
    zstd -q -19 --no-progress -f -o "$tmp" "$1"
    if [ "$(stat -c %s "$tmp")" -le $MAX_COMMIT_BYTES ]; then
        mkdir -p "$(dirname "$FIX.tmp/$2")"; mv "$tmp" "$FIX.tmp/$2"; echo "$2"
    else echo "-"; fi
}
fail=0
for mm in f32 f16 q8_0; do
    for im in $ENC_IMAGES; do
        img="$(image_path "$im")"; [ -n "$img" ] || { echo "missing image $im" >&2; exit 1; }
        o="$WORK/runs/enc_${mm}_${im}"
        for t in 1 2; do
            "$OBIN/ref_encode" --mmproj "$WORK/models/tiny-mmproj-$mm.gguf" --image "$img" --threads $t \
                --out "$o.t$t.f32" --meta "$o.t$t.json" > /dev/null 2> "$o.err" || { cat "$o.err" >&2; exit 1; }
        done
        cmp -s "$o.t1.f32" "$o.t2.f32" || { echo "regen_fixtures: encode $mm $im differs between 1 and 2 threads" >&2; fail=1; }
        rel="$(pack "$o.t1.f32" "encode/tiny-mmproj-$mm/${im%.*}.emb.f32.zst")"
        printf 'encode\ttiny-mmproj-%s\t%s\temb\t%s\t%s\t%s\n' "$mm" "$im" "$o.t1.f32" "$o.t1.json" "$rel" >> "$RUNS"
    done
done
# one full encoder activation dump (ck.dump) on the smallest image (a 256x256 one is 7 MB)
"$OBIN/ref_encode" --mmproj "$WORK/models/tiny-mmproj-f32.gguf" --image "$(image_path tiny_24x24.png)" --threads 1 \
    --out "$WORK/dump_enc.f32" --dump-dir "$FIX.tmp/encode/tiny-mmproj-f32/tiny_24x24.dump" > /dev/null 2>&1
cmp -s "$WORK/dump_enc.f32" "$WORK/runs/enc_f32_tiny_24x24.png.t1.f32" || { echo "regen_fixtures: dumping changed the encoder output" >&2; fail=1; }

for tt in f16 q8_0 q4_k_m; do
    for im in $DEC_IMAGES none; do
        o="$WORK/runs/dec_${tt}_${im}"
        if [ "$im" = none ]; then imgargs=(--no-image); else imgargs=(--mmproj "$WORK/models/tiny-mmproj-f32.gguf" --image "$(image_path "$im")"); fi
        for t in 1 2; do
            "$OBIN/ref_decode" --model "$WORK/models/tiny-text-$tt.gguf" "${imgargs[@]}" --prompt "$PROMPT" --n-predict $NPRED \
                --threads $t --logits-out "$o.t$t.first.f32" --logits-all-out "$o.t$t.all.f32" --emb-out "$o.t$t.emb.f32" \
                --meta "$o.t$t.json" > /dev/null 2> "$o.err" || { cat "$o.err" >&2; exit 1; }
        done
        for k in first all; do
            cmp -s "$o.t1.$k.f32" "$o.t2.$k.f32" || { echo "regen_fixtures: decode $tt $im $k logits differ between 1 and 2 threads" >&2; fail=1; }
        done
        rel=-; [ "$tt/$im" = "f16/none" ] && rel="$(pack "$o.t1.first.f32" "decode/tiny-text-$tt/${im%.*}.first_logits.f32.zst")"
        printf 'decode\ttiny-text-%s+tiny-mmproj-f32\t%s\tfirst_logits\t%s\t%s\t%s\n' "$tt" "$im" "$o.t1.first.f32" "$o.t1.json" "$rel" >> "$RUNS"
        printf 'decode\ttiny-text-%s+tiny-mmproj-f32\t%s\tall_logits\t%s\t%s\t-\n' "$tt" "$im" "$o.t1.all.f32" "$o.t1.json" >> "$RUNS"
    done
done
# one full decoder activation dump: text-only prompt (one prefill decode) + first generated token
# (with an image: 3 prefill decodes, each with a 600 KB result_output row -> 4 MB)
"$OBIN/ref_decode" --model "$WORK/models/tiny-text-f16.gguf" --no-image --prompt "$PROMPT" --n-predict $NPRED --threads 1 \
    --logits-all-out "$WORK/dump_dec.all.f32" --dump-dir "$FIX.tmp/decode/tiny-text-f16/none.dump" --dump-steps 1 > /dev/null 2>&1
cmp -s "$WORK/dump_dec.all.f32" "$WORK/runs/dec_f16_none.t1.all.f32" || { echo "regen_fixtures: dumping changed the decoder logits" >&2; fail=1; }
[ $fail = 0 ] || { echo "regen_fixtures: FAILED (fixtures left unchanged)"; rm -rf "$FIX.tmp"; exit 1; }

"$PY" - "$RUNS" "$FIX.tmp/manifest.json" "$OBUILD/oracle.json" "$WORK/models" "$SYNTH_USED" "$PROMPT" "$NPRED" "$IMG_DIR/manifest.json" <<'PYEOF'
import hashlib, json, os, sys
runs, out, oracle_json, models, synth, prompt, npred, img_manifest = sys.argv[1:9]
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
img_sha = {e["file"]: e["sha256"] for e in json.load(open(img_manifest))["images"]}
man = {"format": "ck.parity_fixtures", "version": 1,
       "oracle": json.load(open(oracle_json)),
       "threads": {"recorded": 1, "verified_identical": [1, 2]},
       "generator": synth,
       "settings": {"prompt": prompt, "n_predict": int(npred), "decode": "ref_decode defaults: chat template, n_ctx 4096, "
                    "n_batch 2048, n_ubatch 512, flash_attn on, KV f16, greedy; mmproj flash_attn auto",
                    "encode": "ref_encode defaults: mtmd preprocessing (image_min/max_tokens from GGUF), flash_attn auto"},
       "models": {f[:-5]: {"file": f, "sha256": sha(os.path.join(models, f)), "bytes": os.path.getsize(os.path.join(models, f))}
                  for f in sorted(os.listdir(models)) if f.endswith(".gguf")},
       "images": {}, "outputs": []}
for line in open(runs):
    kind, model, image, what, raw, meta, rel = line.rstrip("\n").split("\t")
    m = json.loads(open(meta, "rb").read().decode("utf-8", "replace"))  # generated text of a random model: not always UTF-8
    if image != "none":
        man["images"][image] = img_sha[image]
    e = {"kind": kind, "model": model, "image": image, "output": what, "dtype": "f32",
         "nbytes": os.path.getsize(raw), "sha256": sha(raw), "file": None if rel == "-" else rel}
    if kind == "encode":
        e.update(preprocess=[m["preprocess_nx"], m["preprocess_ny"]], n_tokens=m["n_tokens"], n_embd_total=m["n_embd_total"],
                 shape=[m["n_tokens"], m["n_embd_total"]])
    else:
        e.update(prompt_text_tokens=m["prompt_text_tokens"], n_prompt_tokens=m["n_prompt_tokens"], tokens=m["tokens"],
                 n_vocab=m["first_logits"]["n_vocab"])
        e["shape"] = [m["first_logits"]["n_vocab"]] if what == "first_logits" else [len(m["tokens"]), m["first_logits"]["n_vocab"]]
    man["outputs"].append(e)
man["dumps"] = ["encode/tiny-mmproj-f32/tiny_24x24.dump", "decode/tiny-text-f16/none.dump"]
with open(out, "w") as fh:
    json.dump(man, fh, indent=1)
    fh.write("\n")
PYEOF
rm -rf "$FIX.old"; [ -d "$FIX" ] && mv "$FIX" "$FIX.old"; mv "$FIX.tmp" "$FIX"; rm -rf "$FIX.old"
echo "regen_fixtures: OK: $(find "$FIX" -type f | wc -l) files, $(du -sh "$FIX" | cut -f1) in tests/parity/fixtures (generator: $SYNTH_USED)"
