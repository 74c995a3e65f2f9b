#!/usr/bin/env bash
# Regenerate golden.json: same-size stills at adjacent markers (case.json), decoded by the oracle (ref_decode of
# tests/parity/oracle, llama.cpp b10256 AVX2) on the synthetic pairs of each preset. Never made by ck: ck-synth
# only writes the (deterministic) model files.
#   regen.sh ORACLE_BIN CK_BIN WORK_DIR
# Per preset and case: the oracle's prompt text tokens and chunks, per thread count 32 greedy tokens and the sha256
# of the first-token logits (--logits-out), and (2 threads) sha256 of --prompt-logits-out ‖ --logits-all-out of a second run (every prompt
# position, then every generation step = ck-decode --logits-all-out).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
O="$1"; B="$2"; W="$3"
mkdir -p "$W/models"
IMAGES="$ROOT/tests/parity/images"
CASE="$HERE/case.json"
j() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); exec("r="+sys.argv[2]); print(r if not isinstance(r,list) else "\n".join(map(str,r)))' "$CASE" "$1"; }
N=$(j 'd["n_predict"]')
mapfile -t THREADS < <(j 'd["threads"]')
mapfile -t PRESETS < <(j 'd["presets"]')
mapfile -t CASES < <(j 'list(d["cases"])')
for preset in "${PRESETS[@]}"; do
  (cd "$W/models" && "$B/ck-synth" --preset "$preset" --mmproj-type f32 --only mmproj -o . -q \
     && "$B/ck-synth" --preset "$preset" --text-type f16 --only text -o . -q)
  for c in "${CASES[@]}"; do
    args=(--model "$W/models/$preset-text-f16.gguf" --mmproj "$W/models/$preset-mmproj-f32.gguf")
    mapfile -t IMGS < <(j "d['cases']['$c']['images']")
    for i in "${IMGS[@]}"; do args+=(--image "$IMAGES/$i"); done
    [ "$(j "d['cases']['$c']['no_frame_merge']")" = True ] && args+=(--no-frame-merge)
    PROMPT="$(j "d['cases']['$c']['prompt']")"
    for t in "${THREADS[@]}"; do
      "$O/ref_decode" "${args[@]}" --prompt "$PROMPT" --n-predict "$N" --threads "$t" \
          --logits-out "$W/$preset.$c.t$t.first.f32" --meta "$W/$preset.$c.t$t.meta.json" > /dev/null
    done
    "$O/ref_decode" "${args[@]}" --prompt "$PROMPT" --n-predict "$N" --threads 2 \
        --prompt-logits-out "$W/$preset.$c.prompt.f32" --logits-all-out "$W/$preset.$c.gen.f32" \
        --meta "$W/$preset.$c.meta_all.json" > /dev/null
    cat "$W/$preset.$c.prompt.f32" "$W/$preset.$c.gen.f32" > "$W/$preset.$c.all.f32"
    rm -f "$W/$preset.$c.prompt.f32" "$W/$preset.$c.gen.f32"
  done
done
python3 - "$HERE" "$W" "$O" <<'PY'
import hashlib, json, os, sys
here, w, o = sys.argv[1:]
case = json.load(open(os.path.join(here, "case.json")))
def sha(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""): h.update(b)
    return h.hexdigest()
oj = os.path.join(o, "..", "oracle.json")
out = {"format": "ck.frames_golden", "version": 2,
       "oracle": json.load(open(oj)) if os.path.exists(oj) else "ref_decode",
       "case": case, "presets": {}}
for preset in case["presets"]:
    models = {k: {"file": f"{preset}-{k}.gguf", "sha256": sha(os.path.join(w, "models", f"{preset}-{k}.gguf")),
                  "made_by": f"ck-synth --preset {preset} " + ("--mmproj-type f32 --only mmproj" if k == "mmproj-f32" else "--text-type f16 --only text")}
              for k in ("mmproj-f32", "text-f16")}
    cases = {}
    for c in case["cases"]:
        ms = {t: json.load(open(os.path.join(w, f"{preset}.{c}.t{t}.meta.json"))) for t in case["threads"]}
        m = ms[case["threads"][0]]
        for t, mt in ms.items():
            assert mt["chunks"] == m["chunks"] and mt["prompt_text_tokens"] == m["prompt_text_tokens"], (preset, c, t)
        ma = json.load(open(os.path.join(w, f"{preset}.{c}.meta_all.json")))
        cases[c] = {"prompt_text_tokens": m["prompt_text_tokens"], "chunks": m["chunks"],
                    "n_prompt_tokens": m["n_prompt_tokens"],
                    "threads": {str(t): {"tokens": mt["tokens"],
                                         "first_logits_sha256": sha(os.path.join(w, f"{preset}.{c}.t{t}.first.f32"))}
                                for t, mt in ms.items()},
                    "n_vocab": m["first_logits"]["n_vocab"],
                    "all_logits": {"tokens": ma["tokens"], "rows": ma["n_prompt_tokens"] + len(ma["tokens"]),
                                   "sha256": sha(os.path.join(w, f"{preset}.{c}.all.f32"))}}
    out["presets"][preset] = {"models": models, "cases": cases}
json.dump(out, open(os.path.join(here, "golden.json"), "w"), indent=1)
print("wrote", os.path.join(here, "golden.json"))
PY
